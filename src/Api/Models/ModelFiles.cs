using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain;
using TuningService.Domain.Models;

namespace TuningService.Api.Models;

/// <summary>One downloadable file of a model directory.</summary>
public sealed record ModelFile(string Name, long Bytes)
{
    public string Object => "model.file";
}

public sealed record ModelFileList(string Model, IReadOnlyList<ModelFile> Data)
{
    public string Object => "list";
}

/// <summary>
/// Weights, config, tokenizer and (for LoRA jobs) the PEFT adapter of a fine-tuned model or a base checkpoint,
/// streamed from the artifact store. Only names the listing shows can be fetched: no path ever comes from the request.
/// </summary>
public static class ModelFiles
{
    /// <summary>LoRA jobs keep their PEFT adapter beside the merged model, in this subdirectory.</summary>
    public const string AdapterDirectory = "adapter";

    public static void MapModelFiles(this RouteGroupBuilder models)
    {
        models.MapGet("/{id}/files", List).WithName("ListModelFiles")
            .WithSummary("The files of a fine-tuned model or base checkpoint (config.json, model.safetensors, tokenizer, adapter_*).");
        models.MapGet("/{id}/files/{name}", Download).WithName("DownloadModelFile")
            .WithSummary("Streams one file of a model, e.g. model.safetensors or adapter_model.safetensors.")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream");
    }

    private static async Task<Results<Ok<ModelFileList>, JsonHttpResult<ErrorResponse>>> List(
        string id, CallerContext caller, ModelDirectory directory, BaseModelCatalog catalog, IOptions<TuningOptions> options, CancellationToken ct)
    {
        var files = await FilesOfAsync(id, caller.ProjectId, directory, catalog, options.Value, ct);
        return files is null
            ? ApiErrors.NotFound("model", id, "model")
            : TypedResults.Ok(new ModelFileList(id, files.Select(f => new ModelFile(f.Key, new FileInfo(f.Value).Length)).ToList()));
    }

    private static async Task<Results<FileStreamHttpResult, JsonHttpResult<ErrorResponse>>> Download(
        string id, string name, CallerContext caller, ModelDirectory directory, BaseModelCatalog catalog, IOptions<TuningOptions> options, CancellationToken ct)
    {
        var files = await FilesOfAsync(id, caller.ProjectId, directory, catalog, options.Value, ct);
        if (files is null) return ApiErrors.NotFound("model", id, "model");
        if (!files.TryGetValue(name, out var path))
            return ApiErrors.Error(StatusCodes.Status404NotFound,
                $"Model '{id}' has no file '{name}'. Its files: {string.Join(", ", files.Keys)}.", "file_not_found", "name");
        var contentType = name.EndsWith(".json", StringComparison.Ordinal) ? "application/json" : "application/octet-stream";
        return TypedResults.File(File.OpenRead(path), contentType, name, enableRangeProcessing: true);
    }

    /// <summary>File name → full path, or null when the caller has no such model. Presets have no files (empty list).</summary>
    private static async Task<Dictionary<string, string>?> FilesOfAsync(
        string id, string projectId, ModelDirectory directory, BaseModelCatalog catalog, TuningOptions options, CancellationToken ct)
    {
        string? root;
        if (await directory.FindRecordAsync(projectId, id, ct) is { } record)
            root = Path.Combine(Path.GetFullPath(options.ArtifactsRoot), record.ArtifactPath);
        else if (await directory.FindCheckpointAsync(projectId, id, ct) is { } checkpoint)
            root = Path.Combine(Path.GetFullPath(options.ArtifactsRoot), checkpoint.ArtifactPath);
        else if (catalog.Find(id) is { } info)
            root = info.Directory;
        else
            return null;

        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root is null || !Directory.Exists(root)) return files;
        foreach (var file in Directory.EnumerateFiles(root).Order(StringComparer.Ordinal))
            files[Path.GetFileName(file)] = file;
        var adapter = Path.Combine(root, AdapterDirectory);
        if (Directory.Exists(adapter))
            foreach (var file in Directory.EnumerateFiles(adapter, "adapter_*").Order(StringComparer.Ordinal))
                files.TryAdd(Path.GetFileName(file), file);
        return files;
    }
}
