namespace BgpStream.Arrow;

/// <summary>
/// One built array in IPC order: <see cref="Buffers"/> are exactly the buffers Columnar.html lists
/// for the type (validity first, empty when there are no nulls), <see cref="Children"/> the child
/// arrays (List: its values).
/// </summary>
internal sealed class ArrayData(ArrowType type, int length, int nullCount, OwnedBuffer[] buffers, ArrayData[] children) : IDisposable
{
    public ArrowType Type { get; } = type;
    public int Length { get; } = length;
    public int NullCount { get; } = nullCount;
    public OwnedBuffer[] Buffers { get; } = buffers;
    public ArrayData[] Children { get; } = children;

    /// <summary>For a dictionary-encoded column: the dictionary entries added since the previous batch.</summary>
    public DictionaryDelta? Dictionary { get; init; }

    public void Dispose()
    {
        foreach (var buffer in Buffers) buffer.Return();
        foreach (var child in Children) child.Dispose();
        Dictionary?.Values.Dispose();
    }
}

/// <summary>Entries [<see cref="StartIndex"/>, StartIndex + Values.Length) of dictionary <see cref="Id"/>.</summary>
internal sealed record DictionaryDelta(long Id, int StartIndex, ArrayData Values);
