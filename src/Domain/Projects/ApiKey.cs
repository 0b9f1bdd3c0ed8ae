using System.Security.Cryptography;
using System.Text;

namespace TuningService.Domain.Projects;

/// <summary>A bearer key of a project. Only its SHA-256 hash is stored; the secret is shown once at creation.</summary>
public sealed class ApiKey
{
    public required string Id { get; init; }
    public required string ProjectId { get; init; }
    public required string Name { get; set; }
    /// <summary>Lowercase hex SHA-256 of the secret.</summary>
    public required string Hash { get; init; }
    /// <summary>What listings show instead of the secret, e.g. <c>sk-tun-...abcd</c>.</summary>
    public required string RedactedValue { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    public static string HashSecret(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static string NewSecret() => "sk-tun-" + Ids.RandomToken(40);

    public static string Redact(string secret) =>
        secret.Length <= 10 ? "***" : secret[..7] + "..." + secret[^4..];

    /// <summary>Creates a key and returns it with its one-time secret.</summary>
    public static (ApiKey Key, string Secret) Create(string projectId, string name, string? secret = null)
    {
        secret ??= NewSecret();
        var key = new ApiKey
        {
            Id = Ids.New("key_"),
            ProjectId = projectId,
            Name = name,
            Hash = HashSecret(secret),
            RedactedValue = Redact(secret),
        };
        return (key, secret);
    }
}
