using Microsoft.Extensions.Logging;

namespace BgpStream.Pipeline.Staging;

/// <summary>
/// The file sinks write <c>NAME.tmp</c> and rename it to <c>NAME</c> once complete, so a kill -9
/// leaves at most <c>.tmp</c> files, never a truncated file under a final name. At the next start
/// those would be in the way: the MRT and JSON-lines sinks reopen the same <c>NAME.tmp</c> when the
/// restart falls in the same rotation interval, truncating what the killed run wrote. So before the
/// sinks open anything, each left-over <c>.tmp</c> is renamed <c>NAME.partial</c> (kept, never
/// published; readers' <c>*.gz</c>, <c>*.arrow</c>, <c>*.jsonl</c> globs skip it) and logged; an
/// empty one is removed.
/// </summary>
/// <remarks>
/// Salvaging is left to people (docs/pipeline.md): a gzip MRT file reads up to its last whole
/// record, JSON lines up to the last whole line, and an Arrow file without its footer is an Arrow
/// IPC stream from byte 8 up to its last whole record batch.
/// </remarks>
public static class LeftoverTempFiles
{
    /// <summary>Sets aside the <c>*.tmp</c> files directly in <paramref name="directory"/> that no live process has open (and removes empty ones); returns how many were set aside.</summary>
    public static int SetAside(string directory, ILogger? log)
    {
        if (!Directory.Exists(directory)) return 0;
        int moved = 0;
        foreach (var path in Directory.GetFiles(directory, "*.tmp"))
        {
            long size;
            try
            {
                // A sink of a live process (another collector or a replay on the same --out) holds its
                // .tmp open, and .NET's file sharing on Unix is flock(2): an exclusive open fails then.
                using (var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None)) size = probe.Length;
                if (size == 0)
                {
                    // Nothing reached the disk (an Arrow writer buffers its first record batch): nothing to keep.
                    File.Delete(path);
                    log?.LogInformation("{File}: left empty by an earlier run that did not stop cleanly; removed", path);
                    continue;
                }
                var target = path[..^4] + ".partial";
                for (int n = 2; File.Exists(target); n++) target = $"{path[..^4]}.partial-{n}";
                File.Move(path, target);
                log?.LogWarning("{File}: left unfinished by an earlier run that did not stop cleanly ({Bytes} B, never published); kept as {Target}",
                    path, size, Path.GetFileName(target));
                moved++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // In use, or gone meanwhile: not a leftover of ours to move.
            }
        }
        return moved;
    }
}
