namespace TuningService.Worker.Hosting;

/// <summary>Settings of one worker process, bound from the <c>Worker</c> section.</summary>
public sealed class WorkerOptions
{
    public const string Section = "Worker";

    /// <summary>Jobs run at once by this process: one per device (GPU), default 1.</summary>
    public int Devices { get; set; } = 1;
    /// <summary>Name shown in job events and the Hangfire dashboard; defaults to host name and process id.</summary>
    public string Name { get; set; } = $"{Environment.MachineName}:{Environment.ProcessId}";
}
