using System.CommandLine;
using BgpStream.Cli;

var root = new RootCommand("BgpStream: BGP route collector and BGP/MRT stream processor.");
root.Subcommands.Add(DumpCommand.Create());
return root.Parse(args).Invoke();
