using System.Runtime.InteropServices;
using TorchSharp;

namespace TuningService.Worker.Runtime;

/// <summary>
/// Peak GPU memory of a CUDA job, for its metrics (<c>peak_device_memory_mb</c>). TorchSharp 0.107 exposes no CUDA allocator
/// statistics (no max_memory_allocated), so this samples NVML (libnvidia-ml.so.1, installed with the NVIDIA driver) every
/// 50 ms and at each metrics report: the device memory NVML attributes to this process on any GPU (its CUDA context plus
/// everything the caching allocator holds, i.e. what nvidia-smi shows for the process, above the allocator's own peak of
/// live tensors). Where NVML cannot see this process (a container without the host's process ids) it falls back to the
/// whole device's used memory on the GPU of the same index, which a worker per GPU has to itself. Only for CUDA devices:
/// on the CPU, or without NVML, there is no monitor and the metric is absent. A sampled peak can miss a spike shorter than
/// the interval; the caching allocator rarely returns memory, so its peak holds until the next sample.
/// </summary>
public sealed class DeviceMemoryMonitor : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);
    private readonly Nvml nvml;
    private readonly uint deviceIndex;
    private readonly Timer timer;
    private long peakBytes;

    private DeviceMemoryMonitor(Nvml nvml, uint deviceIndex)
    {
        this.nvml = nvml;
        this.deviceIndex = deviceIndex;
        Sample();
        timer = new Timer(_ => Sample(), null, Interval, Interval);
    }

    /// <summary>A started monitor for a CUDA device, or null (the CPU, or no NVML on this machine).</summary>
    public static DeviceMemoryMonitor? Start(torch.Device device)
    {
        if (device.type != DeviceType.CUDA || Nvml.Open() is not { } nvml) return null;
        return new DeviceMemoryMonitor(nvml, (uint)Math.Max(0, device.index));
    }

    /// <summary>The highest device memory seen so far, in MiB (sampled now as well).</summary>
    public double PeakMegabytes
    {
        get
        {
            Sample();
            return Math.Round(Interlocked.Read(ref peakBytes) / 1048576.0, 1);
        }
    }

    private void Sample()
    {
        long used = nvml.ProcessBytes(Environment.ProcessId) ?? nvml.DeviceUsedBytes(deviceIndex) ?? 0;
        long seen;
        while (used > (seen = Interlocked.Read(ref peakBytes)) && Interlocked.CompareExchange(ref peakBytes, used, seen) != seen) { }
    }

    public void Dispose() => timer.Dispose();

    /// <summary>
    /// The few NVML calls used (nvml.h), through the driver's libnvidia-ml.so.1. DllImport rather than LibraryImport, whose
    /// generated marshalling needs unsafe code in the project; these calls are rare and take blittable arguments.
    /// </summary>
#pragma warning disable SYSLIB1054
    private sealed class Nvml
    {
        private const string Library = "libnvidia-ml.so.1";
        private const int Success = 0, InsufficientSize = 7;
        private static readonly Lock InitLock = new();
        private static bool? initialized;

        public static Nvml? Open()
        {
            lock (InitLock)
            {
                try
                {
                    initialized ??= nvmlInit_v2() == Success;
                }
                catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
                {
                    initialized = false;
                }
                return initialized == true ? new Nvml() : null;
            }
        }

        /// <summary>Memory NVML attributes to the process on every GPU, or null when it lists the process on none.</summary>
        public long? ProcessBytes(int pid)
        {
            if (nvmlDeviceGetCount_v2(out uint count) != Success) return null;
            long? total = null;
            for (uint i = 0; i < count; i++)
            {
                if (nvmlDeviceGetHandleByIndex_v2(i, out var device) != Success) continue;
                var processes = new ProcessInfo[16];
                uint n = (uint)processes.Length;
                int status = nvmlDeviceGetComputeRunningProcesses_v3(device, ref n, processes);
                if (status == InsufficientSize)
                {
                    processes = new ProcessInfo[n + 8];
                    n = (uint)processes.Length;
                    status = nvmlDeviceGetComputeRunningProcesses_v3(device, ref n, processes);
                }
                if (status != Success) continue;
                foreach (var p in processes.AsSpan(0, (int)n))
                    if (p.Pid == pid && p.UsedGpuMemory != ulong.MaxValue) total = (total ?? 0) + (long)p.UsedGpuMemory; // ulong.MaxValue: not available
            }
            return total;
        }

        /// <summary>Used memory of the whole device at an index, or null.</summary>
        public long? DeviceUsedBytes(uint index) =>
            nvmlDeviceGetHandleByIndex_v2(index, out var device) == Success && nvmlDeviceGetMemoryInfo(device, out var memory) == Success
                ? (long)memory.Used : null;

        [StructLayout(LayoutKind.Sequential)]
        private struct ProcessInfo // nvmlProcessInfo_t (v2 and v3 layouts)
        {
            public uint Pid;
            public ulong UsedGpuMemory;
            public uint GpuInstanceId;
            public uint ComputeInstanceId;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct MemoryInfo // nvmlMemory_t
        {
            public ulong Total;
            public ulong Free;
            public ulong Used;
        }

        [DllImport(Library)]
        private static extern int nvmlInit_v2();

        [DllImport(Library)]
        private static extern int nvmlDeviceGetCount_v2(out uint count);

        [DllImport(Library)]
        private static extern int nvmlDeviceGetHandleByIndex_v2(uint index, out IntPtr device);

        [DllImport(Library)]
        private static extern int nvmlDeviceGetComputeRunningProcesses_v3(IntPtr device, ref uint infoCount, [Out] ProcessInfo[] infos);

        [DllImport(Library)]
        private static extern int nvmlDeviceGetMemoryInfo(IntPtr device, out MemoryInfo memory);
    }
#pragma warning restore SYSLIB1054
}
