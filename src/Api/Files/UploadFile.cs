using System.Buffers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Npgsql;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain;
using TuningService.Domain.Datasets;
using TuningService.Domain.Files;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Files;

/// <summary>
/// <c>POST /v1/files</c>: streams a multipart upload through the validator, a SHA-256 and the chunk writer in one
/// pass, inside one transaction. Guarantees: memory stays flat whatever the file size (nothing buffers the body);
/// a valid file is committed whole; a rejected file leaves only its record with the report (no chunks); a failure or
/// a client disconnect leaves nothing.
/// </summary>
public static class UploadFile
{
    public const string FineTunePurpose = "fine-tune";

    /// <summary>The largest upload body: the file plus room for multipart headers, boundaries and the purpose field.</summary>
    public static long MaxBodyBytes(FilesOptions options) => options.MaxFileBytes + 1024 * 1024;

    /// <summary>RFC 2046's limit, which <see cref="MultipartReader"/> enforces by throwing.</summary>
    private const int MaxBoundaryLength = 70;

    /// <summary>The multipart form, for the OpenAPI document only: the handler reads the body as a stream.</summary>
    public sealed class UploadFileForm
    {
        /// <summary>The JSONL dataset.</summary>
        public required IFormFile File { get; init; }

        /// <summary>Must be <c>fine-tune</c>.</summary>
        public string Purpose { get; init; } = FineTunePurpose;
    }

    /// <summary>Upload a JSONL dataset (multipart: <c>file</c>, <c>purpose=fine-tune</c>).</summary>
    /// <remarks>The answer is 200 whether the file validates (<c>status: processed</c>) or not (<c>status: error</c> with a <c>validation</c> report).</remarks>
    /// <response code="200">The stored file object, processed or rejected with its validation report.</response>
    /// <response code="400">Not a multipart form, no <c>file</c> part, or <c>purpose</c> is not <c>fine-tune</c> (<c>unsupported_purpose</c>).</response>
    /// <response code="413">The file is larger than <c>Files:MaxFileBytes</c> (<c>file_too_large</c>).</response>
    public static async Task<Results<Ok<FileObject>, JsonHttpResult<ErrorResponse>>> Handle(
        HttpContext http, TuningDbContext db, CallerContext caller, IOptions<FilesOptions> settings, CancellationToken ct)
    {
        var options = settings.Value;
        var maxBody = MaxBodyBytes(options);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = maxBody;
        if (http.Request.ContentLength > maxBody) return TooLarge(options);
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
            return ApiErrors.BadRequest("Upload the dataset as multipart/form-data with the fields 'file' and 'purpose'.", "file", "invalid_request");

        if (boundary.Length > MaxBoundaryLength)
            return ApiErrors.BadRequest($"The multipart boundary is longer than {MaxBoundaryLength} characters.", "file", "invalid_request");

        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var (purpose, received, formError) = await ReadFormAsync(new MultipartReader(boundary, http.Request.Body), db, transaction, caller, options, ct);
        if (formError is not null) return formError;
        if (received is null) return ApiErrors.BadRequest("The form has no 'file' part.", "file", "missing_field");
        if (purpose is null) return ApiErrors.BadRequest("The form has no 'purpose' field; use purpose=fine-tune.", "purpose", "missing_field");

        var (file, report) = (received.File, received.Report!);
        var validation = FileValidation.From(report);
        file.Validation = validation.ToDocument();
        file.Format = report.Format;
        file.Examples = (int)Math.Min(report.Examples, int.MaxValue);
        if (report.IsValid)
        {
            file.Status = DatasetFileStatus.Processed;
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            return TypedResults.Ok(FileObject.From(file));
        }

        // Rejected: drop the streamed chunks, keep only the record and its report.
        await transaction.RollbackAsync(ct);
        db.ChangeTracker.Clear();
        file.Status = DatasetFileStatus.Error;
        file.StatusDetails = validation.Summary();
        file.ChunkCount = 0;
        db.Files.Add(file);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(FileObject.From(file));
    }

    private sealed record Received(DatasetFile File, DatasetReport? Report, bool TooLarge);

    /// <summary>
    /// Reads the form's parts, streaming the file into the transaction. A broken form (truncated body, no closing boundary,
    /// oversized part headers) is the client's error: 400, and nothing is committed.
    /// </summary>
    private static async Task<(string? Purpose, Received? Received, JsonHttpResult<ErrorResponse>? Error)> ReadFormAsync(
        MultipartReader reader, TuningDbContext db, IDbContextTransaction transaction, CallerContext caller, FilesOptions options, CancellationToken ct)
    {
        string? purpose = null;
        Received? received = null;
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name == "purpose")
                {
                    purpose = (await new StreamReader(section.Body).ReadToEndAsync(ct)).Trim();
                    if (purpose != FineTunePurpose) return (purpose, received, UnsupportedPurpose(purpose));
                }
                else if (name == "file" && received is null)
                {
                    var filename = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                    received = await ReceiveAsync(section.Body, string.IsNullOrWhiteSpace(filename) ? "upload.jsonl" : Path.GetFileName(filename),
                        db, transaction, caller.ProjectId, options, ct);
                    if (received.TooLarge) return (purpose, received, TooLarge(options));
                }
                else await section.Body.DrainAsync(ct);
            }
            return (purpose, received, null);
        }
        catch (Exception e) when (e is IOException or InvalidDataException && !ct.IsCancellationRequested)
        {
            return (purpose, null, ApiErrors.BadRequest($"The multipart body is malformed or truncated: {e.Message}", "file", "invalid_multipart"));
        }
    }

    private static async Task<Received> ReceiveAsync(Stream body, string filename, TuningDbContext db, IDbContextTransaction transaction,
        string projectId, FilesOptions options, CancellationToken ct)
    {
        var file = new DatasetFile
        {
            Id = Ids.New("file-"),
            ProjectId = projectId,
            Filename = filename,
            Purpose = FineTunePurpose,
            Status = DatasetFileStatus.Uploaded,
        };
        db.Files.Add(file);
        await db.SaveChangesAsync(ct);

        var validator = new DatasetValidator(options.ToLimits());
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var chunks = new FileChunkWriter((NpgsqlConnection)db.Database.GetDbConnection(),
            (NpgsqlTransaction)transaction.GetDbTransaction(), file.Id, options.ChunkBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, ct)) > 0)
            {
                total += read;
                if (total > options.MaxFileBytes) return new Received(file, null, TooLarge: true);
                var data = buffer.AsMemory(0, read);
                sha256.AppendData(data.Span);
                validator.Write(data.Span);
                if (!validator.HasErrors) await chunks.WriteAsync(data, ct); // a rejected file's chunks would be rolled back anyway
            }
            await chunks.CompleteAsync(ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        var report = validator.Complete();
        file.Bytes = report.Bytes;
        file.Sha256 = Convert.ToHexStringLower(sha256.GetHashAndReset());
        file.ChunkCount = chunks.ChunkCount;
        return new Received(file, report, TooLarge: false);
    }

    private static JsonHttpResult<ErrorResponse> TooLarge(FilesOptions options) =>
        ApiErrors.Error(StatusCodes.Status413PayloadTooLarge,
            $"The file is larger than the {options.MaxFileBytes} byte limit. Split it or raise Files:MaxFileBytes.",
            DatasetCodes.FileTooLarge, "file");

    private static JsonHttpResult<ErrorResponse> UnsupportedPurpose(string purpose) =>
        ApiErrors.BadRequest($"Purpose '{purpose}' is not supported; this service accepts purpose=fine-tune.", "purpose", "unsupported_purpose");
}
