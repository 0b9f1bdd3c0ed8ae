using System.Text.Json;

namespace TuningService.Worker.Engine.Data;

/// <summary>
/// Turns one already-validated JSONL line (text, prompt_completion or chat) into a <see cref="TrainingExample"/>.
/// Validation with error codes belongs to the dataset parser in Domain; this adapter only reads the shapes.
/// </summary>
public static class ExampleJson
{
    public static TrainingExample FromJsonLine(JsonElement line, ChatTemplate chatTemplate)
    {
        if (line.TryGetProperty("messages", out var messages))
        {
            var turns = messages.EnumerateArray().Select(m => new ChatMessage(
                m.GetProperty("role").GetString()!,
                m.GetProperty("content").GetString() ?? "",
                m.TryGetProperty("weight", out var w) && w.ValueKind == JsonValueKind.Number ? w.GetDouble() : 1.0)).ToList();
            return chatTemplate.Render(turns);
        }
        if (line.TryGetProperty("prompt", out var prompt) && line.TryGetProperty("completion", out var completion))
            return TrainingExample.FromPromptCompletion(prompt.GetString()!, completion.GetString()!);
        if (line.TryGetProperty("text", out var text))
            return TrainingExample.FromText(text.GetString()!);
        throw new FormatException("A line has none of the fields messages, prompt + completion, or text.");
    }

    /// <summary>Reads a whole JSONL file (blank lines skipped).</summary>
    public static List<TrainingExample> ReadFile(string path, ChatTemplate chatTemplate)
        => File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => { using var doc = JsonDocument.Parse(l); return FromJsonLine(doc.RootElement, chatTemplate); }).ToList();
}
