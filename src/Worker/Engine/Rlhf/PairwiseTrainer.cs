using TorchSharp;
using TuningService.Domain.Jobs;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>
/// The loop shared by the trainers on preference pairs (reward model, DPO), read top to bottom:
/// learning rate, forward/backward over the step's micro-batches, clip, step. Each epoch visits the pairs in
/// an order that depends only on (seed, epoch), so the data position of a step is a function of the step.
/// In bf16 the trained model is cast here (<see cref="MixedPrecision.PrepareTrained"/>); losses and metrics are float32.
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
    private Dictionary<string, Tensor> lastStepMetrics = [];   // 0-dim, on the device until ReadMetrics
    private double learningRate;

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
        CheckpointedBlock.Configure(trained, hyperparameters.GradientCheckpointing, hyperparameters.Lora?.Dropout ?? 0);
        var masterWeights = MixedPrecision.PrepareTrained(trained, hyperparameters.Precision, fullFineTune: hyperparameters.Lora is null);
        optimizer = new AdamW(trained.named_parameters().Where(p => p.parameter.requires_grad), hyperparameters, masterWeights);
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

    /// <summary>Turns the concatenated per-pair metrics of a step or an evaluation into 0-dim tensors (default: means).</summary>
    protected virtual Dictionary<string, Tensor> Summarize(IReadOnlyDictionary<string, Tensor> metrics)
        => metrics.ToDictionary(m => m.Key, m => m.Value.mean());

    public void TrainStep()
    {
        using var scope = NewDisposeScope();
        trained.train();
        learningRate = LearningRateSchedule.At(Step, TotalSteps, Hyperparameters);
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
        var gradNorm = optimizer.ClipGradients(Hyperparameters.MaxGradNorm);
        optimizer.Step(learningRate);
        Step++;
        var stepMetrics = Summarize(collected.ToDictionary(c => c.Key, c => cat(c.Value.ToArray())));
        stepMetrics[MetricNames.TrainLoss] = lossSum;
        stepMetrics[MetricNames.GradNorm] = gradNorm;
        foreach (var t in lastStepMetrics.Values) t.Dispose();
        lastStepMetrics = stepMetrics.ToDictionary(m => m.Key, m => m.Value.DetachFromDisposeScope());
    }

    /// <summary>The last step's metrics (CPU-GPU sync point).</summary>
    public IReadOnlyDictionary<string, double?> ReadMetrics()
    {
        var result = lastStepMetrics.ToDictionary(m => m.Key, m => (double?)m.Value.item<float>());
        result[MetricNames.LearningRate] = learningRate;
        return result;
    }

    public Evaluation Evaluate()
    {
        if (validation.Count == 0) return new Evaluation(new Dictionary<string, double?>(), []);
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
            .ToDictionary(m => MetricNames.Valid(m.Key), m => (double?)m.Value.item<float>());
        result[MetricNames.ValidLoss] = lossSum / validation.Count;
        return new Evaluation(result, []);
    }

    public void SaveState(string directory)
        => TrainingCheckpoint.Save(directory, method, Step, TotalSteps, TrainedTokens, optimizer, Configuration, temp => TrainingCheckpoint.WriteParameters(temp, trained));

    /// <summary>What the checkpoint records as the run's configuration.</summary>
    protected virtual object Configuration => Hyperparameters;

    public void LoadState(string directory)
        => (Step, TrainedTokens) = TrainingCheckpoint.Load(directory, method, TotalSteps, optimizer, dir => TrainingCheckpoint.LoadParameters(dir, trained));

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

    public virtual void Dispose()
    {
        optimizer.Dispose();
        foreach (var t in lastStepMetrics.Values) t.Dispose();
    }
}
