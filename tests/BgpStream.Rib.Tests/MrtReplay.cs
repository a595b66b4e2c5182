using BgpStream.Mrt;
using BgpStream.Session;

namespace BgpStream.Rib.Tests;

/// <summary>An MRT update file as the collector's records, as <c>bgpstream replay</c> makes them (<see cref="Pipeline.Replay.MrtReplay"/>).</summary>
internal static class MrtReplay
{
    public static List<CollectorRecord> Read(string file)
    {
        var records = new List<CollectorRecord>();
        using var reader = MrtReader.Open(file);
        var replay = new Pipeline.Replay.MrtReplay().Open(reader);
        while (replay.TryRead(out var record)) records.Add(record);
        return records;
    }
}
