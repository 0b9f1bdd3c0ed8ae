using TorchSharp;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Models;

/// <summary>
/// A decoder-only transformer: token ids in, next-token logits out.
/// Later stages (reward model, PPO value head) build on <see cref="HiddenStates"/>.
/// </summary>
public abstract class CausalLanguageModel : nn.Module<Tensor, Tensor>
{
    protected CausalLanguageModel(string name, ModelConfig config) : base(name) => Config = config.Validate();

    public ModelConfig Config { get; }

    /// <summary>Recompute each transformer block in backward instead of keeping its activations (<see cref="CheckpointedBlock"/>); training only, never with a cache.</summary>
    public bool GradientCheckpointing { get; set; }
    public int HiddenSize => Config.HiddenSize;
    public int VocabSize => Config.VocabSize;

    /// <summary>
    /// Final hidden states after the last norm, (B, T, C).
    /// <paramref name="attentionMask"/> (B, S) with 1 for real tokens and 0 for padding, S = cached + T;
    /// null means no padding, or right padding only (causal attention never looks right). A 4-D boolean mask (B, 1, T, S)
    /// (true = may attend) is used as given, e.g. the block-diagonal causal mask of packed rows; it needs position ids.
    /// <paramref name="positionIds"/> (B, T); null derives them from the mask (left padding) or the cache length.
    /// </summary>
    public abstract Tensor HiddenStates(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null, KvCache? cache = null);

    /// <summary>Projects hidden states (..., C) onto the vocabulary (..., V).</summary>
    public abstract Tensor Logits(Tensor hidden);

    /// <summary>
    /// The weight <see cref="Logits"/> projects with, (V, C) (the token embedding when tied), and the layer that holds it
    /// when that is an adaptable linear layer (an untied lm_head, which an adapter may target); no bias. Null when
    /// <see cref="Logits"/> is more than that projection (Gemma 2 soft-caps its logits).
    /// </summary>
    public abstract (Tensor Weight, AdaptableLinear? Layer)? OutputHead { get; }

    /// <summary>Fills every weight from the global torch generator (seed it first), as the reference implementation does.</summary>
    public abstract void InitializeWeights();

    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null, KvCache? cache = null)
        => Logits(HiddenStates(inputIds, attentionMask, positionIds, cache));

    /// <summary>(B, T) token ids to (B, T, V) logits, no padding, no cache.</summary>
    public override Tensor forward(Tensor inputIds) => Forward(inputIds);

    /// <summary>Names of the linear layers LoRA may target (q_proj, c_attn, ...).</summary>
    public IEnumerable<(string Name, AdaptableLinear Layer)> LinearLayers()
        => named_modules().Where(m => m.module is AdaptableLinear).Select(m => (m.name, (AdaptableLinear)m.module));

    /// <summary>
    /// Position ids (B, T) and a boolean attention mask (B, 1, T, S) (true = may attend) for a step
    /// that appends T tokens after <paramref name="pastLength"/> cached ones. Returns a null mask when
    /// plain causal attention is exact (no padding mask given).
    /// </summary>
    protected static (Tensor Positions, Tensor? Mask) PositionsAndMask(Tensor inputIds, Tensor? attentionMask, Tensor? positionIds, int pastLength)
    {
        long batch = inputIds.shape[0], length = inputIds.shape[1];
        var device = inputIds.device;
        if (attentionMask is { } full && full.dim() == 4)
            return (positionIds ?? throw new ArgumentException("A 4-D attention mask needs position ids.", nameof(positionIds)), full);
        if (attentionMask is null)
        {
            var positions = positionIds ?? arange(pastLength, pastLength + length, dtype: ScalarType.Int64, device: device).unsqueeze(0).expand(batch, length);
            if (pastLength == 0 || length == 1) return (positions, null); // causal (or single query) attention is exact
            var keys = arange(pastLength + length, device: device);                         // (S)
            var queries = arange(pastLength, pastLength + length, device: device);           // (T)
            var causal = keys.unsqueeze(0) <= queries.unsqueeze(1);                          // (T, S)
            return (positions, causal.unsqueeze(0).unsqueeze(0).expand(batch, 1, length, pastLength + length));
        }
        var maskBool = attentionMask.to(ScalarType.Bool);                                   // (B, S)
        var derived = positionIds ?? (attentionMask.to(ScalarType.Int64).cumsum(1) - 1).clamp_min(0)[.., pastLength..];
        var total = attentionMask.shape[1];
        var k = arange(total, device: device);
        var q = arange(pastLength, pastLength + length, device: device);
        var causalMask = (k.unsqueeze(0) <= q.unsqueeze(1)).unsqueeze(0);                  // (1, T, S)
        var diagonal = (k.unsqueeze(0) == q.unsqueeze(1)).unsqueeze(0);                    // a padded query still sees itself: no NaN rows
        var allowed = (causalMask & maskBool.unsqueeze(1)) | diagonal;                      // (B, T, S)
        return (derived, allowed.unsqueeze(1));
    }
}

/// <summary>
/// Keys and values of past positions, one pair per layer, each (B, H_kv, S, D). By default every append concatenates
/// (a new tensor per layer and step). With <c>growBy</c> &gt; 0 each layer keeps a zero-filled buffer with room for
/// <c>growBy</c> more positions, which appends write in place; the pairs returned are views of its first S positions.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] keys;     // (B, H_kv, capacity, D): the first lengths[layer] positions are the cache
    private readonly Tensor?[] values;
    private readonly int[] lengths;      // per layer, since a step appends layer by layer
    private readonly int growBy;

    public KvCache(int layers, int growBy = 0)
    {
        keys = new Tensor?[layers];
        values = new Tensor?[layers];
        lengths = new int[layers];
        this.growBy = growBy;
    }

    /// <summary>Number of cached positions (S).</summary>
    public int Length => lengths[0];

    private int Capacity => keys[0] is null ? 0 : (int)keys[0]!.shape[2];

    /// <summary>Appends this step's keys/values for one layer and returns the full (B, H_kv, S + T, D) pair.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        int past = lengths[layer], total = past + (int)k.shape[2];
        lengths[layer] = total;
        if (growBy == 0)
        {
            var oldK = keys[layer];
            var oldV = values[layer];
            var newK = oldK is null ? k.detach() : cat([oldK, k.detach()], 2);
            var newV = oldV is null ? v.detach() : cat([oldV, v.detach()], 2);
            Replace(keys, layer, newK);
            Replace(values, layer, newV);
            return (newK, newV);
        }
        if (keys[layer] is null || keys[layer]!.shape[2] < total)
        {
            int capacity = total + growBy;
            Replace(keys, layer, keys[layer] is { } oldK ? Padded(oldK.narrow(2, 0, past), past, capacity) : zeros([k.shape[0], k.shape[1], capacity, k.shape[3]], k.dtype, k.device));
            Replace(values, layer, values[layer] is { } oldV ? Padded(oldV.narrow(2, 0, past), past, capacity) : zeros([v.shape[0], v.shape[1], capacity, v.shape[3]], v.dtype, v.device));
        }
        keys[layer]!.narrow(2, past, total - past).copy_(k);
        values[layer]!.narrow(2, past, total - past).copy_(v);
        return (keys[layer]!.narrow(2, 0, total), values[layer]!.narrow(2, 0, total));
    }

    /// <summary>Keeps only the given batch rows (B' indices, in order): sequences leaving a continuous batch.</summary>
    public void KeepRows(Tensor rows)
    {
        for (int layer = 0; layer < keys.Length; layer++)
        {
            Replace(keys, layer, keys[layer]?.index_select(0, rows));
            Replace(values, layer, values[layer]?.index_select(0, rows));
        }
    }

    /// <summary>
    /// Appends another cache's rows after these (dim 0): sequences joining a continuous batch. The shorter of the two
    /// is left-padded with zeros along S, which the batch's attention mask must hide.
    /// </summary>
    public void AppendRows(KvCache other)
    {
        int length = Math.Max(Length, other.Length);
        int capacity = growBy == 0 ? length : Math.Max(Capacity, length + growBy);
        for (int layer = 0; layer < keys.Length; layer++)
        {
            Replace(keys, layer, Rows(keys[layer], Length, other.keys[layer]!, other.Length, length, capacity));
            Replace(values, layer, Rows(values[layer], Length, other.values[layer]!, other.Length, length, capacity));
        }
        Array.Fill(lengths, length);
    }

    private static Tensor Rows(Tensor? mine, int myLength, Tensor theirs, int theirLength, int length, int capacity)
    {
        var joining = Padded(theirs.narrow(2, 0, theirLength), length, capacity);
        return mine is null ? joining : cat([Padded(mine.narrow(2, 0, myLength), length, capacity), joining], 0);
    }

    /// <summary>(B, H, S, D) positions right-aligned at <paramref name="length"/> in <paramref name="capacity"/> (zeros around them).</summary>
    private static Tensor Padded(Tensor t, int length, int capacity)
    {
        int s = (int)t.shape[2];
        return s == capacity ? t.clone() : nn.functional.pad(t, [0, 0, length - s, capacity - length]);
    }

    private static void Replace(Tensor?[] slots, int layer, Tensor? value)
    {
        var old = slots[layer];
        slots[layer] = value?.DetachFromDisposeScope();
        if (old is not null && !ReferenceEquals(old, value)) old.Dispose();
    }

    public void Dispose()
    {
        foreach (var t in keys) t?.Dispose();
        foreach (var t in values) t?.Dispose();
        Array.Clear(keys);
        Array.Clear(values);
        Array.Clear(lengths);
    }
}
