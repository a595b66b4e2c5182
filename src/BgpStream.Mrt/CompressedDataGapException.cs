namespace BgpStream.Mrt;

/// <summary>
/// Part of a compressed input could not be decoded but decoding goes on after it (a damaged bzip2
/// block): the stream stays readable, and the reader re-synchronises on the next record.
/// </summary>
public sealed class CompressedDataGapException(string message) : IOException(message);
