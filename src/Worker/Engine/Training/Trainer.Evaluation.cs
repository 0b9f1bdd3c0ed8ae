using TuningService.Domain.Jobs;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Generation;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Training;

public sealed partial class Trainer
{
    /// <summary>
    /// Loss and token accuracy over the validation set, plus exact match of greedy generation for examples whose
    /// labels are one short span at the end (a completion of at most ExactMatchMaxLabelTokens tokens). Empty without validation data.
    /// </summary>
    public Evaluation Evaluate()
    {
        if (validation.Count == 0) return new Evaluation(new Dictionary<string, double?>(), []);
        var hp = Hyperparameters;
        model.eval();
        using var _ = no_grad();
        var (lossSum, correct, labels) = LabelLoss.Measure(model, validation, tokenizer.PadId, hp.BatchSize, device, countCorrect: true);
        var (exactMatch, _) = ExactMatch();
        var metrics = new Dictionary<string, double?>
        {
            [MetricNames.ValidLoss] = lossSum / Math.Max(1, labels),
            [MetricNames.ValidMeanTokenAccuracy] = (double)correct / Math.Max(1, labels),
            [MetricNames.ExactMatchAccuracy] = exactMatch,
        };
        return new Evaluation(metrics, []);
    }

    private (double? Accuracy, int Examples) ExactMatch()
    {
        var hp = Hyperparameters;
        var candidates = new List<(int[] Prompt, int[] Target)>();
        foreach (var e in validation)
        {
            int first = Array.IndexOf(e.Labelled, true, 1);
            if (first < 1 || e.Labelled.Skip(first).Any(l => !l)) continue;                       // labels must be one final span
            if (e.Length - first > hp.ExactMatchMaxLabelTokens) continue;
            candidates.Add((e.InputIds[..first], e.InputIds[first..]));
            if (candidates.Count == hp.ExactMatchMaxExamples) break;
        }
        if (candidates.Count == 0) return (null, 0);
        int matches = 0;
        foreach (var chunk in candidates.OrderBy(c => c.Prompt.Length).Chunk(Math.Max(hp.BatchSize, 8)))
        {
            var options = new GenerationOptions { MaxNewTokens = chunk.Max(c => c.Target.Length), StopAtEos = true };
            var outputs = TextGenerator.Generate(model, chunk.Select(c => c.Prompt).ToList(), options, tokenizer.EosId, tokenizer.PadId);
            for (int i = 0; i < chunk.Length; i++)
                if (outputs[i].Take(chunk[i].Target.Length).SequenceEqual(chunk[i].Target)) matches++;
        }
        return ((double)matches / candidates.Count, candidates.Count);
    }
}
