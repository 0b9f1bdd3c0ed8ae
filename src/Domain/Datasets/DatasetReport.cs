namespace TuningService.Domain.Datasets;

/// <summary>Stable codes of dataset problems. Errors reject a file; warnings only teach.</summary>
public static class DatasetCodes
{
    public const string InvalidUtf8 = "invalid_utf8";
    public const string InvalidJson = "invalid_json";
    public const string NotAnObject = "not_an_object";
    public const string MissingField = "missing_field";
    public const string WrongType = "wrong_type";
    public const string UnrecognizedRole = "unrecognized_role";
    public const string EmptyContent = "empty_content";
    public const string NoAssistantMessage = "no_assistant_message";
    public const string LastMessageNotUser = "last_message_not_user";
    public const string MixedFormats = "mixed_formats";
    public const string TooFewExamples = "too_few_examples";
    public const string TooManyExamples = "too_many_examples";
    public const string LineTooLong = "line_too_long";
    public const string EmptyFile = "empty_file";
    public const string FileTooLarge = "file_too_large";

    public const string FewExamples = "few_examples";
    public const string DuplicateExamples = "duplicate_examples";
    public const string ConflictingLabels = "conflicting_labels";
    public const string LengthOutliers = "length_outliers";
    public const string LabelImbalance = "label_imbalance";
}

/// <summary>One problem: the 1-based line (null for whole-file problems), the JSON path of the field, a stable code.</summary>
public sealed record DatasetIssue(long? Line, string? Field, string Code, string Message);

/// <summary>A finding that does not reject the file but says what will likely go wrong in training.</summary>
public sealed record DatasetWarning(string Code, string Message, long Count, IReadOnlyDictionary<string, object>? Details = null);

/// <summary>What validating a whole file found. <see cref="Errors"/> holds the first problems only; <see cref="ErrorCount"/> all.</summary>
public sealed record DatasetReport(
    string? Format,
    long Examples,
    long Bytes,
    long Lines,
    IReadOnlyList<DatasetIssue> Errors,
    long ErrorCount,
    IReadOnlyList<DatasetWarning> Warnings)
{
    public bool IsValid => ErrorCount == 0;
}

/// <summary>Limits applied while validating. Every field bounds memory or work per file.</summary>
public sealed record DatasetLimits
{
    /// <summary>Fewer valid examples than this rejects the file (<c>too_few_examples</c>). OpenAI's minimum is 10.</summary>
    public int MinExamples { get; init; } = 10;
    /// <summary>More examples than this rejects the file (<c>too_many_examples</c>).</summary>
    public long MaxExamples { get; init; } = 5_000_000;
    /// <summary>Longest accepted line in bytes, newline excluded (<c>line_too_long</c>). Also the parser's largest buffer.</summary>
    public int MaxLineBytes { get; init; } = 1024 * 1024;
    /// <summary>How many errors the report lists; the rest are only counted.</summary>
    public int MaxReportedErrors { get; init; } = 20;
    /// <summary>
    /// How many 64-bit example and prompt hashes the duplicate and conflict warnings remember (about 40 bytes each,
    /// so 200,000 is ~8 MB per set). Past the cap, new examples are still checked against the remembered ones.
    /// </summary>
    public int HashTrackingCap { get; init; } = 200_000;
}
