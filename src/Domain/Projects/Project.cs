namespace TuningService.Domain.Projects;

/// <summary>The unit of isolation: every file, job, event, checkpoint and model belongs to one project.</summary>
public sealed class Project
{
    public const string DefaultProjectId = "proj_default";

    public required string Id { get; init; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? ArchivedAt { get; set; }
}
