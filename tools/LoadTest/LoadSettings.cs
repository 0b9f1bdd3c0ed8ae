namespace TuningService.LoadTest;

/// <summary>Command line: <c>[url] [api-key] [--clients N] [--seconds S] [--max-requests M] [--route PATH]</c>.</summary>
public sealed record LoadSettings(string Url, string ApiKey, int Clients, int Seconds, int MaxRequests, string Route, string Fallback)
{
    public const int MaxClients = 256;
    public const int MaxSeconds = 300;
    public const int MaxRequestsCap = 1_000_000;

    public static LoadSettings? Parse(string[] args)
    {
        var positional = new List<string>();
        int clients = 16, seconds = 10, maxRequests = 50_000;
        var route = "/v1/fine_tuning/jobs?limit=1";
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--clients": clients = int.Parse(args[++i]); break;
                case "--seconds": seconds = int.Parse(args[++i]); break;
                case "--max-requests": maxRequests = int.Parse(args[++i]); break;
                case "--route": route = args[++i]; break;
                case "-h" or "--help": Console.Error.WriteLine(Usage); return null;
                default: positional.Add(args[i]); break;
            }
        }
        var url = positional.ElementAtOrDefault(0) ?? "http://127.0.0.1:8080";
        var key = positional.ElementAtOrDefault(1) ?? Environment.GetEnvironmentVariable("TUNING_API_KEY");
        if (string.IsNullOrEmpty(key))
        {
            Console.Error.WriteLine("No API key: pass it as the second argument or set TUNING_API_KEY.\n" + Usage);
            return null;
        }
        if (clients is < 1 or > MaxClients || seconds is < 1 or > MaxSeconds || maxRequests is < 1 or > MaxRequestsCap)
        {
            Console.Error.WriteLine($"Bounds: 1..{MaxClients} clients, 1..{MaxSeconds} seconds, 1..{MaxRequestsCap} requests.");
            return null;
        }
        return new LoadSettings(url, key, clients, seconds, maxRequests, route, "/v1/me");
    }

    private const string Usage =
        "usage: load-test.sh [url=http://127.0.0.1:8080] [api-key=$TUNING_API_KEY] [--clients 16] [--seconds 10] " +
        "[--max-requests 50000] [--route /v1/fine_tuning/jobs?limit=1]";
}
