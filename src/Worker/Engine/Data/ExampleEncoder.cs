using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Engine.Data;

/// <summary>
/// Token ids of an example and, per position, whether that token is a label.
/// Labelled[t] means the model is trained to predict InputIds[t] from InputIds[..t].
/// A packed row (<see cref="SequencePacking"/>) holds several examples back to back: <see cref="ExampleLengths"/> lists
/// their lengths in order (null for a single example), and the first token of each is never labelled.
/// </summary>
public sealed record EncodedExample(int[] InputIds, bool[] Labelled, int[]? ExampleLengths = null)
{
    public int Length => InputIds.Length;
    /// <summary>Number of predicted tokens (position 0 can never be predicted).</summary>
    public int LabelCount => Labelled.Skip(1).Count(l => l);
}

public static class ExampleEncoder
{
    /// <summary>Tokenizes segment by segment (so the mask is exact), prepends BOS if the model uses one, truncates to maxLength.</summary>
    public static EncodedExample Encode(TrainingExample example, TextTokenizer tokenizer, int maxLength, bool trainOnInputs = false)
    {
        var ids = new List<int>();
        var labelled = new List<bool>();
        if (tokenizer.AddBos && tokenizer.BosId is int bos) { ids.Add(bos); labelled.Add(false); }
        foreach (var segment in example.Segments)
        {
            var segmentIds = segment.Kind == SegmentKind.EndOfSequence ? [tokenizer.EosId] : tokenizer.Encode(segment.Text, continuation: ids.Count > 0);
            ids.AddRange(segmentIds);
            labelled.AddRange(Enumerable.Repeat(segment.Trainable || trainOnInputs, segmentIds.Length));
        }
        int length = Math.Min(ids.Count, maxLength);
        return new EncodedExample(ids.Take(length).ToArray(), labelled.Take(length).ToArray());
    }

    /// <summary>Encodes a dataset, dropping examples left with no label token (e.g. after truncation).</summary>
    public static (List<EncodedExample> Kept, int Dropped) EncodeAll(IEnumerable<TrainingExample> examples, TextTokenizer tokenizer, int maxLength, bool trainOnInputs)
    {
        var kept = new List<EncodedExample>();
        int dropped = 0;
        foreach (var example in examples)
        {
            var encoded = Encode(example, tokenizer, maxLength, trainOnInputs);
            if (encoded.LabelCount > 0) kept.Add(encoded); else dropped++;
        }
        return (kept, dropped);
    }
}
