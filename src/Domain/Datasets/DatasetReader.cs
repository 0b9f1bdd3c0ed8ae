using System.Runtime.CompilerServices;

namespace TuningService.Domain.Datasets;

/// <summary>A stored file no longer parses: it was changed after validation, or the validator and reader disagree.</summary>
public sealed class InvalidDatasetException(DatasetIssue issue)
    : InvalidOperationException($"Line {issue.Line}: {issue.Code}: {issue.Message}")
{
    public DatasetIssue Issue { get; } = issue;
}

/// <summary>
/// Streams the typed examples of a validated file, with the same parser and format rules as
/// <see cref="DatasetValidator"/>. Memory is bounded by one read buffer plus the longest line.
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

    private sealed class Collector(DatasetLimits limits, string? format) : ILineSink
    {
        private readonly List<DatasetExample> _ready = [];
        private readonly List<DatasetIssue> _issues = [];
        private string? _format = format;

        public DatasetLimits Limits => limits;

        public List<DatasetExample> Drain()
        {
            var batch = _ready.ToList();
            _ready.Clear();
            return batch;
        }

        public void OnLine(long line, ReadOnlySpan<byte> content)
        {
            if (content.Trim(" \t"u8).IsEmpty) return;
            _issues.Clear();
            var example = ExampleParser.Parse(content, line, _issues) ?? throw new InvalidDatasetException(_issues[0]);
            var lineFormat = DatasetValidator.FormatOf(example);
            _format ??= lineFormat;
            if (example is ChatExample chat && _format == DatasetFormat.PromptOnly && lineFormat == DatasetFormat.PromptOnly)
                example = new PromptOnlyExample(null, chat.Messages);
            else if (lineFormat != _format && !(example is ChatExample && _format == DatasetFormat.Chat))
                throw new InvalidDatasetException(new(line, null, DatasetCodes.MixedFormats, $"Line is {lineFormat}; the file is {_format}."));
            _ready.Add(example);
        }

        public void OnLineTooLong(long line, long length) =>
            throw new InvalidDatasetException(new(line, null, DatasetCodes.LineTooLong, $"The line is {length} bytes."));
    }
}
