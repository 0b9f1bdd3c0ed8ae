using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Datasets;
using TuningService.Domain.Files;
using TuningService.Domain.Persistence;

namespace TuningService.Worker.Runtime;

/// <summary>Reads a stored training or validation file line by line, straight from its chunks in Postgres.</summary>
public sealed class DatasetReader(IDbContextFactory<TuningDbContext> dbFactory)
{
    /// <summary>
    /// The file's typed examples, parsed by the Domain's dataset parser — the very code that validated the upload —
    /// streamed from its chunks. Fails with a code the user can act on.
    /// </summary>
    public List<DatasetExample> ReadExamples(string projectId, string fileId, string param)
    {
        using var db = dbFactory.CreateDbContext();
        var (file, code) = Find(db, projectId, fileId, param);
        using var content = FileContentStream.OpenAsync(db, projectId, fileId).GetAwaiter().GetResult()
            ?? throw JobFailures.Fail(code, $"File {fileId} no longer exists. Upload it again and create a new job.", param);
        var examples = new List<DatasetExample>(file.Examples);
        try
        {
            var reader = Domain.Datasets.DatasetReader.ReadAsync(content, file.Format).GetAsyncEnumerator();
            while (reader.MoveNextAsync().AsTask().GetAwaiter().GetResult()) examples.Add(reader.Current);
        }
        catch (InvalidDatasetException e)
        {
            throw JobFailures.Fail(code, $"{fileId} line {e.Issue.Line}: {e.Issue.Message} ({e.Issue.Code}).", param, e);
        }
        return examples;
    }

    /// <summary>The file's JSONL lines as parsed JSON (blank lines skipped). Fails with a code the user can act on.</summary>
    public List<JsonElement> ReadLines(string projectId, string fileId, string param)
    {
        using var db = dbFactory.CreateDbContext();
        var (file, code) = Find(db, projectId, fileId, param);

        var lines = new List<JsonElement>();
        using var reader = new StreamReader(new ChunkedContentStream(dbFactory, fileId, file.ChunkCount), detectEncodingFromByteOrderMarks: true);
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                lines.Add(doc.RootElement.Clone());
            }
            catch (JsonException e)
            {
                throw JobFailures.Fail(code, $"Line {number} of {fileId} is not valid JSON: {e.Message}", param, e);
            }
        }
        return lines;
    }

    private static (DatasetFile File, string Code) Find(TuningDbContext db, string projectId, string fileId, string param)
    {
        var file = db.Files.AsNoTracking().SingleOrDefault(f => f.Id == fileId && f.ProjectId == projectId);
        var code = param == "validation_file" ? JobFailures.InvalidValidationFile : JobFailures.InvalidTrainingFile;
        if (file is null || file.Status != "processed")
            throw JobFailures.Fail(code, $"File {fileId} no longer exists or was not processed successfully. Upload it again and create a new job.", param);
        return (file, code);
    }

    /// <summary>Streams a file's chunks in order, one chunk in memory at a time.</summary>
    private sealed class ChunkedContentStream(IDbContextFactory<TuningDbContext> dbFactory, string fileId, int chunkCount) : Stream
    {
        private byte[] _current = [];
        private int _offset;
        private int _nextChunk;

        public override int Read(byte[] buffer, int offset, int count)
        {
            while (_offset == _current.Length)
            {
                if (_nextChunk >= chunkCount) return 0;
                using var db = dbFactory.CreateDbContext();
                _current = db.FileChunks.AsNoTracking().Where(c => c.FileId == fileId && c.Index == _nextChunk).Select(c => c.Data).Single();
                _nextChunk++;
                _offset = 0;
            }
            var n = Math.Min(count, _current.Length - _offset);
            Buffer.BlockCopy(_current, _offset, buffer, offset, n);
            _offset += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
