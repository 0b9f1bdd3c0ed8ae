using System.Text.Json;

namespace TuningService.Domain.Models;

/// <summary>A Hugging Face checkpoint folder under ModelsRoot, as <see cref="ModelCatalog"/> lists it.</summary>
internal static class BaseCheckpointFolder
{
    /// <summary>The folder as a base model (id = folder name, architecture = <c>model_type</c>), or null without a readable config.json.</summary>
    public static ModelEntry? Read(string dir)
    {
        var config = Path.Combine(dir, "config.json");
        if (!File.Exists(config)) return null;
        string architecture = "unknown";
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(config));
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String)
                architecture = type.GetString()!;
        }
        catch (JsonException) { return null; }
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(dir));
        return new ModelEntry(name, BaseModelKinds.Checkpoint, architecture, null, new DateTimeOffset(Directory.GetCreationTimeUtc(dir), TimeSpan.Zero),
            ModelEntry.SystemOwner, $"Hugging Face checkpoint '{name}' ({architecture}).", null, Path.GetFullPath(dir));
    }
}
