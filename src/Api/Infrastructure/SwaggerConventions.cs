using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TuningService.Api.Infrastructure;

/// <summary>
/// Rules that hold for every route in the OpenAPI document: each id parameter's example is an id of the resource its
/// route is about (a job id for a job, an event id for the events cursor), anonymous routes show no lock, and a
/// required property is never also marked nullable.
/// </summary>
internal sealed class SwaggerConventions : IOperationFilter, ISchemaFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var route = "/" + context.ApiDescription.RelativePath;
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
            if (ExampleFor(route, parameter.Name!) is { } example) parameter.Example = example;
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any()) operation.Security = [];
    }

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema { Required.Count: > 0, Properties: not null } concrete) return;
        foreach (var name in concrete.Required)
            if (concrete.Properties.TryGetValue(name, out var property) && property is OpenApiSchema { Type: { } type } p && type.HasFlag(JsonSchemaType.Null))
                p.Type = type & ~JsonSchemaType.Null;
    }

    /// <summary>The example of a parameter on a route: ids of the route's own resource (fictional, in their real format).</summary>
    public static JsonNode? ExampleFor(string route, string name) => name switch
    {
        "limit" => 20,
        "order" => "desc",
        "purpose" => "fine-tune",
        "name" => "config.json",
        "project_id" => "proj_5Kq9VbT2xW7mRzL3nYc8Hd1a",
        "key_id" => "key_2Jx7QmN4vB9cT1rL6wZs3Kd8",
        "after" when route.EndsWith("/events", StringComparison.Ordinal) => "ftevent-1042",
        "after" when route.EndsWith("/checkpoints", StringComparison.Ordinal) => "ftckpt-7Rm2XqW9tB4nL1vK8cZp3Hs6",
        "after" when route.EndsWith("/deliveries", StringComparison.Ordinal) => "whdel_318",
        "after" when route.EndsWith("/api_keys", StringComparison.Ordinal) => "key_2Jx7QmN4vB9cT1rL6wZs3Kd8",
        "id" or "after" => ResourceId(route),
        _ => null,
    };

    private static string? ResourceId(string route) =>
        route.StartsWith("/v1/files", StringComparison.Ordinal) ? "file-4Vq2YwPz8mXhK1bNcT7sLd0e"
        : route.StartsWith("/v1/fine_tuning/jobs", StringComparison.Ordinal) ? "ftjob-3Wp8KzR1mQ6vT9bN2xL5cY7d"
        : route.StartsWith("/v1/models", StringComparison.Ordinal) ? "tiny-gpt2"
        : route.StartsWith("/v1/webhooks", StringComparison.Ordinal) ? "wh_6Tn1ZqK8rV3mB7xP2wL9cJ4s"
        : route.StartsWith("/v1/organization/projects", StringComparison.Ordinal) ? "proj_5Kq9VbT2xW7mRzL3nYc8Hd1a"
        : null;
}
