using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace BgpStream.Mrt;

/// <summary>
/// Decompresses a bzip2 file on all cores. bzip2 blocks are independent: each starts with the
/// 48-bit magic 0x314159265359 at any bit position, and the stream ends with 0x177245385090 and a
/// combined CRC. We cut the input at block magics, wrap each block as a one-block stream (header,
/// block, end marker, CRC = the block's own CRC) and let libbz2 decode blocks in parallel, emitting
/// them in order. Block CRCs are checked by libbz2, so a false magic inside compressed data is
/// caught: that piece is then joined with the next one and decoded again. Memory is bounded by the
/// number of blocks in flight (2 per core, ≤ 900 kB compressed each).
/// </summary>
internal sealed unsafe class ParallelBzip2Stream : ForwardReadStream
{
    private const ulong BlockMagic = 0x314159265359;
    private const ulong EndMagic = 0x177245385090;
    private const ulong Mask48 = 0xFFFF_FFFF_FFFF;
    private const int BzOk = 0;
    private const int BzStreamEnd = 4;
    private const int BzUnexpectedEof = -7;
    private const int BzOutbuffFull = -8;

    private readonly Stream _input;
    private readonly BlockingCollection<Task<Decoded>> _blocks;
    private readonly Thread _splitter;
    private readonly CancellationTokenSource _cancel = new();
    private ExceptionDispatchInfo? _error;
    private Decoded _current;
    private int _currentPos;

    /// <summary>A decoded block in a pooled output buffer (see <see cref="OutputBuffers"/>).</summary>
    private readonly record struct Decoded(OutputBuffers.Buffer? Buffer, int Length)
    {
        public void Return()
        {
            if (Buffer is not null) OutputBuffers.Return(Buffer);
        }
    }
    private bool _done;

    private readonly bool _libbz2Only;
    private long _blocksDecoded;
    private long _blocksToLibbz2;

    /// <param name="input">The compressed stream (owned).</param>
    /// <param name="libbz2Only">Every block through libbz2, none through <see cref="Bzip2BlockDecoder"/>.</param>
    public ParallelBzip2Stream(Stream input, bool libbz2Only = false)
    {
        _input = input;
        _libbz2Only = libbz2Only;
        _blocks = new BlockingCollection<Task<Decoded>>(Math.Max(2, Environment.ProcessorCount * 2));
        _splitter = new Thread(Split) { IsBackground = true, Name = "bzip2-split" };
        _splitter.Start();
    }

    /// <summary>Blocks decoded by <see cref="Bzip2BlockDecoder"/>.</summary>
    public long BlocksDecoded => Interlocked.Read(ref _blocksDecoded);

    /// <summary>Blocks given to libbz2 (declined by <see cref="Bzip2BlockDecoder"/>, damaged, or <c>libbz2Only</c>).</summary>
    public long BlocksToLibbz2 => Interlocked.Read(ref _blocksToLibbz2);

    // ---- splitting (one thread) ----

    private void Split()
    {
        try
        {
            var data = new BitReaderBuffer(_input);
            if (!data.Ensure(4) || data.Byte(0) != 'B' || data.Byte(1) != 'Z' || data.Byte(2) != 'h')
                throw new InvalidDataException("not a bzip2 stream");
            long pendingStart = -1; // bit offset of the block being collected
            long streamStart = 32;  // first bit after "BZhN"
            long byteIndex = 4;
            ulong window = 0;       // the last 64 bits read, newest in the low bits
            while (true)
            {
                if (!data.Ensure((int)(byteIndex + 1 - (data.BaseBit >> 3))))
                {
                    if (pendingStart >= 0) throw new InvalidDataException("bzip2 stream truncated inside a block");
                    break;
                }
                window = (window << 8) | (uint)data.Byte((int)byteIndex);
                long endOfByte = (byteIndex + 1) * 8;
                byteIndex++;
                // Magics ending at each of this byte's 8 bit positions, oldest first.
                for (int k = 7; k >= 0; k--)
                {
                    long end = endOfByte - k;
                    if (end - 48 < streamStart) continue;
                    ulong v = (window >> k) & Mask48;
                    if (v != BlockMagic && v != EndMagic) continue;
                    long magicStart = end - 48;
                    if (pendingStart >= 0) Dispatch(data.Copy(pendingStart, magicStart));
                    pendingStart = v == BlockMagic ? magicStart : -1;
                    if (v == EndMagic)
                    {
                        // 32-bit combined CRC, padding to a byte, then maybe another stream ("BZhN").
                        long next = (end + 32 + 7) / 8 * 8;
                        if (!data.EnsureBit(next + 31)) return;
                        int at = (int)(next / 8);
                        if (data.Byte(at) != 'B' || data.Byte(at + 1) != 'Z' || data.Byte(at + 2) != 'h') return;
                        streamStart = next + 32;
                        byteIndex = at + 4;
                        window = 0;
                        data.Discard(next);
                        break;
                    }
                    data.Discard(pendingStart);
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            _error = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            _blocks.CompleteAdding();
        }
    }

    private void Dispatch(BlockBits block) => _blocks.Add(Task.Run(() => Decode(block)), _cancel.Token);

    private Decoded Decode(BlockBits block)
    {
        var decoder = _libbz2Only ? null : Bzip2BlockDecoder.ForThisThread();
        if (decoder is not null && block.TryDecode(decoder))
        {
            var output = OutputBuffers.Rent(OutputBuffers.PooledSize);
            long length = decoder.WriteOutput(output.Pointer, output.Capacity);
            if (length < -1 && -length - 1 <= 1 << 30)
            {
                OutputBuffers.Return(output);
                output = OutputBuffers.Rent((int)(-length - 1));
                length = decoder.WriteOutput(output.Pointer, output.Capacity);
            }
            if (length >= 0)
            {
                Interlocked.Increment(ref _blocksDecoded);
                return new Decoded(output, (int)length);
            }
            OutputBuffers.Return(output);
        }
        Interlocked.Increment(ref _blocksToLibbz2);
        return DecodeWithLibbz2(block);
    }

    private static Decoded DecodeWithLibbz2(BlockBits block)
    {
        // "BZh9" + block bits + end magic + CRC (the block's CRC: combined = rotl(0,1) ^ crc) + padding.
        uint crc = block.ReadUInt32At(48);
        long bits = 32 + block.BitLength + 48 + 32;
        int streamLength = (int)((bits + 7) / 8);
        var stream = ArrayPool<byte>.Shared.Rent(streamLength);
        try
        {
            stream.AsSpan(0, streamLength).Clear();
            "BZh9"u8.CopyTo(stream);
            var writer = new BitWriter(stream, 32);
            block.CopyTo(ref writer);
            writer.Write(EndMagic, 48);
            writer.Write(crc, 32);

            int size = Math.Max(OutputBuffers.PooledSize, block.BitLength / 8 * 8);
            while (true)
            {
                var output = OutputBuffers.Rent(size);
                uint length = (uint)output.Capacity;
                int rc;
                fixed (byte* src = stream)
                    rc = DecompressOneBlockStream(output.Pointer, &length, src, (uint)streamLength);
                if (rc == BzOk) return new Decoded(output, (int)length);
                OutputBuffers.Return(output);
                if (rc == BzOutbuffFull && size < 1 << 30)
                {
                    size *= 4;
                    continue;
                }
                throw new BlockDecodeException(rc, block);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(stream);
        }
    }

    /// <summary>
    /// What BZ2_bzBuffToBuffDecompress does, with <see cref="BlockAllocator"/> as libbz2's allocator.
    /// Returns a libbz2 code; on BZ_OK, *<paramref name="destLength"/> is the decoded length.
    /// </summary>
    private static int DecompressOneBlockStream(byte* dest, uint* destLength, byte* source, uint sourceLength)
    {
        NativeBzip2Stream.BzStream bz = default;
        bz.BzAlloc = (IntPtr)(delegate* unmanaged<IntPtr, int, int, IntPtr>)&BlockAllocator.Allocate;
        bz.BzFree = (IntPtr)(delegate* unmanaged<IntPtr, IntPtr, void>)&BlockAllocator.Free;
        int rc = NativeBzip2Stream.DecompressInit(&bz, 0, 0);
        if (rc != BzOk) return rc;
        bz.NextIn = source;
        bz.AvailIn = sourceLength;
        bz.NextOut = dest;
        bz.AvailOut = *destLength;
        rc = NativeBzip2Stream.Decompress(&bz);
        if (rc == BzStreamEnd)
        {
            *destLength = bz.TotalOutLo32;
            rc = BzOk;
        }
        else if (rc == BzOk) rc = bz.AvailOut > 0 ? BzUnexpectedEof : BzOutbuffFull;
        NativeBzip2Stream.DecompressEnd(&bz);
        return rc;
    }

    /// <summary>
    /// libbz2's allocator for block decoding. Each block stream allocates its 3.6 MB tt array anew;
    /// through malloc that is a fresh mmap every block (glibc maps requests of that size), and
    /// touching its pages cost ~900 page faults per block: two thirds of all page faults of a
    /// RouteViews update file. Each decoding thread keeps its one large buffer instead (one per
    /// thread-pool thread that ever decoded a block, ≤ 3.6 MB each); everything else is malloc.
    /// </summary>
    private static class BlockAllocator
    {
        private const nuint KeptFrom = 1 << 20;

        [ThreadStatic] private static IntPtr t_large;
        [ThreadStatic] private static nuint t_largeSize;
        [ThreadStatic] private static bool t_largeInUse;

        [UnmanagedCallersOnly]
        public static IntPtr Allocate(IntPtr opaque, int items, int size)
        {
            try
            {
                nuint bytes = (nuint)items * (nuint)size;
                if (bytes < KeptFrom || t_largeInUse) return (IntPtr)NativeMemory.Alloc(bytes);
                if (t_largeSize < bytes)
                {
                    HugePages.Free(t_large);
                    t_large = IntPtr.Zero;
                    t_largeSize = 0;
                    t_large = HugePages.Allocate(bytes);
                    t_largeSize = bytes;
                }
                t_largeInUse = true;
                return t_large;
            }
            catch (OutOfMemoryException)
            {
                return IntPtr.Zero; // libbz2 reports BZ_MEM_ERROR
            }
        }

        [UnmanagedCallersOnly]
        public static void Free(IntPtr opaque, IntPtr address)
        {
            if (address == t_large && t_largeInUse) t_largeInUse = false;
            else NativeMemory.Free((void*)address);
        }
    }

    private sealed class BlockDecodeException(int code, BlockBits block) : Exception($"bzip2 block error {code}")
    {
        public int Code { get; } = code;
        public BlockBits Block { get; } = block;
    }

    // ---- reading (consumer thread) ----

    public override int Read(Span<byte> destination)
    {
        while (_current.Buffer is null || _currentPos == _current.Length)
        {
            _current.Return();
            _current = default;
            if (_done) return 0;
            if (!_blocks.TryTake(out var task, Timeout.Infinite))
            {
                _done = true;
                _error?.Throw();
                return 0;
            }
            try
            {
                _current = task.GetAwaiter().GetResult();
            }
            catch (BlockDecodeException e)
            {
                _currentPos = 0;
                // Either a false magic split a block (join it with the next piece and decode
                // again), or the block is damaged (skip it; bzip2 blocks are independent).
                if (!_blocks.TryTake(out var next, Timeout.Infinite))
                {
                    _done = true;
                    _error?.Throw();
                    throw new InvalidDataException($"bzip2 data error {e.Code} in the last block");
                }
                try
                {
                    _current = next.GetAwaiter().GetResult();
                }
                catch (BlockDecodeException e2)
                {
                    try
                    {
                        _current = Decode(e.Block.Concat(e2.Block));
                        continue;
                    }
                    catch (BlockDecodeException)
                    {
                        throw new CompressedDataGapException(
                            $"two bzip2 blocks are damaged (error {e.Code}); their data is lost, reading goes on with the next block");
                    }
                }
                throw new CompressedDataGapException(
                    $"a bzip2 block is damaged (error {e.Code}); its data is lost, reading goes on with the next block");
            }
            _currentPos = 0;
        }
        int n = Math.Min(destination.Length, _current.Length - _currentPos);
        new ReadOnlySpan<byte>(_current.Buffer.Pointer + _currentPos, n).CopyTo(destination);
        _currentPos += n;
        return n;
    }


    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cancel.Cancel();
            _current.Return();
            _current = default;
            while (_blocks.TryTake(out var pending)) ReturnWhenDone(pending);
            _splitter.Join();
            _input.Dispose();
            _blocks.Dispose();
            _cancel.Dispose();
        }
        base.Dispose(disposing);
    }

    private static void ReturnWhenDone(Task<Decoded> pending) =>
        pending.ContinueWith(
            t => { if (t.IsCompletedSuccessfully) t.Result.Return(); },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>
    /// Decoded blocks live in native buffers on huge pages, reused across blocks and streams. In a
    /// fresh managed array every 4 KiB page of output is a page fault, taken by two decoding
    /// threads of one process at once (they share its page tables): on the RouteViews update file
    /// that was 1,600 faults and, under virtualisation, more CPU than formatting the whole file.
    /// A few buffers are kept (as many as blocks can be in flight); larger or extra ones are freed.
    /// </summary>
    internal static class OutputBuffers
    {
        /// <summary>Holds any block whose output fits (a bzip2 block is at most 900 kB before RLE1).</summary>
        public const int PooledSize = 2 << 20;
        private static readonly ConcurrentBag<Buffer> s_free = new();
        private static readonly int s_keep = Math.Max(4, Environment.ProcessorCount * 2 + 2);

        public sealed class Buffer(byte* pointer, int capacity)
        {
            public byte* Pointer { get; } = pointer;
            public int Capacity { get; } = capacity;
        }

        public static Buffer Rent(int size)
        {
            if (size <= PooledSize && s_free.TryTake(out var kept)) return kept;
            int capacity = Math.Max(size, PooledSize);
            return new Buffer((byte*)HugePages.Allocate((nuint)capacity), capacity);
        }

        public static void Return(Buffer buffer)
        {
            if (buffer.Capacity == PooledSize && s_free.Count < s_keep) s_free.Add(buffer);
            else HugePages.Free((IntPtr)buffer.Pointer);
        }
    }

    /// <summary>A run of bits copied out of the compressed input.</summary>
    private sealed class BlockBits(byte[] bytes, int bitOffset, int bitLength)
    {
        public int BitLength { get; } = bitLength;

        public int Bit(long i)
        {
            long b = bitOffset + i;
            return (bytes[b >> 3] >> (7 - (int)(b & 7))) & 1;
        }

        public uint ReadUInt32At(long bit)
        {
            uint v = 0;
            for (int i = 0; i < 32; i++) v = (v << 1) | (uint)Bit(bit + i);
            return v;
        }

        public void CopyTo(ref BitWriter writer)
        {
            long i = 0;
            // Whole bytes when aligned to the writer is rare; copy 8 bits at a time through a shift.
            for (; i + 8 <= BitLength; i += 8)
            {
                long b = bitOffset + i;
                int shift = (int)(b & 7);
                int hi = bytes[b >> 3];
                int lo = shift == 0 ? 0 : bytes[(b >> 3) + 1];
                writer.WriteByte((byte)((hi << shift) | (lo >> (8 - shift))));
            }
            for (; i < BitLength; i++) writer.Write((ulong)Bit(i), 1);
        }

        public bool TryDecode(Bzip2BlockDecoder decoder) => decoder.TryDecodeBlock(bytes, bitOffset, BitLength);

        public BlockBits Concat(BlockBits next)
        {
            long bits = (long)BitLength + next.BitLength;
            var merged = new byte[(bits + 7) / 8 + 1];
            var w = new BitWriter(merged, 0);
            CopyTo(ref w);
            next.CopyTo(ref w);
            return new BlockBits(merged, 0, (int)bits);
        }
    }

    private ref struct BitWriter(byte[] buffer, long bitPosition)
    {
        private long _bit = bitPosition;

        public void WriteByte(byte value)
        {
            int s = (int)(_bit & 7);
            buffer[_bit >> 3] |= (byte)(value >> s);
            if (s != 0) buffer[(_bit >> 3) + 1] |= (byte)(value << (8 - s));
            _bit += 8;
        }

        public void Write(ulong value, int count)
        {
            for (int i = count - 1; i >= 0; i--)
            {
                if (((value >> i) & 1) != 0) buffer[_bit >> 3] |= (byte)(0x80 >> (int)(_bit & 7));
                _bit++;
            }
        }
    }

    /// <summary>Compressed input held from the oldest undispatched bit onwards.</summary>
    private sealed class BitReaderBuffer(Stream input)
    {
        private byte[] _buf = new byte[1 << 20];
        private int _len;
        private long _baseBit; // bit offset of _buf[0]
        private bool _eof;

        public long BaseBit => _baseBit;

        public bool Ensure(int bytes) => EnsureBit((long)bytes * 8 - 1 + _baseBit);

        public bool EnsureBit(long bit)
        {
            while ((bit - _baseBit) >> 3 >= _len)
            {
                if (_eof) return false;
                if (_len == _buf.Length) Array.Resize(ref _buf, _buf.Length * 2);
                int n = input.Read(_buf, _len, _buf.Length - _len);
                if (n == 0) { _eof = true; return false; }
                _len += n;
            }
            return true;
        }

        public int Bit(long bit)
        {
            long b = bit - _baseBit;
            return (_buf[b >> 3] >> (7 - (int)(b & 7))) & 1;
        }

        public int Byte(int index) => _buf[index - (int)(_baseBit >> 3)];

        public BlockBits Copy(long fromBit, long toBit)
        {
            long startByte = (fromBit - _baseBit) >> 3;
            long endByte = ((toBit - _baseBit) + 7) >> 3;
            var bytes = new byte[endByte - startByte + 1];
            Buffer.BlockCopy(_buf, (int)startByte, bytes, 0, (int)(endByte - startByte));
            return new BlockBits(bytes, (int)((fromBit - _baseBit) & 7), (int)(toBit - fromBit));
        }

        /// <summary>Drops whole bytes before <paramref name="bit"/>.</summary>
        public void Discard(long bit)
        {
            int drop = (int)((bit - _baseBit) >> 3);
            if (drop < _buf.Length / 2) return;
            Buffer.BlockCopy(_buf, drop, _buf, 0, _len - drop);
            _len -= drop;
            _baseBit += (long)drop * 8;
        }
    }
}
