using System.Text.Json;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Tests.Engine.Rlhf;

public sealed class PreferenceEncoderTests
{
    [Fact]
    public void EncodePairs_EndsBothSidesWithEos_AndDropsPairsLongerThanTheLimit()
    {
        var tokenizer = TokenizerFiles.Gpt2();
        var pairs = new[] { new PreferencePair("Hi", " thank you", " go away"), new PreferencePair("Hi", string.Concat(Enumerable.Repeat(" word", 40)), " no") };

        var (kept, dropped) = PreferenceEncoder.EncodePairs(pairs, tokenizer, maxLength: 16, defaultMargin: 0.5);

        Assert.Equal(1, dropped);
        var pair = Assert.Single(kept);
        Assert.Equal(tokenizer.Encode("Hi"), pair.Chosen[..pair.PromptLength]);
        Assert.Equal(tokenizer.EosId, pair.Chosen[^1]);
        Assert.Equal(tokenizer.EosId, pair.Rejected[^1]);
        Assert.Equal(0.5, pair.Margin);
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
