using TuningService.Worker.Engine.Models;
using static TorchSharp.torch;

namespace TuningService.Worker.Inference;

/// <summary>
/// The running sequences of one adapter on one base model, decoded together: one forward pass per step for all rows.
/// Rows are left-padded into one KV cache (B, H, S, D); the attention mask (B, S) hides each row's padding, and
/// position ids count its real tokens only, so every row decodes as if alone. Sequences join between steps (their
/// prompts prefilled, then their caches appended) and leave as soon as they finish.
/// </summary>
internal sealed class DecodeBatch(CausalLanguageModel model, DecodeHead head) : IDisposable
{
    private readonly List<GenerationSequence> rows = [];
    private readonly KvCache cache = new(model.Config.NumLayers, growBy: 64);   // appended in place, not concatenated per step
    private Tensor? mask;        // (B, S) 1 = real token; null while no row is padded
    private Tensor? lastTokens;  // (B, 1) the token each row feeds next
    private readonly Device device = model.parameters().First().device;

    public int Count => rows.Count;

    /// <summary>Prefills the prompts of <paramref name="joining"/> (one left-padded pass) and takes their first tokens.</summary>
    public void Join(IReadOnlyList<GenerationSequence> joining)
    {
        using var scope = NewDisposeScope();
        int batch = joining.Count, length = joining.Max(s => s.PromptIds.Length);
        var ids = new long[batch * length];
        var real = new long[batch * length];
        for (int b = 0; b < batch; b++)
        {
            var prompt = joining[b].PromptIds;
            int offset = length - prompt.Length;
            for (int t = 0; t < length; t++)
            {
                ids[b * length + t] = t < offset ? 0 : prompt[t - offset];
                real[b * length + t] = t < offset ? 0 : 1;
            }
        }
        bool padded = joining.Any(s => s.PromptIds.Length != length);
        var input = tensor(ids, [batch, length], ScalarType.Int64).to(device);
        var joinMask = tensor(real, [batch, length], ScalarType.Int64).to(device);
        using var joinCache = new KvCache(model.Config.NumLayers);
        var hidden = model.HiddenStates(input, padded ? joinMask : null, null, joinCache);   // (Bn, T, C)
        var logits = head.Logits(hidden[.., -1]);                                              // (Bn, V): last position only
        var picked = TokenSampler.Pick(logits, joining, device);

        int before = rows.Count, pastLength = cache.Length;
        if (before == 0) cache.Dispose();
        cache.AppendRows(joinCache);
        if (padded || (before > 0 && (mask is not null || pastLength != length)))
        {
            var old = mask ?? (before > 0 ? ones(before, pastLength, ScalarType.Int64, device) : null);
            int total = Math.Max(pastLength, length);
            SetMask(old is null ? joinMask : cat([PadLeft(old, total), PadLeft(joinMask, total)], 0));
        }
        var next = tensor(picked.Select(p => (long)p.Id).ToArray(), [batch, 1], ScalarType.Int64).to(device);
        SetLast(lastTokens is null ? next : cat([lastTokens, next], 0));
        rows.AddRange(joining);
        Deliver(picked, before);
    }

    /// <summary>One decode step for every row: (B, 1) tokens in, one new token per row out.</summary>
    public void Step()
    {
        using var scope = NewDisposeScope();
        var attention = mask is null ? null : cat([mask, ones(rows.Count, 1, ScalarType.Int64, device)], 1); // (B, S + 1)
        var hidden = model.HiddenStates(lastTokens!, attention, null, cache);     // (B, 1, C)
        var logits = head.Logits(hidden[.., -1]);                                 // (B, V)
        var picked = TokenSampler.Pick(logits, rows, device);
        if (attention is not null) SetMask(attention);
        SetLast(tensor(picked.Select(p => (long)p.Id).ToArray(), [rows.Count, 1], ScalarType.Int64).to(device));
        Deliver(picked, 0);
    }

    /// <summary>Removes sequences that finished, were cancelled or stopped early (their cache rows go with them); returns those that left.</summary>
    public List<GenerationSequence> RemoveFinished()
    {
        var keep = Enumerable.Range(0, rows.Count).Where(i => rows[i].Finish is null && !rows[i].ShouldLeave).ToArray();
        var left = rows.Where((_, i) => !keep.Contains(i)).ToList();
        foreach (var row in left) row.Complete(FinishReason.Stop);
        if (keep.Length == rows.Count) return left;
        var kept = keep.Select(i => rows[i]).ToList();
        rows.Clear();
        rows.AddRange(kept);
        if (keep.Length == 0)
        {
            cache.Dispose();
            SetMask(null);
            SetLast(null);
            return left;
        }
        using var scope = NewDisposeScope();
        var index = tensor(keep.Select(i => (long)i).ToArray(), ScalarType.Int64).to(device);
        cache.KeepRows(index);
        if (mask is not null) SetMask(mask.index_select(0, index));
        SetLast(lastTokens!.index_select(0, index));
        return left;
    }

    public void FailAll(Exception error)
    {
        foreach (var row in rows) row.Fail(error);
        rows.Clear();
        cache.Dispose();
        SetMask(null);
        SetLast(null);
    }

    private void Deliver(IReadOnlyList<GeneratedToken> picked, int firstRow)
    {
        int context = model.Config.MaxPositionEmbeddings;
        for (int i = 0; i < picked.Count; i++)
        {
            var row = rows[firstRow + i];
            if (row.Finish is not null) continue;
            row.Accept(picked[i], context - (row.PromptIds.Length + row.Generated + 1));
        }
    }

    private static Tensor PadLeft(Tensor t, int length) => t.shape[1] == length ? t : nn.functional.pad(t, [length - t.shape[1], 0]);

    private void SetMask(Tensor? value)
    {
        var old = mask;
        mask = value?.DetachFromDisposeScope();
        if (old is not null && !ReferenceEquals(old, value)) old.Dispose();
    }

    private void SetLast(Tensor? value)
    {
        var old = lastTokens;
        lastTokens = value?.DetachFromDisposeScope();
        if (old is not null && !ReferenceEquals(old, value)) old.Dispose();
    }

    public void Dispose() => FailAll(new ObjectDisposedException(nameof(DecodeBatch)));
}
