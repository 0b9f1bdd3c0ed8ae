using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TuningService.Api.Inference;

/// <summary>Example bodies for the generation routes that run as they are against a fresh service (the tiny-gpt2 preset needs no training).</summary>
internal static class InferenceSwagger
{
    public static void Configure(SwaggerGenOptions o) => o.OperationFilter<CompletionExamplesFilter>();

    private sealed class CompletionExamplesFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var examples = operation.OperationId switch
            {
                "CreateChatCompletion" => new Dictionary<string, IOpenApiExample>
                {
                    ["chat"] = Example("One answer, greedy (replace the model with your fine-tuned id)",
                        """{"model":"tiny-gpt2","messages":[{"role":"system","content":"You classify reviews."},{"role":"user","content":"Review: the kettle is wonderful."}],"max_tokens":8,"temperature":0}"""),
                    ["stream"] = Example("Server-sent events with a final usage chunk",
                        """{"model":"tiny-gpt2","messages":[{"role":"user","content":"Hello!"}],"max_completion_tokens":16,"temperature":0.7,"top_p":0.9,"seed":7,"stream":true,"stream_options":{"include_usage":true}}"""),
                    ["sampling"] = Example("Two sampled choices with stop strings and log-probabilities",
                        """{"model":"tiny-gpt2","messages":[{"role":"user","content":"Write a word."}],"max_tokens":12,"n":2,"temperature":1,"seed":1,"stop":["\n","."],"logprobs":true,"top_logprobs":2}"""),
                },
                "CreateCompletion" => new Dictionary<string, IOpenApiExample>
                {
                    ["completion"] = Example("Continue a prompt, greedy",
                        """{"model":"tiny-gpt2","prompt":"Review: the lamp is great.\nSentiment:","max_tokens":2,"temperature":0}"""),
                    ["stream"] = Example("Server-sent events, seeded sampling, top-2 log-probabilities",
                        """{"model":"tiny-gpt2","prompt":"Once upon a time","max_tokens":16,"temperature":0.8,"seed":3,"logprobs":2,"stream":true}"""),
                },
                _ => null,
            };
            if (examples is null) return;
            if (operation.RequestBody?.Content?.TryGetValue("application/json", out var media) != true || media is not OpenApiMediaType body) return;
            body.Examples = examples;
        }

        private static OpenApiExample Example(string summary, string json) => new() { Summary = summary, Value = JsonNode.Parse(json) };
    }
}
