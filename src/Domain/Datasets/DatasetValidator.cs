namespace TuningService.Domain.Datasets;

/// <summary>
/// Validates a JSONL dataset as its bytes stream past: push bytes with <see cref="Write"/>, then call
/// <see cref="Complete"/>. Memory is bounded by <see cref="DatasetLimits"/>, never by the file's size.
/// <para>
/// Format detection: the first valid line decides the file's format and every later valid line must have the same
/// one (<c>mixed_formats</c> otherwise). A messages line whose conversation ends with a user turn is
/// <c>prompt_only</c>, any other is <c>chat</c>; so a chat file whose every conversation ends with a user turn is a
/// prompt-only file. Once a file is <c>chat</c>, a messages line without an assistant turn is
/// <c>no_assistant_message</c> (a trailing user turn after an assistant turn is allowed and ignored by training);
/// once it is <c>prompt_only</c>, a messages line not ending with a user turn is <c>last_message_not_user</c>.
/// Blank lines are skipped. A leading UTF-8 BOM is ignored.
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
    private string? _format;
    private long _formatLine;

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
        var warnings = _format is null ? [] : _statistics.Warnings(_format, _examples);
        return new DatasetReport(_format, _examples, _bytes, _splitter.LinesSeen, _errors.ToList(), _errorCount, warnings);
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
        if (IsBlank(content)) return;
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
        if (example is not null) example = Classify(example, line, _lineIssues);
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

    /// <summary>Fixes the file's format on the first valid line and holds every later line to it.</summary>
    private DatasetExample? Classify(DatasetExample example, long line, List<DatasetIssue> issues)
    {
        var format = FormatOf(example);
        if (example is ChatExample chat)
        {
            var hasAssistant = chat.Messages.Any(m => m.Role == ChatMessage.Assistant);
            if (_format is DatasetFormat.Chat && !hasAssistant) return Reject(issues, line, "messages", DatasetCodes.NoAssistantMessage,
                "The conversation has no assistant message; instruction tuning learns from assistant turns.");
            if (_format is DatasetFormat.PromptOnly && format is DatasetFormat.Chat) return Reject(issues, line, "messages", DatasetCodes.LastMessageNotUser,
                $"The file is prompt_only (line {_formatLine}'s conversation ends with a user turn), so every conversation must end with a user turn for the policy to answer.");
            if (_format is null && !hasAssistant && format is DatasetFormat.Chat) return Reject(issues, line, "messages", DatasetCodes.NoAssistantMessage,
                "The conversation neither ends with a user turn (a prompt) nor holds an assistant message (a chat example).");
            if (_format is DatasetFormat.Chat) format = DatasetFormat.Chat;
            if (format is DatasetFormat.PromptOnly) example = new PromptOnlyExample(null, chat.Messages);
        }
        if (_format is null)
        {
            _format = format;
            _formatLine = line;
        }
        else if (format != _format)
        {
            return Reject(issues, line, null, DatasetCodes.MixedFormats,
                $"This line is {format} but line {_formatLine} made the file {_format}; a file holds one format.");
        }
        return example;
    }

    internal static string FormatOf(DatasetExample example) => example switch
    {
        TextExample => DatasetFormat.Text,
        PromptCompletionExample => DatasetFormat.PromptCompletion,
        ChatExample chat => DatasetFormat.OfMessages(chat.Messages),
        PreferenceExample => DatasetFormat.Preference,
        PromptOnlyExample => DatasetFormat.PromptOnly,
        _ => throw new ArgumentOutOfRangeException(nameof(example)),
    };

    private static DatasetExample? Reject(List<DatasetIssue> issues, long line, string? field, string code, string message)
    {
        issues.Add(new DatasetIssue(line, field, code, message));
        return null;
    }

    private void AddError(DatasetIssue issue)
    {
        _errorCount++;
        if (_errors.Count < _limits.MaxReportedErrors) _errors.Add(issue);
    }

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }
}
