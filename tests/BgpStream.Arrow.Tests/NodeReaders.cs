using System.Diagnostics;
using System.Text.Json;

namespace BgpStream.Arrow.Tests;

/// <summary>
/// Runs the independent readers in readers/ (Node.js scripts over npm packages installed by
/// scripts/setup.sh --tests) once over a set of files and keeps their canonical JSON per file.
/// </summary>
public static class NodeReaders
{
    public static readonly IReadOnlyList<string> Names = ["arrow-js", "arrow-rs", "duckdb"];

    public static string Directory { get; } = FindReadersDirectory();

    private static string FindReadersDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "BgpStream.Arrow.Tests", "readers");
            if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
        }
        throw new InvalidOperationException($"tests/BgpStream.Arrow.Tests/readers not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Null when node and the packages are there; otherwise what is missing and what to run.</summary>
    public static string? MissingPrerequisite()
    {
        try
        {
            var (code, stdout, _) = Run("node", ["--version"], TimeSpan.FromSeconds(30));
            if (code != 0) return "`node --version` failed: Node.js 20+ is needed for the Arrow reader tests; run scripts/setup.sh --tests";
            _ = stdout;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "node is not on PATH: the Arrow reader tests need Node.js 20+ and npm; run scripts/setup.sh --tests";
        }
        foreach (var package in new[] { "apache-arrow", "parquet-wasm", "@duckdb/duckdb-wasm" })
            if (!File.Exists(Path.Combine(Directory, "node_modules", package, "package.json")))
                return $"npm package {package} is missing in {Path.Combine(Directory, "node_modules")}: run scripts/setup.sh --tests";
        return null;
    }

    /// <summary>Reads every file with one reader: file path → that reader's JSON (or {"error": ...}).</summary>
    public static Dictionary<string, JsonElement> Read(string reader, IReadOnlyList<string> files)
    {
        var (code, stdout, stderr) = Run("node", [Path.Combine(Directory, $"read-{reader}.cjs"), .. files], TimeSpan.FromMinutes(3));
        if (code != 0) throw new InvalidOperationException($"reader {reader} exited with {code}: {stderr}");
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
    }

    public static string Version(string package)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "node_modules", package, "package.json")));
        return doc.RootElement.GetProperty("version").GetString()!;
    }

    private static (int Code, string Stdout, string Stderr) Run(string file, IReadOnlyList<string> args, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Directory,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args.Take(1))} took longer than {timeout}");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
