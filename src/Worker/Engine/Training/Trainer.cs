using System.Diagnostics;
using TorchSharp;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TuningService.Worker.Engine.Training;

/// <summary>
/// Supervised fine-tuning of a causal LM (full or LoRA), read top to bottom like nanoGPT's train.py:
/// learning rate, forward/backward over the micro-batches, clip, step, log, evaluate, checkpoint.
/// Stops only at optimizer-step boundaries; <see cref="SaveState"/> + <see cref="Resume"/> continue bit-for-bit.
/// </summary>
public sealed partial class Trainer : IDisposable
{
    private const int HeadChunkElements = 1 << 24; // logits elements per head chunk (64 MB in float32)
    private readonly CausalLanguageModel model;
    private readonly TextTokenizer tokenizer;
    private readonly List<EncodedExample> train;
    private readonly List<EncodedExample> validation;
    private readonly AdamW optimizer;
    private readonly Device device;
    private List<int[]> epochBatches;
    private int microBatchInEpoch;
    private long trainedTokens, trainedLabelTokens;

    public Trainer(CausalLanguageModel model, TextTokenizer tokenizer, IEnumerable<TrainingExample> trainingSet,
        IEnumerable<TrainingExample>? validationSet, TrainingHyperparameters hyperparameters)
        : this(model, tokenizer,
            ExampleEncoder.EncodeAll(trainingSet, tokenizer, hyperparameters.MaxSeqLength, hyperparameters.TrainOnInputs),
            ExampleEncoder.EncodeAll(validationSet ?? [], tokenizer, hyperparameters.MaxSeqLength, hyperparameters.TrainOnInputs).Kept,
            hyperparameters)
    {
    }

    /// <summary>A run over already tokenized examples (benchmarks, tests).</summary>
    internal Trainer(CausalLanguageModel model, TextTokenizer tokenizer, (List<EncodedExample> Kept, int Dropped) trainingSet,
        List<EncodedExample> validationSet, TrainingHyperparameters hyperparameters)
    {
        Hyperparameters = hyperparameters;
        this.model = model;
        this.tokenizer = tokenizer;
        device = model.parameters().First().device;
        (train, DroppedExamples) = trainingSet;
        validation = validationSet;
        if (train.Count == 0) throw new InvalidOperationException($"No training example has a label token ({DroppedExamples} dropped).");
        torch.manual_seed(Hyperparameters.Seed); // LoRA init and dropout draw from the global generator
        if (Hyperparameters.Lora is LoraSettings lora) LoraAdapter.Attach(model, lora);
        optimizer = new AdamW(model.named_parameters().Where(p => p.parameter.requires_grad), Hyperparameters);
        int microBatches = LengthGroupedBatches.CountPerEpoch(train.Count, Hyperparameters.BatchSize);
        StepsPerEpoch = (microBatches + Hyperparameters.GradientAccumulationSteps - 1) / Hyperparameters.GradientAccumulationSteps;
        TotalSteps = StepsPerEpoch * Hyperparameters.NEpochs;
        epochBatches = LengthGroupedBatches.ForEpoch(train, Hyperparameters.BatchSize, Hyperparameters.Seed, 0, Hyperparameters.GroupByLength);
    }

    public TrainingHyperparameters Hyperparameters { get; }
    public CausalLanguageModel Model => model;
    public TextTokenizer Tokenizer => tokenizer;
    public int TotalSteps { get; }
    public int StepsPerEpoch { get; }
    /// <summary>Optimizer steps completed.</summary>
    public int Step { get; private set; }
    public int Epoch { get; private set; }
    /// <summary>Training examples kept / dropped for having no label token within MaxSeqLength.</summary>
    public int TrainingExamples => train.Count;
    public int DroppedExamples { get; }

    public TrainingOutcome Run(TrainerCallbacks? callbacks = null, CancellationToken stop = default)
    {
        callbacks ??= new TrainerCallbacks();
        var hp = Hyperparameters;
        model.train();
        var clock = Stopwatch.StartNew();
        long tokensAtLastLog = trainedTokens;
        Tensor? lossSinceLog = null; // summed on the device; read at log steps only
        long labelsSinceLog = 0;
        while (Step < TotalSteps)
        {
            if (stop.IsCancellationRequested || callbacks.ShouldStop?.Invoke() == true) return TrainingOutcome.Stopped;
            double lr = LearningRateSchedule.At(Step, TotalSteps, hp);
            Tensor gradNorm;
            using (var scope = NewDisposeScope())
            {
                var (stepLoss, labelCount, tokenCount) = ForwardBackward(NextMicroBatches());
                gradNorm = ClipGradients(hp.MaxGradNorm);
                optimizer.Step(lr);
                optimizer.ZeroGrad();
                lossSinceLog = lossSinceLog is null ? stepLoss : lossSinceLog + stepLoss;
                scope.MoveToOuter(lossSinceLog, gradNorm);
                labelsSinceLog += labelCount;
                trainedTokens += tokenCount;
                trainedLabelTokens += labelCount;
            }
            Step++;
            bool last = Step == TotalSteps;
            bool evaluate = validation.Count > 0 && (last || (hp.EvalInterval > 0 && Step % hp.EvalInterval == 0));
            if (last || evaluate || Step % hp.LogInterval == 0)
            {
                double seconds = clock.Elapsed.TotalSeconds;
                var metrics = new TrainingMetrics
                {
                    Step = Step, TotalSteps = TotalSteps, Epoch = Epoch, LearningRate = lr,
                    TrainLoss = lossSinceLog!.item<float>() / Math.Max(1, labelsSinceLog), // sync point
                    GradNorm = gradNorm.item<float>(),
                    TokensPerSecond = (trainedTokens - tokensAtLastLog) / Math.Max(seconds, 1e-9),
                    TrainedTokens = trainedTokens, TrainedLabelTokens = trainedLabelTokens,
                };
                if (evaluate)
                {
                    var result = Evaluate();
                    model.train();
                    metrics = metrics with { ValidLoss = result.Loss, MeanTokenAccuracy = result.MeanTokenAccuracy, ExactMatchAccuracy = result.ExactMatchAccuracy };
                }
                callbacks.Progress?.Report(metrics);
                lossSinceLog.Dispose();
                lossSinceLog = null;
                labelsSinceLog = 0;
                tokensAtLastLog = trainedTokens;
                clock.Restart();
            }
            gradNorm.Dispose();
            if (last || (hp.CheckpointInterval > 0 && Step % hp.CheckpointInterval == 0)) callbacks.Checkpoint?.Invoke(this, last);
        }
        return TrainingOutcome.Completed;
    }

    /// <summary>
    /// Forward and backward over one optimizer step's micro-batches. Each micro-batch's summed loss is divided
    /// by the label tokens of the whole step, so accumulation over k micro-batches equals one batch k times larger.
    /// Returns the summed loss (on the device), label tokens and input tokens.
    /// </summary>
    internal (Tensor LossSum, int Labels, int Tokens) ForwardBackward(IReadOnlyList<IReadOnlyList<EncodedExample>> microBatches)
    {
        var batches = microBatches.Select(examples => MicroBatch.Collate(examples, tokenizer.PadId, device)).ToList();
        int stepLabels = batches.Sum(b => b.LabelCount), stepTokens = batches.Sum(b => b.TokenCount);
        var lossSum = zeros(1, device: device);
        foreach (var batch in batches)
        {
            var hidden = model.HiddenStates(batch.InputIds);                                       // (B, T, C)
            var rows = hidden.reshape(-1, hidden.shape[2]).index_select(0, batch.LabelPositions);   // (N, C): labelled positions only
            // The head and loss run in row chunks with their own backward, so (N, V) logits never exist at once:
            // memory O(chunk · V) instead of O(N · V); the rows' gradient is then pushed through the trunk once.
            var leaf = rows.detach().requires_grad_(true);
            int chunk = Math.Max(64, HeadChunkElements / model.VocabSize);
            for (int start = 0; start < batch.LabelCount; start += chunk)
            {
                using var chunkScope = NewDisposeScope();
                int length = Math.Min(chunk, batch.LabelCount - start);
                var logits = model.Logits(leaf.narrow(0, start, length)).to(ScalarType.Float32);   // (n, V)
                var loss = F.cross_entropy(logits, batch.LabelIds.narrow(0, start, length), reduction: nn.Reduction.Sum);
                (loss / stepLabels).backward();
                lossSum.add_(loss.detach());
            }
            rows.backward([leaf.grad!]);
            batch.Dispose();
        }
        return (lossSum, stepLabels, stepTokens);
    }

    /// <summary>Scales gradients so their global L2 norm is at most maxNorm, without reading the norm off the device.</summary>
    private Tensor ClipGradients(double maxNorm)
    {
        var grads = optimizer.Parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        var norm = stack(grads.Select(g => g.norm()).ToArray()).norm();                    // () total norm
        if (maxNorm > 0)
        {
            var coefficient = (maxNorm / (norm + 1e-6)).clamp_max(1.0);
            foreach (var g in grads) g.mul_(coefficient);
        }
        return norm;
    }

    /// <summary>The next GradientAccumulationSteps micro-batches of the current epoch (fewer at its end); advances the position.</summary>
    private List<IReadOnlyList<EncodedExample>> NextMicroBatches()
    {
        var result = new List<IReadOnlyList<EncodedExample>>();
        while (result.Count < Hyperparameters.GradientAccumulationSteps && microBatchInEpoch < epochBatches.Count)
            result.Add(epochBatches[microBatchInEpoch++].Select(i => train[i]).ToList());
        if (microBatchInEpoch == epochBatches.Count)
        {
            Epoch++;
            microBatchInEpoch = 0;
            epochBatches = LengthGroupedBatches.ForEpoch(train, Hyperparameters.BatchSize, Hyperparameters.Seed, Epoch, Hyperparameters.GroupByLength);
        }
        return result;
    }

    public void Dispose() => optimizer.Dispose();
}
