using System.Runtime.InteropServices;
using BgpStream.Arrow.Ipc;

namespace BgpStream.Arrow;

/// <summary>
/// Writes <c>path.tmp</c> and publishes it as <c>path</c> only when complete: <see cref="WriteEnd"/>
/// (or <see cref="Dispose"/> after error-free writes) writes the end, fsyncs the file, renames it over
/// <c>path</c> and fsyncs the directory. A crash leaves at most a <c>.tmp</c> file behind, never a
/// <c>path</c> that a reader rejects. If a write failed, Dispose deletes the temporary file instead.
/// </summary>
public sealed partial class AtomicArrowFile : IArrowBatchSink
{
    private readonly FileStream _file;
    private readonly IArrowBatchSink _writer;
    private bool _faulted, _committed, _disposed;

    private AtomicArrowFile(string path, ArrowSchema schema, ArrowIpcFormat format)
    {
        Path = System.IO.Path.GetFullPath(path);
        TempPath = Path + ".tmp";
        _file = new FileStream(TempPath, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16);
        _writer = format == ArrowIpcFormat.File
            ? new ArrowFileWriter(_file, schema, leaveOpen: true)
            : new ArrowStreamWriter(_file, schema, leaveOpen: true);
    }

    /// <summary>Creates (or truncates) <paramref name="path"/>.tmp; <paramref name="path"/> appears at <see cref="WriteEnd"/>.</summary>
    public static AtomicArrowFile Create(string path, ArrowSchema schema, ArrowIpcFormat format = ArrowIpcFormat.File)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(schema);
        return new AtomicArrowFile(path, schema, format);
    }

    public string Path { get; }
    public string TempPath { get; }
    public ArrowSchema Schema => _writer.Schema;

    /// <summary>Bytes written so far (for size-based rotation).</summary>
    public long BytesWritten => _file.Position;

    public void WriteRecordBatch(RecordBatch batch)
    {
        if (_committed) throw new InvalidOperationException("WriteRecordBatch after WriteEnd");
        try { _writer.WriteRecordBatch(batch); }
        catch { _faulted = true; throw; }
    }

    public void WriteEnd()
    {
        if (_committed) return;
        if (_faulted) throw new InvalidOperationException($"an earlier write to {TempPath} failed; it will not be published");
        try
        {
            _writer.WriteEnd();
            _file.Flush(flushToDisk: true);
            _file.Dispose();
            File.Move(TempPath, Path, overwrite: true);
            _committed = true;
        }
        catch
        {
            _faulted = true;
            throw;
        }
        SyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
    }

    /// <summary>Abandons the file: closes and deletes <see cref="TempPath"/>.</summary>
    public void Abort()
    {
        if (_committed) return;
        _faulted = true;
        Dispose();
    }

    public void Dispose()
    {
        if (_disposed) return;
        if (!_committed && !_faulted)
        {
            try { WriteEnd(); }
            catch { _faulted = true; }
        }
        _disposed = true;
        try
        {
            _writer.Dispose();
            _file.Dispose();
        }
        catch (IOException) when (!_committed)
        {
            // Closing flushes what is buffered, which fails again on a full disk; the file is being
            // abandoned, so that failure changes nothing, and the .tmp must still go.
        }
        finally
        {
            if (!_committed)
            {
                try { File.Delete(TempPath); }
                catch (IOException) { }
            }
        }
    }

    /// <summary>The rename is durable only once the directory entry is on disk (POSIX fsync(2) on the directory).</summary>
    private static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // Windows: MoveFileEx is journaled by NTFS
        int fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return; // best effort: the file itself is already synced
        Fsync(fd);
        Close(fd);
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
