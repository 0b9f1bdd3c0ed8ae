using Npgsql;
using NpgsqlTypes;

namespace TuningService.Api.Files;

/// <summary>
/// Appends a file's content as fixed-size <c>file_chunks</c> rows inside the caller's transaction, reusing one
/// buffer: memory is one chunk however large the file.
/// </summary>
internal sealed class FileChunkWriter : IAsyncDisposable
{
    private readonly NpgsqlCommand _insert;
    private readonly NpgsqlParameter<int> _index;
    private readonly NpgsqlParameter<ReadOnlyMemory<byte>> _data;
    private readonly byte[] _buffer;
    private int _filled;

    public FileChunkWriter(NpgsqlConnection connection, NpgsqlTransaction transaction, string fileId, int chunkBytes)
    {
        _buffer = new byte[chunkBytes];
        _insert = new NpgsqlCommand("INSERT INTO file_chunks (file_id, index, data) VALUES ($1, $2, $3)", connection, transaction);
        _insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = fileId });
        _index = new NpgsqlParameter<int>();
        _data = new NpgsqlParameter<ReadOnlyMemory<byte>> { NpgsqlDbType = NpgsqlDbType.Bytea };
        _insert.Parameters.Add(_index);
        _insert.Parameters.Add(_data);
    }

    public int ChunkCount { get; private set; }

    public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            var count = Math.Min(data.Length, _buffer.Length - _filled);
            data[..count].CopyTo(_buffer.AsMemory(_filled));
            _filled += count;
            data = data[count..];
            if (_filled == _buffer.Length) await FlushChunkAsync(ct);
        }
    }

    public async Task CompleteAsync(CancellationToken ct)
    {
        if (_filled > 0) await FlushChunkAsync(ct);
    }

    private async Task FlushChunkAsync(CancellationToken ct)
    {
        _index.TypedValue = ChunkCount;
        _data.TypedValue = _buffer.AsMemory(0, _filled);
        await _insert.ExecuteNonQueryAsync(ct);
        ChunkCount++;
        _filled = 0;
    }

    public ValueTask DisposeAsync() => _insert.DisposeAsync();
}
