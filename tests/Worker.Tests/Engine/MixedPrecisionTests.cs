using System.Text.Json.Nodes;
using TuningService.Domain.Jobs;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine;

/// <summary>precision bf16: bf16 weights and activations, float32 optimizer state (and master weights), bit-exact resume.</summary>
[Collection(EngineTestCollection.Name)]
public sealed class MixedPrecisionTests
{
    private static readonly TextTokenizer Gpt2 = TokenizerFiles.Gpt2();
    private static readonly TrainingHyperparameters Small = ResolvedSettings.Training() with
    {
        NEpochs = 2, BatchSize = 2, GradientAccumulationSteps = 2, LearningRate = 3e-3, WarmupRatio = 0.1, WeightDecay = 0.01, MaxSeqLength = 64, Seed = 11,
    };

    private static TrainingHyperparameters Bf16(bool lora) => Small with
    {
        Precision = TrainingPrecision.BFloat16, Lora = lora ? ResolvedSettings.Lora("gpt2") with { Rank = 4, Dropout = 0.1 } : null,
    };

    private static Trainer NewTrainer(TrainingHyperparameters hp, string arch = "gpt2") =>
        new(TinyModels.Create(arch == "gpt2" ? TinyModels.Gpt2(50257) : TinyModels.Llama(50257), seed: 5), Gpt2, TrainingData.Sentiment(16, seed: 1), null, hp);

    private static List<double> Train(Trainer trainer, int? until = null)
    {
        var losses = new List<double>();
        while (trainer.Step < (until ?? trainer.TotalSteps))
        {
            trainer.TrainStep();
            losses.Add(trainer.ReadMetrics()[MetricNames.TrainLoss]!.Value);
        }
        return losses;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bf16_ResumedFromCheckpoint_EndsBitIdenticalToAnUninterruptedRun(bool lora)
    {
        var hp = Bf16(lora);
        using var dir = new TempDirectory("bf16-resume-");
        using var uninterrupted = NewTrainer(hp);
        var expected = Train(uninterrupted);

        using var first = NewTrainer(hp);
        int stopAfter = first.TotalSteps / 2 + 1; // inside the second epoch
        var before = Train(first, until: stopAfter);
        first.SaveState(dir.Path);
        using var resumed = NewTrainer(hp);       // rebuilt from the same spec on a freshly built base model
        resumed.LoadState(dir.Path);
        var after = Train(resumed);

        Assert.Equal(expected, [.. before, .. after]); // every step's loss, exactly
        var want = uninterrupted.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in resumed.Model.named_parameters())
            Assert.True(p.eq(want[name]).all().item<bool>(), $"{name} differs");
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, TrainingCheckpoint.StateFile)))!;
        Assert.Equal("bf16", state["configuration"]!["precision"]!.GetValue<string>()); // the resolved precision, on record
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Bf16FullFineTune_KeepsBf16WeightsAndFloat32State_AndTracksTheFloat32Losses(string arch)
    {
        using var fp32 = NewTrainer(Small with { NEpochs = 1 }, arch);
        using var bf16 = NewTrainer(Bf16(lora: false) with { NEpochs = 1 }, arch);
        var (fp32Losses, bf16Losses) = (Train(fp32), Train(bf16));

        Assert.All(bf16.Model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.All(bf16.Model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.grad!.dtype));
        // moments for every parameter and a float32 master copy of each: 3 × 4 bytes per parameter
        long parameters = bf16.Model.parameters().Sum(p => p.numel());
        Assert.Equal(12 * parameters, bf16.OptimizerStateBytes);
        Assert.Equal(8 * parameters, fp32.OptimizerStateBytes);
        using (no_grad())
            Assert.Equal(ScalarType.BFloat16, bf16.Model.HiddenStates(tensor(new long[] { 1, 2, 3 }).unsqueeze(0)).dtype);
        // the loss is reduced in float32 from float32 logits: bf16 follows the float32 run closely
        for (int i = 0; i < fp32Losses.Count; i++) Assert.InRange(bf16Losses[i], fp32Losses[i] * 0.98, fp32Losses[i] * 1.02);
        Assert.True(bf16Losses[^1] < bf16Losses[0] - 0.3, $"bf16 did not learn: {string.Join(", ", bf16Losses)}");
    }

    [Fact]
    public void Bf16Lora_KeepsTheFrozenBaseInBf16_AndOnlyTheAdaptersInFloat32()
    {
        using var trainer = NewTrainer(Bf16(lora: true) with { NEpochs = 1 });
        var losses = Train(trainer);
        var parameters = trainer.Model.named_parameters().ToList();
        Assert.All(parameters.Where(p => !p.name.Contains("lora_")), p => Assert.Equal((ScalarType.BFloat16, false), (p.parameter.dtype, p.parameter.requires_grad)));
        Assert.All(parameters.Where(p => p.name.Contains("lora_")), p => Assert.Equal((ScalarType.Float32, ScalarType.Float32), (p.parameter.dtype, p.parameter.grad!.dtype)));
        Assert.Equal(8 * parameters.Where(p => p.parameter.requires_grad).Sum(p => p.parameter.numel()), trainer.OptimizerStateBytes); // moments only
        Assert.True(losses[^1] < losses[0], $"bf16 LoRA did not learn: {string.Join(", ", losses)}");
    }

    /// <summary>
    /// The memory a training step holds, counted from tensor sizes (not RSS, which parallel tests disturb): weights,
    /// gradients, optimizer state, and the activations backward keeps, which scale with the bytes of a block's output.
    /// </summary>
    [Fact]
    public void Bf16Lora_HoldsLessMemoryThanAFloat32FullFineTune()
    {
        static long Footprint(Trainer trainer, out long activationBytes)
        {
            var parameters = trainer.Model.parameters().ToList();
            long weights = parameters.Sum(p => p.numel() * p.ElementSize);
            long gradients = parameters.Where(p => p.grad is not null).Sum(p => p.grad!.numel() * p.grad!.ElementSize);
            using (NewDisposeScope())
            {
                var hidden = trainer.Model.HiddenStates(randint(100, [2, 64], dtype: ScalarType.Int64)); // (B, T, C), with its graph
                activationBytes = hidden.numel() * hidden.ElementSize;
            }
            return weights + gradients + trainer.OptimizerStateBytes;
        }
        using var full = NewTrainer(Small with { NEpochs = 1 });
        Train(full, until: 1);
        using var lora = NewTrainer(Bf16(lora: true) with { NEpochs = 1 });
        Train(lora, until: 1);

        long fullBytes = Footprint(full, out var fullActivations), loraBytes = Footprint(lora, out var loraActivations);
        Assert.True(loraBytes < 0.2 * fullBytes, $"bf16 LoRA holds {loraBytes:N0} bytes, fp32 full {fullBytes:N0}");
        Assert.Equal(fullActivations, 2 * loraActivations); // the same activations in half the bytes
    }
}
