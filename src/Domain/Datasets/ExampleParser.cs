using System.Text.Json;
using System.Text.Unicode;

namespace TuningService.Domain.Datasets;

/// <summary>
/// Parses one JSONL line into a typed example, or explains why it cannot. The keys present decide the shape:
/// <c>input</c>/<c>preferred_output</c>/<c>non_preferred_output</c> or <c>chosen</c>/<c>rejected</c> → preference;
/// <c>messages</c> → chat or prompt-only chat (decided per file by <see cref="DatasetValidator"/>);
/// <c>completion</c> → prompt_completion; <c>prompt</c> alone → prompt_only; <c>text</c> → text.
/// A messages line is returned as a <see cref="ChatExample"/>; the caller turns it into a prompt when the file is prompt_only.
/// </summary>
public static class ExampleParser
{
    public static DatasetExample? Parse(ReadOnlySpan<byte> utf8Line, long line, List<DatasetIssue> issues)
    {
        if (!Utf8.IsValid(utf8Line))
        {
            issues.Add(new(line, null, DatasetCodes.InvalidUtf8, "The line is not valid UTF-8. Save the file as UTF-8."));
            return null;
        }
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8Line);
            document = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                document.Dispose();
                issues.Add(new(line, null, DatasetCodes.InvalidJson, "The line holds more than one JSON value; JSONL wants exactly one object per line."));
                return null;
            }
        }
        catch (JsonException ex)
        {
            issues.Add(new(line, null, DatasetCodes.InvalidJson, $"The line is not valid JSON: {ex.Message}"));
            return null;
        }
        using (document) return new LineParser(line, issues).Parse(document.RootElement);
    }

    private readonly struct LineParser(long line, List<DatasetIssue> issues)
    {
        public DatasetExample? Parse(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                Fail(null, DatasetCodes.NotAnObject, $"Each line must be a JSON object; this one is {Describe(root)}.");
                return null;
            }
            if (Has(root, "input") || Has(root, "preferred_output") || Has(root, "non_preferred_output")) return OpenAiPreference(root);
            if (Has(root, "chosen") || Has(root, "rejected")) return PlainPreference(root);
            if (Has(root, "messages"))
            {
                var messages = Messages(root.GetProperty("messages"), "messages");
                return messages is null ? null : new ChatExample(messages);
            }
            if (Has(root, "completion"))
            {
                var prompt = String(root, "prompt", "prompt", allowEmpty: true);
                var completion = String(root, "completion", "completion");
                return prompt is null || completion is null ? null : new PromptCompletionExample(prompt, completion);
            }
            if (Has(root, "prompt"))
            {
                var prompt = String(root, "prompt", "prompt");
                return prompt is null ? null : new PromptOnlyExample(prompt, null);
            }
            if (Has(root, "text"))
            {
                var text = String(root, "text", "text");
                return text is null ? null : new TextExample(text);
            }
            Fail(null, DatasetCodes.MissingField,
                "The line has none of the keys that name a format: text, prompt + completion, messages, " +
                "prompt + chosen + rejected, input + preferred_output + non_preferred_output, or prompt alone.");
            return null;
        }

        private PreferenceExample? PlainPreference(JsonElement root)
        {
            string? prompt = null;
            IReadOnlyList<ChatMessage>? promptMessages = null;
            if (root.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.Array) promptMessages = Messages(p, "prompt");
            else prompt = String(root, "prompt", "prompt");
            var chosen = String(root, "chosen", "chosen");
            var rejected = String(root, "rejected", "rejected");
            if ((prompt is null && promptMessages is null) || chosen is null || rejected is null) return null;
            return new PreferenceExample(prompt, promptMessages, chosen, rejected);
        }

        private PreferenceExample? OpenAiPreference(JsonElement root)
        {
            IReadOnlyList<ChatMessage>? prompt = null;
            if (!root.TryGetProperty("input", out var input)) Fail("input", DatasetCodes.MissingField, "Missing \"input\": an object with the prompt's \"messages\".");
            else if (input.ValueKind != JsonValueKind.Object) Fail("input", DatasetCodes.WrongType, $"\"input\" must be an object with \"messages\"; it is {Describe(input)}.");
            else if (!input.TryGetProperty("messages", out var messages)) Fail("input.messages", DatasetCodes.MissingField, "Missing \"input.messages\".");
            else prompt = Messages(messages, "input.messages");
            var chosen = AssistantOutput(root, "preferred_output");
            var rejected = AssistantOutput(root, "non_preferred_output");
            return prompt is null || chosen is null || rejected is null ? null : new PreferenceExample(null, prompt, chosen, rejected);
        }

        private string? AssistantOutput(JsonElement root, string name)
        {
            if (!root.TryGetProperty(name, out var output))
                return Fail(name, DatasetCodes.MissingField, $"Missing \"{name}\": a list with one assistant message.");
            if (output.ValueKind != JsonValueKind.Array || output.GetArrayLength() != 1)
                return Fail(name, DatasetCodes.WrongType, $"\"{name}\" must be a list with exactly one assistant message.");
            var messages = Messages(output, name);
            if (messages is null) return null;
            if (messages[0].Role != ChatMessage.Assistant)
                return Fail($"{name}[0].role", DatasetCodes.UnrecognizedRole, $"\"{name}\" must hold an assistant message, not \"{messages[0].Role}\".");
            return messages[0].Content;
        }

        private List<ChatMessage>? Messages(JsonElement array, string path)
        {
            if (array.ValueKind != JsonValueKind.Array)
            {
                Fail(path, DatasetCodes.WrongType, $"\"{path}\" must be a list of messages; it is {Describe(array)}.");
                return null;
            }
            if (array.GetArrayLength() == 0)
            {
                Fail(path, DatasetCodes.EmptyContent, $"\"{path}\" is empty; a conversation needs at least one message.");
                return null;
            }
            var messages = new List<ChatMessage>(array.GetArrayLength());
            var ok = true;
            var i = 0;
            foreach (var item in array.EnumerateArray())
            {
                var message = Message(item, $"{path}[{i++}]");
                if (message is null) ok = false;
                else messages.Add(message);
            }
            return ok ? messages : null;
        }

        private ChatMessage? Message(JsonElement item, string path)
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                Fail(path, DatasetCodes.NotAnObject, $"Each message must be an object with role and content; {path} is {Describe(item)}.");
                return null;
            }
            var role = String(item, "role", $"{path}.role");
            var content = String(item, "content", $"{path}.content");
            if (role is not null && !ChatMessage.IsKnownRole(role))
            {
                Fail($"{path}.role", DatasetCodes.UnrecognizedRole, $"Role \"{role}\" is not one of system, user, assistant.");
                role = null;
            }
            int? weight = null;
            if (item.TryGetProperty("weight", out var w))
            {
                if (w.ValueKind == JsonValueKind.Number && w.TryGetInt32(out var value) && value is 0 or 1) weight = value;
                else
                {
                    Fail($"{path}.weight", DatasetCodes.WrongType, "\"weight\" must be 0 (do not train on this turn) or 1.");
                    return null;
                }
            }
            return role is null || content is null ? null : new ChatMessage(role, content, weight);
        }

        private string? String(JsonElement obj, string name, string path, bool allowEmpty = false)
        {
            if (!obj.TryGetProperty(name, out var value))
                return Fail(path, DatasetCodes.MissingField, $"Missing \"{name}\".");
            if (value.ValueKind != JsonValueKind.String)
                return Fail(path, DatasetCodes.WrongType, $"\"{name}\" must be a string; it is {Describe(value)}.");
            var text = value.GetString()!;
            if (!allowEmpty && string.IsNullOrWhiteSpace(text))
                return Fail(path, DatasetCodes.EmptyContent, $"\"{name}\" is empty; empty text teaches the model nothing.");
            return text;
        }

        private string? Fail(string? field, string code, string message)
        {
            issues.Add(new DatasetIssue(line, field, code, message));
            return null;
        }

        private static bool Has(JsonElement obj, string name) => obj.TryGetProperty(name, out _);

        private static string Describe(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "a list",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        };
    }
}
