namespace BgpStream.TestSupport;

/// <summary>Hex text to bytes, ignoring the separators test vectors use (spaces, ':', '-', newlines).</summary>
public static class Hex
{
    public static byte[] Parse(string text)
    {
        var digits = new System.Text.StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (Uri.IsHexDigit(c)) digits.Append(c);
            else if (c is not (' ' or ':' or '-' or '\t' or '\r' or '\n'))
                throw new FormatException($"'{c}' in a hex vector");
        }
        if (digits.Length % 2 != 0) throw new FormatException("odd number of hex digits");
        return Convert.FromHexString(digits.ToString());
    }
}

/// <summary>
/// An ExaBGP decoding vector (qa/decoding): line 1 the kind and family, line 2 the hex, line 3
/// (optional) ExaBGP's JSON decode. The hex is a whole message, an UPDATE body, or a bare NLRI.
/// </summary>
public sealed record ExaBgpVector(string Name, string Kind, byte[] Bytes, string? Json)
{
    public static string Directory => Corpus.PathOf("Exa-Networks__exabgp/qa/decoding");

    public static IReadOnlyList<ExaBgpVector> All() =>
        System.IO.Directory.EnumerateFiles(Directory).OrderBy(p => p, StringComparer.Ordinal).Select(Load).ToList();

    public static ExaBgpVector Load(string path)
    {
        var lines = File.ReadAllLines(path);
        return new ExaBgpVector(Path.GetFileName(path), lines[0].Trim(), Hex.Parse(lines[1]), lines.Length > 2 ? lines[2] : null);
    }

    /// <summary>Starts with the 16-byte all-ones marker: a whole message.</summary>
    public bool IsWholeMessage => Bytes.Length >= 19 && Bytes.AsSpan(0, 16).IndexOfAnyExcept((byte)0xFF) < 0;
}
