using System.CommandLine;
using BgpStream.Cli;

// `dump` is a short process whose wall time is mostly start-up: its plain forms skip building the
// whole command tree (System.CommandLine, the collect and replay commands and what they load).
if (DumpCommand.TryRunPlain(args, out int dumpExit)) return dumpExit;

var root = new RootCommand("BgpStream: BGP route collector and BGP/MRT stream processor.");
root.Subcommands.Add(DumpCommand.Create());
root.Subcommands.Add(CollectCommand.Create());
root.Subcommands.Add(ReplayCommand.Create());
var parsed = root.Parse(args);
// collect runs in Microsoft.Extensions.Hosting, whose console lifetime handles SIGINT/SIGTERM and
// gives the drain --shutdown-timeout; System.CommandLine's own handling would end it after 2 s.
var invocation = parsed.CommandResult.Command.Name == "collect" ? new InvocationConfiguration { ProcessTerminationTimeout = null } : new InvocationConfiguration();
return parsed.Invoke(invocation);
