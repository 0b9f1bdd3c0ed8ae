namespace TuningService.Worker.Inference;

/// <summary>Settings of the inference role, bound from the <c>Inference</c> section.</summary>
public sealed class InferenceOptions
{
    public const string Section = "Inference";

    /// <summary>Where the HTTP server listens; port 0 takes a free port.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:0";
    /// <summary>Base URL the Api should use to reach this worker; default: the bound address.</summary>
    public string? AdvertisedAddress { get; set; }
    /// <summary>Seconds between heartbeats in <c>inference_workers</c>; the Api's liveness window is a few of these.</summary>
    public int HeartbeatSeconds { get; set; } = 3;
    /// <summary>Bytes of model weights (bases plus adapters) kept resident; least recently used models are evicted beyond it.</summary>
    public long ResidentBudgetBytes { get; set; } = 8L << 30;
    /// <summary>Rows decoded together per adapter batch; later requests wait for a free row.</summary>
    public int MaxBatch { get; set; } = 16;
}
