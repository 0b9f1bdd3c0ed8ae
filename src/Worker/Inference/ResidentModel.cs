using System.Collections.Concurrent;
using TorchSharp;
using TuningService.Worker.Engine;

namespace TuningService.Worker.Inference;

/// <summary>
/// A base model in memory with its adapters and its scheduler: one thread that runs continuous batching. Sequences
/// are submitted from any thread; between decode steps the loop lets waiting sequences join (prompts prefilled,
/// caches appended) and drops finished ones. Each adapter decodes as its own batch; batches take turns step by step.
/// </summary>
public sealed class ResidentModel : IDisposable
{
    private static readonly TimeSpan BurstGap = TimeSpan.FromMilliseconds(1);
    private const int BurstWindowMs = 5;
    private readonly ConcurrentQueue<GenerationSequence> waiting = new();
    private readonly SemaphoreSlim arrived = new(0);
    private readonly Dictionary<string, DecodeBatch> batches = [];  // by adapter id ("" = the base alone)
    private readonly ConcurrentDictionary<string, ServedAdapter> adapters = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly Thread loop;
    private readonly ILogger logger;
    private readonly DecodeHead head;
    private ServedAdapter? applied;   // the adapter the base's layers point at now (none when loaded)
    private int active;

    public ResidentModel(string key, LoadedModel loaded, int maxBatch, ILogger logger)
    {
        Key = key;
        Loaded = loaded;
        MaxBatch = maxBatch;
        this.logger = logger;
        loaded.Model.eval();
        head = new DecodeHead(loaded.Model);
        BaseBytes = loaded.Model.parameters().Sum(p => p.numel() * p.ElementSize) + head.Bytes;
        loop = new Thread(Run) { IsBackground = true, Name = $"generate {key}" };
        loop.Start();
    }

    public string Key { get; }
    public LoadedModel Loaded { get; }
    public int MaxBatch { get; }
    public long BaseBytes { get; }
    public long Bytes => BaseBytes + adapters.Values.Sum(a => a.Bytes);
    public DateTime LastUsed { get; private set; } = DateTime.UtcNow;
    /// <summary>Sequences submitted and not finished; a busy model is not evicted.</summary>
    public bool Busy => Volatile.Read(ref active) > 0;
    public IEnumerable<string> AdapterIds => adapters.Keys;

    /// <summary>The adapter served as <paramref name="modelId"/>, loaded on first use.</summary>
    public bool HasAdapter(string modelId) => adapters.ContainsKey(modelId);

    public void AddAdapter(string modelId, string directory) =>
        adapters.GetOrAdd(modelId, _ => ServedAdapter.Load(Loaded.Model, directory));

    /// <summary>Keeps the model from eviction between acquiring it and submitting to it; pair with <see cref="Release"/>.</summary>
    public void Reserve()
    {
        LastUsed = DateTime.UtcNow;
        Interlocked.Increment(ref active);
    }

    public void Release() => Interlocked.Decrement(ref active);

    public void Submit(GenerationSequence sequence)
    {
        LastUsed = DateTime.UtcNow;
        Interlocked.Increment(ref active);
        waiting.Enqueue(sequence);
        arrived.Release();
    }

    private void Run()
    {
        using var inference = torch.inference_mode(); // no autograd bookkeeping at all (version counters, views): decode is many small ops
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (batches.Values.All(b => b.Count == 0)) AwaitBurst();
                AdmitWaiting();
                foreach (var (adapterId, batch) in batches)
                {
                    if (batch.Count == 0) continue;
                    Apply(adapterId);
                    batch.Step();
                    Leave(batch);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                logger.LogError(e, "Generation on {Model} failed; its running requests end with an error.", Key);
                foreach (var batch in batches.Values) { Interlocked.Add(ref active, -batch.Count); batch.FailAll(e); }
            }
        }
    }

    /// <summary>
    /// Idle: waits for a sequence, then briefly for the rest of its burst (requests sent together, n > 1 choices), so that
    /// they prefill as one batch and share a cache length instead of joining one or two at a time a step apart.
    /// </summary>
    private void AwaitBurst()
    {
        arrived.Wait(stopping.Token);
        long until = Environment.TickCount64 + BurstWindowMs;
        while (waiting.Count < MaxBatch && Environment.TickCount64 < until && arrived.Wait(BurstGap, stopping.Token)) { }
    }

    /// <summary>Sequences that arrived since the last step join their adapter's batch, up to <see cref="MaxBatch"/> rows each.</summary>
    private void AdmitWaiting()
    {
        var joining = new List<GenerationSequence>();
        while (arrived.Wait(0)) { }
        while (waiting.TryDequeue(out var sequence))
        {
            if (sequence.ShouldLeave) { sequence.Complete(FinishReason.Stop); Interlocked.Decrement(ref active); continue; }
            joining.Add(sequence);
        }
        var deferred = new List<GenerationSequence>();
        foreach (var group in joining.GroupBy(s => s.AdapterId ?? ""))
        {
            if (!batches.TryGetValue(group.Key, out var batch)) batches[group.Key] = batch = new DecodeBatch(Loaded.Model, head);
            var room = Math.Max(0, MaxBatch - batch.Count);
            var admitted = group.Take(room).ToList();
            deferred.AddRange(group.Skip(room));
            if (admitted.Count == 0) continue;
            Apply(group.Key);
            batch.Join(admitted);
            Leave(batch);
        }
        foreach (var sequence in deferred) waiting.Enqueue(sequence); // next step: the batch is full
        if (deferred.Count > 0) arrived.Release();
    }

    /// <summary>Points the base's layers at the adapter of the batch about to run, unless they already do.</summary>
    private void Apply(string adapterId)
    {
        var adapter = adapterId.Length == 0 ? null : adapters[adapterId];
        if (ReferenceEquals(adapter, applied)) return;   // a loaded base serves no adapter
        ServedAdapter.Apply(Loaded.Model, adapter);
        applied = adapter;
    }

    private void Leave(DecodeBatch batch)
    {
        int before = batch.Count;
        foreach (var sequence in batch.RemoveFinished())
            if (sequence.Cancellation.IsCancellationRequested)
                logger.LogInformation("Generation on {Model} cancelled by the client after {Generated} of {Max} tokens", Key, sequence.Generated, sequence.Sampling.MaxNewTokens);
        Interlocked.Add(ref active, batch.Count - before);
    }

    public void Dispose()
    {
        stopping.Cancel();
        loop.Join(TimeSpan.FromSeconds(10));
        foreach (var batch in batches.Values) batch.Dispose();
        foreach (var adapter in adapters.Values) adapter.Dispose();
        head.Dispose();
        Loaded.Dispose();
    }
}
