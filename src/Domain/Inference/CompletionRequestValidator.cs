using System.Text.Json;
using FluentValidation;

namespace TuningService.Domain.Inference;

/// <summary>
/// Rules of a completion request that need no model at hand (the context-length check needs the tokenizer and runs
/// on the inference worker). The property name of each failure is the OpenAI field name, so errors name the field.
/// </summary>
public sealed class CompletionRequestValidator : AbstractValidator<CompletionRequest>
{
    public const int MaxChoices = 8, MaxStopSequences = 4, MaxLogprobAlternatives = 20;
    public static readonly string[] Roles = ["system", "developer", "user", "assistant", "tool"];

    public CompletionRequestValidator(bool chat)
    {
        RuleFor(r => r.Model).NotEmpty().OverridePropertyName("model").WithErrorCode("missing_field").WithMessage("model is required.");
        if (chat)
        {
            RuleFor(r => r.Messages).NotEmpty().OverridePropertyName("messages").WithErrorCode("missing_field")
                .WithMessage("messages must be a non-empty list.");
            RuleForEach(r => r.Messages).ChildRules(m =>
            {
                m.RuleFor(x => x.Role).Must(role => Roles.Contains(role)).OverridePropertyName("role").WithErrorCode("invalid_value")
                    .WithMessage($"role must be one of {string.Join(", ", Roles)}.");
                m.RuleFor(x => x.Text()).NotNull().OverridePropertyName("content").WithErrorCode("invalid_value")
                    .WithMessage("content must be a string or a list of text parts.");
            }).OverridePropertyName("messages");
        }
        else
        {
            RuleFor(r => r.PromptText()).NotNull().OverridePropertyName("prompt").WithErrorCode("invalid_value")
                .WithMessage("prompt must be a string (or a list of one string).");
        }
        RuleFor(r => r.MaxTokens).GreaterThanOrEqualTo(1).OverridePropertyName("max_tokens").WithErrorCode("invalid_value")
            .WithMessage("max_tokens must be at least 1.");
        RuleFor(r => r.MaxCompletionTokens).GreaterThanOrEqualTo(1).OverridePropertyName("max_completion_tokens").WithErrorCode("invalid_value")
            .WithMessage("max_completion_tokens must be at least 1.");
        RuleFor(r => r.Temperature).InclusiveBetween(0, 2).OverridePropertyName("temperature").WithErrorCode("invalid_value")
            .WithMessage("temperature must be between 0 and 2.");
        RuleFor(r => r.TopP).GreaterThan(0).LessThanOrEqualTo(1).OverridePropertyName("top_p").WithErrorCode("invalid_value")
            .WithMessage("top_p must be greater than 0 and at most 1.");
        RuleFor(r => r.N).InclusiveBetween(1, MaxChoices).OverridePropertyName("n").WithErrorCode("invalid_value")
            .WithMessage($"n must be between 1 and {MaxChoices}.");
        RuleFor(r => r.Stop).Must(ValidStop).OverridePropertyName("stop").WithErrorCode("invalid_value")
            .WithMessage($"stop must be a non-empty string or a list of at most {MaxStopSequences} non-empty strings.");
        RuleFor(r => r.Seed).GreaterThanOrEqualTo(0).OverridePropertyName("seed").WithErrorCode("invalid_value").WithMessage("seed must not be negative.");
        RuleFor(r => r.TopLogprobs).InclusiveBetween(0, MaxLogprobAlternatives).OverridePropertyName("top_logprobs").WithErrorCode("invalid_value")
            .WithMessage($"top_logprobs must be between 0 and {MaxLogprobAlternatives}.");
        RuleFor(r => r.Logprobs).Must(l => ValidLogprobs(l, chat)).OverridePropertyName("logprobs").WithErrorCode("invalid_value")
            .WithMessage(chat ? "logprobs must be a boolean." : $"logprobs must be an integer between 0 and {MaxLogprobAlternatives}.");
        RuleFor(r => r.StreamOptions).Null().When(r => r.Stream != true).OverridePropertyName("stream_options").WithErrorCode("invalid_value")
            .WithMessage("stream_options is only allowed when stream is true.");
    }

    private static bool ValidStop(JsonElement? stop) => stop switch
    {
        null or { ValueKind: JsonValueKind.Null } => true,
        { ValueKind: JsonValueKind.String } s => s.GetString()!.Length > 0,
        { ValueKind: JsonValueKind.Array } a => a.GetArrayLength() <= MaxStopSequences
            && a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String && e.GetString()!.Length > 0),
        _ => false,
    };

    private static bool ValidLogprobs(JsonElement? logprobs, bool chat) => logprobs switch
    {
        null or { ValueKind: JsonValueKind.Null } => true,
        { ValueKind: JsonValueKind.True or JsonValueKind.False } => chat,
        { ValueKind: JsonValueKind.Number } n => !chat && n.TryGetInt32(out var k) && k is >= 0 and <= MaxLogprobAlternatives,
        _ => false,
    };
}
