using System.Text.Json;

namespace TuningService.Domain.Files;

/// <summary>An uploaded JSONL file. Its bytes live in <see cref="FileChunk"/> rows, never in one bytea.</summary>
public sealed class DatasetFile
{
    public required string Id { get; init; }
    public required string ProjectId { get; init; }
    public required string Filename { get; init; }
    public required string Purpose { get; init; }
    public long Bytes { get; set; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>One of <see cref="DatasetFileStatus"/>.</summary>
    public required string Status { get; set; }
    public string? StatusDetails { get; set; }
    /// <summary>Detected dataset format (<c>text</c>, <c>prompt_completion</c>, <c>chat</c>, <c>preference</c>, <c>prompt_only</c>).</summary>
    public string? Format { get; set; }
    public int Examples { get; set; }
    /// <summary>Validation report (errors and warnings) as stored JSON.</summary>
    public JsonDocument? Validation { get; set; }
    /// <summary>Lowercase hex SHA-256 of the content.</summary>
    public string? Sha256 { get; set; }
    public int ChunkCount { get; set; }
}

/// <summary>The closed set of file statuses, spelled as the API (and OpenAI) spell them.</summary>
public static class DatasetFileStatus
{
    /// <summary>The upload is streaming in; the row exists only inside the upload's transaction.</summary>
    public const string Uploaded = "uploaded";
    /// <summary>Validated and stored: jobs may train on it.</summary>
    public const string Processed = "processed";
    /// <summary>Rejected by validation: only the record and its report are kept, no content.</summary>
    public const string Error = "error";
}

/// <summary>One slice of a file's content, in upload order.</summary>
public sealed class FileChunk
{
    public required string FileId { get; init; }
    public int Index { get; init; }
    public required byte[] Data { get; init; }
}
