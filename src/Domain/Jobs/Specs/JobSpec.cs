using System.ComponentModel;
using System.Text.Json.Serialization;

namespace TuningService.Domain.Jobs.Specs;

/// <summary>
/// The body of <c>POST /v1/fine_tuning/jobs</c>, and (after <see cref="JobSpecResolver.Resolve"/>) the resolved spec stored in
/// <c>TrainingJob.Spec</c>: then <see cref="Method"/> is set, the top-level <see cref="Hyperparameters"/> is null, and every
/// hyperparameter of the chosen method holds its value. Read it back with <see cref="JobSpecSerializer.Deserialize(System.Text.Json.JsonDocument)"/>.
/// </summary>
public sealed record JobSpec
{
    /// <summary>Base model: a preset (<c>tiny-gpt2</c>, <c>tiny-llama</c>), a checkpoint folder under ModelsRoot, or a fine-tuned model of this project.</summary>
    /// <example>tiny-gpt2</example>
    public string? Model { get; init; }
    /// <summary>Id of a processed file whose format fits the method.</summary>
    /// <example>file-abc123</example>
    public string? TrainingFile { get; init; }
    /// <summary>Optional held-out file in the same format family; evaluated every eval_interval steps.</summary>
    public string? ValidationFile { get; init; }
    /// <summary>
    /// Optional file of plain text (format text: <c>{"text": ...}</c> lines) whose loss is measured before training and at every
    /// evaluation; its relative rise is reported as <c>forgetting</c>. Not for reward_model jobs.
    /// </summary>
    public string? ReferenceFile { get; init; }
    /// <summary>OpenAI's integrations (e.g. wandb) are not supported: a non-empty list is refused with a 400 naming the field.</summary>
    public List<System.Text.Json.JsonElement>? Integrations { get; init; }
    /// <summary>Up to 64 characters of [a-z0-9-_], added to the fine-tuned model's name.</summary>
    /// <example>sentiment</example>
    public string? Suffix { get; init; }
    /// <summary>Random seed; random when absent (the chosen value is stored and returned).</summary>
    /// <example>42</example>
    public long? Seed { get; init; }
    /// <summary>Up to 16 string pairs (key ≤ 64 chars, value ≤ 512 chars), filterable in list calls.</summary>
    public Dictionary<string, string>? Metadata { get; init; }
    /// <summary>The training method and its hyperparameters. Absent = supervised with defaults.</summary>
    public MethodSpec? Method { get; init; }
    /// <summary>Deprecated (OpenAI): supervised hyperparameters. Use method instead.</summary>
    public SupervisedHyperparameters? Hyperparameters { get; init; }
}

/// <summary><c>{type, &lt;type&gt;: {hyperparameters}}</c>: exactly the object named by <see cref="Type"/> may be present.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record MethodSpec
{
    /// <summary>supervised | instruction | reward_model | ppo | dpo</summary>
    /// <example>supervised</example>
    [DefaultValue(MethodTypes.Supervised)]
    public string? Type { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MethodOf<SupervisedHyperparameters>? Supervised { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MethodOf<InstructionHyperparameters>? Instruction { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MethodOf<RewardModelHyperparameters>? RewardModel { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MethodOf<PpoHyperparameters>? Ppo { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public MethodOf<DpoHyperparameters>? Dpo { get; init; }

    /// <summary>The hyperparameters of the chosen method (null when the method object is absent).</summary>
    [JsonIgnore]
    public TrainingHyperparameters? Selected => Type switch
    {
        MethodTypes.Supervised => Supervised?.Hyperparameters,
        MethodTypes.Instruction => Instruction?.Hyperparameters,
        MethodTypes.RewardModel => RewardModel?.Hyperparameters,
        MethodTypes.Ppo => Ppo?.Hyperparameters,
        MethodTypes.Dpo => Dpo?.Hyperparameters,
        _ => null,
    };
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record MethodOf<T> where T : TrainingHyperparameters
{
    public T? Hyperparameters { get; init; }
}
