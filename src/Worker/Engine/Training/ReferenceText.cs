using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Training;

/// <summary>
/// General text the model should keep modelling well while it is fine-tuned (catastrophic forgetting, Kirkpatrick et al. 2017):
/// <see cref="Loss"/> is the model's mean loss per token over it, every token a label as in a text example. Measured before
/// training and at every evaluation; its relative rise is the run's <c>forgetting</c>.
/// </summary>
public sealed class ReferenceText
{
    private readonly CausalLanguageModel model;
    private readonly List<EncodedExample> lines;
    private readonly int padId, batchSize;

    public ReferenceText(CausalLanguageModel model, TextTokenizer tokenizer, IEnumerable<string> texts, int maxSeqLength, int batchSize)
    {
        this.model = model;
        padId = tokenizer.PadId;
        this.batchSize = batchSize;
        lines = ExampleEncoder.EncodeAll(texts.Select(TrainingExample.FromText), tokenizer, maxSeqLength, trainOnInputs: false).Kept;
        if (lines.Count == 0) throw new InvalidOperationException("The reference text has no line with a token to predict.");
    }

    /// <summary>Lines measured (those with at least one token to predict).</summary>
    public int Lines => lines.Count;

    /// <summary>Mean cross-entropy per token over the reference lines, in nats. Eval mode (no dropout); the model's mode is restored.</summary>
    public double Loss()
    {
        bool wasTraining = model.training;
        model.eval();
        var (lossSum, _, labels) = LabelLoss.Measure(model, lines, padId, batchSize, model.parameters().First().device, countCorrect: false);
        model.train(wasTraining);
        return lossSum / Math.Max(1, labels);
    }
}
