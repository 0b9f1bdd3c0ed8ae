using TorchSharp;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>
/// The loop shared by the trainers on preference pairs (reward model, DPO), read top to bottom:
/// learning rate, forward/backward over the step's micro-batches, clip, step. Each epoch visits the pairs in
/// an order that depends only on (seed, epoch), so the data position of a step is a function of the step.
/// </summary>
public abstract class PairwiseTrainer : IStepwiseTrainer
{
    private readonly nn.Module trained;
    private readonly List<EncodedPair> train;
    private readonly List<EncodedPair> validation;
    private readonly AdamW optimizer;
    private readonly int padId;
    private readonly string method;
    private int[] epochOrder = [];
    private int orderEpoch = -1;

    protected PairwiseTrainer(string method, nn.Module trained, List<EncodedPair> train, List<EncodedPair> validation,
        TrainingHyperparameters hyperparameters, int padId)
    {
        if (train.Count == 0) throw new InvalidOperationException("No preference pair fits within max_seq_length.");
        Hyperparameters = hyperparameters;
        this.method = method;
        this.trained = trained;
        this.train = train;
        this.validation = validation;
        this.padId = padId;
        Device = trained.parameters().First().device;
        optimizer = new AdamW(Optimization.Trainable(trained), hyperparameters);
        PairsPerStep = hyperparameters.BatchSize * hyperparameters.GradientAccumulationSteps;
        StepsPerEpoch = (train.Count + PairsPerStep - 1) / PairsPerStep;
        TotalSteps = hyperparameters.NEpochs * StepsPerEpoch;
    }

    public TrainingHyperparameters Hyperparameters { get; }
    protected Device Device { get; }
    public int PairsPerStep { get; }
    public int StepsPerEpoch { get; }
    public int Step { get; private set; }
    public int TotalSteps { get; }
    public double Epoch => (double)Step / StepsPerEpoch;
    public long TrainedTokens { get; private set; }

    /// <summary>
    /// The mean loss of a batch and per-pair metrics (each a vector over the batch's pairs or rows).
    /// <paramref name="pairIndices"/> index the training or (when <paramref name="isValidation"/>) validation list.
    /// </summary>
    protected abstract (Tensor Loss, Dictionary<string, Tensor> Metrics) PairLosses(PairBatch batch, IReadOnlyList<int> pairIndices, bool isValidation);

    /// <summary>Turns the concatenated per-pair metrics of a step or an evaluation into numbers (default: means).</summary>
    protected virtual Dictionary<string, double?> Summarize(IReadOnlyDictionary<string, Tensor> metrics)
        => metrics.ToDictionary(m => m.Key, m => (double?)m.Value.mean().item<float>());

    public IReadOnlyDictionary<string, double?> TrainStep()
    {
        using var scope = NewDisposeScope();
        trained.train();
        var learningRate = LearningRateSchedule.At(Step, TotalSteps, Hyperparameters);
        optimizer.ZeroGrad();
        var indices = StepPairs(Step);
        var lossSum = zeros(1, device: Device);
        var collected = new Dictionary<string, List<Tensor>>();
        foreach (var micro in indices.Chunk(Hyperparameters.BatchSize))
        {
            using var batch = PairBatch.Collate(micro.Select(i => train[i]).ToList(), padId, Device);
            var (loss, metrics) = PairLosses(batch, micro, isValidation: false);
            var weight = (double)micro.Length / indices.Count;
            (loss * weight).backward();
            lossSum.add_(loss.detach() * weight);
            Collect(collected, metrics);
            TrainedTokens += batch.Tokens;
        }
        var gradNorm = Optimization.ClipGradients(optimizer, Hyperparameters.MaxGradNorm);
        optimizer.Step(learningRate);
        Step++;
        var result = Summarize(collected.ToDictionary(c => c.Key, c => cat(c.Value.ToArray())));
        result["train_loss"] = lossSum.item<float>();
        result["learning_rate"] = learningRate;
        result["grad_norm"] = gradNorm.item<float>();
        result["trained_tokens"] = TrainedTokens;
        return result;
    }

    public RlhfEvaluation Evaluate()
    {
        if (validation.Count == 0) return new RlhfEvaluation(new Dictionary<string, double?>(), []);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        trained.eval();
        double lossSum = 0;
        var collected = new Dictionary<string, List<Tensor>>();
        foreach (var chunk in Enumerable.Range(0, validation.Count).Chunk(Hyperparameters.BatchSize))
        {
            using var batch = PairBatch.Collate(chunk.Select(i => validation[i]).ToList(), padId, Device);
            var (loss, metrics) = PairLosses(batch, chunk, isValidation: true);
            lossSum += loss.item<float>() * chunk.Length;
            Collect(collected, metrics);
        }
        trained.train();
        var result = Summarize(collected.ToDictionary(c => c.Key, c => cat(c.Value.ToArray())))
            .Where(m => !m.Key.StartsWith("train_", StringComparison.Ordinal)).ToDictionary(m => "valid_" + m.Key, m => m.Value);
        result["valid_loss"] = lossSum / validation.Count;
        return new RlhfEvaluation(result, []);
    }

    public void SaveState(string directory) => RlhfCheckpoint.Save(directory, method, trained, optimizer, Step, TrainedTokens, Configuration);

    /// <summary>What the checkpoint records as the run's configuration.</summary>
    protected virtual object Configuration => Hyperparameters;

    public void LoadState(string directory) => (Step, TrainedTokens) = RlhfCheckpoint.Load(directory, method, trained, optimizer);

    /// <summary>Indices of the training pairs of optimizer step <paramref name="step"/> (fewer at an epoch's end).</summary>
    private List<int> StepPairs(int step)
    {
        int epoch = step / StepsPerEpoch, offset = step % StepsPerEpoch * PairsPerStep;
        if (epoch != orderEpoch)
        {
            epochOrder = Enumerable.Range(0, train.Count).ToArray();
            new SplitMix64((ulong)Hyperparameters.Seed * 1_000_003UL + (ulong)epoch).Shuffle(epochOrder);
            orderEpoch = epoch;
        }
        return epochOrder.Skip(offset).Take(PairsPerStep).ToList();
    }

    private static void Collect(Dictionary<string, List<Tensor>> collected, Dictionary<string, Tensor> metrics)
    {
        foreach (var (name, value) in metrics)
        {
            if (!collected.TryGetValue(name, out var list)) collected[name] = list = [];
            list.Add(value.detach().to(ScalarType.Float32).reshape(-1));
        }
    }

    public virtual void Dispose() => optimizer.Dispose();
}
