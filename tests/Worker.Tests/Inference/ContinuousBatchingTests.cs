using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TuningService.Worker.Engine;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Generation;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;
using TuningService.Worker.Engine.Training;
using TuningService.Worker.Inference;
using TuningService.Worker.Tests.Engine;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Inference;

[Collection(EngineTestCollection.Name)]
public sealed class ContinuousBatchingTests
{
    private const int Eos = 96;
    private static readonly HashSet<int> StopIds = [Eos];

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public async Task SequencesJoiningARunningBatch_GenerateWhatEachGeneratesAlone(string arch)
    {
        var config = arch == "gpt2" ? TinyModels.Gpt2() : TinyModels.Llama();
        using var reference = TinyModels.Create(config);
        using var served = Serve(TinyModels.Create(config));
        int[][] prompts = [[5, 6, 7, 8, 9, 10], [11, 12], [13, 14, 15], [20, 21, 22, 23]];

        var first = Greedy(prompts[0], 12);
        served.Submit(first);
        var firstTokens = new List<int>();
        for (int i = 0; i < 3; i++) firstTokens.Add((await first.Tokens.ReadAsync()).Id); // the batch is running
        var joining = prompts[1..].Select(p => Greedy(p, 8)).ToList();
        foreach (var sequence in joining) served.Submit(sequence);

        firstTokens.AddRange(await ReadAllAsync(first));
        Assert.Equal(Alone(reference, prompts[0], 12), firstTokens);
        for (int i = 0; i < joining.Count; i++)
            Assert.Equal(Alone(reference, prompts[i + 1], 8), await ReadAllAsync(joining[i]));
        Assert.Equal(FinishReason.Length, first.Finish);
    }

    [Fact]
    public async Task Sampling_WithTheSameSeed_GivesTheSameTokens_WhateverShareTheBatch()
    {
        using var served = Serve(TinyModels.Create(TinyModels.Gpt2()));
        GenerationSequence Sampled(long seed) => new([5, 6, 7], new SamplingSettings(10, 1.0, 0.9, seed, null), StopIds, null, CancellationToken.None);
        var alone = Sampled(42);
        served.Submit(alone);
        var aloneTokens = await ReadAllAsync(alone);

        var again = Sampled(42);
        var other = Sampled(7);
        served.Submit(other);
        served.Submit(again);
        Assert.Equal(aloneTokens, await ReadAllAsync(again));
        Assert.NotEqual(aloneTokens, await ReadAllAsync(other));
    }

    [Fact]
    public async Task TwoLoraAdapters_ShareOneResidentBase_AndEachAnswersAsItsAttachedModel()
    {
        using var dir = new TempDirectory();
        var config = TinyModels.Gpt2();
        var adapters = new[] { Adapter(config, dir.Sub("a"), seed: 11), Adapter(config, dir.Sub("b"), seed: 12) };
        int loads = 0;
        using var residency = new ModelResidency(Options.Create(new InferenceOptions()), NullLogger<ModelResidency>.Instance);
        ServedModelSource Source(string id, string? adapter) => new(id, "tiny@1", () =>
        {
            Interlocked.Increment(ref loads);
            return new LoadedModel("tiny", TinyModels.Create(config), TokenizerFiles.Gpt2(), null);
        }, adapter);

        var a = await residency.AcquireAsync(Source("ft:a", adapters[0]), CancellationToken.None);
        var b = await residency.AcquireAsync(Source("ft:b", adapters[1]), CancellationToken.None);
        var plain = await residency.AcquireAsync(Source("tiny", null), CancellationToken.None);
        Assert.Same(a, b);
        Assert.Same(a, plain);
        Assert.Equal(1, loads);
        Assert.Equal(["ft:a", "ft:b", "tiny"], residency.ResidentIds().Order());

        int[] prompt = [5, 6, 7, 8];
        var sequences = new[] { "ft:a", "ft:b", null }.Select(id => new GenerationSequence(prompt, new SamplingSettings(8, 0, 1, 0, null), StopIds, id, CancellationToken.None)).ToList();
        foreach (var sequence in sequences) a.Submit(sequence);
        var outputs = new List<List<int>>();
        foreach (var sequence in sequences) outputs.Add(await ReadAllAsync(sequence));

        for (int i = 0; i < 2; i++)
        {
            using var attached = TinyModels.Create(config);
            LoraAdapter.Load(attached, adapters[i]);
            Assert.Equal(Alone(attached, prompt, 8), outputs[i]);
        }
        using var baseModel = TinyModels.Create(config);
        Assert.Equal(Alone(baseModel, prompt, 8), outputs[2]);
        Assert.NotEqual(outputs[0], outputs[1]);
    }

    [Fact]
    public async Task CancelledSequence_LeavesTheBatch_AndOthersFinish()
    {
        using var served = Serve(TinyModels.Create(TinyModels.Gpt2()));
        using var cancel = new CancellationTokenSource();
        var cancelled = new GenerationSequence([5, 6], new SamplingSettings(50, 0, 1, 0, null), StopIds, null, cancel.Token);
        var kept = Greedy([7, 8, 9], 20);
        served.Submit(cancelled);
        served.Submit(kept);
        await cancelled.Tokens.ReadAsync();
        cancel.Cancel();
        Assert.Equal(20, (await ReadAllAsync(kept)).Count);
        await ReadAllAsync(cancelled);
        Assert.True(cancelled.Generated < 50);
        Assert.False(served.Busy);
    }

    private static ResidentModel Serve(CausalLanguageModel model) =>
        new("tiny", new LoadedModel("tiny", model, TokenizerFiles.Gpt2(), null), maxBatch: 8, NullLogger.Instance);

    private static GenerationSequence Greedy(int[] prompt, int max) =>
        new(prompt, new SamplingSettings(max, 0, 1, 0, null), StopIds, null, CancellationToken.None);

    private static List<int> Alone(CausalLanguageModel model, int[] prompt, int max)
    {
        var ids = TextGenerator.Generate(model, [prompt], new GenerationOptions { MaxNewTokens = max }, Eos, 0)[0];
        return ids.TakeWhile(id => id != Eos).ToList();
    }

    private static async Task<List<int>> ReadAllAsync(GenerationSequence sequence)
    {
        var ids = new List<int>();
        await foreach (var token in sequence.Tokens.ReadAllAsync()) ids.Add(token.Id);
        return ids;
    }

    /// <summary>A PEFT adapter with non-zero B, so that it changes the base's answers.</summary>
    private static string Adapter(ModelConfig config, string directory, long seed)
    {
        using var model = TinyModels.Create(config);
        manual_seed(seed);
        var settings = ResolvedSettings.Lora(config.ModelType) with { Rank = 4, Alpha = 8 };
        LoraAdapter.Attach(model, settings);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters().Where(p => p.name.EndsWith("lora_B")))
                nn.init.normal_(p, 0, 0.5);
        LoraAdapter.Save(model, settings, directory, "tiny");
        return directory;
    }
}
