using System.Runtime.InteropServices;

namespace BgpStream.Mrt;

/// <summary>
/// bzip2 decompression. With the system's libbz2 (present on every Debian system: dpkg needs it) and
/// more than one core, blocks are decoded in parallel (<see cref="ParallelBzip2Stream"/>) by our
/// <see cref="Bzip2BlockDecoder"/>, libbz2 taking the blocks it declines; on one core libbz2 decodes
/// the stream; SharpZipLib's managed decoder is the fallback where libbz2 cannot be loaded.
/// </summary>
public static class Bzip2
{
    /// <summary>Whether <see cref="OpenDecompressor"/> already decodes on other threads.</summary>
    public static bool DecodesInParallel => NativeBzip2Stream.IsAvailable && Environment.ProcessorCount > 1;

    /// <summary>
    /// <c>BGPSTREAM_BZIP2=libbz2</c>: every block decoded by libbz2 alone, none by
    /// <see cref="Bzip2BlockDecoder"/> (for comparisons, and should that decoder ever be in doubt).
    /// </summary>
    private static readonly bool Libbz2Only =
        string.Equals(Environment.GetEnvironmentVariable("BGPSTREAM_BZIP2"), "libbz2", StringComparison.OrdinalIgnoreCase);

    public static Stream OpenDecompressor(Stream compressed)
    {
        if (DecodesInParallel) return new ParallelBzip2Stream(compressed, Libbz2Only);
        if (NativeBzip2Stream.IsAvailable) return new NativeBzip2Stream(compressed);
        return new ICSharpCode.SharpZipLib.BZip2.BZip2InputStream(compressed) { IsStreamOwner = true };
    }
}

internal sealed unsafe class NativeBzip2Stream : ForwardReadStream
{
    internal const string Library = "libbz2.so.1.0";
    private const int BzOk = 0;
    private const int BzStreamEnd = 4;

    [StructLayout(LayoutKind.Sequential)]
    internal struct BzStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public uint TotalInLo32;
        public uint TotalInHi32;
        public byte* NextOut;
        public uint AvailOut;
        public uint TotalOutLo32;
        public uint TotalOutHi32;
        public IntPtr State;
        public IntPtr BzAlloc;
        public IntPtr BzFree;
        public IntPtr Opaque;
    }

    [DllImport(Library, EntryPoint = "BZ2_bzDecompressInit")]
    internal static extern int DecompressInit(BzStream* stream, int verbosity, int small);

    [DllImport(Library, EntryPoint = "BZ2_bzDecompress")]
    internal static extern int Decompress(BzStream* stream);

    [DllImport(Library, EntryPoint = "BZ2_bzDecompressEnd")]
    internal static extern int DecompressEnd(BzStream* stream);

    private static readonly Lazy<bool> Available = new(() =>
    {
        try
        {
            return NativeLibrary.TryLoad(Library, typeof(NativeBzip2Stream).Assembly, null, out _);
        }
        catch (Exception)
        {
            return false;
        }
    });

    public static bool IsAvailable => Available.Value;

    private readonly Stream _input;
    private readonly byte[] _inBuffer = new byte[1 << 16];
    private readonly GCHandle _inHandle;
    private BzStream* _bz;
    private int _inCount;
    private bool _inputEof;
    private bool _finished;
    private bool _initialised;
    private long _consumed;

    public NativeBzip2Stream(Stream input)
    {
        _input = input;
        _inHandle = GCHandle.Alloc(_inBuffer, GCHandleType.Pinned);
        _bz = (BzStream*)NativeMemory.AllocZeroed((nuint)sizeof(BzStream));
        Init();
    }

    private void Init()
    {
        *_bz = default;
        int rc = DecompressInit(_bz, 0, 0);
        if (rc != BzOk) throw new IOException($"BZ2_bzDecompressInit failed ({rc})");
        _initialised = true;
    }

    public override int Read(Span<byte> destination)
    {
        if (_finished || destination.IsEmpty) return 0;
        fixed (byte* outPtr = destination)
        {
            _bz->NextOut = outPtr;
            _bz->AvailOut = (uint)destination.Length;
            while (_bz->AvailOut == destination.Length)
            {
                if (_bz->AvailIn == 0 && !_inputEof)
                {
                    _inCount = _input.Read(_inBuffer, 0, _inBuffer.Length);
                    if (_inCount == 0) _inputEof = true;
                    _bz->NextIn = (byte*)_inHandle.AddrOfPinnedObject();
                    _bz->AvailIn = (uint)_inCount;
                }
                uint availBefore = _bz->AvailIn;
                int rc = Decompress(_bz);
                _consumed += availBefore - _bz->AvailIn;
                if (rc == BzStreamEnd)
                {
                    // Concatenated streams (pbzip2, lbzip2 output): start over on what follows.
                    var remaining = _bz->AvailIn;
                    var next = _bz->NextIn;
                    DecompressEnd(_bz);
                    _initialised = false;
                    if (remaining == 0)
                    {
                        _inCount = _input.Read(_inBuffer, 0, _inBuffer.Length);
                        if (_inCount == 0) { _finished = true; break; }
                        next = (byte*)_inHandle.AddrOfPinnedObject();
                        remaining = (uint)_inCount;
                    }
                    var outNext = _bz->NextOut;
                    var outAvail = _bz->AvailOut;
                    Init();
                    _bz->NextIn = next;
                    _bz->AvailIn = remaining;
                    _bz->NextOut = outNext;
                    _bz->AvailOut = outAvail;
                    continue;
                }
                if (rc != BzOk)
                    throw new InvalidDataException($"bzip2 data error {rc} at compressed offset {_consumed}");
                if (_inputEof && _bz->AvailIn == 0 && _bz->AvailOut == destination.Length)
                    throw new InvalidDataException($"bzip2 stream truncated at compressed offset {_consumed}");
            }
            return destination.Length - (int)_bz->AvailOut;
        }
    }


    protected override void Dispose(bool disposing)
    {
        if (_bz != null)
        {
            if (_initialised) DecompressEnd(_bz);
            NativeMemory.Free(_bz);
            _bz = null;
        }
        if (_inHandle.IsAllocated) _inHandle.Free();
        if (disposing) _input.Dispose();
        base.Dispose(disposing);
    }
}
