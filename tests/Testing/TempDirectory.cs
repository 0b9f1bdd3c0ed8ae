namespace TuningService.Testing;

/// <summary>
/// A directory under the temp path that a test owns and deletes at dispose. Tests write checkpoints and whole
/// PostgreSQL clusters, so everything a test creates on disk lives in one of these: the suite's footprint stays at
/// what the running tests hold, not the sum of every test run so far.
/// </summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "tuning-test-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Delete(Path);

    /// <summary>Deletes a directory tree, ignoring one that is gone already (best effort: a file still held open stays).</summary>
    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
