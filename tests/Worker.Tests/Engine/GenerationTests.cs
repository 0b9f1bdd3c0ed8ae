using TuningService.Worker.Engine.Generation;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class GenerationTests
{
    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void GreedyWithKvCache_EqualsArgmaxOfFullRecomputation(string arch)
    {
        using var model = TinyModels.Create(arch == "gpt2" ? TinyModels.Gpt2() : TinyModels.Llama());
        model.eval();
        int[] prompt = [3, 14, 15, 92, 6];
        var generated = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = 8, StopAtEos = false }, eosId: 96, padId: 0)[0];

        var sequence = prompt.Select(i => (long)i).ToList();
        using (no_grad())
            for (int i = 0; i < 8; i++)
                sequence.Add(model.forward(tensor(sequence.ToArray()).unsqueeze(0))[0, -1].argmax().item<long>());
        Assert.Equal(sequence.Skip(prompt.Length).Select(i => (int)i), generated);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void LeftPaddedBatch_GeneratesWhatEachPromptGeneratesAlone(string arch)
    {
        using var model = TinyModels.Create(arch == "gpt2" ? TinyModels.Gpt2() : TinyModels.Llama());
        int[][] prompts = [[5, 6, 7, 8, 9, 10], [11, 12], [13, 14, 15]];
        var options = new GenerationOptions { MaxNewTokens = 6, StopAtEos = false };
        var batched = TextGenerator.Generate(model, prompts, options, eosId: 96, padId: 0);
        for (int i = 0; i < prompts.Length; i++)
            Assert.Equal(TextGenerator.Generate(model, [prompts[i]], options, 96, 0)[0], batched[i]);
    }

    [Fact]
    public void ResponseEnds_AtTheTemplatesEndOfTurnToken_AndARolloutCountsItAsEnded()
    {
        using var model = TinyModels.Create(TinyModels.Llama());
        int[] prompt = [3, 14, 15, 92, 6];
        var free = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = 8, StopAtEos = false }, eosId: 96, padId: 0)[0];
        int endOfTurn = free[2];                                   // pretend the third token is the template's end of turn
        var cut = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = 8, EndOfTurnId = endOfTurn }, eosId: 96, padId: 0)[0];

        int end = Array.IndexOf(free, endOfTurn);
        Assert.Equal(free.Take(end + 1), cut);
        var ended = Worker.Engine.Rlhf.RolloutBatch.Build([prompt], [cut], eosId: 96, padId: 0, CPU, endOfTurn);
        Assert.Equal(1f, ended.HasEos.item<float>());
        var cutOff = Worker.Engine.Rlhf.RolloutBatch.Build([prompt], [free[..end]], eosId: 96, padId: 0, CPU, endOfTurn);
        Assert.Equal(0f, cutOff.HasEos.item<float>());
    }

    [Fact]
    public void Sampling_WithASeed_IsReproducible_AndStopsAtEos()
    {
        using var model = TinyModels.Create(TinyModels.Llama());
        var options = new GenerationOptions { MaxNewTokens = 20, Temperature = 1.5, TopP = 0.9, Seed = 123 };
        var a = TextGenerator.Generate(model, [[1, 2, 3]], options, eosId: 2, padId: 0)[0];
        var b = TextGenerator.Generate(model, [[1, 2, 3]], options, eosId: 2, padId: 0)[0];
        Assert.Equal(a, b);
        Assert.True(a.Length == 20 || a[^1] == 2);
        Assert.DoesNotContain(2, a[..^1]);
    }
}
