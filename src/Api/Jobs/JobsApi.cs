using Microsoft.Extensions.DependencyInjection.Extensions;
using TuningService.Api.Infrastructure;
using TuningService.Api.Validation;
using TuningService.Domain.Jobs.Specs;
using TuningService.Domain.Queue;

namespace TuningService.Api.Jobs;

public static class JobsApi
{
    public static void AddJobs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<JobsOptions>().Bind(configuration.GetSection(JobsOptions.Section))
            .Validate(o => o.MaxActiveJobsPerProject > 0 && o.MaxRequestBytes > 0, "Jobs options must be positive.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        // The Api only enqueues; lost deliveries are repaired by the DeliveryReconciler that every worker hosts.
        services.AddSingleton<TrainingQueue>();
        services.ConfigureSwaggerGen(JobsSwagger.Configure);
    }

    public static void MapJobsApi(this IEndpointRouteBuilder v1)
    {
        var jobs = v1.MapGroup("/fine_tuning/jobs").WithTags("Fine-tuning jobs");
        jobs.MapPost("/", CreateJob.Handle).WithName("CreateFineTuningJob")
            .WithSummary("Create a fine-tuning job (supervised, instruction, reward_model, ppo or dpo); honours Idempotency-Key.")
            .Accepts<JobSpec>("application/json");
        jobs.MapGet("/", ListJobs.Handle).WithName("ListFineTuningJobs")
            .WithSummary("This project's jobs, newest first; after/limit cursor, metadata[key]=value filter.")
            .Validated<PageQuery>();
        jobs.MapGet("/{id}", GetJob.Handle).WithName("RetrieveFineTuningJob").WithSummary("One job: status, progress, latest metrics.");
        jobs.MapPost("/{id}/cancel", ControlJob.Cancel).WithName("CancelFineTuningJob")
            .WithSummary("Cancel: a queued or paused job at once, a running one within one optimizer step.");
        jobs.MapPost("/{id}/pause", ControlJob.Pause).WithName("PauseFineTuningJob")
            .WithSummary("Pause: a queued job at once, a running one after its next checkpoint.");
        jobs.MapPost("/{id}/resume", ControlJob.Resume).WithName("ResumeFineTuningJob")
            .WithSummary("Resume a paused job from its newest checkpoint.");
        jobs.MapGet("/{id}/events", Events.StreamJobEvents.Handle).WithName("ListFineTuningEvents")
            .WithSummary("The job's events (status changes and metrics), newest first; with stream=true a text/event-stream of new events, oldest first, resumable with Last-Event-ID.")
            .Validated<PageQuery>();
        jobs.MapGet("/{id}/checkpoints", ListJobCheckpoints.Handle).WithName("ListFineTuningJobCheckpoints")
            .WithSummary("The job's checkpoints with their metrics, newest first.")
            .Validated<PageQuery>();
    }
}
