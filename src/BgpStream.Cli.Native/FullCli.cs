using System.Runtime.InteropServices;

namespace BgpStream.Cli.Native;

/// <summary>The full CLI (collect, replay, the command tree), published beside this executable in lib/.</summary>
internal static unsafe class FullCli
{
    /// <summary>Where scripts/build.sh puts it, relative to this executable's directory.</summary>
    public static string PathBeside(string directory) => Path.Combine(directory, "lib", "bgpstream");

    [DllImport("libc.so.6", EntryPoint = "execv", SetLastError = true)]
    private static extern int ExecV(byte* path, byte** argv);

    /// <summary>
    /// execv(2) of the full CLI with <paramref name="args"/>: the same process goes on as that
    /// program (a service manager's PID, signals and file capabilities apply to it). Returns only
    /// when the exec failed: 127, as a shell does for a command it cannot run.
    /// </summary>
    public static int Exec(string[] args)
    {
        string path = PathBeside(AppContext.BaseDirectory);
        var argv = new nint[args.Length + 2]; // argv[0], the arguments, and the terminating null
        argv[0] = Marshal.StringToCoTaskMemUTF8(path);
        for (int i = 0; i < args.Length; i++) argv[i + 1] = Marshal.StringToCoTaskMemUTF8(args[i]);
        fixed (nint* pointers = argv)
            ExecV((byte*)argv[0], (byte**)pointers);
        string reason = Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
        Console.Error.WriteLine($"bgpstream: cannot run the full CLI {path}: {reason} (scripts/build.sh publishes it there)");
        return 127;
    }
}
