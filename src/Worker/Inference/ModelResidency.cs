using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace TuningService.Worker.Inference;

/// <summary>
/// The models in memory, within a byte budget: a base is loaded once and shared by all its adapters; loading past
/// the budget evicts the least recently used idle bases. Loads, hits and evictions are logged.
/// </summary>
public sealed class ModelResidency(IOptions<InferenceOptions> options, ILogger<ModelResidency> logger) : IDisposable
{
    private readonly Dictionary<string, ResidentModel> resident = [];
    private readonly SemaphoreSlim loading = new(1, 1);

    /// <summary>Ids of the resident bases and adapters, for routing.</summary>
    public IReadOnlyList<string> ResidentIds()
    {
        lock (resident) return resident.Values.SelectMany(m => m.AdapterIds.Append(m.Loaded.Id)).Distinct().ToList();
    }

    /// <summary>The resident model serving <paramref name="source"/>, loaded if needed and reserved: call <see cref="ResidentModel.Release"/> once its sequences are submitted.</summary>
    public async Task<ResidentModel> AcquireAsync(ServedModelSource source, CancellationToken ct)
    {
        await loading.WaitAsync(ct);
        try
        {
            ResidentModel? model;
            lock (resident) resident.TryGetValue(source.BaseKey, out model);
            if (model is null)
            {
                var clock = Stopwatch.StartNew();
                var loaded = await Task.Run(source.LoadBase, ct);
                model = new ResidentModel(source.BaseKey, loaded, options.Value.MaxBatch, logger);
                logger.LogInformation("Loaded base {Base} for {Model} in {Ms} ms ({Bytes} bytes)", source.BaseKey, source.ModelId, clock.ElapsedMilliseconds, model.BaseBytes);
                lock (resident) resident[source.BaseKey] = model;
            }
            else logger.LogInformation("Cache hit: base {Base} resident for {Model}", source.BaseKey, source.ModelId);
            if (source.AdapterDirectory is { } adapter && !model.HasAdapter(source.ModelId))
            {
                var clock = Stopwatch.StartNew();
                model.AddAdapter(source.ModelId, adapter);
                logger.LogInformation("Loaded adapter {Model} on base {Base} in {Ms} ms", source.ModelId, source.BaseKey, clock.ElapsedMilliseconds);
            }
            model.Reserve();
            EvictBeyondBudget(keep: model);
            return model;
        }
        finally
        {
            loading.Release();
        }
    }

    private void EvictBeyondBudget(ResidentModel keep)
    {
        lock (resident)
        {
            foreach (var victim in resident.Values.Where(m => m != keep && !m.Busy).OrderBy(m => m.LastUsed).ToList())
            {
                if (resident.Values.Sum(m => m.Bytes) <= options.Value.ResidentBudgetBytes) return;
                resident.Remove(victim.Key);
                logger.LogInformation("Evicted base {Base} ({Bytes} bytes, least recently used)", victim.Key, victim.Bytes);
                victim.Dispose();
            }
        }
    }

    public void Dispose()
    {
        lock (resident)
        {
            foreach (var model in resident.Values) model.Dispose();
            resident.Clear();
        }
    }
}
