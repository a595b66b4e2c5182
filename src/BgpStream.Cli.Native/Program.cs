using BgpStream.Cli.Native;
using BgpStream.Dump;

// dump's plain forms run here; everything else (collect, replay, help, dump's other forms) is the
// full CLI's, which replaces this process with the same arguments, environment and signals.
if (DumpArguments.PlainFiles(args) is { } files)
    return DumpRunner.Run(files, Console.OpenStandardOutput(), Console.Error);
return FullCli.Exec(args);
