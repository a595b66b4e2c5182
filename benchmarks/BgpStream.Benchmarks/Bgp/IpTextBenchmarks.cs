using BenchmarkDotNet.Attributes;
using BgpStream.Benchmarks.Support;
using BgpStream.Bgp;
using BgpStream.Mrt;

namespace BgpStream.Benchmarks.Bgp;

/// <summary>
/// Address text, the largest single cost of bgpdump output on IPv6 tables: the prefixes of the
/// first <see cref="Count"/> RIB records of the 2002 IPv4 table and of the 2015 IPv6 table, written
/// as UTF-8. One operation is one address.
/// </summary>
public class IpTextBenchmarks
{
    public const int Count = 256;

    private readonly IpAddressValue[] _ipv4 = new IpAddressValue[Count];
    private readonly IpAddressValue[] _ipv6 = new IpAddressValue[Count];
    private readonly byte[] _buffer = new byte[IpText.MaxAddressLength];

    [GlobalSetup]
    public void Setup()
    {
        Fill(_ipv4, CorpusFile.BviewTableDump2002);
        Fill(_ipv6, CorpusFile.RibIPv6Bz2);
    }

    [Benchmark(OperationsPerInvoke = Count)]
    public int IPv4()
    {
        int n = 0;
        foreach (var a in _ipv4) n += IpText.FormatIPv4(a.IPv4, _buffer);
        return n;
    }

    [Benchmark(OperationsPerInvoke = Count)]
    public int IPv6Rfc5952()
    {
        int n = 0;
        foreach (var a in _ipv6) n += IpText.FormatIPv6(a.Value, _buffer);
        return n;
    }

    [Benchmark(OperationsPerInvoke = Count)]
    public int IPv6Bgpdump()
    {
        int n = 0;
        foreach (var a in _ipv6) n += IpText.FormatIPv6Bgpdump(a.Value, _buffer);
        return n;
    }

    private static void Fill(IpAddressValue[] addresses, string file)
    {
        using var reader = new MrtReader(new MemoryStream(CorpusFile.Decompressed(file), writable: false), file);
        int i = 0;
        while (i < addresses.Length && reader.TryRead(out var record))
        {
            if (record.Type == MrtType.TableDump)
            {
                var entries = new TableDumpReader(record.Subtype, record.Body);
                if (entries.TryRead(out var entry, out _)) addresses[i++] = entry.Prefix.Address;
            }
            else if (record.Type == MrtType.TableDumpV2 && RibRecord.IsRibSubtype(record.Subtype)
                     && RibRecord.TryParse(record.Subtype, record.Body, out var rib, out _))
                addresses[i++] = rib.Prefix.Address;
        }
        if (i < addresses.Length) throw new InvalidOperationException($"{file} has fewer than {addresses.Length} RIB records");
    }
}
