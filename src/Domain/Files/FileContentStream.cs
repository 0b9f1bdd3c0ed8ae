using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Persistence;

namespace TuningService.Domain.Files;

/// <summary>
/// A read-only, forward-only stream over a stored file's <see cref="FileChunk"/> rows, fetched one chunk per query
/// in index order: memory holds one chunk, never the file. The caller owns <paramref name="db"/> and must keep it
/// alive while reading.
/// </summary>
public sealed class FileContentStream(TuningDbContext db, string fileId, int chunkCount, long length) : Stream
{
    private byte[] _chunk = [];
    private int _offset;
    private int _nextIndex;
    private long _position;

    /// <summary>Opens the content of a file of <paramref name="projectId"/>, or returns null when it has no such file.</summary>
    public static async Task<FileContentStream?> OpenAsync(TuningDbContext db, string projectId, string fileId, CancellationToken ct = default)
    {
        var file = await db.Files.AsNoTracking()
            .Where(f => f.Id == fileId && f.ProjectId == projectId)
            .Select(f => new { f.ChunkCount, f.Bytes })
            .SingleOrDefaultAsync(ct);
        return file is null ? null : new FileContentStream(db, fileId, file.ChunkCount, file.Bytes);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (buffer.IsEmpty) return 0;
        while (_offset == _chunk.Length)
        {
            if (_nextIndex >= chunkCount) return 0;
            var index = _nextIndex++;
            _chunk = await db.FileChunks.AsNoTracking()
                .Where(c => c.FileId == fileId && c.Index == index)
                .Select(c => c.Data)
                .SingleOrDefaultAsync(ct)
                ?? throw new InvalidOperationException($"File {fileId} is missing chunk {index} of {chunkCount}.");
            _offset = 0;
        }
        var count = Math.Min(buffer.Length, _chunk.Length - _offset);
        _chunk.AsMemory(_offset, count).CopyTo(buffer);
        _offset += count;
        _position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
