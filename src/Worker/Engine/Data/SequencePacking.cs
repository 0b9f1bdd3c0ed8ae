namespace TuningService.Worker.Engine.Data;

/// <summary>
/// Packs whole examples into rows of at most maxLength tokens, best-fit decreasing: longest first, each into the row it
/// fills most tightly. Examples are never split, and each keeps its own attention and positions (the batch builds a
/// block-diagonal causal mask and restarts position ids per example), so a packed step computes exactly the unpacked
/// step's loss and gradients, minus the padding.
/// </summary>
/// <remarks>
/// How others do it: TRL's SFTTrainer packs with the same best-fit-decreasing strategy ("bfd") and keeps examples apart by
/// per-example <c>position_ids</c>, which transformers' flash-attention path turns into variable-length attention
/// (<c>cu_seqlens</c> from the position resets; <c>padding_free</c> / DataCollatorWithFlattening). TRL's older "wrapped"
/// packing concatenated and cut rows at fixed lengths, letting examples attend to each other. We have no varlen kernel in
/// TorchSharp, so the separation is an explicit boolean mask (B, 1, T, T) given to scaled-dot-product attention, with
/// the same per-example position ids (GPT-2's learned positions and Llama's RoPE both restart at 0).
/// Packing is deterministic and independent of the seed: rows are built once, and each epoch shuffles rows.
/// </remarks>
public static class SequencePacking
{
    public static List<EncodedExample> Pack(IReadOnlyList<EncodedExample> examples, int maxLength)
    {
        var rows = new List<List<EncodedExample>>();
        var space = new SortedSet<(int Free, int Row)>();   // rows by free tokens, then by age
        foreach (var example in examples.Select((e, i) => (e, i)).OrderByDescending(x => x.e.Length).ThenBy(x => x.i).Select(x => x.e))
        {
            if (example.Length > maxLength) throw new ArgumentException($"An example of {example.Length} tokens exceeds the row length {maxLength}.", nameof(examples));
            var best = space.GetViewBetween((example.Length, -1), (maxLength, int.MaxValue)).Min; // the tightest fit; (0, 0) if none
            if (best.Free >= example.Length)
            {
                space.Remove(best);
                rows[best.Row].Add(example);
                space.Add((best.Free - example.Length, best.Row));
            }
            else
            {
                rows.Add([example]);
                space.Add((maxLength - example.Length, rows.Count - 1));
            }
        }
        return rows.Select(Row).ToList();
    }

    private static EncodedExample Row(List<EncodedExample> examples)
    {
        if (examples.Count == 1) return examples[0];
        var ids = examples.SelectMany(e => e.InputIds).ToArray();
        var labelled = new bool[ids.Length];
        int start = 0;
        foreach (var e in examples)
        {
            Array.Copy(e.Labelled, 0, labelled, start, e.Length);
            labelled[start] = false; // nothing before an example's first token belongs to it
            start += e.Length;
        }
        return new EncodedExample(ids, labelled, examples.Select(e => e.Length).ToArray());
    }
}
