using System.Diagnostics;

namespace BgpStream.Cli.Tests;

/// <summary>Runs a program to its end: exit status, stdout bytes, stderr text; killed after a minute.</summary>
internal static class ProgramRun
{
    public static async Task<(int Exit, byte[] Stdout, string Stderr)> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        try
        {
            var stderr = process.StandardError.ReadToEndAsync();
            using var stdout = new MemoryStream();
            await process.StandardOutput.BaseStream.CopyToAsync(stdout);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            return (process.ExitCode, stdout.ToArray(), await stderr);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
