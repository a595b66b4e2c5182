using System.Net;
using BgpStream.Session;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace BgpStream.Cli;

/// <summary>A configuration mistake, with the file, line and key it is at.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>
/// The collector's YAML configuration (docs/collector.md). Unknown keys and bad values are
/// errors that name the file, the line and the key: a typo never silently becomes a default.
/// </summary>
public sealed class CollectorConfigFile
{
    public uint? Asn { get; private set; }
    public IPAddress? RouterId { get; private set; }
    public List<IPEndPoint> Listen { get; } = [];
    public TimeSpan? HoldTime { get; private set; }
    public TimeSpan? SendHoldTime { get; private set; }
    public int? MaxSessions { get; private set; }
    public int? MaxSessionsPerSource { get; private set; }
    public List<PeerConfig> Peers { get; } = [];

    private readonly string _path;

    private CollectorConfigFile(string path) => _path = path;

    public static CollectorConfigFile Load(string path)
    {
        var config = new CollectorConfigFile(path);
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            yaml.Load(reader);
        }
        catch (IOException e)
        {
            throw new ConfigException($"{path}: cannot read: {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ConfigException($"{path}: cannot read: {e.Message}");
        }
        catch (YamlException e)
        {
            throw new ConfigException($"{path}:{e.Start.Line}: not valid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        if (yaml.Documents.Count == 0) return config;
        if (yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw config.Error(yaml.Documents[0].RootNode, "(top)", "expected a mapping of settings");
        foreach (var (keyNode, value) in root.Children) config.Set(config.Key(keyNode, "(top)"), keyNode, value);
        return config;
    }

    /// <summary>Environment variables that override the file's top-level settings: BGPSTREAM_ plus the key in capitals.</summary>
    public static readonly IReadOnlyList<string> EnvironmentKeys = ["asn", "router_id", "listen", "hold_time", "send_hold_time", "max_sessions", "max_sessions_per_source"];

    public static string EnvironmentName(string key) => "BGPSTREAM_" + key.ToUpperInvariant();

    /// <summary>
    /// The file (when given) with <c>BGPSTREAM_ASN</c>, <c>BGPSTREAM_ROUTER_ID</c>, <c>BGPSTREAM_LISTEN</c>
    /// (comma-separated), <c>BGPSTREAM_HOLD_TIME</c>, ... over it, as container deployments set them.
    /// Command-line options override both. A bad value names the variable.
    /// </summary>
    public static CollectorConfigFile? LoadWithEnvironment(string? path, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var config = path is null ? null : Load(path);
        foreach (var key in EnvironmentKeys)
        {
            if (environment(EnvironmentName(key)) is not { Length: > 0 } text) continue;
            config ??= new CollectorConfigFile("(environment)");
            YamlNode value = key == "listen"
                ? new YamlSequenceNode(text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => new YamlScalarNode(v)))
                : new YamlScalarNode(text.Trim());
            config._variable = EnvironmentName(key);
            if (key == "listen") config.Listen.Clear();
            try
            {
                config.Set(key, value, value);
            }
            finally
            {
                config._variable = null;
            }
        }
        return config;
    }

    private void Set(string key, YamlNode keyNode, YamlNode value)
    {
        switch (key)
        {
            case "asn": Asn = Asn_(value, key); break;
            case "router_id": RouterId = Address(value, key); break;
            case "listen":
                foreach (var item in Sequence(value, key)) Listen.Add(Endpoint(item, key));
                break;
            case "hold_time": HoldTime = Seconds(value, key); break;
            case "send_hold_time": SendHoldTime = Seconds(value, key); break;
            case "max_sessions": MaxSessions = Int(value, key); break;
            case "max_sessions_per_source": MaxSessionsPerSource = Int(value, key); break;
            case "peers":
                foreach (var item in Sequence(value, key)) Peers.Add(Peer(item));
                break;
            default:
                throw Error(keyNode, key, "unknown setting (see docs/collector.md)");
        }
    }

    private PeerConfig Peer(YamlNode node)
    {
        if (node is not YamlMappingNode map) throw Error(node, "peers", "each peer is a mapping (address or range, remote_as, ...)");
        IPNetwork? range = null;
        IReadOnlyList<uint> remoteAs = [];
        string? password = null, description = null;
        TimeSpan? hold = null;
        long? maxPrefixes = null;
        bool active = false;
        IReadOnlyList<(BgpStream.Bgp.Afi, BgpStream.Bgp.Safi)>? families = null;
        TimeSpan? delayOpen = null;
        int? port = null;
        foreach (var (keyNode, value) in map.Children)
        {
            var key = Key(keyNode, "peers");
            var where = $"peers.{key}";
            switch (key)
            {
                case "address" or "range":
                    try
                    {
                        range = PeerConfig.ParseRange(Scalar(value, where));
                    }
                    catch (FormatException e)
                    {
                        throw Error(value, where, e.Message);
                    }
                    break;
                case "remote_as":
                    remoteAs = value switch
                    {
                        YamlSequenceNode seq => seq.Children.Select(c => Asn_(c, where)).ToArray(),
                        YamlScalarNode { Value: "any" } => [],
                        _ => [Asn_(value, where)],
                    };
                    break;
                case "md5_password": password = Scalar(value, where); break;
                case "hold_time": hold = Seconds(value, where); break;
                case "max_prefixes": maxPrefixes = Int(value, where); break;
                case "description": description = Scalar(value, where); break;
                case "active": active = Bool(value, where); break;
                case "delay_open": delayOpen = TimeSpan.FromSeconds(Int(value, where)); break;
                case "families":
                    families = Sequence(value, where).Select(f =>
                    {
                        try
                        {
                            return PeerConfig.ParseFamily(Scalar(f, where));
                        }
                        catch (FormatException e)
                        {
                            throw Error(f, where, e.Message);
                        }
                    }).ToArray();
                    break;
                case "port": port = Int(value, where) is var p and > 0 and < 65536 ? p : throw Error(value, where, "a TCP port is 1-65535"); break;
                default: throw Error(keyNode, where, "unknown peer setting (see docs/collector.md)");
            }
        }
        if (range is null) throw Error(node, "peers", "a peer needs an address or a range");
        var peer = new PeerConfig { Range = range.Value, RemoteAs = remoteAs, Md5Password = password, HoldTime = hold, MaxPrefixes = maxPrefixes, Description = description, Active = active, Port = port, Families = families, DelayOpen = delayOpen };
        if (active && !peer.IsSingleAddress) throw Error(node, "peers.active", "only a single address (not a range) can be active");
        return peer;
    }

    /// <summary>The environment variable being applied, for error messages; null while reading the file.</summary>
    private string? _variable;

    private ConfigException Error(YamlNode node, string key, string message) =>
        _variable is not null ? new($"environment {_variable}: {message}") : new($"{_path}:{node.Start.Line}: {key}: {message}");

    /// <summary>
    /// A setting's name. YAML allows any node as a mapping key (<c>? [a, b] : 1</c>, <c>{a: 1}: 2</c>);
    /// a setting name is a plain scalar, anything else is a mistake at the key's line.
    /// </summary>
    private string Key(YamlNode keyNode, string where) => keyNode is YamlScalarNode { Value: { } name }
        ? name
        : throw Error(keyNode, $"{where}: {Flow(keyNode)}", $"a setting's name is a single word, not a {(keyNode is YamlSequenceNode ? "list" : "mapping")}");

    /// <summary>A short flow-style rendering of a key for the message (<c>[a, b]</c>, <c>{a: 1}</c>), cut at 40 characters.</summary>
    private static string Flow(YamlNode node)
    {
        string text = node switch
        {
            YamlScalarNode s => s.Value ?? "",
            YamlSequenceNode seq => "[" + string.Join(", ", seq.Children.Select(Flow)) + "]",
            YamlMappingNode map => "{" + string.Join(", ", map.Children.Select(c => Flow(c.Key) + ": " + Flow(c.Value))) + "}",
            _ => node.ToString(),
        };
        return text.Length <= 40 ? text : text[..37] + "...";
    }

    private string Scalar(YamlNode node, string key) =>
        node is YamlScalarNode { Value: { } v } ? v : throw Error(node, key, "expected a single value");

    private IEnumerable<YamlNode> Sequence(YamlNode node, string key) => node switch
    {
        YamlSequenceNode seq => seq.Children,
        YamlScalarNode => [node],
        _ => throw Error(node, key, "expected a list"),
    };

    private uint Asn_(YamlNode node, string key)
    {
        try
        {
            return PeerConfig.ParseAsn(Scalar(node, key), key);
        }
        catch (FormatException e)
        {
            throw Error(node, key, e.Message);
        }
    }

    private IPAddress Address(YamlNode node, string key) =>
        IPAddress.TryParse(Scalar(node, key), out var a) ? a : throw Error(node, key, $"'{Scalar(node, key)}' is not an IP address");

    private IPEndPoint Endpoint(YamlNode node, string key) =>
        CollectCommand.TryParseEndpoint(Scalar(node, key), out var e) ? e : throw Error(node, key, $"'{Scalar(node, key)}' is not ADDRESS:PORT");

    private int Int(YamlNode node, string key) =>
        int.TryParse(Scalar(node, key), out var v) && v >= 0 ? v : throw Error(node, key, $"'{Scalar(node, key)}' is not a non-negative whole number");

    private bool Bool(YamlNode node, string key) =>
        bool.TryParse(Scalar(node, key), out var b) ? b : throw Error(node, key, $"'{Scalar(node, key)}' is not true or false");

    private TimeSpan Seconds(YamlNode node, string key)
    {
        int s = Int(node, key);
        if (key.EndsWith("hold_time") && s is 1 or 2) throw Error(node, key, "a hold time is 0 or at least 3 seconds (RFC 4271 §4.2)");
        return TimeSpan.FromSeconds(s);
    }
}
