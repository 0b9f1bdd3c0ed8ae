using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using TuningService.Domain;
using TuningService.Domain.Persistence;
using TuningService.Worker.Hosting;
using TuningService.Worker.Runtime;

namespace TuningService.Worker.Inference;

/// <summary>The inference role: an HTTP server that generates with resident models, registered for the Api's routing.</summary>
public static class InferenceHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var configuration = builder.Configuration;
        builder.Services.AddOptions<TuningOptions>().Bind(configuration.GetSection(TuningOptions.Section));
        builder.Services.AddOptions<InferenceOptions>().Bind(configuration.GetSection(InferenceOptions.Section))
            .Validate(o => o.HeartbeatSeconds is >= 1 and <= 60, "Inference:HeartbeatSeconds must be between 1 and 60.")
            .Validate(o => o.MaxBatch is >= 1 and <= 256, "Inference:MaxBatch must be between 1 and 256.")
            .Validate(o => o.ResidentBudgetBytes > 0, "Inference:ResidentBudgetBytes must be positive.")
            .ValidateOnStart();
        builder.WebHost.UseUrls(configuration.GetSection(InferenceOptions.Section).Get<InferenceOptions>()?.Urls ?? new InferenceOptions().Urls);
        var connectionString = configuration.GetConnectionString("Tuning") ?? throw new InvalidOperationException("ConnectionStrings:Tuning is not set.");
        builder.Services.AddDbContextFactory<TuningDbContext>(o => o.UseNpgsql(connectionString,
            npgsql => npgsql.EnableRetryOnFailure(maxRetryCount: 4, maxRetryDelay: TimeSpan.FromSeconds(2), errorCodesToAdd: null)));
        if (configuration.GetValue<int?>("Worker:CpuThreads") is int threads and > 0) TorchSharp.torch.set_num_threads(threads);

        builder.Services.AddSingleton<ArtifactStore>();
        builder.Services.AddSingleton<JobModels>();
        builder.Services.AddSingleton<ServedModelResolver>();
        builder.Services.AddSingleton<ModelResidency>();
        builder.Services.AddSingleton<CompletionService>();
        builder.Services.AddHostedService<SchemaGate>();
        builder.Services.AddHostedService<InferenceRegistration>();

        var app = builder.Build();
        app.MapInferenceApi();
        await app.RunAsync();
        return 0;
    }
}
