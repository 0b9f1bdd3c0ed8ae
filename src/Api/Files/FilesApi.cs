using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using TuningService.Api.Errors;
using TuningService.Api.Validation;

namespace TuningService.Api.Files;

/// <summary>The OpenAI-compatible <c>/v1/files</c> area: upload, list, retrieve, download, delete.</summary>
public static class FilesApi
{
    public static void AddFilesServices(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FilesOptions>().Bind(configuration.GetSection(FilesOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.ConfigureSwaggerGen(o => o.OperationFilter<FilesOpenApiExamples>());
    }

    public static RouteGroupBuilder MapFilesApi(this IEndpointRouteBuilder v1)
    {
        var files = v1.MapGroup("/files").WithTags("Files");

        files.MapPost("/", UploadFile.Handle)
            .WithName("UploadFile").WithSummary("Upload a JSONL dataset (multipart: file, purpose=fine-tune); it is validated as it streams.")
            .Accepts<UploadFile.UploadFileForm>("multipart/form-data")
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status413PayloadTooLarge)
            .DisableAntiforgery()
            // Uploads are far larger than Limits:MaxRequestBodyBytes: the route declares its own limit from Files:MaxFileBytes.
            .WithMetadata(new RequestSizeLimitAttribute(UploadFile.MaxBodyBytes(v1.ServiceProvider.GetRequiredService<IOptions<FilesOptions>>().Value)))
            .WithFormOptions(bufferBody: false);
        files.MapGet("/", ListFiles.Handle)
            .WithName("ListFiles").WithSummary("List the project's files, newest first.")
            .Validated<ListFiles.Query>();
        files.MapGet("/{id}", GetFile.Handle)
            .WithName("GetFile").WithSummary("Retrieve a file object and its validation report.")
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        files.MapGet("/{id}/content", GetFileContent.Handle)
            .WithName("GetFileContent").WithSummary("Download a file's exact bytes.")
            .Produces(StatusCodes.Status200OK, contentType: GetFileContent.ContentType)
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound);
        files.MapDelete("/{id}", DeleteFile.Handle)
            .WithName("DeleteFile").WithSummary("Delete a file unless an active job uses it.")
            .Produces<ErrorResponse>(StatusCodes.Status404NotFound).Produces<ErrorResponse>(StatusCodes.Status409Conflict);
        return files;
    }
}
