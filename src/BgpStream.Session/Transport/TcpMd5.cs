using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BgpStream.Session;

/// <summary>
/// RFC 2385 TCP MD5 signatures through Linux's TCP_MD5SIG socket option, set on the listening socket
/// for each peer address (or prefix, with TCP_MD5SIG_EXT) before any connection arrives.
/// </summary>
internal static class TcpMd5
{
    private const int IpProtoTcp = 6;
    private const int TcpMd5Sig = 14;
    private const int TcpMd5SigExt = 32;
    private const byte TcpMd5SigFlagPrefix = 1;
    private const int MaxKeyLength = 80;

    /// <summary>struct tcp_md5sig: sockaddr_storage (128), flags, prefixlen, keylen (2), ifindex (4), key[80].</summary>
    public static void SetKey(Socket socket, IPNetwork peers, string password) => Set(socket, peers, Encoding.UTF8.GetBytes(password));

    /// <summary>Removes the key of <paramref name="peers"/> (Linux: the same option with key length 0).</summary>
    public static void DeleteKey(Socket socket, IPNetwork peers) => Set(socket, peers, []);

    private static void Set(Socket socket, IPNetwork peers, byte[] key)
    {
        if (key.Length > MaxKeyLength) throw new ArgumentException($"TCP-MD5 password for {peers} is longer than {MaxKeyLength} bytes");
        var value = new byte[128 + 1 + 1 + 2 + 4 + MaxKeyLength];
        var address = peers.BaseAddress;
        bool v6Socket = socket.AddressFamily == AddressFamily.InterNetworkV6;
        if (v6Socket && address.AddressFamily == AddressFamily.InterNetwork) address = address.MapToIPv6();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(value, 2); // AF_INET, host order
            address.TryWriteBytes(value.AsSpan(4), out _);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(value, 10); // AF_INET6
            address.TryWriteBytes(value.AsSpan(8), out _);
        }
        int prefixLength = peers.PrefixLength + (address.IsIPv4MappedToIPv6 ? 96 : 0);
        bool single = prefixLength == (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        value[128] = single ? (byte)0 : TcpMd5SigFlagPrefix;
        value[129] = (byte)prefixLength;
        BinaryPrimitives.WriteUInt16LittleEndian(value.AsSpan(130), (ushort)key.Length);
        key.CopyTo(value.AsSpan(136));
        socket.SetRawSocketOption(IpProtoTcp, single ? TcpMd5Sig : TcpMd5SigExt, value);
    }
}
