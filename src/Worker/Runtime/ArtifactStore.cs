using Microsoft.Extensions.Options;
using TuningService.Domain;

namespace TuningService.Worker.Runtime;

/// <summary>
/// Where weights live: a directory shared by every worker and the API. Postgres holds only paths relative to
/// its root. Directories are written whole to a temporary sibling, fsynced, then renamed into place.
/// </summary>
public sealed class ArtifactStore(IOptions<TuningOptions> options)
{
    public string Root { get; } = Path.GetFullPath(options.Value.ArtifactsRoot);

    public string FullPath(string relative) => Path.Combine(Root, relative);

    public static string CheckpointPath(string jobId, int step) => Path.Combine("jobs", jobId, "checkpoints", $"step-{step:D7}");

    public static string ModelPath(string jobId) => Path.Combine("models", jobId);

    /// <summary>Fails fast, with the code the user sees, when the store cannot be written (full disk, no permission).</summary>
    public void EnsureWritable()
    {
        try
        {
            Directory.CreateDirectory(Root);
            var probe = Path.Combine(Root, $".probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, new byte[4096]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw JobFailures.Fail(JobFailures.ArtifactStoreUnavailable,
                $"The artifact store at {Root} cannot be written: {e.Message}. Free disk space or fix its permissions, then create the job again.", inner: e);
        }
    }

    public void DeleteQuietly(string relative)
    {
        try
        {
            var full = FullPath(relative);
            if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
        }
        catch (IOException) { /* pruning is best effort; the row records it */ }
    }
}
