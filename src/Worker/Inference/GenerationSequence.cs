using System.Threading.Channels;
using static TorchSharp.torch;

namespace TuningService.Worker.Inference;

/// <summary>How one sequence picks its tokens. Temperature 0 is greedy.</summary>
public sealed record SamplingSettings(int MaxNewTokens, double Temperature, double TopP, long Seed, int? LogprobAlternatives);

/// <summary>A generated token; <see cref="Logprob"/> and <see cref="Top"/> only when logprobs were asked for.</summary>
public readonly record struct GeneratedToken(int Id, float? Logprob, (int Id, float Logprob)[]? Top);

/// <summary>Why a sequence ended, in OpenAI's words.</summary>
public enum FinishReason { Stop, Length }

/// <summary>
/// One sequence in a continuous batch: its prompt, how to sample, and the channel its tokens go out on. The
/// scheduler writes tokens and completes the channel with the finish reason; the reader ends it early by
/// cancelling (client gone) or calling <see cref="StopEarly"/> (a stop string matched).
/// </summary>
public sealed class GenerationSequence
{
    private readonly Channel<GeneratedToken> tokens = Channel.CreateUnbounded<GeneratedToken>(new() { SingleReader = true, SingleWriter = true });
    private volatile bool stoppedEarly;

    public GenerationSequence(int[] promptIds, SamplingSettings sampling, IReadOnlySet<int> stopIds, string? adapterId, CancellationToken cancellation)
    {
        PromptIds = promptIds;
        Sampling = sampling;
        StopIds = stopIds;
        AdapterId = adapterId;
        Cancellation = cancellation;
    }

    public int[] PromptIds { get; }
    public SamplingSettings Sampling { get; }
    /// <summary>EOS and the chat template's end-of-turn: generated, they end the sequence and are not part of the text.</summary>
    public IReadOnlySet<int> StopIds { get; }
    /// <summary>The LoRA adapter (served model id) this sequence decodes with; null for the base alone.</summary>
    public string? AdapterId { get; }
    public CancellationToken Cancellation { get; }
    public ChannelReader<GeneratedToken> Tokens => tokens.Reader;
    public FinishReason? Finish { get; private set; }
    public int Generated { get; private set; }
    internal Generator? Generator { get; set; }

    public bool ShouldLeave => stoppedEarly || Cancellation.IsCancellationRequested;

    public void StopEarly() => stoppedEarly = true;

    /// <summary>Takes one token; true when the sequence is finished after it.</summary>
    internal bool Accept(GeneratedToken token, int contextLeft)
    {
        if (StopIds.Contains(token.Id)) return Complete(FinishReason.Stop);
        Generated++;
        tokens.Writer.TryWrite(token);
        if (Generated >= Sampling.MaxNewTokens || contextLeft <= 0) return Complete(FinishReason.Length);
        return false;
    }

    internal bool Complete(FinishReason reason)
    {
        Finish ??= reason;
        tokens.Writer.TryComplete();
        return true;
    }

    internal void Fail(Exception error) => tokens.Writer.TryComplete(error);
}
