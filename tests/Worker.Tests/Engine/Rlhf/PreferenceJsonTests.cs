using System.Text.Json;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Tests.Engine.Rlhf;

public sealed class PreferenceJsonTests
{
    private static readonly ChatTemplate Template = ChatTemplate.EosTerminated;

    [Fact]
    public void ReadPair_ReadsThePlainAndTheOpenAiShape_AsTheSamePair()
    {
        var plain = Parse("""{"prompt": "Q", "chosen": " yes please", "rejected": " no", "margin": 2}""");
        var openAi = Parse("""{"input": {"messages": [{"role": "user", "content": "Q"}]}, "preferred_output": [{"role": "assistant", "content": "yes please"}], "non_preferred_output": [{"role": "assistant", "content": "no"}]}""");

        Assert.Equal(new PreferencePair("Q", " yes please", " no", 2), PreferenceJson.ReadPair(plain, Template));
        var pair = PreferenceJson.ReadPair(openAi, Template);
        Assert.Equal("<|im_start|>user\nQ<|endoftext|>\n<|im_start|>assistant\n", pair.Prompt);
        Assert.Equal(("yes please", "no", (double?)null), (pair.Chosen, pair.Rejected, pair.Margin));
    }

    [Fact]
    public void ReadPrompt_RendersChatPromptsUpToTheAssistantHeader()
    {
        Assert.Equal("Hello", PreferenceJson.ReadPrompt(Parse("""{"prompt": "Hello"}"""), Template));
        Assert.EndsWith("<|im_start|>assistant\n", PreferenceJson.ReadPrompt(Parse("""{"messages": [{"role": "user", "content": "Hi"}]}"""), Template));
    }

    [Fact]
    public void EncodePairs_EndsBothSidesWithEos_AndDropsPairsLongerThanTheLimit()
    {
        var tokenizer = TokenizerFiles.Gpt2();
        var pairs = new[] { new PreferencePair("Hi", " thank you", " go away"), new PreferencePair("Hi", string.Concat(Enumerable.Repeat(" word", 40)), " no") };

        var (kept, dropped) = PreferenceJson.EncodePairs(pairs, tokenizer, maxLength: 16, defaultMargin: 0.5);

        Assert.Equal(1, dropped);
        var pair = Assert.Single(kept);
        Assert.Equal(tokenizer.Encode("Hi"), pair.Chosen[..pair.PromptLength]);
        Assert.Equal(tokenizer.EosId, pair.Chosen[^1]);
        Assert.Equal(tokenizer.EosId, pair.Rejected[^1]);
        Assert.Equal(0.5, pair.Margin);
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
