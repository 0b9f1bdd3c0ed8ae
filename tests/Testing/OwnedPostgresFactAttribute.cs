using Xunit;

namespace TuningService.Testing;

/// <summary>
/// A test that stops or restarts PostgreSQL: it needs the throwaway cluster the tests start themselves, so it is
/// reported as skipped (not silently passed) when <c>TUNING_TEST_POSTGRES</c> names an external server.
/// </summary>
public sealed class OwnedPostgresFactAttribute : FactAttribute
{
    public OwnedPostgresFactAttribute()
    {
        if (PostgresServer.UsesExternalServer)
            Skip = "Needs the tests' own PostgreSQL cluster to stop and restart; TUNING_TEST_POSTGRES names an external server.";
    }
}
