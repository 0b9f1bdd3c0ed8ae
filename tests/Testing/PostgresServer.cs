using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace TuningService.Testing;

/// <summary>
/// A real PostgreSQL server for the tests: the one named by <c>TUNING_TEST_POSTGRES</c> (a connection string whose
/// user may create databases), else a throwaway cluster made with <c>initdb</c>/<c>pg_ctl</c> on a free port,
/// started once per test process and removed when it exits. Each test fixture gets its own database.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<PostgresServer> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string? _dataDirectory;
    private readonly string? _binDirectory;
    private readonly string? _serverOptions;

    private PostgresServer(string adminConnectionString, string? dataDirectory, string? binDirectory, string? serverOptions = null)
    {
        AdminConnectionString = adminConnectionString;
        _dataDirectory = dataDirectory;
        _binDirectory = binDirectory;
        _serverOptions = serverOptions;
    }

    public static PostgresServer Instance => Shared.Value;

    public string AdminConnectionString { get; }

    public int Port => new NpgsqlConnectionStringBuilder(AdminConnectionString).Port;

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? prefix = null)
    {
        var name = $"{prefix ?? "test"}_{Guid.NewGuid():N}".ToLowerInvariant();
        // Unpooled: a pooled admin connection may have died in a restart test (57P01) since it was last used.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>
    /// Drops a database made by <see cref="CreateDatabaseAsync"/>, ending its sessions (a killed worker's may linger):
    /// fixtures drop theirs at dispose so the cluster holds only the databases of the tests that are running.
    /// </summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        if (string.IsNullOrEmpty(name)) return;
        NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Stops the throwaway cluster (fast shutdown) — for restart tests; <see cref="Restart"/> brings it back.</summary>
    /// <remarks>
    /// <paramref name="clearPools"/>: false leaves this process's Npgsql pools alone, as a real restart would, so a test
    /// can check that the code under test copes with pooled connections that died with the server.
    /// </remarks>
    public void Stop(bool clearPools = true) => PgCtl("stop -m fast -w", clearPools);

    /// <summary>Starts the stopped cluster with its original options (same port and socket directory).</summary>
    public void StartAgain(bool clearPools = true) => PgCtl($"start -w -t 60 -o \"{_serverOptions}\" -l {_dataDirectory}/server.log", clearPools);

    public void Restart() => PgCtl("restart -m fast -w -t 60");

    /// <summary>True when <c>TUNING_TEST_POSTGRES</c> names a server the tests must not stop (read without starting anything).</summary>
    public static bool UsesExternalServer => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(ExternalVariable));

    private const string ExternalVariable = "TUNING_TEST_POSTGRES";

    private void PgCtl(string arguments, bool clearPools = true)
    {
        if (_dataDirectory is null) throw new InvalidOperationException("The server is external (TUNING_TEST_POSTGRES); it cannot be stopped by tests.");
        RunAsPostgres(Path.Combine(_binDirectory!, "pg_ctl"), $"-D {_dataDirectory} {arguments}");
        if (clearPools) NpgsqlConnection.ClearAllPools();
    }

    private static PostgresServer Start()
    {
        var external = Environment.GetEnvironmentVariable(ExternalVariable);
        if (!string.IsNullOrWhiteSpace(external)) return new PostgresServer(external, null, null);

        var bin = FindBinDirectory();
        RemoveAbandonedClusters();
        var root = Path.Combine(Path.GetTempPath(), $"tuning-pg-{Guid.NewGuid():N}"[..22]);
        Directory.CreateDirectory(root);
        var data = Path.Combine(root, "data");
        if (IsRoot) Run("chown", $"postgres:postgres {root}");
        RunAsPostgres(Path.Combine(bin, "initdb"), $"-D {data} -U postgres --auth=trust --encoding=UTF8 --no-sync");
        var port = FreePort();
        // Test classes run in parallel, each host with its own connection pool (the concurrency tests fill theirs).
        // A small WAL keeps the cluster's disk footprint near its data (the default lets pg_wal grow to 1 GB).
        var options = $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=500 " +
            "-c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=64MB -c min_wal_size=32MB";
        RunAsPostgres(Path.Combine(bin, "pg_ctl"), $"-D {data} -o \"{options}\" -l {root}/server.log -w -t 60 start");
        var server = new PostgresServer($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Include Error Detail=true", data, bin, options);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Destroy(root);
        return server;
    }

    /// <summary>
    /// Deletes clusters earlier test processes left behind (a test host may be ended before its exit handler runs):
    /// those older than ten minutes whose postmaster is not running. test.sh's scratch folder catches the rest.
    /// </summary>
    private static void RemoveAbandonedClusters()
    {
        foreach (var root in Directory.GetDirectories(Path.GetTempPath(), "tuning-pg-*"))
        {
            if (Directory.GetLastWriteTimeUtc(root) > DateTime.UtcNow.AddMinutes(-10)) continue; // another process may be starting it
            var pidFile = Path.Combine(root, "data", "postmaster.pid");
            var pid = File.Exists(pidFile) ? File.ReadLines(pidFile).FirstOrDefault() : null;
            if (pid is not null && Directory.Exists($"/proc/{pid.Trim()}")) continue;
            TempDirectory.Delete(root);
        }
    }

    private void Destroy(string root)
    {
        try { RunAsPostgres(Path.Combine(_binDirectory!, "pg_ctl"), $"-D {_dataDirectory} stop -m immediate -w"); }
        catch (Exception) { /* already stopped */ }
        try { Directory.Delete(root, recursive: true); }
        catch (Exception) { /* best effort */ }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static string FindBinDirectory()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        foreach (var dir in versions.Select(d => Path.Combine(d, "bin")))
            if (File.Exists(Path.Combine(dir, "initdb"))) return dir;
        throw new InvalidOperationException(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin. Run ./test.sh (installs Debian's postgresql) " +
            "or set TUNING_TEST_POSTGRES to a connection string.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void RunAsPostgres(string program, string arguments)
    {
        if (IsRoot) Run("runuser", $"-u postgres -- {program} {arguments}");
        else Run(program, arguments);
    }

    private static void Run(string program, string arguments)
    {
        var start = new ProcessStartInfo("/bin/sh", ["-c", $"{program} {arguments}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {arguments} failed ({process.ExitCode}): {stderr.Result}{stdout.Result}");
    }
}
