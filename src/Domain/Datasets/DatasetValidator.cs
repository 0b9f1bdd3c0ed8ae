namespace TuningService.Domain.Datasets;

/// <summary>
/// Validates a JSONL dataset as its bytes stream past: push bytes with <see cref="Write"/>, then call
/// <see cref="Complete"/>. Memory is bounded by <see cref="DatasetLimits"/>, never by the file's size.
/// <para>
/// Format detection: the first valid line decides the file's format and every later valid line must have the same
/// one (<c>mixed_formats</c> otherwise); <see cref="DatasetFormatClassifier"/> holds the rules, shared with
/// <see cref="DatasetReader"/>. Blank lines are skipped. A leading UTF-8 BOM is ignored.
/// </para>
/// </summary>
public sealed class DatasetValidator : ILineSink
{
    private readonly DatasetLimits _limits;
    private readonly JsonlLineSplitter _splitter;
    private readonly DatasetStatistics _statistics;
    private readonly List<DatasetIssue> _errors = [];
    private readonly List<DatasetIssue> _lineIssues = [];
    private long _errorCount;
    private long _bytes;
    private long _nonBlankLines;
    private long _examples;
    private readonly DatasetFormatClassifier _classifier = new();

    public DatasetValidator(DatasetLimits? limits = null)
    {
        _limits = limits ?? new DatasetLimits();
        _splitter = new JsonlLineSplitter(_limits.MaxLineBytes);
        _statistics = new DatasetStatistics(_limits.HashTrackingCap);
    }

    /// <summary>True once any error was found; callers may stop storing content (validation still counts the rest).</summary>
    public bool HasErrors => _errorCount > 0;

    public long Bytes => _bytes;

    public void Write(ReadOnlySpan<byte> data)
    {
        _bytes += data.Length;
        _splitter.Write(data, this);
    }

    public DatasetReport Complete()
    {
        _splitter.Complete(this);
        if (_bytes == 0) AddError(new(null, null, DatasetCodes.EmptyFile, "The file is empty."));
        else if (_nonBlankLines == 0) AddError(new(null, null, DatasetCodes.EmptyFile, "The file holds only blank lines."));
        else if (_errorCount == 0 && _examples < _limits.MinExamples)
            AddError(new(null, null, DatasetCodes.TooFewExamples,
                $"The file has {_examples} examples; at least {_limits.MinExamples} are required, and training wants hundreds."));
        var format = _classifier.Format;
        var warnings = format is null ? [] : _statistics.Warnings(format, _examples);
        return new DatasetReport(format, _examples, _bytes, _splitter.LinesSeen, _errors.ToList(), _errorCount, warnings);
    }

    /// <summary>Validates a whole stream (the worker's and the tests' entry point).</summary>
    public static async Task<DatasetReport> ValidateAsync(Stream content, DatasetLimits? limits = null, CancellationToken ct = default)
    {
        var validator = new DatasetValidator(limits);
        var buffer = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(buffer, ct)) > 0) validator.Write(buffer.AsSpan(0, read));
        return validator.Complete();
    }

    void ILineSink.OnLine(long line, ReadOnlySpan<byte> content)
    {
        if (JsonlLineSplitter.IsBlank(content)) return;
        _nonBlankLines++;
        if (_examples >= _limits.MaxExamples)
        {
            if (_examples == _limits.MaxExamples)
                AddError(new(line, null, DatasetCodes.TooManyExamples, $"The file has more than {_limits.MaxExamples} examples; split it."));
            _examples++;
            return;
        }
        _lineIssues.Clear();
        var example = ExampleParser.Parse(content, line, _lineIssues);
        if (example is not null) example = _classifier.Classify(example, line, _lineIssues);
        foreach (var issue in _lineIssues) AddError(issue);
        if (example is null) return;
        _examples++;
        _statistics.Observe(example, line);
    }

    void ILineSink.OnLineTooLong(long line, long length)
    {
        _nonBlankLines++;
        AddError(new(line, null, DatasetCodes.LineTooLong, $"The line is {length} bytes; the limit is {_limits.MaxLineBytes}. Shorten or split the example."));
    }

    private void AddError(DatasetIssue issue)
    {
        _errorCount++;
        if (_errors.Count < _limits.MaxReportedErrors) _errors.Add(issue);
    }
}
