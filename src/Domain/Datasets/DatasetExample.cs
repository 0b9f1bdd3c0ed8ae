namespace TuningService.Domain.Datasets;

/// <summary>One chat turn. <see cref="Weight"/> (0 or 1, assistant turns only) says whether training learns it; null means 1.</summary>
public sealed record ChatMessage(string Role, string Content, int? Weight = null)
{
    public const string System = "system";
    public const string User = "user";
    public const string Assistant = "assistant";

    public static bool IsKnownRole(string role) => role is System or User or Assistant;
}

/// <summary>One parsed line of a dataset, typed by format. The worker reads these; the API validates them.</summary>
public abstract record DatasetExample;

/// <summary><c>{"text": "..."}</c> — causal LM over the whole text.</summary>
public sealed record TextExample(string Text) : DatasetExample;

/// <summary><c>{"prompt": "...", "completion": "..."}</c> — loss on the completion only.</summary>
public sealed record PromptCompletionExample(string Prompt, string Completion) : DatasetExample;

/// <summary><c>{"messages": [...]}</c> with at least one assistant turn.</summary>
public sealed record ChatExample(IReadOnlyList<ChatMessage> Messages) : DatasetExample;

/// <summary>
/// A preference pair. Plain lines give <see cref="Prompt"/> as a string (or as messages); OpenAI's
/// <c>input/preferred_output/non_preferred_output</c> shape is normalised to <see cref="PromptMessages"/> plus the
/// two assistant contents. Exactly one of <see cref="Prompt"/> and <see cref="PromptMessages"/> is set.
/// </summary>
public sealed record PreferenceExample(string? Prompt, IReadOnlyList<ChatMessage>? PromptMessages, string Chosen, string Rejected)
    : DatasetExample;

/// <summary>A PPO prompt: <c>{"prompt": "..."}</c> or <c>{"messages": [...]}</c> ending in a user turn. Exactly one is set.</summary>
public sealed record PromptOnlyExample(string? Prompt, IReadOnlyList<ChatMessage>? Messages) : DatasetExample;
