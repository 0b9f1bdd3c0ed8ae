namespace TuningService.Worker.Hosting;

/// <summary>Settings of one worker process, bound from the <c>Worker</c> section.</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Jobs run at once by this process: one per device (GPU), default 1.</summary>
    public int Devices { get; set; } = 1;
    /// <summary>Name shown in job events and the Hangfire dashboard; defaults to host name and process id.</summary>
    public string Name { get; set; } = $"{Environment.MachineName}:{Environment.ProcessId}";
    /// <summary>Seconds a job's lease lasts without a heartbeat (heartbeats every sixth of it). A dead worker's job resumes about this long after it died.</summary>
    public int LeaseSeconds { get; set; } = 30;
    /// <summary>Take-overs after a worker died before the job fails with <c>worker_crashed</c>.</summary>
    public int MaxCrashRestarts { get; set; } = 3;
    /// <summary>Checkpoints kept on disk per job (older ones are pruned; their rows stay).</summary>
    public int KeepCheckpoints { get; set; } = 3;
    /// <summary>Optimizer steps between metrics events (each reads the loss off the device: a sync point).</summary>
    public int MetricsInterval { get; set; } = 1;
    /// <summary>Hangfire's invisibility timeout (sliding): a fetched job whose server vanished is delivered again after this.</summary>
    public int InvisibilityTimeoutSeconds { get; set; } = 300;
    /// <summary>Device jobs train on: auto (the first GPU if any, else the CPU), cpu, cuda or cuda:N (one worker per GPU).</summary>
    public string Device { get; set; } = TrainingDevice.Auto;
    /// <summary>Torch CPU threads; 0 = all cores.</summary>
    public int CpuThreads { get; set; }
}
