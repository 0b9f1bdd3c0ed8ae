namespace TuningService.Worker.Engine.Checkpoints;

/// <summary>
/// Writes a directory so that readers see either the old one or the complete new one, never a half-written one:
/// contents go to a sibling temp directory, every file is fsynced, then the directory is renamed into place.
/// </summary>
public static class AtomicDirectory
{
    public static void Write(string target, Action<string> writeContents)
    {
        target = Path.GetFullPath(target.TrimEnd(Path.DirectorySeparatorChar));
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(target)}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            writeContents(temp);
            foreach (var file in Directory.EnumerateFiles(temp, "*", SearchOption.AllDirectories))
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
                stream.Flush(flushToDisk: true);
            }
            string? old = null;
            if (Directory.Exists(target))
            {
                old = Path.Combine(parent, $".{Path.GetFileName(target)}.old-{Guid.NewGuid():N}");
                Directory.Move(target, old);
            }
            Directory.Move(temp, target);
            if (old is not null) Directory.Delete(old, recursive: true);
        }
        catch
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            throw;
        }
    }
}
