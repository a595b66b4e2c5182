using System.Net;
using System.Net.Sockets;
using BgpStream.Session;

namespace BgpStream.Detection;

/// <summary>Peering LANs: the network a session's peer sits on, which the culling and stuck-session detectors group by.</summary>
public static class PeeringLan
{
    /// <summary>Without configuration: the /24 (IPv4) or /64 (IPv6) around the peer, the usual size of an IXP peering LAN or less.</summary>
    public static IPNetwork? Default(SessionInfo session) =>
        Around(session.PeerAddress, session.PeerAddress.AddressFamily == AddressFamily.InterNetwork ? 24 : 64);

    /// <summary>The network of <paramref name="length"/> bits that holds <paramref name="address"/>.</summary>
    public static IPNetwork Around(IPAddress address, int length)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int n);
        bytes = bytes[..n];
        for (int i = 0; i < n; i++)
        {
            int keep = Math.Clamp(length - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPNetwork(new IPAddress(bytes), length);
    }
}
