using System.ComponentModel.DataAnnotations;
using TuningService.Domain.Datasets;

namespace TuningService.Api.Files;

/// <summary>Upload limits and validation settings, bound from the <c>Files</c> section and validated on start.</summary>
public sealed class FilesOptions
{
    public const string Section = "Files";

    /// <summary>Largest accepted file in bytes; larger uploads get 413 <c>file_too_large</c>. Default 512 MiB.</summary>
    [Range(1, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Size of one stored <c>file_chunks</c> row in bytes. Default 1 MiB; also the upload's largest buffer.</summary>
    [Range(4 * 1024, 64 * 1024 * 1024)]
    public int ChunkBytes { get; set; } = 1024 * 1024;

    /// <summary>Fewer valid examples reject the file (<c>too_few_examples</c>). Default 10, like OpenAI.</summary>
    [Range(1, int.MaxValue)]
    public int MinExamples { get; set; } = 10;

    /// <summary>More examples reject the file (<c>too_many_examples</c>). Default 5,000,000.</summary>
    [Range(1, long.MaxValue)]
    public long MaxExamples { get; set; } = 5_000_000;

    /// <summary>Longest JSONL line in bytes (<c>line_too_long</c>); bounds the parser's memory. Default 1 MiB.</summary>
    [Range(64, 256 * 1024 * 1024)]
    public int MaxLineBytes { get; set; } = 1024 * 1024;

    /// <summary>How many problems a rejected file's report lists; the rest are counted. Default 20.</summary>
    [Range(1, 1000)]
    public int MaxReportedErrors { get; set; } = 20;

    /// <summary>How many 64-bit hashes the duplicate/conflict warnings remember per upload (~40 bytes each). Default 200,000.</summary>
    [Range(0, 50_000_000)]
    public int HashTrackingCap { get; set; } = 200_000;

    public DatasetLimits ToLimits() => new()
    {
        MinExamples = MinExamples,
        MaxExamples = MaxExamples,
        MaxLineBytes = MaxLineBytes,
        MaxReportedErrors = MaxReportedErrors,
        HashTrackingCap = HashTrackingCap,
    };
}
