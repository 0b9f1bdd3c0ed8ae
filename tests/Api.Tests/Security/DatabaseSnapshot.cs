using Npgsql;

namespace TuningService.Api.Tests.Security;

/// <summary>
/// Every table of the database (the application's and Hangfire's), each as its row count and a digest of its rows, so
/// a test can prove a request changed nothing at all. Hangfire's lock table is left out: locks come and go by themselves.
/// </summary>
public sealed record DatabaseSnapshot(IReadOnlyDictionary<string, (long Rows, string Digest)> Tables)
{
    public static async Task<DatabaseSnapshot> TakeAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var names = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables " +
            "WHERE table_type = 'BASE TABLE' AND table_schema IN ('public', 'hangfire') AND NOT (table_schema = 'hangfire' AND table_name = 'lock') " +
            "ORDER BY 1", connection))
        await using (var reader = await list.ExecuteReaderAsync())
            while (await reader.ReadAsync()) names.Add(reader.GetString(0));

        var tables = new SortedDictionary<string, (long, string)>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            await using var command = new NpgsqlCommand(
                $"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {name} t", connection);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            tables[name] = (reader.GetInt64(0), reader.GetString(1));
        }
        return new DatabaseSnapshot(tables);
    }

    /// <summary>The tables whose rows differ from <paramref name="before"/>, e.g. <c>public.training_jobs: 3 → 4 rows</c>.</summary>
    public IReadOnlyList<string> ChangesSince(DatabaseSnapshot before) =>
        Tables.Keys.Union(before.Tables.Keys)
            .Where(t => !before.Tables.TryGetValue(t, out var old) || !Tables.TryGetValue(t, out var now) || old != now)
            .Select(t => $"{t}: {(before.Tables.TryGetValue(t, out var o) ? o.Rows : 0)} → {(Tables.TryGetValue(t, out var n) ? n.Rows : 0)} rows")
            .ToList();

    public void AssertUnchangedSince(DatabaseSnapshot before, string what)
    {
        var changes = ChangesSince(before);
        Assert.True(changes.Count == 0, $"{what} changed the database: {string.Join("; ", changes)}");
    }
}
