using TuningService.Domain.Datasets;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Engine.Data;

/// <summary>
/// ChatML rendering of a conversation: "&lt;|im_start|&gt;{role}\n{content}{end-of-turn}\n" per message.
/// The end-of-turn is the tokenizer's "&lt;|im_end|&gt;" special token when it has one (Qwen2, SmolLM), else its
/// EOS token (GPT-2 vocabulary), so that generation stops at the end of an assistant turn either way.
/// Loss falls on assistant content with weight ≠ 0 and on its end-of-turn; headers and other turns are context.
/// (Checkpoints' own Jinja chat templates are not evaluated; ChatML is always used.)
/// </summary>
public sealed class ChatTemplate
{
    private const string Start = "<|im_start|>";
    private const string End = "<|im_end|>";
    private readonly bool hasImEnd;

    public ChatTemplate(TextTokenizer tokenizer) => hasImEnd = tokenizer.TokenId(End) is not null;

    /// <summary>A template that ends turns with EOS; for callers without a tokenizer at hand.</summary>
    public static ChatTemplate EosTerminated { get; } = new(hasImEnd: false);

    private ChatTemplate(bool hasImEnd) => this.hasImEnd = hasImEnd;

    public TrainingExample Render(IReadOnlyList<ChatMessage> messages)
    {
        var segments = new List<ExampleSegment>();
        foreach (var message in messages)
        {
            bool trained = message.Role == ChatMessage.Assistant && message.Weight != 0;   // a null weight means 1
            segments.Add(ExampleSegment.Prompt($"{Start}{message.Role}\n"));
            segments.Add(new ExampleSegment(message.Content, trained));
            segments.Add(EndOfTurn(trained));
            segments.Add(ExampleSegment.Prompt("\n"));
        }
        return new TrainingExample(segments);
    }

    /// <summary>The prompt that asks the model for the next assistant turn (generation, PPO).</summary>
    public string RenderPrompt(IReadOnlyList<ChatMessage> messages)
        => string.Concat(messages.Select(m => $"{Start}{m.Role}\n{m.Content}{(hasImEnd ? End : "<|endoftext|>")}\n")) + $"{Start}assistant\n";

    private ExampleSegment EndOfTurn(bool trained) => hasImEnd ? new ExampleSegment(End, trained) : ExampleSegment.Eos(trained);
}
