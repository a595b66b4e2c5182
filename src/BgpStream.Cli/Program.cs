using System.CommandLine;
using BgpStream.Cli;

var root = new RootCommand("BgpStream: BGP route collector and BGP/MRT stream processor.");
root.Subcommands.Add(DumpCommand.Create());
root.Subcommands.Add(CollectCommand.Create());
root.Subcommands.Add(ReplayCommand.Create());
return root.Parse(args).Invoke();
