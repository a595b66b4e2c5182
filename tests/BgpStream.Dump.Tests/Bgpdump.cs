using System.Diagnostics;
using System.Text;
using BgpStream.Dump;

namespace BgpStream.Dump.Tests;

/// <summary>Runs Debian's bgpdump and our dump on the same file and returns both outputs as lines.</summary>
internal static class Bgpdump
{
    public const string Path = "/usr/bin/bgpdump";

    public static string[] Reference(string file)
    {
        if (!File.Exists(Path))
            throw new InvalidOperationException(
                "bgpdump is not installed: the README's test command installs it (apt-get install bgpdump); these tests compare against it.");
        var psi = new ProcessStartInfo(Path, ["-m", file])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var buffer = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(buffer);
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill();
            throw new TimeoutException($"bgpdump -m {file} did not finish in 3 minutes");
        }
        _ = stderr.Result;
        return Lines(buffer.ToArray());
    }

    public static (string[] Lines, string Stderr, int Exit) Ours(string file)
    {
        using var buffer = new MemoryStream();
        var stderr = new StringWriter();
        int exit = DumpRunner.Run([file], buffer, stderr);
        return (Lines(buffer.ToArray()), stderr.ToString(), exit);
    }

    private static string[] Lines(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        if (text.Length == 0) return [];
        if (!text.EndsWith('\n')) throw new InvalidDataException("output does not end with a newline");
        return text[..^1].Split('\n');
    }
}
