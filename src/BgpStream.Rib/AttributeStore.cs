namespace BgpStream.Rib;

/// <summary>
/// Interned path attribute blocks: identical blocks (byte for byte) are stored once and shared by
/// every route of every peer that carries them, each route holding one reference. A block whose
/// last reference goes is dropped and its id reused. Ids are dense small integers, so a route
/// needs 4 bytes for its attributes. Not thread-safe: one consumer applies the records.
/// </summary>
public sealed class AttributeStore
{
    private readonly Dictionary<byte[], int> _ids = new(BlockComparer.Instance);
    private readonly Dictionary<byte[], int>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly Stack<int> _free = new();
    private byte[]?[] _blocks = new byte[]?[1024];
    private int[] _references = new int[1024];
    private int _highWater;

    public AttributeStore() => _lookup = _ids.GetAlternateLookup<ReadOnlySpan<byte>>();

    /// <summary>Distinct blocks held.</summary>
    public int Count => _ids.Count;
    /// <summary>Bytes of attribute data held (the blocks themselves, without object overhead).</summary>
    public long Bytes { get; private set; }

    /// <summary>The block with this id (valid while it has references).</summary>
    public ReadOnlySpan<byte> this[int id] => _blocks[id];

    public int References(int id) => id >= 0 && id < _highWater && _blocks[id] is not null ? _references[id] : 0;

    /// <summary>Finds or stores <paramref name="block"/> and takes one reference on it.</summary>
    internal int Acquire(ReadOnlySpan<byte> block)
    {
        if (_lookup.TryGetValue(block, out int id))
        {
            _references[id]++;
            return id;
        }
        var stored = block.ToArray();
        id = _free.Count > 0 ? _free.Pop() : NewId();
        _blocks[id] = stored;
        _references[id] = 1;
        _ids.Add(stored, id);
        Bytes += stored.Length;
        return id;
    }

    internal void AddReference(int id) => _references[id]++;

    internal void Release(int id)
    {
        if (--_references[id] > 0) return;
        var block = _blocks[id]!;
        _ids.Remove(block);
        _blocks[id] = null;
        Bytes -= block.Length;
        _free.Push(id);
    }

    private int NewId()
    {
        if (_highWater == _blocks.Length)
        {
            Array.Resize(ref _blocks, _blocks.Length * 2);
            Array.Resize(ref _references, _references.Length * 2);
        }
        return _highWater++;
    }

    private sealed class BlockComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly BlockComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] block) => Hash(block);
        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
        public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);
        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

        private static int Hash(ReadOnlySpan<byte> block)
        {
            var hash = new HashCode();
            hash.AddBytes(block);
            return hash.ToHashCode();
        }
    }
}
