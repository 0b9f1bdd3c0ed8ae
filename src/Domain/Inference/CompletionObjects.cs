using System.Text.Json.Serialization;

namespace TuningService.Domain.Inference;

// OpenAI's response objects for chat.completion, chat.completion.chunk and text_completion (serialized snake_case).

public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

public sealed record ChatMessageOutput(string Role, string Content);

public sealed record ChatDelta([property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);

public sealed record TopLogprob(string Token, float Logprob, int[] Bytes);

public sealed record TokenLogprob(string Token, float Logprob, int[] Bytes, IReadOnlyList<TopLogprob> TopLogprobs);

public sealed record ChatLogprobs(IReadOnlyList<TokenLogprob> Content);

public sealed record ChatChoice(int Index, ChatMessageOutput Message, ChatLogprobs? Logprobs, string FinishReason);

public sealed record ChatChunkChoice(int Index, ChatDelta Delta, ChatLogprobs? Logprobs, string? FinishReason);

public sealed record ChatCompletion(string Id, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage Usage)
{
    public string Object => "chat.completion";
    public string? SystemFingerprint => null;
}

public sealed record ChatCompletionChunk(string Id, long Created, string Model, IReadOnlyList<ChatChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage)
{
    public string Object => "chat.completion.chunk";
    public string? SystemFingerprint => null;
}

/// <summary>The legacy completions logprobs shape: parallel lists.</summary>
public sealed record TextLogprobs(IReadOnlyList<string> Tokens, IReadOnlyList<float> TokenLogprobs,
    IReadOnlyList<Dictionary<string, float>> TopLogprobs, IReadOnlyList<int> TextOffset);

public sealed record TextChoice(int Index, string Text, TextLogprobs? Logprobs, string? FinishReason);

public sealed record TextCompletion(string Id, long Created, string Model, IReadOnlyList<TextChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage)
{
    public string Object => "text_completion";
}

public sealed record InferenceError(string Message, string Type, string? Param, string? Code);

public sealed record InferenceErrorResponse(InferenceError Error);
