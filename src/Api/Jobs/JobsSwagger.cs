using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using TuningService.Domain.Jobs.Specs;

namespace TuningService.Api.Jobs;

/// <summary>Swagger for the Jobs API: the spec's XML docs, every hyperparameter's default and range from <see cref="HyperparameterRanges"/> (their one source), and one example body per method.</summary>
internal static class JobsSwagger
{
    public static void Configure(SwaggerGenOptions o)
    {
        var domainXml = Path.Combine(AppContext.BaseDirectory, "TuningService.Domain.xml");
        if (File.Exists(domainXml)) o.IncludeXmlComments(Infrastructure.ReadableXmlDocs.From(domainXml));
        o.SchemaFilter<HyperparameterRangesSchemaFilter>();
        o.OperationFilter<CreateJobExamplesFilter>();
    }

    private sealed class HyperparameterRangesSchemaFilter : ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (context.Type == typeof(JobSpec) && schema is OpenApiSchema spec)
            {
                spec.Required = new HashSet<string> { "model", "training_file" };
                return;
            }
            if (!typeof(TrainingHyperparameters).IsAssignableFrom(context.Type) && context.Type != typeof(LoraSpec)) return;
            if (schema.Properties is null) return;
            foreach (var (name, property) in schema.Properties)
            {
                if (property is not OpenApiSchema p) continue;
                if (HyperparameterRanges.DocumentedDefaults.TryGetValue(name, out var value))
                    p.Default = value switch
                    {
                        double d when p.Type?.HasFlag(JsonSchemaType.Integer) == true => JsonValue.Create((long)d),
                        double d => JsonValue.Create(d),
                        bool b => JsonValue.Create(b),
                        _ => JsonValue.Create(value.ToString()),
                    };
                if (!HyperparameterRanges.ByName.TryGetValue(name, out var range)) continue;
                var min = range.Min.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var max = range.Max.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (range.MinExclusive) p.ExclusiveMinimum = min; else p.Minimum = min;
                if (range.MaxExclusive) p.ExclusiveMaximum = max; else p.Maximum = max;
                if (range.AcceptsAuto) p.Type |= JsonSchemaType.String; // a number or "auto"
            }
        }
    }

    private sealed class CreateJobExamplesFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (operation.OperationId == "ListFineTuningJobs") AddMetadataFilter(operation);
            if (operation.OperationId != "CreateFineTuningJob") return;
            if (operation.RequestBody?.Content?.TryGetValue("application/json", out var media) != true || media is not OpenApiMediaType body) return;
            body.Examples = new Dictionary<string, IOpenApiExample>
            {
                ["supervised"] = Example("Supervised fine-tuning (prompt_completion or text file), LoRA",
                    """{"model":"tiny-gpt2","training_file":"file-abc","suffix":"sentiment","method":{"type":"supervised","supervised":{"hyperparameters":{"n_epochs":3,"batch_size":8,"learning_rate_multiplier":"auto","train_on_inputs":false,"lora":{"r":8,"alpha":16,"dropout":0.05}}}}}"""),
                ["instruction"] = Example("Instruction tuning (chat file)",
                    """{"model":"tiny-llama","training_file":"file-chat","validation_file":"file-chat-val","method":{"type":"instruction","instruction":{"hyperparameters":{"n_epochs":2,"learning_rate":0.0002,"lr_scheduler":"cosine","warmup_ratio":0.03,"max_seq_length":256}}}}"""),
                ["reward_model"] = Example("RLHF stage 1: reward model (preference file)",
                    """{"model":"tiny-gpt2","training_file":"file-prefs","suffix":"rm","method":{"type":"reward_model","reward_model":{"hyperparameters":{"n_epochs":1,"batch_size":8,"margin":0.0,"center_rewards_coefficient":0.01}}}}"""),
                ["ppo"] = Example("RLHF stage 2: PPO (prompt_only file) against a reward model",
                    """{"model":"ft:tiny-gpt2:sft:ftjob-abc","training_file":"file-prompts","method":{"type":"ppo","ppo":{"hyperparameters":{"reward_model":"ft:tiny-gpt2:rm:ftjob-def","kl_coef":0.05,"kl_estimator":"k1","cliprange":0.2,"response_length":64,"temperature":0.7,"ppo_epochs":4}}}}"""),
                ["dpo"] = Example("Direct preference optimisation (preference file)",
                    """{"model":"ft:tiny-gpt2:sft:ftjob-abc","training_file":"file-prefs","metadata":{"team":"search"},"method":{"type":"dpo","dpo":{"hyperparameters":{"beta":"auto","loss_type":"sigmoid","label_smoothing":0.0}}}}"""),
                ["deprecated_hyperparameters"] = Example("OpenAI's deprecated top-level hyperparameters (= supervised)",
                    """{"model":"tiny-gpt2","training_file":"file-abc","seed":42,"hyperparameters":{"n_epochs":"auto","batch_size":"auto","learning_rate_multiplier":2}}"""),
            };
        }

        /// <summary><c>metadata[key]=value</c> (repeatable): OpenAPI's deepObject style, which Swagger UI's Try-it-out sends as such.</summary>
        private static void AddMetadataFilter(OpenApiOperation operation)
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "metadata",
                In = ParameterLocation.Query,
                Style = ParameterStyle.DeepObject,
                Explode = true,
                Description = "Only jobs whose metadata holds every given pair: metadata[team]=search&metadata[run]=7 (exact string match on each value).",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.String } },
                Example = new JsonObject { ["team"] = "search" },
            });
        }

        private static OpenApiExample Example(string summary, string json) => new() { Summary = summary, Value = JsonNode.Parse(json) };
    }
}
