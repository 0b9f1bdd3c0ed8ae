using TuningService.Domain.Jobs;
using TuningService.Domain.Jobs.Specs;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine.Rlhf;

/// <summary>PPO against a known reward through the scorer seam, on a model small enough to learn in seconds.</summary>
[Collection(EngineTestCollection.Name)] // torch's global generator: seeded runs must not interleave with other engine tests
public sealed class PpoTrainerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Target = 3, Eos = 15;

    private static readonly ModelConfig Tiny = new()
    {
        Architecture = ModelArchitecture.Gpt2, ModelType = "gpt2", VocabSize = 16, HiddenSize = 32, NumLayers = 1,
        NumHeads = 2, NumKeyValueHeads = 2, IntermediateSize = 64, MaxPositionEmbeddings = 64, BosTokenId = Eos, EosTokenId = Eos,
    };

    /// <summary>Score = how many target tokens the sequence holds (prompts hold none).</summary>
    private static Tensor CountTarget(Tensor ids, Tensor mask, Tensor lastIndex) => (ids.eq(Target) & mask.to(ScalarType.Bool)).sum(1).to(ScalarType.Float32);

    [Fact]
    public void Ppo_RaisesTheScoreOfAKnownReward_WhileTheKlToTheReferenceStaysBounded()
    {
        manual_seed(1);
        var policy = HfCheckpoint.Create(Tiny);
        policy.InitializeWeights();
        var reference = Optimization.FrozenCopy(policy);
        var valueModel = new RewardModel(Optimization.FrozenCopy(policy), padTokenId: null);
        foreach (var (_, p) in valueModel.named_parameters()) p.requires_grad = true;
        var random = new Random(1);
        var prompts = Enumerable.Range(0, 32).Select(_ => Enumerable.Range(0, random.Next(2, 5)).Select(_ => random.Next(4, 12)).ToArray()).ToList();
        var hp = ResolvedSettings.Training(MethodTypes.Ppo) with { NEpochs = 8, LearningRate = 3e-3, LrScheduler = "constant", Seed = 1 };
        var settings = ResolvedSettings.Ppo(prompts.Count) with
        {
            RolloutBatchSize = 16, NumMiniBatches = 2, ResponseLength = 8, Temperature = 1.0, KlCoef = 0.5, TotalEpisodes = 8 * prompts.Count,
        };
        using var trainer = new PpoTrainer(policy, reference, valueModel, CountTarget, prompts, [], hp, settings, Eos, Eos);

        var history = new List<IReadOnlyDictionary<string, double?>>();
        while (trainer.Step < trainer.TotalSteps)
        {
            trainer.TrainStep();
            history.Add(trainer.ReadMetrics());
        }

        double Scores(IEnumerable<IReadOnlyDictionary<string, double?>> h) => h.Average(m => m["objective/scores"]!.Value);
        var first = Scores(history.Take(3));
        var last = Scores(history.TakeLast(3));
        output.WriteLine($"scores {first:0.###} -> {last:0.###}; KL per update: {string.Join(", ", history.Select(m => m["objective/kl"]!.Value.ToString("0.##")))}");
        Assert.True(last > first + 0.8, $"mean score rose from {first:0.##} to {last:0.##}");
        // The KL-regularised optimum against a near-uniform reference over 16 tokens puts p* = e^(1/β) / (e^(1/β) + 15) = 0.33 on
        // the target: KL* = 8 · (p*/β − log((e^(1/β) + 15) / 16)) ≈ 2.6 nats over 8 tokens. PPO must stay in that neighbourhood.
        Assert.All(history, m => Assert.True(m["objective/kl"] < 6, $"KL {m["objective/kl"]}"));
        Assert.All(history, m => Assert.True(double.IsFinite(m["loss/value_avg"]!.Value)));
        Assert.Contains("policy/clipfrac_avg", history[^1].Keys);
        Assert.Equal(0.0, history[0]["objective/kl"]!.Value, 4);            // the first rollout comes from the reference itself
    }

    /// <summary>A run on the exploitable target-count reward (repeat one token), recording each update's metrics.</summary>
    private static (List<IReadOnlyDictionary<string, double?>> History, PpoTrainer Trainer) Exploit(Func<PpoSettings, PpoSettings> configure, int epochs = 8)
    {
        manual_seed(1);
        var policy = HfCheckpoint.Create(Tiny);
        policy.InitializeWeights();
        var valueModel = new RewardModel(Optimization.FrozenCopy(policy), padTokenId: null);
        foreach (var (_, p) in valueModel.named_parameters()) p.requires_grad = true;
        var random = new Random(1);
        var prompts = Enumerable.Range(0, 32).Select(_ => Enumerable.Range(0, random.Next(2, 5)).Select(_ => random.Next(4, 12)).ToArray()).ToList();
        var hp = ResolvedSettings.Training(MethodTypes.Ppo) with { NEpochs = epochs, LearningRate = 3e-3, LrScheduler = "constant", Seed = 1 };
        var settings = configure(ResolvedSettings.Ppo(prompts.Count) with
        {
            RolloutBatchSize = 16, NumMiniBatches = 2, ResponseLength = 8, Temperature = 1.0, KlCoef = 0.3, TotalEpisodes = epochs * prompts.Count,
        });
        var trainer = new PpoTrainer(policy, Optimization.FrozenCopy(policy), valueModel, CountTarget, prompts, [], hp, settings, Eos, Eos);
        var history = new List<IReadOnlyDictionary<string, double?>>();
        while (trainer.Step < trainer.TotalSteps)
        {
            trainer.TrainStep();
            history.Add(trainer.ReadMetrics());
        }
        return (history, trainer);
    }

    [Fact]
    public void AdaptiveKl_RaisesTheCoefficientWhileKlIsAboveTarget_AndHoldsKlNearerTheTargetThanAFixedCoefficient()
    {
        const double target = 3.0;
        var (fixedRun, fixedTrainer) = Exploit(s => s);
        var (adaptive, adaptiveTrainer) = Exploit(s => s with { KlTarget = target, KlHorizon = 16 });
        using var _ = fixedTrainer;
        using var __ = adaptiveTrainer;
        string Trace(List<IReadOnlyDictionary<string, double?>> h) => string.Join(", ", h.Select(m => $"{m["objective/kl"]:0.##}@{m[MetricNames.KlCoef]:0.###}"));
        output.WriteLine($"fixed:    {Trace(fixedRun)}\nadaptive: {Trace(adaptive)}");

        // The reward is easy to exploit: with a small fixed penalty the policy drifts far past the target.
        double LateKl(List<IReadOnlyDictionary<string, double?>> h) => h.TakeLast(3).Average(m => m["objective/kl"]!.Value);
        Assert.True(LateKl(fixedRun) > 2 * target, $"the fixed run's KL {LateKl(fixedRun):0.##} should overshoot the target");
        Assert.All(fixedRun, m => Assert.Equal(0.3, m[MetricNames.KlCoef]!.Value, 9));
        // The controller moves the coefficient toward the target: up (by at most 20% × 16/16) after every update above it, down below it.
        for (int i = 1; i < adaptive.Count; i++)
        {
            double kl = adaptive[i - 1]["objective/kl"]!.Value, before = adaptive[i - 1][MetricNames.KlCoef]!.Value, after = adaptive[i][MetricNames.KlCoef]!.Value;
            Assert.Equal(before * (1 + Math.Clamp(kl / target - 1, -0.2, 0.2)), after, 6);
        }
        Assert.True(adaptiveTrainer.KlCoef > 0.5, $"kl_coef should have risen from 0.1, is {adaptiveTrainer.KlCoef:0.###}");
        Assert.True(Math.Abs(LateKl(adaptive) - target) < Math.Abs(LateKl(fixedRun) - target),
            $"adaptive KL {LateKl(adaptive):0.##} should end nearer {target} than the fixed run's {LateKl(fixedRun):0.##}");
        // Reward hacking shows in the drift metrics: score gained per nat of KL, response length against the first rollout.
        Assert.True(fixedRun[^1][MetricNames.ScoreGain] > 0.5, $"score gain {fixedRun[^1][MetricNames.ScoreGain]}");
        Assert.True(fixedRun[^1][MetricNames.ScoreGainPerKl] > 0);
        Assert.Equal(0.0, fixedRun[0][MetricNames.ResponseLengthDrift]!.Value, 6);
        Assert.All(fixedRun, m => Assert.True(double.IsFinite(m[MetricNames.ResponseLengthDrift]!.Value)));
    }

    [Fact]
    public void KlBudget_StopsTheRunBeforeTheUpdateOfARolloutPastIt()
    {
        const double budget = 1.5;
        var error = Assert.Throws<KlBudgetExceededException>(() => Exploit(s => s with { KlBudget = budget }));
        output.WriteLine(error.Message);
        Assert.True(error.Kl > budget);
        Assert.True(error.Step > 0, "the first rollout comes from the reference itself (KL 0)");
        Assert.Equal(budget, error.Budget);
        Assert.Contains($"past kl_budget {budget}", error.Message);
    }

    [Fact]
    public void Ppo_ResumedFromItsState_ContinuesExactlyAsAnUninterruptedRun()
    {
        var prompts = new List<int[]> { new[] { 4, 5 }, new[] { 6 }, new[] { 7, 8, 9 }, new[] { 10, 11 } };
        var settings = ResolvedSettings.Ppo(prompts.Count) with
        {
            RolloutBatchSize = 4, ResponseLength = 5, PpoEpochs = 2, KlEstimator = "k3", WhitenRewards = true, MissingEosPenalty = 1.0,
            TotalEpisodes = 3 * prompts.Count,
        };
        var hp = ResolvedSettings.Training(MethodTypes.Ppo) with { NEpochs = 3, LearningRate = 1e-3, Seed = 2 };
        (PpoTrainer Trainer, CausalLanguageModel Policy) Build()
        {
            manual_seed(4);
            var policy = HfCheckpoint.Create(Tiny);
            policy.InitializeWeights();
            var value = new RewardModel(Optimization.FrozenCopy(policy), padTokenId: null);
            foreach (var (_, p) in value.named_parameters()) p.requires_grad = true;
            return (new PpoTrainer(policy, Optimization.FrozenCopy(policy), value, CountTarget, prompts, [], hp, settings, Eos, Eos), policy);
        }

        var (straight, straightPolicy) = Build();
        while (straight.Step < straight.TotalSteps)
        {
            straight.TrainStep();
            Assert.All(straight.ReadMetrics().Values, v => Assert.True(v is null || double.IsFinite(v.Value)));
        }

        using var scratch = new TempDirectory("ppo-state-");
        var directory = scratch.Sub("step-1");
        var (first, _) = Build();
        first.TrainStep();
        first.SaveState(directory);
        var (resumed, resumedPolicy) = Build();
        resumed.LoadState(directory);
        while (resumed.Step < resumed.TotalSteps) resumed.TrainStep();

        var expected = straightPolicy.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in resumedPolicy.named_parameters())
            Assert.True(p.allclose(expected[name], rtol: 1e-4, atol: 1e-6), $"{name} differs after resume");
    }

    [Fact]
    public void Rollout_TruncatesAtTheFirstEos_AndScoresTheLastRealToken()
    {
        using var scope = NewDisposeScope();
        var batch = RolloutBatch.Build([[5, 6], [7]], [[1, Eos], [2, 3, 4]], Eos, Eos, CPU);
        // Q = 2 (second prompt left-padded), W = 3: row 0 is [5, 6, 1, EOS, pad], row 1 is [pad, 7, 2, 3, 4]
        Assert.Equal(new long[] { 5, 6, 1, Eos, Eos, Eos, 7, 2, 3, 4 }, batch.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 0, 1, 1, 1, 1 }, batch.AttentionMask.data<long>().ToArray());
        Assert.Equal(new float[] { 1, 1, 0, 1, 1, 1 }, batch.ResponseMask.data<float>().ToArray());
        Assert.Equal(new long[] { 3, 4 }, batch.LastIndex.data<long>().ToArray());
        Assert.Equal(new float[] { 1, 0 }, batch.HasEos.data<float>().ToArray());
    }
}
