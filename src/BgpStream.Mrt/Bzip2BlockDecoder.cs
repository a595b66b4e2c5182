using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace BgpStream.Mrt;

/// <summary>
/// Decodes one bzip2 block (Huffman, MTF, inverse BWT, RLE1, CRC) for
/// <see cref="ParallelBzip2Stream"/>, several times faster than libbz2. libbz2 spends most of its
/// time in the inverse BWT, where each output byte is one load from an unpredictable place in a
/// 3.6 MB table that must complete before the next load can start: about one memory latency per
/// byte. Here the text is cut into segments that start at rows spread over the block and are
/// walked side by side (see <see cref="InverseBwt"/>), so dozens of those loads are in flight
/// at once.
/// <para>
/// Anything this decoder does not handle (randomised blocks of bzip2 0.9.0, periodic blocks whose
/// T vector has several cycles) or that does not check out (a bad table, a CRC mismatch, bits
/// past the end) returns false: the caller then gives the block to libbz2, which decides and
/// reports. So output is only ever accepted with the block's CRC matched, and every error is
/// still libbz2's.
/// </para>
/// </summary>
internal sealed unsafe class Bzip2BlockDecoder
{
    private const int MaxBlock = 900_000;       // 9 × 100k: the largest block of any level
    private const int MaxGroups = 6;
    private const int MaxAlpha = 258;
    private const int MaxCodeLength = 20;
    private const int MaxSelectors = 18_002;    // libbz2 1.0.8 (CVE-2019-12900): more are read, not kept
    private const int GroupSize = 50;
    private const int LookupBits = 10;

    [ThreadStatic] private static Bzip2BlockDecoder? t_decoder;

    /// <summary>tt[i]: low byte = L[i] (the BWT's last column); upper 24 bits = T[i] (forward).</summary>
    private readonly uint* _tt;
    /// <summary>Regions the walks write their segments to.</summary>
    private readonly byte* _scratch;
    private readonly Segment[] _segments = new Segment[Regions];
    /// <summary>The block after the inverse BWT, before RLE1 is undone.</summary>
    private readonly byte* _pre;
    private readonly byte[] _selectors = new byte[MaxSelectors];
    private readonly HuffmanTable[] _tables = [new(), new(), new(), new(), new(), new()];
    /// <summary>How often each byte occurs in the block (for the first column of the BWT).</summary>
    private readonly int[] _counts = new int[256];
    /// <summary>The block's byte values in use, in order: MTF's initial list.</summary>
    private readonly byte[] _seqToUnseq = new byte[256];

    private int _length;
    private uint _blockCrc;

    private Bzip2BlockDecoder()
    {
        _tt = (uint*)HugePages.Allocate(MaxBlock * sizeof(uint));
        _scratch = (byte*)HugePages.Allocate((nuint)Regions * RegionSize);
        _pre = (byte*)HugePages.Allocate(MaxBlock);
    }

    /// <summary>This thread's decoder (≈ 9 MB, kept for the thread's life like libbz2's tables).</summary>
    public static Bzip2BlockDecoder ForThisThread() => t_decoder ??= new Bzip2BlockDecoder();

    /// <summary>
    /// Decodes the block whose bits (from its 48-bit magic on) are <paramref name="bitLength"/>
    /// bits of <paramref name="data"/> from bit <paramref name="bitOffset"/>, up to the inverse BWT.
    /// False when the block is one this decoder leaves to libbz2.
    /// </summary>
    public bool TryDecodeBlock(ReadOnlySpan<byte> data, int bitOffset, long bitLength)
    {
        _length = 0;
        fixed (byte* p = data)
        {
            var bits = new BitReader(p, data.Length, bitOffset);
            try
            {
                if (!TryDecodeSymbols(ref bits, out int origPtr)) return false;
                // A block ends where the next magic starts: bits left over mean a missed magic
                // (damage) and a second block in this piece, which libbz2 then reports.
                if (bits.Consumed != bitLength) return false;
                return InverseBwt(origPtr);
            }
            catch (InvalidDataException)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Undoes RLE1 into <paramref name="output"/> and checks the block CRC. Returns the output
    /// length, -1 when the CRC does not match, or minus (the length needed + 1) when
    /// <paramref name="capacity"/> is too small (call again with a larger buffer).
    /// </summary>
    public long WriteOutput(byte* output, int capacity)
    {
        long written = UndoRle1(output, capacity);
        if (written > capacity) return -(written + 1);
        return Bzip2Crc.Compute(new ReadOnlySpan<byte>(output, (int)written)) == _blockCrc ? written : -1;
    }

    // ---- Huffman and MTF (the symbols of the block) ----

    private bool TryDecodeSymbols(ref BitReader bits, out int origPtr)
    {
        origPtr = 0;
        if (bits.Read(24) != 0x314159 || bits.Read(24) != 0x265359) return false;
        _blockCrc = bits.Read(32);
        if (bits.Read(1) != 0) return false; // randomised: libbz2's job
        origPtr = (int)bits.Read(24);

        // The byte values in use: 16 ranges of 16.
        byte[] seqToUnseq = _seqToUnseq;
        int inUse = 0;
        uint ranges = bits.Read(16);
        for (int i = 0; i < 16; i++)
        {
            if ((ranges & (0x8000u >> i)) == 0) continue;
            uint used = bits.Read(16);
            for (int j = 0; j < 16; j++)
                if ((used & (0x8000u >> j)) != 0) seqToUnseq[inUse++] = (byte)(i * 16 + j);
        }
        if (inUse == 0) return false;
        int alphaSize = inUse + 2;

        int groups = (int)bits.Read(3);
        if (groups < 2 || groups > MaxGroups) return false;
        int selectorCount = (int)bits.Read(15);
        if (selectorCount < 1) return false;
        Span<byte> groupMtf = stackalloc byte[MaxGroups];
        for (int i = 0; i < groups; i++) groupMtf[i] = (byte)i;
        int kept = Math.Min(selectorCount, MaxSelectors);
        for (int i = 0; i < selectorCount; i++)
        {
            int j = 0;
            while (bits.Read(1) != 0)
                if (++j >= groups) return false;
            if (i >= kept) continue;
            byte g = groupMtf[j];
            for (; j > 0; j--) groupMtf[j] = groupMtf[j - 1];
            groupMtf[0] = g;
            _selectors[i] = g;
        }

        Span<byte> lengths = stackalloc byte[MaxAlpha];
        for (int t = 0; t < groups; t++)
        {
            int current = (int)bits.Read(5);
            for (int i = 0; i < alphaSize; i++)
            {
                while (true)
                {
                    if (current < 1 || current > MaxCodeLength) return false;
                    if (bits.Read(1) == 0) break;
                    current += bits.Read(1) == 0 ? 1 : -1;
                }
                lengths[i] = (byte)current;
            }
            if (!_tables[t].Build(lengths[..alphaSize])) return false;
        }

        return TryDecodeMtf(ref bits, kept, alphaSize, seqToUnseq);
    }

    private bool TryDecodeMtf(ref BitReader bits, int selectorCount, int alphaSize, byte[] seqToUnseq)
    {
        int endOfBlock = alphaSize - 1;
        byte* mtf = stackalloc byte[256];
        for (int i = 0; i < 256; i++) mtf[i] = seqToUnseq[i];
        Array.Clear(_counts);
        fixed (int* counts = _counts)
            return TryDecodeMtf(ref bits, selectorCount, endOfBlock, mtf, counts);
    }

    private bool TryDecodeMtf(ref BitReader bits, int selectorCount, int endOfBlock, byte* mtf, int* counts)
    {
        uint* tt = _tt;
        int n = 0;
        int run = 0, runWeight = 1;
        int selector = 0, left = 0;
        HuffmanTable table = _tables[0];

        while (true)
        {
            if (left == 0)
            {
                if (selector >= selectorCount) return false;
                table = _tables[_selectors[selector++]];
                left = GroupSize;
            }
            left--;
            int symbol = table.Decode(ref bits);
            if (symbol < 0) return false;

            if (symbol <= 1) // RUNA, RUNB: a run of the front byte, its length in bijective base 2
            {
                run += runWeight << symbol;
                runWeight <<= 1;
                if (runWeight >= 2 * 1024 * 1024) return false;
                continue;
            }
            if (run > 0)
            {
                if (n + run > MaxBlock) return false;
                byte b = mtf[0];
                counts[b] += run;
                new Span<uint>(tt + n, run).Fill(b);
                n += run;
                run = 0;
                runWeight = 1;
            }
            if (symbol == endOfBlock) break;
            if (n >= MaxBlock) return false;

            int index = symbol - 1;
            byte value = mtf[index];
            if (index < 16)
            {
                for (int k = index; k > 0; k--) mtf[k] = mtf[k - 1];
            }
            else
            {
                Buffer.MemoryCopy(mtf, mtf + 1, 255, index);
            }
            mtf[0] = value;
            counts[value]++;
            tt[n++] = value;
        }

        if (bits.Overrun || n == 0) return false;
        _length = n;
        return true;
    }

    // ---- inverse BWT ----

    /// <summary>
    /// Builds the T vector and walks it. A single walk from origPtr waits on memory at every byte
    /// (libbz2's loop; measured at about one DRAM latency per byte here). Instead, rows spread over
    /// the block are stop marks and each starts a walk of its own: every walk runs until it has
    /// output a marked row, so the text falls into segments that are walked side by side, with one
    /// load per segment in flight. Where a segment sits in the text is only known at the end (walk
    /// j stops at the row where another walk started), so segments go to scratch regions and are
    /// put in order afterwards by following the chain of rows from origPtr.
    /// </summary>
    private bool InverseBwt(int origPtr)
    {
        int n = _length;
        if ((uint)origPtr >= (uint)n) return false;
        uint* tt = _tt;
        // next[c]: where the next occurrence of byte c goes in the first column (C[c] + rank).
        int* next = stackalloc int[256];
        int sum = 0;
        for (int c = 0; c < 256; c++)
        {
            next[c] = sum;
            sum += _counts[c];
        }
        // T[j] = i for the occurrence of L[i] at row j of the first column (libbz2's tt).
        for (int i = 0; i < n; i++)
        {
            uint c = tt[i] & 0xFF;
            tt[next[c]++] |= (uint)i << 8;
        }

        // Walk starts: origPtr (the row of the whole text: its walk outputs the text's first
        // bytes) and rows evenly spaced over the block, marked by the top bit of their tt entry
        // (T needs 20 bits, L 8), so a walk sees the mark in the entry it loads anyway.
        uint* cur = stackalloc uint[Walks];
        byte** dst = stackalloc byte*[Walks];
        byte** limit = stackalloc byte*[Walks];
        int* segmentOf = stackalloc int[Walks];
        int walks = 0, segments = 0, regions = 0;
        for (int k = 0; k < Walks; k++)
        {
            uint row = k == 0 ? (uint)origPtr : (uint)((long)n * k / Walks);
            if (k > 0 && (tt[row] & Mark) != 0) continue;
            tt[row] |= Mark;
            cur[walks] = (tt[row] & ~Mark) >> 8;
            segmentOf[walks] = OpenSegment(row, ref segments, ref regions, dst + walks, limit + walks);
            walks++;
        }

        // All walks in one loop: their loads are independent, so the core overlaps their misses.
        // The loop is kept small (no spills) so that many iterations fit in the core's window.
        int active = walks;
        while (active > 0)
        {
            for (int w = 0; w < active;)
            {
                uint row = cur[w];
                uint t = tt[row];
                byte* d = dst[w];
                *d++ = (byte)t;
                if ((t & Mark) == 0 && d != limit[w])
                {
                    dst[w] = d;
                    cur[w] = t >> 8;
                    w++;
                    continue;
                }
                CloseSegment(segmentOf[w], row, d);
                if ((t & Mark) != 0)
                {
                    // Output a marked row: the next segment starts there. This walk is done.
                    active--;
                    cur[w] = cur[active];
                    dst[w] = dst[active];
                    limit[w] = limit[active];
                    segmentOf[w] = segmentOf[active];
                    continue;
                }
                // Region full: the segment ends here and the walk goes on in a new one.
                segmentOf[w] = OpenSegment(row, ref segments, ref regions, dst + w, limit + w);
                cur[w] = t >> 8;
                w++;
            }
        }

        // In text order: from origPtr's segment, each next one starts where the last ended.
        byte* pre = _pre;
        int written = 0;
        uint at = (uint)origPtr;
        for (int used = 0; used < segments; used++)
        {
            int s = FindSegment(at, segments);
            if (s < 0) return false;
            ref Segment seg = ref _segments[s];
            if (written + seg.Length > n) return false;
            Buffer.MemoryCopy(_scratch + (long)seg.Region * RegionSize, pre + written, n - written, seg.Length);
            written += seg.Length;
            at = seg.End;
            if (at == (uint)origPtr) break;
        }
        // Fewer bytes: the text is periodic and T has more than one cycle (or the data is bad).
        return written == n && at == (uint)origPtr;
    }

    private const int Walks = 64;
    private const uint Mark = 0x8000_0000;
    private const int RegionSize = 16 << 10;
    /// <summary>Regions: enough for a block's bytes in full regions plus one part-filled per walk.</summary>
    private const int Regions = MaxBlock / RegionSize + Walks + 1;

    private struct Segment
    {
        public uint Start, End;
        public int Region, Length;
    }

    private int OpenSegment(uint start, ref int segments, ref int regions, byte** dst, byte** limit)
    {
        if (regions == Regions) throw new InvalidDataException("bzip2 inverse BWT: out of scratch regions");
        int s = segments++;
        _segments[s] = new Segment { Start = start, Region = regions };
        *dst = _scratch + (long)regions * RegionSize;
        *limit = *dst + RegionSize;
        regions++;
        return s;
    }

    private void CloseSegment(int s, uint end, byte* dst)
    {
        ref Segment seg = ref _segments[s];
        seg.End = end;
        seg.Length = (int)(dst - (_scratch + (long)seg.Region * RegionSize));
    }

    private int FindSegment(uint start, int segments)
    {
        for (int s = 0; s < segments; s++)
            if (_segments[s].Start == start) return s;
        return -1;
    }

    // ---- RLE1 ----

    /// <summary>
    /// Undoes the initial run-length encoding: four equal bytes are followed by a count (0–255) of
    /// further copies. Returns the full output length, also when it exceeds the capacity (then
    /// nothing past the capacity is written).
    /// </summary>
    private long UndoRle1(byte* output, int capacity)
    {
        byte* pre = _pre;
        int n = _length;
        long o = 0;
        int i = 0;
        while (i < n)
        {
            byte c = pre[i];
            if (i + 3 < n && pre[i + 1] == c && pre[i + 2] == c && pre[i + 3] == c)
            {
                int copies = 4 + (i + 4 < n ? pre[i + 4] : 0);
                if (o + copies <= capacity) new Span<byte>(output + o, copies).Fill(c);
                o += copies;
                i += 5;
            }
            else
            {
                if (o < capacity) output[o] = c;
                o++;
                i++;
            }
        }
        return o;
    }

    /// <summary>Canonical Huffman decoding as bzip2 assigns codes (BZ2_hbAssignCodes).</summary>
    private sealed class HuffmanTable
    {
        // lookup[peek(LookupBits)] = symbol << 8 | length, for codes no longer than LookupBits; 0 otherwise.
        private readonly uint[] _lookup = new uint[1 << LookupBits];
        private readonly int[] _first = new int[MaxCodeLength + 2];  // first code of each length
        private readonly int[] _count = new int[MaxCodeLength + 2];
        private readonly int[] _offset = new int[MaxCodeLength + 2]; // index in _sorted of its first symbol
        private readonly ushort[] _sorted = new ushort[MaxAlpha];
        private int _maxLength;

        public bool Build(ReadOnlySpan<byte> lengths)
        {
            Array.Clear(_count);
            _maxLength = 0;
            foreach (byte l in lengths)
            {
                _count[l]++;
                if (l > _maxLength) _maxLength = l;
            }
            int code = 0, index = 0;
            for (int l = 1; l <= MaxCodeLength; l++)
            {
                _first[l] = code;
                _offset[l] = index;
                code = (code + _count[l]) << 1;
                index += _count[l];
                // Oversubscribed: more codes of this length than the length can hold.
                if (_first[l] + _count[l] > 1 << l) return false;
            }
            Span<int> position = stackalloc int[MaxCodeLength + 1];
            for (int l = 1; l <= MaxCodeLength; l++) position[l] = _offset[l];
            for (int s = 0; s < lengths.Length; s++) _sorted[position[lengths[s]]++] = (ushort)s;

            Array.Clear(_lookup);
            for (int l = 1; l <= Math.Min(LookupBits, MaxCodeLength); l++)
            {
                for (int k = 0; k < _count[l]; k++)
                {
                    int c = _first[l] + k;
                    uint entry = ((uint)_sorted[_offset[l] + k] << 8) | (uint)l;
                    int from = c << (LookupBits - l), to = (c + 1) << (LookupBits - l);
                    _lookup.AsSpan(from, to - from).Fill(entry);
                }
            }
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public int Decode(ref BitReader bits)
        {
            bits.Refill();
            uint entry = _lookup[bits.Peek(LookupBits)];
            if (entry != 0)
            {
                bits.Skip((int)(entry & 0xFF));
                return (int)(entry >> 8);
            }
            return DecodeLong(ref bits);
        }

        private int DecodeLong(ref BitReader bits)
        {
            for (int l = LookupBits + 1; l <= _maxLength; l++)
            {
                int d = (int)bits.Peek(l) - _first[l];
                if ((uint)d < (uint)_count[l])
                {
                    bits.Skip(l);
                    return _sorted[_offset[l] + d];
                }
            }
            return -1;
        }
    }

    /// <summary>MSB-first bit reader over a block; past the end it reads zeros and says so.</summary>
    private ref struct BitReader
    {
        private readonly byte* _data;
        private readonly int _length;
        private int _next;      // next byte to load
        private ulong _buffer;  // valid bits left-aligned
        private int _count;     // valid bits in _buffer
        private long _consumed;
        private readonly int _start;

        public BitReader(byte* data, int length, int bitOffset)
        {
            _data = data;
            _length = length;
            _start = bitOffset;
            Refill();
            Skip(bitOffset);
            _consumed = 0;
        }

        public readonly long Consumed => _consumed;

        /// <summary>More bits were read than the data holds.</summary>
        public readonly bool Overrun => _consumed + _start > (long)_length * 8;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Refill()
        {
            if (_count > 32) return;
            if (_next + 4 <= _length)
            {
                _buffer |= (ulong)BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(_data + _next, 4)) << (32 - _count);
                _next += 4;
                _count += 32;
            }
            else
            {
                RefillSlow();
            }
        }

        private void RefillSlow()
        {
            while (_count <= 56)
            {
                ulong b = _next < _length ? _data[_next] : 0UL;
                _next++;
                _buffer |= b << (56 - _count);
                _count += 8;
            }
            if (_next > _length + 64) throw new InvalidDataException("bzip2 block runs past its data");
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly uint Peek(int n) => (uint)(_buffer >> (64 - n));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Skip(int n)
        {
            _buffer <<= n;
            _count -= n;
            _consumed += n;
        }

        public uint Read(int n)
        {
            Refill();
            uint v = Peek(n);
            Skip(n);
            return v;
        }
    }
}

/// <summary>bzip2's CRC-32: polynomial 0x04C11DB7, most significant bit first, slicing by 8.</summary>
internal static class Bzip2Crc
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i << 24;
            for (int k = 0; k < 8; k++) c = (c & 0x8000_0000) != 0 ? (c << 1) ^ 0x04C1_1DB7 : c << 1;
            t[i] = c;
        }
        for (int i = 0; i < 256; i++)
            for (int s = 1; s < 8; s++)
                t[s * 256 + i] = (t[(s - 1) * 256 + i] << 8) ^ t[t[(s - 1) * 256 + i] >> 24];
        return t;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFF_FFFF;
        var t = Table;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            uint hi = crc ^ BinaryPrimitives.ReadUInt32BigEndian(data[i..]);
            uint lo = BinaryPrimitives.ReadUInt32BigEndian(data[(i + 4)..]);
            crc = t[7 * 256 + (hi >> 24)] ^ t[6 * 256 + ((hi >> 16) & 0xFF)] ^ t[5 * 256 + ((hi >> 8) & 0xFF)] ^ t[4 * 256 + (hi & 0xFF)]
                ^ t[3 * 256 + (lo >> 24)] ^ t[2 * 256 + ((lo >> 16) & 0xFF)] ^ t[1 * 256 + ((lo >> 8) & 0xFF)] ^ t[lo & 0xFF];
        }
        for (; i < data.Length; i++) crc = (crc << 8) ^ t[(crc >> 24) ^ data[i]];
        return ~crc;
    }
}
