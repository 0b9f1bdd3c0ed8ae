using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using TuningService.LoadTest;

// Polls one route of a running TuningService with N concurrent clients, bounded in time and request count, on
// loopback only, and prints one JSON line: throughput and latency percentiles.
var settings = LoadSettings.Parse(args);
if (settings is null) return 2;

var target = new Uri(settings.Url);
var addresses = target.IsLoopback ? [IPAddress.Loopback] : await Dns.GetHostAddressesAsync(target.DnsSafeHost);
if (addresses.Length == 0 || !addresses.All(IPAddress.IsLoopback))
{
    Console.Error.WriteLine($"Refusing {target}: the load test only targets loopback addresses.");
    return 2;
}

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = settings.Clients, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
{
    BaseAddress = target,
    Timeout = TimeSpan.FromSeconds(30),
};
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.ApiKey);

// The default route (job status) may not exist yet: fall back to /v1/me rather than measure 404s.
var route = settings.Route;
var fellBack = false;
var probe = await http.GetAsync(route);
if (probe.StatusCode == HttpStatusCode.NotFound && route != settings.Fallback)
{
    Console.Error.WriteLine($"{route} answered 404; measuring {settings.Fallback} instead.");
    (route, fellBack) = (settings.Fallback, true);
}
else if (!probe.IsSuccessStatusCode)
{
    Console.Error.WriteLine($"Warning: {route} answered {(int)probe.StatusCode}: {await probe.Content.ReadAsStringAsync()}");
}

var run = new LoadRun(http, route, settings);
var clock = Stopwatch.StartNew();
await run.RunAsync();
var elapsed = clock.Elapsed.TotalSeconds;

var latencies = run.Latencies();
Console.WriteLine(JsonSerializer.Serialize(new
{
    url = settings.Url,
    route,
    fell_back = fellBack,
    clients = settings.Clients,
    duration_s = Math.Round(elapsed, 2),
    requests = latencies.Length,
    ok = run.Ok,
    statuses = run.Statuses(),
    errors = run.Errors,
    rps = Math.Round(latencies.Length / elapsed, 1),
    latency_ms = new
    {
        p50 = LoadRun.Percentile(latencies, 0.50),
        p90 = LoadRun.Percentile(latencies, 0.90),
        p99 = LoadRun.Percentile(latencies, 0.99),
        max = latencies.Length == 0 ? 0 : Math.Round(latencies[^1], 2),
    },
}));
return run.Ok > 0 ? 0 : 1;
