using System.Collections.Concurrent;
using System.Diagnostics;

namespace TuningService.LoadTest;

/// <summary>N clients, each sending its next request as soon as the last one answered, until time or budget runs out.</summary>
public sealed class LoadRun(HttpClient http, string route, LoadSettings settings)
{
    private readonly ConcurrentDictionary<int, int> _statuses = new();
    private readonly List<double>[] _latencies = Enumerable.Range(0, settings.Clients).Select(_ => new List<double>()).ToArray();
    private int _issued;
    private int _ok;
    private int _errors;

    public int Ok => _ok;
    public int Errors => _errors;

    public async Task RunAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(settings.Seconds));
        await Task.WhenAll(Enumerable.Range(0, settings.Clients).Select(c => ClientAsync(_latencies[c], deadline.Token)));
    }

    private async Task ClientAsync(List<double> latencies, CancellationToken deadline)
    {
        while (!deadline.IsCancellationRequested && Interlocked.Increment(ref _issued) <= settings.MaxRequests)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                using var response = await http.GetAsync(route, HttpCompletionOption.ResponseContentRead, deadline);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                _statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                if (response.IsSuccessStatusCode) Interlocked.Increment(ref _ok);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                return; // the in-flight request at the deadline is not counted
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref _errors);
            }
        }
    }

    public double[] Latencies() => _latencies.SelectMany(l => l).Order().ToArray();

    public SortedDictionary<string, int> Statuses() => new(_statuses.ToDictionary(s => s.Key.ToString(), s => s.Value));

    /// <summary>Nearest-rank percentile of sorted values, in milliseconds.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)], 2);
}
