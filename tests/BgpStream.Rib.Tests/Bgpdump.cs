using System.Diagnostics;

namespace BgpStream.Rib.Tests;

/// <summary>Debian's bgpdump, the independent reader the snapshots are checked with.</summary>
internal static class Bgpdump
{
    public const string Path = "/usr/bin/bgpdump";

    /// <summary><c>bgpdump -v -m FILE</c>: its lines, and its stderr without the "logging to syslog" notice.</summary>
    public static (string[] Lines, string[] Warnings) Run(string file)
    {
        if (!File.Exists(Path))
            throw new InvalidOperationException(
                "bgpdump is not installed: the README's test command installs it (apt-get install bgpdump); these tests check snapshots with it.");
        var psi = new ProcessStartInfo(Path, ["-v", "-m", file])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill();
            throw new TimeoutException($"bgpdump -m {file} did not finish in 3 minutes");
        }
        var lines = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var warnings = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.Contains("logging to", StringComparison.Ordinal)).ToArray();
        return (lines, warnings);
    }

    /// <summary>
    /// "peer|peer AS|prefix" of every prefix in an UPDATE that carries a multicast MP_REACH_NLRI or
    /// MP_UNREACH_NLRI, from bgpdump's multi-line output (its -m lines do not tell the SAFI).
    /// </summary>
    public static HashSet<string> MulticastKeys(string file)
    {
        var psi = new ProcessStartInfo(Path, [file]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        _ = stderr.Result;
        var keys = new HashSet<string>();
        foreach (var block in text.Split("\n\n"))
        {
            if (!block.Contains("Multicast)", StringComparison.Ordinal)) continue;
            var lines = block.Split('\n');
            var from = lines.FirstOrDefault(l => l.StartsWith("FROM: ", StringComparison.Ordinal));
            if (from is null) continue;
            var parts = from[6..].Split(' ');
            var peer = parts[0] + "|" + parts[1].TrimStart('A', 'S') + "|";
            foreach (var l in lines)
                if (l.StartsWith("  ", StringComparison.Ordinal) && l.Contains('/', StringComparison.Ordinal)) keys.Add(peer + l.Trim());
        }
        return keys;
    }
}
