using System.Runtime.InteropServices;
using System.Text;

namespace BgpStream.Kafka.Tests;

/// <summary>
/// librdkafka's in-process mock cluster (rdkafka_mock.h): real Kafka protocol on loopback sockets,
/// brokers that speak every API version the client does (idempotent producer included). It needs a
/// librdkafka instance to live in; a producer handle that never produces serves.
/// </summary>
public sealed class MockCluster : IDisposable
{
    private const string Lib = "librdkafka.so.1";
    private IntPtr _rk;
    private IntPtr _cluster;

    public MockCluster(int brokers = 3)
    {
        var conf = rd_kafka_conf_new();
        var error = new StringBuilder(512);
        // Quiet: the mock's own client would log to stderr.
        rd_kafka_conf_set(conf, "log_level", "0", error, (UIntPtr)error.Capacity);
        _rk = rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, error, (UIntPtr)error.Capacity);
        if (_rk == IntPtr.Zero) throw new InvalidOperationException($"rd_kafka_new: {error}");
        _cluster = rd_kafka_mock_cluster_new(_rk, brokers);
        if (_cluster == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        Bootstrap = Marshal.PtrToStringUTF8(rd_kafka_mock_cluster_bootstraps(_cluster))!;
    }

    /// <summary><c>host:port,...</c> of the mock brokers.</summary>
    public string Bootstrap { get; }

    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        int err = rd_kafka_mock_topic_create(_cluster, topic, partitions, replicationFactor);
        if (err != 0) throw new InvalidOperationException($"rd_kafka_mock_topic_create({topic}): error {err}");
    }

    public void Dispose()
    {
        if (_cluster != IntPtr.Zero) rd_kafka_mock_cluster_destroy(_cluster);
        if (_rk != IntPtr.Zero) rd_kafka_destroy(_rk);
        _cluster = _rk = IntPtr.Zero;
    }

    [DllImport(Lib)] private static extern IntPtr rd_kafka_conf_new();
    [DllImport(Lib)] private static extern int rd_kafka_conf_set(IntPtr conf, string name, string value, StringBuilder errstr, UIntPtr errstrSize);
    [DllImport(Lib)] private static extern IntPtr rd_kafka_new(int type, IntPtr conf, StringBuilder errstr, UIntPtr errstrSize);
    [DllImport(Lib)] private static extern void rd_kafka_destroy(IntPtr rk);
    [DllImport(Lib)] private static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokers);
    [DllImport(Lib)] private static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);
    [DllImport(Lib)] private static extern int rd_kafka_mock_topic_create(IntPtr cluster, string topic, int partitions, int replicationFactor);
    [DllImport(Lib)] private static extern void rd_kafka_mock_cluster_destroy(IntPtr cluster);
}
