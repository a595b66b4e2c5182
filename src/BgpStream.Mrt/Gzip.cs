using System.IO.Compression;
using System.Runtime.InteropServices;

namespace BgpStream.Mrt;

/// <summary>
/// gzip decompression through the system's zlib, because it tells a complete stream from a cut
/// one: inflate reports the end only after checking the trailer's CRC-32 and length, so a file
/// truncated at a deflate block boundary (which .NET's GZipStream accepts silently) is reported.
/// Concatenated members are read in turn. GZipStream is the fallback where libz cannot be loaded.
/// </summary>
public static class Gzip
{
    public static Stream OpenDecompressor(Stream compressed) =>
        NativeGzipStream.IsAvailable ? new NativeGzipStream(compressed) : new GZipStream(compressed, CompressionMode.Decompress);
}

internal sealed unsafe class NativeGzipStream : ForwardReadStream
{
    private const string Library = "libz.so.1";
    private const int ZOk = 0;
    private const int ZStreamEnd = 1;
    private const int ZBufError = -5;
    private const int ZNoFlush = 0;
    private const int GzipWindowBits = 15 + 16; // RFC 1952 framing

    [StructLayout(LayoutKind.Sequential)]
    private struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public nuint TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public nuint TotalOut;
        public IntPtr Msg;
        public IntPtr State;
        public IntPtr ZAlloc;
        public IntPtr ZFree;
        public IntPtr Opaque;
        public int DataType;
        public nuint Adler;
        public nuint Reserved;
    }

    [DllImport(Library, EntryPoint = "inflateInit2_")]
    private static extern int InflateInit2(ZStream* stream, int windowBits, byte* version, int streamSize);

    [DllImport(Library, EntryPoint = "inflate")]
    private static extern int Inflate(ZStream* stream, int flush);

    [DllImport(Library, EntryPoint = "inflateReset")]
    private static extern int InflateReset(ZStream* stream);

    [DllImport(Library, EntryPoint = "inflateEnd")]
    private static extern int InflateEnd(ZStream* stream);

    [DllImport(Library, EntryPoint = "zlibVersion")]
    private static extern byte* ZlibVersion();

    private static readonly Lazy<bool> Available = new(() =>
    {
        try
        {
            return NativeLibrary.TryLoad(Library, typeof(NativeGzipStream).Assembly, null, out _);
        }
        catch (Exception)
        {
            return false;
        }
    });

    public static bool IsAvailable => Available.Value;

    private readonly Stream _input;
    private readonly byte[] _inBuffer = new byte[1 << 16];
    private GCHandle _inHandle;
    private ZStream* _z;
    private bool _inputEof;
    private bool _finished;
    private bool _inMember;
    private long _consumed;

    public NativeGzipStream(Stream input)
    {
        _input = input;
        _inHandle = GCHandle.Alloc(_inBuffer, GCHandleType.Pinned);
        _z = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
        int rc = InflateInit2(_z, GzipWindowBits, ZlibVersion(), sizeof(ZStream));
        if (rc != ZOk) throw new IOException($"inflateInit2 failed ({rc})");
    }

    public override int Read(Span<byte> destination)
    {
        if (_finished || destination.IsEmpty) return 0;
        fixed (byte* outPtr = destination)
        {
            _z->NextOut = outPtr;
            _z->AvailOut = (uint)destination.Length;
            while (_z->AvailOut == destination.Length)
            {
                if (_z->AvailIn == 0)
                {
                    int n = _inputEof ? 0 : _input.Read(_inBuffer, 0, _inBuffer.Length);
                    if (n == 0)
                    {
                        _inputEof = true;
                        if (_inMember)
                            throw new InvalidDataException($"gzip stream truncated at compressed offset {_consumed} (no end of member)");
                        _finished = true;
                        break;
                    }
                    _z->NextIn = (byte*)_inHandle.AddrOfPinnedObject();
                    _z->AvailIn = (uint)n;
                }
                uint before = _z->AvailIn;
                _inMember = true;
                int rc = Inflate(_z, ZNoFlush);
                _consumed += before - _z->AvailIn;
                if (rc == ZStreamEnd)
                {
                    // Trailer checked. Another member may follow (RFC 1952 §2.2).
                    _inMember = false;
                    InflateReset(_z);
                    continue;
                }
                if (rc != ZOk && rc != ZBufError)
                {
                    string message = _z->Msg != IntPtr.Zero ? Marshal.PtrToStringAnsi(_z->Msg) ?? "" : "";
                    throw new InvalidDataException($"gzip data error {rc} ({message}) at compressed offset {_consumed}");
                }
            }
            return destination.Length - (int)_z->AvailOut;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (_z != null)
        {
            InflateEnd(_z);
            NativeMemory.Free(_z);
            _z = null;
        }
        if (_inHandle.IsAllocated) _inHandle.Free();
        if (disposing) _input.Dispose();
        base.Dispose(disposing);
    }
}
