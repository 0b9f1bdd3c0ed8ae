namespace TuningService.Worker.Tests.Recipes;

/// <summary>The repository's samples/ files, which the README's and docs' recipes upload.</summary>
public static class SampleFiles
{
    public static string Directory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (System.IO.Directory.Exists(Path.Combine(dir.FullName, "samples")) && File.Exists(Path.Combine(dir.FullName, "TuningService.sln")))
                    return Path.Combine(dir.FullName, "samples");
            throw new DirectoryNotFoundException("samples/ not found above the test binaries.");
        }
    }

    /// <summary>The file's first <paramref name="count"/> lines (all when null): a deterministic subset at reduced size.</summary>
    public static List<string> Lines(string name, int? count = null)
    {
        var lines = File.ReadLines(Path.Combine(Directory, name)).Where(l => l.Length > 0);
        return (count is int n ? lines.Take(n) : lines).ToList();
    }
}
