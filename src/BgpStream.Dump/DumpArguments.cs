namespace BgpStream.Dump;

/// <summary>The command line of <c>bgpstream dump</c> in the forms that need no parser.</summary>
public static class DumpArguments
{
    /// <summary>
    /// The files of <c>dump [-m] FILE...</c> ("-" when none), or null when the arguments hold anything
    /// else: help, an unknown option, an <c>@</c> response file. For the forms it accepts, the CLI's
    /// command tree would run the same files; every other form goes to that tree.
    /// </summary>
    public static List<string>? PlainFiles(string[] args)
    {
        if (args.Length == 0 || args[0] != "dump") return null;
        var paths = new List<string>(args.Length);
        for (int i = 1; i < args.Length; i++)
        {
            string a = args[i];
            if (a == "-m") continue;
            if (a.Length == 0 || (a[0] == '-' && a != "-") || a[0] == '@') return null;
            paths.Add(a);
        }
        if (paths.Count == 0) paths.Add("-");
        return paths;
    }
}
