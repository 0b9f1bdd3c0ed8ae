using System.Diagnostics;
using System.Text;

namespace TuningService.Worker.Tests.Runtime;

/// <summary>The real worker executable as a child process, so tests can SIGTERM it or kill it hard.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private WorkerProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output { get { lock (_output) return _output.ToString(); } }

    public bool HasExited => _process.HasExited;

    public static WorkerProcess Start(string connectionString, string artifactsRoot, string name, IDictionary<string, string>? settings = null)
    {
        var start = new ProcessStartInfo("dotnet", [WorkerDll()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(WorkerDll())!,
        };
        start.Environment["ConnectionStrings__Tuning"] = connectionString;
        start.Environment["Tuning__ArtifactsRoot"] = artifactsRoot;
        start.Environment["Worker__Name"] = name;
        start.Environment["Worker__LeaseSeconds"] = "4";
        start.Environment["Worker__CpuThreads"] = "1";
        start.Environment["DOTNET_ENVIRONMENT"] = "Testing";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__TuningService"] = "Information";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) start.Environment[key] = value;
        return new WorkerProcess(Process.Start(start)!);
    }

    /// <summary>SIGKILL: no checkpoint, no lease release — a machine lost mid-step.</summary>
    public void KillHard()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as compose or systemd stop a worker; waits for a graceful exit.</summary>
    public bool Terminate(TimeSpan timeout)
    {
        if (_process.HasExited) return true;
        Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        return _process.WaitForExit(timeout);
    }

    public void Dispose()
    {
        if (!_process.HasExited) KillHard();
        _process.Dispose();
    }

    /// <summary>The worker built beside these tests, same configuration (src/Worker/bin/{Configuration}/net10.0).</summary>
    private static string WorkerDll()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testBin.Parent!.Name; // .../tests/Worker.Tests/bin/{Configuration}/net10.0
        var root = testBin.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(root, "src", "Worker", "bin", configuration, "net10.0", "TuningService.Worker.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build the worker first: {dll} is missing.");
    }
}
