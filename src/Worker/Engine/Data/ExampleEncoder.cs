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
    /// <summary>
    /// Tokenizes the example's text once (segments concatenated, an end-of-sequence segment as the EOS token's text) and
    /// labels each token whose characters overlap a trainable segment; prepends BOS if the example asks and the model
    /// uses one; truncates to maxLength. Never tokenizes segments separately: SentencePiece would give each its own
    /// dummy-prefix space.
    /// </summary>
    public static EncodedExample Encode(TrainingExample example, TextTokenizer tokenizer, int maxLength, bool trainOnInputs = false)
    {
        var text = new System.Text.StringBuilder();
        var trained = new List<(int Start, int End)>();
        foreach (var segment in example.Segments)
        {
            var piece = segment.Kind == SegmentKind.EndOfSequence ? tokenizer.EosToken : segment.Text;
            if (segment.Trainable || trainOnInputs) trained.Add((text.Length, text.Length + piece.Length));
            text.Append(piece);
        }
        var encoded = tokenizer.EncodeWithOffsets(text.ToString());
        var ids = new List<int>(encoded.Ids.Length + 1);
        var labelled = new List<bool>(encoded.Ids.Length + 1);
        if (example.AddBos && tokenizer.AddBos && tokenizer.BosId is int bos) { ids.Add(bos); labelled.Add(false); }
        ids.AddRange(encoded.Ids);
        labelled.AddRange(encoded.Offsets.Select(offset => Overlaps(offset, trained)));
        int length = Math.Min(ids.Count, maxLength);
        return new EncodedExample(ids.Take(length).ToArray(), labelled.Take(length).ToArray());
    }

    /// <summary>Whether a token's characters [Start, End) meet a span; an empty one (a dummy-prefix space) counts where it stands.</summary>
    internal static bool Overlaps((int Start, int End) token, IEnumerable<(int Start, int End)> spans)
        => spans.Any(s => token.End > token.Start ? token.Start < s.End && token.End > s.Start : token.Start >= s.Start && token.Start < s.End);

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
