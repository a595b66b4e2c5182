namespace BgpStream.Arrow;

/// <summary>
/// Where record batches go: the seam between the pipeline and the Arrow implementation (see README.md).
/// The pipeline sees only this, <see cref="ArrowSchema"/>, <see cref="RecordBatchBuilder"/> and its
/// column builders; swapping in Apache.Arrow replaces the implementations, not the callers.
/// </summary>
public interface IArrowBatchSink : IDisposable
{
    ArrowSchema Schema { get; }

    /// <summary>Writes one batch (its dictionaries' new entries first). The caller still owns and disposes the batch.</summary>
    void WriteRecordBatch(RecordBatch batch);

    /// <summary>Writes the end (stream end marker, file footer) and flushes. No batches after it.</summary>
    void WriteEnd();
}

/// <summary>Arrow IPC stream (".arrows") or file (".arrow", random access through its footer).</summary>
public enum ArrowIpcFormat { Stream, File }
