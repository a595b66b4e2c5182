using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace BgpStream.Kafka;

/// <summary>
/// Points Confluent.Kafka at the system's librdkafka (Debian's librdkafka1). Without its
/// librdkafka.redist package the client looks for <c>librdkafka</c> (and distribution-specific
/// variants) by DllImport name, which finds no file, and <c>Library.Load(path)</c> dlopens through
/// <c>libdl.so</c>, a development link Debian 12 does not install; a DllImport resolver on the
/// Confluent.Kafka assembly maps every variant to the runtime's soname instead.
/// </summary>
public static class LibrdkafkaLoader
{
    /// <summary>The soname of Debian's librdkafka1 (2.0.2 on Debian 12).</summary>
    public const string SystemLibrary = "librdkafka.so.1";

    private static readonly Lock Gate = new();
    private static bool _installed;

    /// <summary>Installs the resolver once per process; every producer and consumer is built after it.</summary>
    public static void Install()
    {
        lock (Gate)
        {
            if (_installed) return;
            NativeLibrary.SetDllImportResolver(typeof(ProducerBuilder<,>).Assembly, Resolve);
            _installed = true;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name.EndsWith("librdkafka", StringComparison.Ordinal) && NativeLibrary.TryLoad(SystemLibrary, out var handle)
            ? handle
            : IntPtr.Zero;
}
