using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain.Files;
using TuningService.Domain.Persistence;

namespace TuningService.Domain.Datasets;

/// <summary>A stored file no longer parses: it was changed after validation, or the validator and reader disagree.</summary>
public sealed class InvalidDatasetException(DatasetIssue issue)
    : InvalidOperationException($"Line {issue.Line}: {issue.Code}: {issue.Message}")
{
    public DatasetIssue Issue { get; } = issue;
}

/// <summary>
/// Streams the typed examples of a validated file, with the same parser (<see cref="ExampleParser"/>) and format
/// rules (<see cref="DatasetFormatClassifier"/>) as <see cref="DatasetValidator"/>: the one dataset reader of the
/// service. Memory is bounded by one read buffer plus the longest line.
/// </summary>
public static class DatasetReader
{
    /// <summary>
    /// Reads every example of <paramref name="content"/>. <paramref name="format"/> is the stored file's format
    /// (<see cref="Files.DatasetFile.Format"/>); when null it is detected from the first valid line.
    /// Messages lines of a <c>prompt_only</c> file come back as <see cref="PromptOnlyExample"/>.
    /// Throws <see cref="InvalidDatasetException"/> on the first line that does not validate.
    /// </summary>
    public static async IAsyncEnumerable<DatasetExample> ReadAsync(
        Stream content, string? format = null, DatasetLimits? limits = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var collector = new Collector(limits ?? new DatasetLimits(), format);
        var splitter = new JsonlLineSplitter(collector.Limits.MaxLineBytes);
        var buffer = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(buffer, ct)) > 0)
        {
            splitter.Write(buffer.AsSpan(0, read), collector);
            foreach (var example in collector.Drain()) yield return example;
        }
        splitter.Complete(collector);
        foreach (var example in collector.Drain()) yield return example;
    }

    /// <summary>
    /// Every example of a processed file of <paramref name="projectId"/>, streamed from its stored chunks and read with
    /// the file's stored format. Null when the project has no such file or it was not processed (rejected at upload).
    /// Throws <see cref="InvalidDatasetException"/> on the first line that does not validate.
    /// </summary>
    public static async Task<List<DatasetExample>?> ReadStoredAsync(TuningDbContext db, string projectId, string fileId, CancellationToken ct = default)
    {
        var file = await db.Files.AsNoTracking()
            .Where(f => f.Id == fileId && f.ProjectId == projectId && f.Status == DatasetFileStatus.Processed)
            .Select(f => new { f.Format, f.Examples, f.ChunkCount, f.Bytes })
            .SingleOrDefaultAsync(ct);
        if (file is null) return null;
        await using var content = new FileContentStream(db, fileId, file.ChunkCount, file.Bytes);
        var examples = new List<DatasetExample>(file.Examples);
        await foreach (var example in ReadAsync(content, file.Format, ct: ct)) examples.Add(example);
        return examples;
    }

    private sealed class Collector(DatasetLimits limits, string? format) : ILineSink
    {
        private readonly List<DatasetExample> _ready = [];
        private readonly List<DatasetIssue> _issues = [];
        private readonly DatasetFormatClassifier _classifier = new(format);

        public DatasetLimits Limits => limits;

        public List<DatasetExample> Drain()
        {
            var batch = _ready.ToList();
            _ready.Clear();
            return batch;
        }

        public void OnLine(long line, ReadOnlySpan<byte> content)
        {
            if (JsonlLineSplitter.IsBlank(content)) return;
            _issues.Clear();
            var example = ExampleParser.Parse(content, line, _issues) ?? throw new InvalidDatasetException(_issues[0]);
            _ready.Add(_classifier.Classify(example, line, _issues) ?? throw new InvalidDatasetException(_issues[0]));
        }

        public void OnLineTooLong(long line, long length) =>
            throw new InvalidDatasetException(new(line, null, DatasetCodes.LineTooLong, $"The line is {length} bytes."));
    }
}
