using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TuningService.Api.Files;

/// <summary>Request and response examples for the files endpoints in Swagger UI.</summary>
internal sealed class FilesOpenApiExamples : IOperationFilter
{
    private const string FileJson = """
        {"id":"file-4Vq2YwPz8mXhK1bNcT7sLd0e","object":"file","bytes":18342,"created_at":1764028800,"filename":"sentiment.jsonl",
         "purpose":"fine-tune","status":"processed","status_details":null,"format":"prompt_completion","examples":120,
         "sha256":"9f2c…","validation":null,
         "warnings":[{"code":"few_examples","message":"Only 120 examples. SFT wants hundreds to tens of thousands of good examples.","count":120,"details":{"recommended_minimum":100}}],
         "methods":[{"method":"supervised","fit":"good","advice":"120 examples: within the range supervised wants (100–50,000)."}]}
        """;

    private const string RejectedJson = """
        {"id":"file-8Hn3TqR2cVb6MzL0xYp4Wk9a","object":"file","bytes":512,"created_at":1764028800,"filename":"chat.jsonl",
         "purpose":"fine-tune","status":"error","status_details":"Line 3, messages[1].role: unrecognized_role: Role \"bot\" is not one of system, user, assistant.",
         "format":"chat","examples":11,"sha256":"c1d0…",
         "validation":{"errors":[{"line":3,"field":"messages[1].role","code":"unrecognized_role","message":"Role \"bot\" is not one of system, user, assistant."}],"error_count":1,"lines":12,"warnings":[]},
         "warnings":[],"methods":[]}
        """;

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        switch (operation.OperationId)
        {
            case "UploadFile":
                SetRequestExample(operation, "multipart/form-data", new JsonObject { ["file"] = "(sentiment.jsonl)", ["purpose"] = "fine-tune" });
                SetResponseExample(operation, "200", JsonNode.Parse(FileJson));
                SetResponseExample(operation, "413", Error("The file is larger than the 536870912 byte limit.", "file_too_large", "file"));
                break;
            case "ListFiles":
                SetResponseExample(operation, "200", new JsonObject
                {
                    ["object"] = "list", ["data"] = new JsonArray(JsonNode.Parse(FileJson)),
                    ["first_id"] = "file-4Vq2YwPz8mXhK1bNcT7sLd0e", ["last_id"] = "file-4Vq2YwPz8mXhK1bNcT7sLd0e", ["has_more"] = false,
                });
                break;
            case "GetFile":
                SetResponseExample(operation, "200", JsonNode.Parse(RejectedJson));
                SetResponseExample(operation, "404", Error("No file found with id 'file-x'.", "not_found", "id"));
                break;
            case "DeleteFile":
                SetResponseExample(operation, "200", new JsonObject { ["id"] = "file-4Vq2YwPz8mXhK1bNcT7sLd0e", ["object"] = "file", ["deleted"] = true });
                SetResponseExample(operation, "409", Error("File 'file-4Vq2…' is used by job ftjob-…, which is running.", "file_in_use", null));
                break;
        }
    }

    private static JsonObject Error(string message, string code, string? param) => new()
    {
        ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = param, ["code"] = code },
    };

    private static void SetRequestExample(OpenApiOperation operation, string contentType, JsonNode example)
    {
        if (operation.RequestBody?.Content?.TryGetValue(contentType, out var media) == true && media is OpenApiMediaType concrete)
            concrete.Example = example;
    }

    private static void SetResponseExample(OpenApiOperation operation, string status, JsonNode? example)
    {
        if (operation.Responses?.TryGetValue(status, out var response) != true || response?.Content is null) return;
        foreach (var media in response.Content.Values)
            if (media is OpenApiMediaType concrete) concrete.Example = example;
    }
}
