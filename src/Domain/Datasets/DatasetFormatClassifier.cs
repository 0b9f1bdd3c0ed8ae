namespace TuningService.Domain.Datasets;

/// <summary>
/// Holds every line of one file to one format; the validator and the reader both classify through it, so a file
/// the API accepted reads back the same way. The first valid line decides the format unless the file's stored format
/// is given. A messages line whose conversation ends with a user turn is <c>prompt_only</c>, any other is
/// <c>chat</c>; so a chat file whose every conversation ends with a user turn is a prompt-only file. Once a file is
/// <c>chat</c>, a messages line without an assistant turn is <c>no_assistant_message</c> (a trailing user turn after
/// an assistant turn is allowed and ignored by training); once it is <c>prompt_only</c>, a messages line not ending
/// with a user turn is <c>last_message_not_user</c>.
/// </summary>
internal sealed class DatasetFormatClassifier(string? format = null)
{
    private long? _formatLine;

    /// <summary>The file's format: the stored one, or the first valid line's; null before any.</summary>
    public string? Format { get; private set; } = format;

    /// <summary>
    /// The example as the file's format reads it (a prompt-only file's messages line becomes a
    /// <see cref="PromptOnlyExample"/>), or null with the reason added to <paramref name="issues"/>.
    /// </summary>
    public DatasetExample? Classify(DatasetExample example, long line, List<DatasetIssue> issues)
    {
        var format = FormatOf(example);
        if (example is ChatExample chat)
        {
            var hasAssistant = chat.Messages.Any(m => m.Role == ChatMessage.Assistant);
            if (Format is DatasetFormat.Chat && !hasAssistant) return Reject(issues, line, "messages", DatasetCodes.NoAssistantMessage,
                "The conversation has no assistant message; instruction tuning learns from assistant turns.");
            if (Format is DatasetFormat.PromptOnly && format is DatasetFormat.Chat) return Reject(issues, line, "messages", DatasetCodes.LastMessageNotUser,
                $"The file is prompt_only ({PromptOnlyReason()}), so every conversation must end with a user turn for the policy to answer.");
            if (Format is null && !hasAssistant && format is DatasetFormat.Chat) return Reject(issues, line, "messages", DatasetCodes.NoAssistantMessage,
                "The conversation neither ends with a user turn (a prompt) nor holds an assistant message (a chat example).");
            if (Format is DatasetFormat.Chat) format = DatasetFormat.Chat;
            if (format is DatasetFormat.PromptOnly) example = new PromptOnlyExample(null, chat.Messages);
        }
        if (Format is null)
        {
            Format = format;
            _formatLine = line;
        }
        else if (format != Format)
        {
            return Reject(issues, line, null, DatasetCodes.MixedFormats, _formatLine is { } first
                ? $"This line is {format} but line {first} made the file {Format}; a file holds one format."
                : $"This line is {format} but the file is {Format}; a file holds one format.");
        }
        return example;
    }

    /// <summary>The format of one line on its own (a messages line by its last turn).</summary>
    public static string FormatOf(DatasetExample example) => example switch
    {
        TextExample => DatasetFormat.Text,
        PromptCompletionExample => DatasetFormat.PromptCompletion,
        ChatExample chat => DatasetFormat.OfMessages(chat.Messages),
        PreferenceExample => DatasetFormat.Preference,
        PromptOnlyExample => DatasetFormat.PromptOnly,
        _ => throw new ArgumentOutOfRangeException(nameof(example)),
    };

    private string PromptOnlyReason() => _formatLine is { } first
        ? $"line {first}'s conversation ends with a user turn"
        : "its stored format";

    private static DatasetExample? Reject(List<DatasetIssue> issues, long line, string? field, string code, string message)
    {
        issues.Add(new DatasetIssue(line, field, code, message));
        return null;
    }
}
