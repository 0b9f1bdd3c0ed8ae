using TorchSharp;
using TorchSharp.Modules;
using TuningService.Domain.Jobs;
using TuningService.Domain.Jobs.Specs;
using TuningService.Worker.Engine;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine.Rlhf;

/// <summary>
/// precision bf16 for reward_model, dpo and ppo: bf16 trained weights (float32 adapters with LoRA) and frozen models, float32
/// optimizer state and masters, float32 losses and metrics that follow an fp32 run, and resume bit for bit.
/// </summary>
[Collection(EngineTestCollection.Name)] // torch's global generator: seeded runs must not interleave with other engine tests
public sealed class RlhfMixedPrecisionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Target = 3, Eos = 15;

    private static readonly ModelConfig TinyPolicy = new()
    {
        Architecture = ModelArchitecture.Gpt2, ModelType = "gpt2", VocabSize = 16, HiddenSize = 32, NumLayers = 1,
        NumHeads = 2, NumKeyValueHeads = 2, IntermediateSize = 64, MaxPositionEmbeddings = 64, BosTokenId = Eos, EosTokenId = Eos,
    };

    private static readonly List<PreferencePair> Pairs = PolitePreferences.Pairs(12, seed: 4);

    /// <summary>A trainer, the weights it trains named as its optimizer names them, the frozen models it reads, and what to dispose.</summary>
    private sealed record Built(IStepwiseTrainer Trainer, Func<IEnumerable<(string Name, Parameter Parameter)>> Trained, nn.Module[] Frozen, IDisposable? Owner)
        : IDisposable
    {
        public void Dispose()
        {
            Trainer.Dispose();
            Owner?.Dispose();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RewardModel_InBf16_FollowsFp32_AndResumesBitForBit(bool lora)
    {
        Built Build(TrainingPrecision precision)
        {
            var loaded = ModelLoader.LoadPreset("tiny-gpt2", seed: 5);
            manual_seed(5);
            var model = new RewardModel(loaded.Model, loaded.Tokenizer.PadId);
            var hp = ResolvedSettings.Training(MethodTypes.RewardModel) with
            {
                NEpochs = 2, BatchSize = 4, LearningRate = 1e-3, Seed = 5, Precision = precision,
                Lora = lora ? ResolvedSettings.Lora("gpt2") with { Rank = 4, Dropout = 0 } : null,
            };
            if (hp.Lora is { } settings)
            {
                MixedPrecision.Prepare(model, precision, fullFineTune: false); // as RewardModelMethod: the base and head, before the adapters
                LoraAdapter.Attach(loaded.Model, settings);
            }
            var train = PreferenceEncoder.EncodePairs(Pairs, loaded.Tokenizer, 256).Kept;
            return new Built(new RewardModelTrainer(model, train, [], hp, loaded.Tokenizer.PadId), Named(model), [], loaded);
        }
        Check(Build, [MetricNames.TrainLoss, "reward_mean"], tolerance: 0.02);
    }

    [Fact]
    public void Dpo_InBf16_FollowsFp32_AndResumesBitForBit()
    {
        static Built Build(TrainingPrecision precision)
        {
            var loaded = ModelLoader.LoadPreset("tiny-gpt2", seed: 3);
            var hp = ResolvedSettings.Training(MethodTypes.Dpo) with { NEpochs = 1, BatchSize = 4, LearningRate = 1e-3, Seed = 3, Precision = precision };
            var train = PreferenceEncoder.EncodePairs(Pairs, loaded.Tokenizer, 256).Kept;
            var reference = Optimization.FrozenCopy(loaded.Model);                   // a separate reference: cast by the trainer
            var trainer = new DpoTrainer(loaded.Model, reference, train, [], hp, ResolvedSettings.Dpo() with { Beta = 0.1 }, loaded.Tokenizer.PadId);
            return new Built(trainer, Named(loaded.Model), [reference], loaded);
        }
        Check(Build, [MetricNames.TrainLoss, "rewards/margins", "logps/chosen"], tolerance: 0.02);
    }

    [Fact]
    public void Ppo_InBf16_FollowsFp32_AndResumesBitForBit()
    {
        var prompts = new List<int[]> { new[] { 4, 5 }, new[] { 6 }, new[] { 7, 8, 9 }, new[] { 10, 11 } };
        Built Build(TrainingPrecision precision)
        {
            var settings = ResolvedSettings.Ppo(prompts.Count) with
            {
                RolloutBatchSize = 4, ResponseLength = 5, PpoEpochs = 2, KlEstimator = "k3", WhitenRewards = true, TotalEpisodes = 3 * prompts.Count,
            };
            var hp = ResolvedSettings.Training(MethodTypes.Ppo) with { NEpochs = 3, LearningRate = 1e-3, Seed = 2, Precision = precision };
            manual_seed(4);
            var policy = HfCheckpoint.Create(TinyPolicy);
            policy.InitializeWeights();
            var reference = Optimization.FrozenCopy(policy);
            var value = new RewardModel(Optimization.FrozenCopy(policy), padTokenId: null);
            foreach (var (_, p) in value.named_parameters()) p.requires_grad = true;
            var trainer = new PpoTrainer(policy, reference, value, CountTarget, prompts, [], hp, settings, Eos, Eos);
            return new Built(trainer, () => Named(policy, "policy.")().Concat(Named(value, "value.")()), [reference], null);
        }
        Check(Build, ["objective/scores", "objective/kl", "loss/value_avg", "loss/policy_avg"], tolerance: 0.05, learns: false); // 3 updates: too few to learn
    }

    /// <summary>Score = how many target tokens the sequence holds.</summary>
    private static Tensor CountTarget(Tensor ids, Tensor mask, Tensor lastIndex) => (ids.eq(Target) & mask.to(ScalarType.Bool)).sum(1).to(ScalarType.Float32);

    private static List<IReadOnlyDictionary<string, double?>> Train(IStepwiseTrainer trainer, int? until = null)
    {
        var history = new List<IReadOnlyDictionary<string, double?>>();
        while (trainer.Step < (until ?? trainer.TotalSteps))
        {
            trainer.TrainStep();
            history.Add(trainer.ReadMetrics());
        }
        return history;
    }

    private void Check(Func<TrainingPrecision, Built> build, string[] metrics, double tolerance, bool learns = true)
    {
        List<IReadOnlyDictionary<string, double?>> fp32;
        using (var run = build(TrainingPrecision.Float32)) fp32 = Train(run.Trainer, until: 2);

        using var straight = build(TrainingPrecision.BFloat16);
        var history = Train(straight.Trainer);
        Assert.All(history, m => Assert.All(m, v => Assert.True(v.Value is null || double.IsFinite(v.Value.Value), $"{v.Key} = {v.Value}")));
        foreach (var name in metrics)
        {
            output.WriteLine($"{name}: fp32 {string.Join(", ", fp32.Select(m => m[name]))}; bf16 {string.Join(", ", history.Select(m => m[name]))}");
            for (int step = 0; step < fp32.Count; step++) // the first step, and the second after one bf16 update
            {
                double expected = fp32[step][name]!.Value, actual = history[step][name]!.Value;
                Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Max(1, Math.Abs(expected)), $"bf16 {name} at step {step + 1}: {actual}, fp32 {expected}");
            }
        }
        if (learns) Assert.True(history[^1][MetricNames.TrainLoss] < history[0][MetricNames.TrainLoss], "the bf16 loss did not fall");

        // the trained weights in bf16 (LoRA adapters in float32), the frozen models in bf16
        var trained = straight.Trained().ToList();
        Assert.All(trained, p => Assert.Equal(p.Name.Contains("lora_") ? ScalarType.Float32 : ScalarType.BFloat16, p.Parameter.dtype));
        Assert.All(straight.Frozen.SelectMany(f => f.parameters()), p => Assert.Equal(ScalarType.BFloat16, p.dtype));

        using var dir = new TempDirectory("rlhf-bf16-");
        int stopAfter = straight.Trainer.TotalSteps / 2;
        using (var first = build(TrainingPrecision.BFloat16))
        {
            Train(first.Trainer, until: stopAfter);
            first.Trainer.SaveState(dir.Path);
            // the optimizer state: float32 moments for every trained weight, a float32 master for each one held in bf16
            var state = Safetensors.Read(Path.Combine(dir.Path, "optimizer.safetensors"));
            try
            {
                foreach (var (name, p) in first.Trained().Where(p => p.Parameter.requires_grad))
                {
                    Assert.Equal(ScalarType.Float32, state["exp_avg." + name].dtype);
                    Assert.Equal(ScalarType.Float32, state["exp_avg_sq." + name].dtype);
                    if (p.dtype == ScalarType.BFloat16) Assert.Equal(ScalarType.Float32, state["master." + name].dtype);
                    else Assert.False(state.ContainsKey("master." + name), $"{name} is float32 and needs no master");
                }
            }
            finally
            {
                foreach (var t in state.Values) t.Dispose();
            }
        }
        using var resumed = build(TrainingPrecision.BFloat16);
        resumed.Trainer.LoadState(dir.Path);
        Assert.Equal(stopAfter, resumed.Trainer.Step);
        Train(resumed.Trainer);

        var want = straight.Trained().ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var (name, p) in resumed.Trained())
            Assert.True(p.eq(want[name]).all().item<bool>(), $"{name} differs after resume");
    }

    /// <summary>A module's weights by name, with the prefix its trainer's optimizer gives them (PPO's policy.* and value.*).</summary>
    private static Func<IEnumerable<(string Name, Parameter Parameter)>> Named(nn.Module module, string prefix = "") =>
        () => module.named_parameters().Select(p => (prefix + p.name, p.parameter));
}
