using System.Diagnostics;
using System.Globalization;

namespace TuningService.Worker.Bench;

/// <summary>
/// Resident memory of this process from /proc/self/status (Linux): VmRSS now, VmHWM the peak since start or since
/// <see cref="ResetPeak"/>. Only what the CPU allocator holds: TorchSharp 0.107 exposes no CUDA allocator statistics
/// (its torch.cuda has no max_memory_allocated), and bench trains on the CPU.
/// </summary>
/// <remarks>
/// glibc may keep freed heap memory resident, which hides a step's activations being freed; run the bench with
/// MALLOC_MMAP_THRESHOLD_=65536 so tensors are mapped and unmapped one by one and RSS follows live memory.
/// </remarks>
internal static class ProcessMemory
{
    public static double ResidentMegabytes() => Read("VmRSS:") ?? Process.GetCurrentProcess().WorkingSet64 / 1048576.0;

    public static double PeakMegabytes() => Read("VmHWM:") ?? Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;

    /// <summary>Starts a new peak (VmHWM = VmRSS) by writing 5 to /proc/self/clear_refs. False where that is not possible.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static double? Read(string field)
    {
        if (!File.Exists("/proc/self/status")) return null;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line is null ? null
            : Math.Round(double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024, 1);
    }
}
