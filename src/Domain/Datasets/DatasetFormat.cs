namespace TuningService.Domain.Datasets;

/// <summary>The closed set of dataset formats, spelled as the API spells them.</summary>
public static class DatasetFormat
{
    public const string Text = "text";
    public const string PromptCompletion = "prompt_completion";
    public const string Chat = "chat";
    public const string Preference = "preference";
    public const string PromptOnly = "prompt_only";

    public static readonly IReadOnlyList<string> All = [Text, PromptCompletion, Chat, Preference, PromptOnly];

    /// <summary>
    /// Below this many examples a file is accepted with a <c>few_examples</c> warning: supervised formats want
    /// hundreds, preference data wants hundreds of pairs, PPO wants a varied prompt pool.
    /// </summary>
    public static int RecommendedMinimum(string format) => format switch
    {
        PromptOnly => 50,
        _ => 100,
    };

    /// <summary>The format of a messages line on its own, before the file's format is known (see <see cref="DatasetFormatClassifier"/>).</summary>
    internal static string OfMessages(IReadOnlyList<ChatMessage> messages) =>
        messages[^1].Role == ChatMessage.User ? PromptOnly : Chat;
}
