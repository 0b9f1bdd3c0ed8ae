using System.Text.Json;
using System.Text.Json.Serialization;
using FluentValidation;
using Hangfire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Auth;
using TuningService.Api.Errors;
using TuningService.Api.Events;
using TuningService.Api.Files;
using TuningService.Api.Health;
using TuningService.Api.Inference;
using TuningService.Api.Infrastructure;
using TuningService.Api.Limits;
using TuningService.Api.Organization;
using TuningService.Api.Jobs;
using TuningService.Api.Models;
using TuningService.Api.Observability;
using TuningService.Api.Webhooks;
using TuningService.Domain;
using TuningService.Domain.Persistence;
using TuningService.Domain.Queue;

namespace TuningService.Api;

public static class Extensions
{
    public static void AddApiServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddOptions<TuningOptions>()
            .Bind(configuration.GetSection(TuningOptions.Section))
            .PostConfigure(o => o.AdminApiKey ??= configuration["TUNING_API_KEY"])
            .Validate(o => !string.IsNullOrWhiteSpace(o.AdminApiKey), "An admin key is required: set TUNING_API_KEY or Tuning:AdminApiKey.")
            .ValidateOnStart();

        services.AddApiLimits(configuration);
        var configured = configuration.GetConnectionString("Tuning") ?? throw new InvalidOperationException("ConnectionStrings:Tuning is not set.");
        var limits = configuration.GetSection(ApiLimitsOptions.Section).Get<ApiLimitsOptions>() ?? new ApiLimitsOptions();
        var (requestsDb, hangfireDb) = (DatabaseConnection.ForRequests(configured, limits), DatabaseConnection.ForHangfire(configured, limits));
        services.AddDbContext<TuningDbContext>(o => o.UseNpgsql(requestsDb));

        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyAuthenticationHandler.AdminPolicy, p => p.RequireClaim(ApiKeyAuthenticationHandler.AdminClaim, "true"));
        services.AddHangfireDashboardAuth();

        // The API is a Hangfire client only: it enqueues, it never runs jobs.
        var webhooks = configuration.GetSection(WebhooksOptions.Section).Get<WebhooksOptions>() ?? new WebhooksOptions();
        services.AddTrainingQueueStorage(hangfireDb, queuePollInterval: webhooks.QueuePollInterval);
        services.AddHangfire(c => c.UseTrainingQueueSerialization());

        services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        services.Configure<Microsoft.AspNetCore.Mvc.JsonOptions>(o => ConfigureJson(o.JsonSerializerOptions));
        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        // Unreadable bodies and unbindable parameters throw, so ApiExceptionHandler answers them in the error shape.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddValidatorsFromAssemblyContaining<Program>(includeInternalTypes: true);
        services.AddHttpContextAccessor();
        services.AddScoped<CallerContext>();
        services.AddSwagger();
        services.AddJobs(configuration);
        services.AddModels();
        services.AddFilesServices(configuration);
        services.AddHealth();
        services.AddEventStreams(configuration, requestsDb);
        services.AddWebhooks(configuration);
        services.AddObservability(configuration);
        services.AddInference(configuration);
    }

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
    }

    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TuningDbContext>();
        await DatabaseSetup.MigrateAsync(db);
        // Hangfire's storage prepares its own schema when first built: do it now, not inside the first request that enqueues.
        _ = app.Services.GetRequiredService<JobStorage>();
    }

    public static void UseApiPipeline(this WebApplication app)
    {
        app.UseRequestIds();
        app.UseExceptionHandler();
        app.UseStatusCodePages(ApiErrors.WriteStatusCodeAsync);
        app.UseRequestBodyLimit();
        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "TuningService v1");
            o.DocumentTitle = "TuningService API";
        });
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapHangfireDashboardForAdmins();
    }

    /// <summary>One call per API area; each area maps its own routes under <c>/v1</c>.</summary>
    public static void MapApiAreas(this WebApplication app)
    {
        var v1 = app.MapGroup("/v1").RequireAuthorization();
        v1.MapGet("/me", (CallerContext caller) => TypedResults.Ok(new CallerIdentity(caller.ProjectId, caller.IsAdmin)))
            .WithName("WhoAmI").WithSummary("The project and role of the calling key.").WithTags("Auth");
        v1.MapOrganizationApi();
        v1.MapJobsApi();
        v1.MapModelsApi();
        v1.MapFilesApi();
        v1.MapWebhooksApi();
        v1.MapInferenceApi();
    }
}
