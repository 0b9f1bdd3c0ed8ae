using TorchSharp;
using TuningService.Domain.Jobs;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>
/// RLHF stage 2 (InstructGPT §3.5, TRL's PPOTrainer): each update samples responses to a batch of prompts, scores
/// them, turns the score and a per-token KL penalty to the frozen reference into per-token rewards, estimates
/// advantages with GAE, and runs ppo_epochs passes of clipped policy and value losses over shuffled minibatches.
/// The scorer is any <see cref="SequenceScorer"/>: the frozen reward model in jobs, a known function in tests.
/// Dropout stays off throughout (eval mode), so rollout and training log-probabilities agree.
/// In bf16 the policy, value model and reference are cast here (the scorer is the caller's: PpoMethod casts the reward
/// model); log-probabilities, values, scores, KL, advantages and losses are float32.
/// </summary>
public sealed class PpoTrainer : IStepwiseTrainer
{
    private readonly CausalLanguageModel policy;
    private readonly CausalLanguageModel reference;
    private readonly RewardModel valueModel;
    private readonly SequenceScorer scorer;
    private readonly PolicyAndValue trained;
    private readonly List<int[]> prompts;
    private readonly List<int[]> validationPrompts;
    private readonly AdamW optimizer;
    private readonly int eosId, padId;
    private readonly int? endOfTurnId;   // the chat template's end-of-turn token: also ends a response
    private readonly Func<int[], string> decode;
    private readonly Dictionary<int, int[]> epochOrders = [];
    private Dictionary<string, Tensor> lastUpdateMetrics = [];   // 0-dim, on the device until ReadMetrics
    private double learningRate;
    private double klCoef;                                       // the adaptive controller's current value (= kl_coef when fixed)
    private double klCoefUsed, meanKl, rolloutScore, meanLength;    // of the last update, read at its rollout
    private double? firstScore, firstLength;                     // of the run's first rollout: drift and gain are measured from them

    public PpoTrainer(CausalLanguageModel policy, CausalLanguageModel reference, RewardModel valueModel, SequenceScorer scorer,
        List<int[]> prompts, List<int[]> validationPrompts, TrainingHyperparameters hyperparameters, PpoSettings settings,
        int eosId, int padId, Func<int[], string>? decode = null, int? endOfTurnId = null)
    {
        if (prompts.Count == 0) throw new InvalidOperationException("No prompt to train on.");
        (Hyperparameters, Settings) = (hyperparameters, settings);
        (this.policy, this.reference, this.valueModel, this.scorer) = (policy, reference, valueModel, scorer);
        (this.prompts, this.validationPrompts, this.eosId, this.padId, this.endOfTurnId) = (prompts, validationPrompts, eosId, padId, endOfTurnId);
        this.decode = decode ?? (ids => string.Join(" ", ids));
        foreach (var (_, p) in reference.named_parameters()) p.requires_grad = false;
        trained = new PolicyAndValue(policy, valueModel);
        var masterWeights = MixedPrecision.PrepareTrained(trained, hyperparameters.Precision, fullFineTune: hyperparameters.Lora is null);
        if (hyperparameters.Precision == TrainingPrecision.BFloat16) reference.to(ScalarType.BFloat16);   // only read
        CheckpointedBlock.Configure(trained, hyperparameters.GradientCheckpointing, hyperparameters.Lora?.Dropout ?? 0);
        optimizer = new AdamW(trained.named_parameters().Where(p => p.parameter.requires_grad), hyperparameters, masterWeights);
        TotalSteps = (int)Math.Max(1, settings.TotalEpisodes / settings.RolloutBatchSize);
        klCoef = settings.KlCoef;
    }

    /// <summary>The KL penalty coefficient the next update will use.</summary>
    public double KlCoef => klCoef;

    public TrainingHyperparameters Hyperparameters { get; }
    public PpoSettings Settings { get; }
    public int Step { get; private set; }
    public int TotalSteps { get; }
    public double Epoch => (double)Step * Settings.RolloutBatchSize / prompts.Count;
    public long TrainedTokens { get; private set; }

    public void TrainStep()
    {
        using var scope = NewDisposeScope();
        var s = Settings;
        learningRate = LearningRateSchedule.At(Step, TotalSteps, Hyperparameters);
        trained.eval();
        reference.eval();

        // 1. Rollout: sample, score, per-token rewards, advantages (no gradients).
        var queries = Enumerable.Range(Step * s.RolloutBatchSize, s.RolloutBatchSize).Select(PromptAt).ToList();
        RolloutBatch rollout;
        Tensor oldLogProbs, oldValues, advantages, returns, scores, kl, nonScoreReward, mask;
        using (no_grad())
        {
            rollout = RolloutBatch.Sample(policy, queries, s, RolloutSeed(Step), eosId, padId, endOfTurnId);
            mask = rollout.ResponseMask;                                                                  // (B, W)
            oldLogProbs = RolloutBatch.ResponseLogProbs(policy, rollout.InputIds, rollout.AttentionMask, rollout.QueryLength, s.Temperature);
            var referenceLogProbs = RolloutBatch.ResponseLogProbs(reference, rollout.InputIds, rollout.AttentionMask, rollout.QueryLength, s.Temperature);
            oldValues = RolloutBatch.ResponseValues(valueModel, rollout.InputIds, rollout.AttentionMask, rollout.QueryLength) * mask;
            scores = scorer(rollout.InputIds, rollout.AttentionMask, rollout.LastIndex).to(ScalarType.Float32);   // (B)
            if (s.MissingEosPenalty != 0) scores = scores - s.MissingEosPenalty * (1 - rollout.HasEos);
            kl = RlhfMath.KlPenalty(oldLogProbs, referenceLogProbs, s.KlEstimator) * mask;               // (B, W)
            meanKl = kl.sum(1).mean().item<float>();                                                      // sync point, like TRL's controller
            if (s.KlBudget is { } budget && meanKl > budget) throw new KlBudgetExceededException(Step, meanKl, budget, klCoef);
            nonScoreReward = -klCoef * kl;
            var lastToken = (rollout.LastIndex - rollout.QueryLength).unsqueeze(1);                       // (B, 1)
            var rewards = nonScoreReward.scatter_add(1, lastToken, scores.unsqueeze(1));                  // score on the last response token
            if (s.WhitenRewards) rewards = RlhfMath.Whiten(rewards, mask, shiftMean: false) * mask;
            (advantages, returns) = RlhfMath.Gae(rewards, oldValues, mask, s.Gamma, s.Lam);
            advantages = RlhfMath.Whiten(advantages, mask) * mask;
        }
        TrainedTokens += (long)rollout.AttentionMask.sum().item<long>();   // sync point (sampling synced every token already)
        rolloutScore = scores.mean().item<float>();
        meanLength = mask.sum(1).mean().item<float>();
        firstScore ??= rolloutScore;
        firstLength ??= meanLength;
        klCoefUsed = klCoef;

        // 2. Optimisation: ppo_epochs passes of shuffled minibatches, one optimizer step each.
        var stats = new Dictionary<string, List<Tensor>>();
        int batch = queries.Count, minibatch = batch / s.NumMiniBatches;
        var shuffle = new SplitMix64((ulong)Hyperparameters.Seed * 7_919UL + (ulong)Step);
        for (int epoch = 0; epoch < s.PpoEpochs; epoch++)
        {
            var order = Enumerable.Range(0, batch).Select(i => (long)i).ToArray();
            shuffle.Shuffle(order);
            foreach (var rows in order.Chunk(minibatch))
            {
                using var stepScope = NewDisposeScope();
                var index = tensor(rows).to(mask.device);
                var ids = RolloutBatch.Rows(rollout.InputIds, index);
                var attention = RolloutBatch.Rows(rollout.AttentionMask, index);
                var rowMask = RolloutBatch.Rows(mask, index);
                var newLogProbs = RolloutBatch.ResponseLogProbs(policy, ids, attention, rollout.QueryLength, s.Temperature);
                var values = RolloutBatch.ResponseValues(valueModel, ids, attention, rollout.QueryLength);
                var policyLoss = RlhfMath.ClippedPolicyLoss(newLogProbs, RolloutBatch.Rows(oldLogProbs, index), RolloutBatch.Rows(advantages, index), rowMask, s.ClipRange);
                var valueLoss = RlhfMath.ClippedValueLoss(values, RolloutBatch.Rows(oldValues, index), RolloutBatch.Rows(returns, index), rowMask, s.ClipRangeValue);
                var loss = policyLoss.Loss + s.VfCoef * valueLoss.Loss;
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.ClipGradients(Hyperparameters.MaxGradNorm);
                optimizer.Step(learningRate);
                Add(stats, "loss/policy_avg", policyLoss.Loss);
                Add(stats, "loss/value_avg", valueLoss.Loss);
                Add(stats, "policy/approxkl_avg", policyLoss.ApproxKl);
                Add(stats, "policy/clipfrac_avg", policyLoss.ClipFraction);
                Add(stats, "val/clipfrac_avg", valueLoss.ClipFraction);
                Add(stats, "val/ratio", policyLoss.MeanRatio);
                stepScope.MoveToOuter(stats.Values.Select(l => l[^1]).ToArray());
            }
        }
        Step++;
        // Adaptive KL (Ziegler et al. 2019, TRL's AdaptiveKLController): a proportional step toward the target, at most ±20% per horizon.
        if (s.KlTarget is { } target)
            klCoef *= 1 + Math.Clamp(meanKl / target - 1, -0.2, 0.2) * s.RolloutBatchSize / s.KlHorizon;

        // 3. Metrics, named as TRL's, left on the device for ReadMetrics.
        var metrics = stats.ToDictionary(kv => kv.Key, kv => stack(kv.Value.ToArray()).mean());
        var meanScore = scores.mean();
        var nonScore = nonScoreReward.sum(1).mean();
        metrics["objective/kl"] = kl.sum(1).mean();
        metrics["objective/entropy"] = (-oldLogProbs * mask).sum(1).mean();
        metrics["objective/non_score_reward"] = nonScore;
        metrics["objective/scores"] = meanScore;
        metrics["objective/rlhf_reward"] = meanScore + nonScore;
        metrics["val/num_eos_tokens"] = rollout.HasEos.sum().to(ScalarType.Float32);
        metrics["val/response_length"] = mask.sum(1).mean();
        foreach (var t in lastUpdateMetrics.Values) t.Dispose();
        lastUpdateMetrics = metrics.ToDictionary(m => m.Key, m => m.Value.DetachFromDisposeScope());
    }

    /// <summary>The last update's metrics (CPU-GPU sync point).</summary>
    public IReadOnlyDictionary<string, double?> ReadMetrics()
    {
        var result = lastUpdateMetrics.ToDictionary(m => m.Key, m => (double?)m.Value.item<float>());
        if (result.Count == 0) return result;
        result[MetricNames.TrainLoss] = result["loss/policy_avg"] + Settings.VfCoef * result["loss/value_avg"];
        result[MetricNames.LearningRate] = learningRate;
        result["episode"] = Step * Settings.RolloutBatchSize;
        result[MetricNames.KlCoef] = klCoefUsed;
        result[MetricNames.ResponseLengthDrift] = meanLength - firstLength;
        result[MetricNames.ScoreGain] = rolloutScore - firstScore;
        if (meanKl > 0.01) result[MetricNames.ScoreGainPerKl] = (rolloutScore - firstScore) / meanKl;
        return result;
    }

    /// <summary>Scores responses sampled (same temperature, fixed seed) for the validation prompts, or a few training prompts.</summary>
    public Evaluation Evaluate()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var source = validationPrompts.Count > 0 ? validationPrompts : prompts.Take(Settings.SamplesPerEvaluation).ToList();
        var scored = new List<(int[] Prompt, int[] Response, double Score)>();
        foreach (var chunk in source.Take(4 * Settings.RolloutBatchSize).Chunk(Settings.RolloutBatchSize))
        {
            var rollout = RolloutBatch.Sample(policy, chunk, Settings, Hyperparameters.Seed + 1, eosId, padId, endOfTurnId);
            var chunkScores = scorer(rollout.InputIds, rollout.AttentionMask, rollout.LastIndex).to(ScalarType.Float32).cpu().data<float>().ToArray();
            scored.AddRange(chunk.Select((p, i) => (p, rollout.Responses[i], (double)chunkScores[i])));
        }
        var metrics = new Dictionary<string, double?>();
        if (validationPrompts.Count > 0) metrics["valid_objective/scores"] = scored.Average(x => x.Score);
        var samples = scored.Take(Settings.SamplesPerEvaluation)
            .Select(x => new SampledResponse(decode(x.Prompt), decode(x.Response.Where(t => t != eosId && t != endOfTurnId).ToArray()), x.Score)).ToList();
        return new Evaluation(metrics, samples);
    }

    /// <summary>The weights, optimizer and position, plus the controller's kl_coef and the first rollout's score and length.</summary>
    public void SaveState(string directory)
        => TrainingCheckpoint.Save(directory, "ppo", Step, TotalSteps, TrainedTokens, optimizer, new { Hyperparameters, Ppo = Settings },
            temp => TrainingCheckpoint.WriteParameters(temp, trained), new Dictionary<string, double>
            {
                ["kl_coef"] = klCoef,
                ["first_score"] = firstScore ?? double.NaN,
                ["first_response_length"] = firstLength ?? double.NaN,
            }.Where(v => double.IsFinite(v.Value)).ToDictionary());

    public void LoadState(string directory)
    {
        (Step, TrainedTokens) = TrainingCheckpoint.Load(directory, "ppo", TotalSteps, optimizer, dir => TrainingCheckpoint.LoadParameters(dir, trained));
        var values = TrainingCheckpoint.ReadValues(directory);
        klCoef = values.GetValueOrDefault("kl_coef", Settings.KlCoef);
        firstScore = values.TryGetValue("first_score", out var score) ? score : null;
        firstLength = values.TryGetValue("first_response_length", out var length) ? length : null;
    }

    public void Dispose()
    {
        optimizer.Dispose();
        foreach (var t in lastUpdateMetrics.Values) t.Dispose();
    }

    /// <summary>The prompt at a position of the run's episode sequence: epoch by epoch, each a seeded shuffle.</summary>
    private int[] PromptAt(int episode)
    {
        int epoch = episode / prompts.Count;
        if (!epochOrders.TryGetValue(epoch, out var order))
        {
            order = Enumerable.Range(0, prompts.Count).ToArray();
            new SplitMix64((ulong)Hyperparameters.Seed * 1_000_003UL + (ulong)epoch).Shuffle(order);
            epochOrders[epoch] = order;
        }
        return prompts[order[episode % prompts.Count]];
    }

    private long RolloutSeed(int step) => Hyperparameters.Seed * 1_000_033L + step + 17;

    private static void Add(Dictionary<string, List<Tensor>> stats, string name, Tensor value)
    {
        if (!stats.TryGetValue(name, out var list)) stats[name] = list = [];
        list.Add(value.detach());
    }

    /// <summary>The trained modules under one root, so checkpoints and the optimizer name them policy.* and value.*.</summary>
    private sealed class PolicyAndValue : nn.Module
    {
        private readonly CausalLanguageModel policy;
        private readonly RewardModel value;

        public PolicyAndValue(CausalLanguageModel policy, RewardModel value) : base(nameof(PolicyAndValue))
        {
            this.policy = policy;
            this.value = value;
            RegisterComponents();
        }
    }
}
