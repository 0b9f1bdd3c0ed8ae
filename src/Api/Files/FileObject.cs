using System.Text.Json;
using TuningService.Domain;
using TuningService.Domain.Datasets;
using TuningService.Domain.Files;

namespace TuningService.Api.Files;

/// <summary>
/// OpenAI's file object (<c>id</c>, <c>object</c>, <c>bytes</c>, <c>created_at</c>, <c>filename</c>, <c>purpose</c>,
/// <c>status</c>, <c>status_details</c>) plus the dataset's <c>format</c>, <c>examples</c>, <c>sha256</c>, the
/// <c>validation</c> report of a rejected file (null when processed), teaching <c>warnings</c>, and <c>methods</c>:
/// each method the file can train with how its size fits (<c>few</c>, <c>good</c>, <c>large</c>) and advice.
/// </summary>
public sealed record FileObject(
    string Id,
    string Object,
    long Bytes,
    long CreatedAt,
    string Filename,
    string Purpose,
    string Status,
    string? StatusDetails,
    string? Format,
    long Examples,
    string? Sha256,
    FileValidation? Validation,
    IReadOnlyList<DatasetWarning> Warnings,
    IReadOnlyList<MethodAdvice.MethodFit> Methods)
{
    public static FileObject From(DatasetFile file)
    {
        var stored = file.Validation is null ? null : file.Validation.Deserialize<FileValidation>(StoredJson);
        return new FileObject(file.Id, "file", file.Bytes, file.CreatedAt.ToUnixSeconds(), file.Filename, file.Purpose,
            file.Status, file.StatusDetails, file.Format, file.Examples, file.Sha256,
            file.Status == DatasetFileStatus.Error ? stored : null, stored?.Warnings ?? [],
            file.Status == DatasetFileStatus.Processed && file.Format is { } format ? MethodAdvice.For(format, file.Examples) : []);
    }

    internal static readonly JsonSerializerOptions StoredJson = CreateStoredJson();

    private static JsonSerializerOptions CreateStoredJson()
    {
        var options = new JsonSerializerOptions();
        Extensions.ConfigureJson(options);
        return options;
    }
}

/// <summary>What validation found: the first <c>errors</c> (line, field, code, message), how many in all, lines read, warnings.</summary>
public sealed record FileValidation(IReadOnlyList<DatasetIssue> Errors, long ErrorCount, long Lines, IReadOnlyList<DatasetWarning> Warnings)
{
    public static FileValidation From(DatasetReport report) => new(report.Errors, report.ErrorCount, report.Lines, report.Warnings);

    public JsonDocument ToDocument() => JsonSerializer.SerializeToDocument(this, FileObject.StoredJson);

    /// <summary>One line for <c>status_details</c>: the first problem and how many there are.</summary>
    public string Summary()
    {
        if (Errors.Count == 0) return "Validation failed.";
        var first = Errors[0];
        var where = (first.Line, first.Field) switch
        {
            (null, null) => "",
            (null, var f) => $"{f}: ",
            (var l, null) => $"Line {l}: ",
            (var l, var f) => $"Line {l}, {f}: ",
        };
        var more = ErrorCount > 1 ? $" ({ErrorCount} problems in all; see validation.errors)" : "";
        return $"{where}{first.Code}: {first.Message}{more}";
    }
}

/// <summary>OpenAI's delete acknowledgement.</summary>
public sealed record FileDeleted(string Id, string Object, bool Deleted);
