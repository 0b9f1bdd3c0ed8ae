using TuningService.Api.Errors;
using TuningService.Domain.Inference;

namespace TuningService.Api.Inference;

public static class InferenceApi
{
    public static void AddInference(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<InferenceRoutingOptions>().Bind(configuration.GetSection(InferenceRoutingOptions.Section))
            .Validate(o => o.LivenessSeconds is >= 2 and <= 600, "Inference:LivenessSeconds must be between 2 and 600.")
            .ValidateOnStart();
        // Generation can run for minutes and streams: no client timeout; the caller's disconnect cancels instead.
        services.AddHttpClient(CreateCompletion.InferenceClient, c => c.Timeout = Timeout.InfiniteTimeSpan);
        services.AddScoped<InferenceWorkerRouter>();
        services.AddScoped<ModelVisibility>();
        services.ConfigureSwaggerGen(InferenceSwagger.Configure);
    }

    public static void MapInferenceApi(this IEndpointRouteBuilder v1)
    {
        var group = v1.MapGroup("").WithTags("Inference");
        group.MapPost("/chat/completions", CreateCompletion.Chat).WithName("CreateChatCompletion")
            .WithSummary("Generates the next assistant turn with any listed model (base, fine-tuned, checkpoint or LoRA adapter); stream=true answers with server-sent events.")
            .Accepts<CompletionRequest>("application/json")
            .Produces<ChatCompletion>(StatusCodes.Status200OK).Produces<ChatCompletionChunk>(StatusCodes.Status200OK, "text/event-stream")
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable);
        group.MapPost("/completions", CreateCompletion.Text).WithName("CreateCompletion")
            .WithSummary("Continues a prompt with any listed model; stream=true answers with server-sent events.")
            .Accepts<CompletionRequest>("application/json")
            .Produces<TextCompletion>(StatusCodes.Status200OK).Produces<TextCompletion>(StatusCodes.Status200OK, "text/event-stream")
            .Produces<ErrorResponse>(StatusCodes.Status400BadRequest).Produces<ErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<ErrorResponse>(StatusCodes.Status503ServiceUnavailable);
    }
}
