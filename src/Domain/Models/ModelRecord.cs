namespace TuningService.Domain.Models;

public static class ModelKinds
{
    public const string FineTuned = "fine_tuned";
    public const string RewardModel = "reward_model";
    public const string Checkpoint = "checkpoint";
}

/// <summary>
/// A model produced by a job (fine-tuned model, reward model, or a checkpoint). Base presets and
/// checkpoints under ModelsRoot are not rows: they are discovered at run time.
/// </summary>
public sealed class ModelRecord
{
    /// <summary>LoRA jobs keep their PEFT adapter (<c>adapter_config.json</c>, <c>adapter_model.safetensors</c>) in this subdirectory, beside the merged model.</summary>
    public const string AdapterDirectory = "adapter";

    /// <summary>The OpenAI-style name, e.g. <c>ft:tiny-gpt2:sentiment:ftjob-abc</c>.</summary>
    public required string Id { get; init; }
    public required string ProjectId { get; init; }
    public required string Kind { get; init; }
    /// <summary>The base model it descends from (preset, base checkpoint or another fine-tuned model).</summary>
    public required string BaseModel { get; init; }
    public required string JobId { get; init; }
    /// <summary>Directory relative to ArtifactsRoot.</summary>
    public required string ArtifactPath { get; init; }
    /// <summary>Architecture family read from its config (<c>gpt2</c>, <c>llama</c>, ...).</summary>
    public string? Architecture { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? DeletedAt { get; set; }
}
