using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Domain;
using TuningService.Domain.Models;

namespace TuningService.Api.Models;

/// <summary>OpenAI's model object plus the additive kind, architecture and base_model.</summary>
public sealed record ModelObject(string Id, long Created, string OwnedBy, string Kind, string? Architecture, string? BaseModel, string? Description, long? ParameterCount)
{
    public string Object => "model";

    public static ModelObject From(ModelEntry m) =>
        new(m.Id, m.Created.ToUnixSeconds(), m.OwnedBy, m.Kind, m.Architecture, m.BaseModel, m.Description, m.ParameterCount);
}

public sealed record ModelList(IReadOnlyList<ModelObject> Data)
{
    public string Object => "list";
}

public sealed record DeletedModel(string Id, bool Deleted)
{
    public string Object => "model";
}

public static class ModelsApi
{
    public static void AddModels(this IServiceCollection services)
    {
        services.AddScoped(sp => new ModelCatalog(sp.GetRequiredService<Domain.Persistence.TuningDbContext>(), sp.GetRequiredService<IOptions<TuningOptions>>().Value));
    }

    public static void MapModelsApi(this IEndpointRouteBuilder v1)
    {
        var models = v1.MapGroup("/models").WithTags("Models");
        models.MapGet("/", List).WithName("ListModels")
            .WithSummary("Base presets, base checkpoints under ModelsRoot, and this project's fine-tuned models.");
        models.MapGet("/{id}", Get).WithName("RetrieveModel")
            .WithSummary("One model by id (fine-tuned ids contain colons: ft:tiny-gpt2:sfx:ftjob-...).");
        models.MapModelFiles();
        models.MapDelete("/{id}", Delete).WithName("DeleteModel")
            .WithSummary("Deletes a fine-tuned model of this project; base models cannot be deleted (403).");
    }

    private static async Task<Ok<ModelList>> List(CallerContext caller, ModelCatalog models, CancellationToken ct) =>
        TypedResults.Ok(new ModelList((await models.ListAsync(caller.ProjectId, ct)).Select(ModelObject.From).ToList()));

    private static async Task<Results<Ok<ModelObject>, JsonHttpResult<ErrorResponse>>> Get(
        string id, CallerContext caller, ModelCatalog models, CancellationToken ct) =>
        await models.FindAsync(caller.ProjectId, id, ct) is { } model
            ? TypedResults.Ok(ModelObject.From(model))
            : ApiErrors.NotFound("model", id, "model");

    private static async Task<Results<Ok<DeletedModel>, JsonHttpResult<ErrorResponse>>> Delete(
        string id, CallerContext caller, ModelCatalog models, Domain.Persistence.TuningDbContext db, CancellationToken ct)
    {
        var entry = await models.FindAsync(caller.ProjectId, id, ct);
        if (entry is null) return ApiErrors.NotFound("model", id, "model");
        if (entry.IsBase)
            return ApiErrors.Error(StatusCodes.Status403Forbidden, $"'{id}' is a base model; only fine-tuned models can be deleted.", "model_not_deletable", "model");
        if (entry.Kind == ModelKinds.Checkpoint)
            return ApiErrors.Error(StatusCodes.Status403Forbidden, $"'{id}' is a checkpoint of a job; it goes when the job's checkpoints are pruned.", "model_not_deletable", "model");
        var record = (await models.FindRecordAsync(caller.ProjectId, id, ct))!;
        record.DeletedAt = DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new DeletedModel(id, true));
    }
}
