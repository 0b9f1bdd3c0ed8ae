using TuningService.Domain;
using TuningService.Domain.Projects;

namespace TuningService.Api.Organization;

/// <summary>OpenAI's project object.</summary>
public sealed record ProjectObject(string Object, string Id, string Name, long CreatedAt, long? ArchivedAt, string Status)
{
    public static ProjectObject From(Project p) =>
        new("organization.project", p.Id, p.Name, p.CreatedAt.ToUnixSeconds(), p.ArchivedAt?.ToUnixSeconds(), p.ArchivedAt is null ? "active" : "archived");
}

/// <summary>OpenAI's project API key object, as listed: the secret is never shown again, only <c>redacted_value</c>.</summary>
public sealed record ApiKeyObject(string Object, string Id, string Name, string RedactedValue, long CreatedAt, long? LastUsedAt, string ProjectId)
{
    public const string ObjectName = "organization.project.api_key";

    public static ApiKeyObject From(ApiKey k) =>
        new(ObjectName, k.Id, k.Name, k.RedactedValue, k.CreatedAt.ToUnixSeconds(), k.LastUsedAt?.ToUnixSeconds(), k.ProjectId);
}

/// <summary>A key just created: the only response that carries the secret <c>value</c>.</summary>
public sealed record CreatedApiKeyObject(string Object, string Id, string Name, string RedactedValue, long CreatedAt, long? LastUsedAt, string ProjectId, string Value)
{
    public static CreatedApiKeyObject From(ApiKey k, string secret) =>
        new(ApiKeyObject.ObjectName, k.Id, k.Name, k.RedactedValue, k.CreatedAt.ToUnixSeconds(), k.LastUsedAt?.ToUnixSeconds(), k.ProjectId, secret);
}

public sealed record ApiKeyDeleted(string Object, string Id, bool Deleted);

