using Microsoft.OpenApi;

namespace TuningService.Api.Infrastructure;

public static class SwaggerSetup
{
    public static void AddSwagger(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "TuningService",
                Version = "v1",
                Description = "Self-hosted fine-tuning: upload JSONL datasets, create supervised, instruction, " +
                              "reward-model, PPO and DPO jobs, poll them and download the models. " +
                              "OpenAI-compatible under /v1. Authorize with your API key.",
            });
            o.AddSecurityDefinition("bearer", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "Project API key (or the admin key).",
            });
            o.AddSecurityRequirement(doc => new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference("bearer", doc)] = [],
            });
            var xml = Path.Combine(AppContext.BaseDirectory, "TuningService.Api.xml");
            if (File.Exists(xml)) o.IncludeXmlComments(ReadableXmlDocs.From(xml));
            o.SupportNonNullableReferenceTypes();
            o.OperationFilter<SwaggerConventions>();
            o.SchemaFilter<SwaggerConventions>();
        });
    }
}
