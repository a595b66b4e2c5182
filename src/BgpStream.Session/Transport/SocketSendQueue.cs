using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace BgpStream.Session;

/// <summary>
/// The bytes the kernel still holds for a socket: sent but not acknowledged, or not sent yet
/// (Linux SIOCOUTQ). A queue that stays non-empty without shrinking means the peer stopped reading
/// (RFC 9687's zombie) long before any write blocks.
/// </summary>
internal static partial class SocketSendQueue
{
    private const ulong SiocOutq = 0x5411; // TIOCOUTQ

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(nint fd, ulong request, out int value);

    /// <summary>The queued byte count, or -1 where the platform cannot tell.</summary>
    public static int Size(Socket socket)
    {
        if (!OperatingSystem.IsLinux()) return -1;
        try
        {
            return Ioctl(socket.Handle, SiocOutq, out int value) == 0 ? value : -1;
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
    }
}
