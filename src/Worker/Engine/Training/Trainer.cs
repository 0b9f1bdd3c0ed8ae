using TorchSharp;
using TuningService.Domain.Jobs;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TuningService.Worker.Engine.Training;

/// <summary>
/// Supervised fine-tuning of a causal LM (full or LoRA), one optimizer step at a time, read top to bottom like
/// nanoGPT's train.py: learning rate, forward/backward over the micro-batches, clip, step. Evaluation, logging and
/// checkpoints are the runtime loop's (<see cref="IStepwiseTrainer"/>); <see cref="SaveState"/> + <see cref="LoadState"/> continue bit-for-bit.
/// </summary>
public sealed partial class Trainer : IStepwiseTrainer
{
    /// <summary>The method recorded in checkpoints (supervised and instruction jobs share this trainer).</summary>
    public const string Method = "supervised";
    private readonly CausalLanguageModel model;
    private readonly TextTokenizer tokenizer;
    private readonly List<EncodedExample> train;            // one example per row, or several when packing
    private readonly List<EncodedExample> validation;
    private readonly AdamW optimizer;
    private readonly ChunkedHeadLoss headLoss = new();
    private readonly Device device;
    private readonly Tensor lossSinceRead, correctSinceRead; // (1) summed on the device since the last ReadMetrics
    private long labelsSinceRead;
    private Tensor? gradNorm;                                 // () of the last step, on the device
    private double learningRate;
    private (int Epoch, List<int[]> Batches) epochBatches = (-1, []);

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
        (var examples, DroppedExamples) = trainingSet;
        TrainingExamples = examples.Count;
        train = hyperparameters.Packing ? SequencePacking.Pack(examples, hyperparameters.MaxSeqLength) : examples; // the rows batched and shuffled
        validation = validationSet;
        if (train.Count == 0) throw new InvalidOperationException($"No training example has a label token ({DroppedExamples} dropped).");
        var masterWeights = MixedPrecision.Prepare(model, hyperparameters.Precision, fullFineTune: hyperparameters.Lora is null);
        torch.manual_seed(Hyperparameters.Seed); // LoRA init and dropout draw from the global generator
        if (Hyperparameters.Lora is LoraSettings lora) LoraAdapter.Attach(model, lora); // float32 adapters, whatever the base's precision
        CheckpointedBlock.Configure(model, Hyperparameters.GradientCheckpointing, Hyperparameters.Lora?.Dropout ?? 0);
        optimizer = new AdamW(model.named_parameters().Where(p => p.parameter.requires_grad), Hyperparameters, masterWeights);
        int microBatches = LengthGroupedBatches.CountPerEpoch(train.Count, Hyperparameters.BatchSize);
        StepsPerEpoch = (microBatches + Hyperparameters.GradientAccumulationSteps - 1) / Hyperparameters.GradientAccumulationSteps;
        TotalSteps = StepsPerEpoch * Hyperparameters.NEpochs;
        lossSinceRead = zeros(1, device: device).DetachFromDisposeScope();
        correctSinceRead = zeros(1, ScalarType.Int64, device: device).DetachFromDisposeScope();
    }

    public TrainingHyperparameters Hyperparameters { get; }
    public CausalLanguageModel Model => model;
    public TextTokenizer Tokenizer => tokenizer;
    public int TotalSteps { get; }
    public int StepsPerEpoch { get; }
    public int Step { get; private set; }
    public double Epoch => (double)Step / StepsPerEpoch;
    public long TrainedTokens { get; private set; }
    /// <summary>Tokens that carried a label, trained by this process (not restored on resume; the benchmark's count).</summary>
    public long TrainedLabelTokens { get; private set; }
    /// <summary>Training examples kept / dropped for having no label token within MaxSeqLength.</summary>
    public int TrainingExamples { get; }
    /// <summary>Rows an epoch trains: the examples, or the packed rows holding them.</summary>
    public int TrainingRows => train.Count;
    /// <summary>Label tokens in one epoch (the same packed or not).</summary>
    public long LabelTokensPerEpoch => train.Sum(e => (long)e.LabelCount);
    public int DroppedExamples { get; }
    /// <summary>Bytes of the optimizer's state: AdamW's moments and, for a bf16 full fine-tune, the float32 master weights.</summary>
    public long OptimizerStateBytes => optimizer.StateTensors().Values.Sum(t => t.numel() * t.ElementSize);

    public void TrainStep()
    {
        using var scope = NewDisposeScope();
        model.train();
        learningRate = LearningRateSchedule.At(Step, TotalSteps, Hyperparameters);
        var (loss, correct, labels, tokens) = ForwardBackward(MicroBatchesOf(Step));
        var norm = optimizer.ClipGradients(Hyperparameters.MaxGradNorm);
        optimizer.Step(learningRate);
        optimizer.ZeroGrad();
        Step++;
        lossSinceRead.add_(loss);
        correctSinceRead.add_(correct);
        gradNorm?.Dispose();
        gradNorm = norm.DetachFromDisposeScope();
        labelsSinceRead += labels;
        TrainedTokens += tokens;
        TrainedLabelTokens += labels;
    }

    public IReadOnlyDictionary<string, double?> ReadMetrics()
    {
        double labels = Math.Max(1, labelsSinceRead);
        var metrics = new Dictionary<string, double?>
        {
            [MetricNames.TrainLoss] = lossSinceRead.item<float>() / labels,      // CPU-GPU sync point
            [MetricNames.TrainMeanTokenAccuracy] = correctSinceRead.item<long>() / labels,
            [MetricNames.LearningRate] = learningRate,
            [MetricNames.GradNorm] = gradNorm?.item<float>(),
        };
        lossSinceRead.zero_();
        correctSinceRead.zero_();
        labelsSinceRead = 0;
        return metrics;
    }

    /// <summary>
    /// Forward and backward over one optimizer step's micro-batches. Each micro-batch's summed loss is divided
    /// by the label tokens of the whole step, so accumulation over k micro-batches equals one batch k times larger.
    /// Returns the summed loss and the correctly predicted label tokens (on the device), label tokens and input tokens.
    /// </summary>
    internal (Tensor LossSum, Tensor Correct, int Labels, int Tokens) ForwardBackward(IReadOnlyList<IReadOnlyList<EncodedExample>> microBatches)
    {
        var batches = microBatches.Select(examples => MicroBatch.Collate(examples, tokenizer.PadId, device)).ToList();
        int stepLabels = batches.Sum(b => b.LabelCount), stepTokens = batches.Sum(b => b.TokenCount);
        var lossSum = zeros(1, device: device);
        var correct = zeros(1, ScalarType.Int64, device: device);
        var headWeight = ChunkedHeadLoss.PlainHeadWeight(model); // the hand-written head, else autograd's
        foreach (var batch in batches)
        {
            var hidden = model.HiddenStates(batch.InputIds, batch.AttentionMask, batch.PositionIds); // (B, T, C); masks only for packed rows
            var rows = hidden.reshape(-1, hidden.shape[2]).index_select(0, batch.LabelPositions);   // (N, C): labelled positions only
            // The head and loss run in row chunks with their own backward, so (N, V) logits never exist at once:
            // memory O(chunk · V) instead of O(N · V); the rows' gradient is then pushed through the trunk once.
            if (headWeight is not null)
            {
                rows.backward([headLoss.ForwardBackward(headWeight, rows.detach(), batch.LabelIds, 1.0 / stepLabels, lossSum, correct)]);
                batch.Dispose();
                continue;
            }
            var leaf = rows.detach().requires_grad_(true);
            // bf16: an eighth of the rows, since a chunk's float32 loss copies beside its bf16 logits would set a bf16 step's peak
            int chunk = Math.Max(1, ChunkedHeadLoss.ChunkRows(model.VocabSize) / (Hyperparameters.Precision == TrainingPrecision.BFloat16 ? 8 : 1));
            for (int start = 0; start < batch.LabelCount; start += chunk)
            {
                using var chunkScope = NewDisposeScope();
                int length = Math.Min(chunk, batch.LabelCount - start);
                var logits = model.Logits(leaf.narrow(0, start, length)).to(ScalarType.Float32);   // (n, V)
                var labels = batch.LabelIds.narrow(0, start, length);                              // (n)
                var loss = F.cross_entropy(logits, labels, reduction: nn.Reduction.Sum);
                (loss / stepLabels).backward();
                lossSum.add_(loss.detach());
                correct.add_(logits.detach().argmax(-1).eq(labels).sum());
            }
            rows.backward([leaf.grad!]);
            batch.Dispose();
        }
        return (lossSum, correct, stepLabels, stepTokens);
    }

    /// <summary>
    /// The micro-batches of optimizer step <paramref name="step"/>: GradientAccumulationSteps of them (fewer at an
    /// epoch's end). Every epoch has StepsPerEpoch steps, so the data position is a function of the step alone.
    /// </summary>
    private List<IReadOnlyList<EncodedExample>> MicroBatchesOf(int step)
    {
        var hp = Hyperparameters;
        int epoch = step / StepsPerEpoch, first = step % StepsPerEpoch * hp.GradientAccumulationSteps;
        if (epochBatches.Epoch != epoch) epochBatches = (epoch, LengthGroupedBatches.ForEpoch(train, hp.BatchSize, hp.Seed, epoch, hp.GroupByLength));
        return epochBatches.Batches.Skip(first).Take(hp.GradientAccumulationSteps)
            .Select(batch => (IReadOnlyList<EncodedExample>)batch.Select(i => train[i]).ToList()).ToList();
    }

    public void Dispose()
    {
        optimizer.Dispose();
        headLoss.Dispose();
        lossSinceRead.Dispose();
        correctSinceRead.Dispose();
        gradNorm?.Dispose();
    }
}
