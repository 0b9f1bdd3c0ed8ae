using System.Text.RegularExpressions;
using TuningService.Domain;

namespace TuningService.Api.Observability;

/// <summary>
/// Every response carries <c>x-request-id</c>: the client's own when it sent a sane one (1–128 characters of
/// <c>[A-Za-z0-9._:/+=-]</c>), else a new <c>req_…</c>. The id is the request's TraceIdentifier, a log scope
/// (<c>RequestId</c>) around everything the request logs, and <c>error.request_id</c> in error bodies.
/// </summary>
public static partial class RequestIds
{
    public const string Header = "x-request-id";

    private static readonly AsyncLocal<string?> CurrentId = new();

    /// <summary>The id of the request this code runs for; null outside a request.</summary>
    public static string? Current => CurrentId.Value;

    public static IApplicationBuilder UseRequestIds(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("TuningService.Api.Requests");
        return app.Use(async (context, next) =>
        {
            var given = context.Request.Headers[Header].ToString();
            var id = ClientId().IsMatch(given) ? given : "req_" + Ids.RandomToken(24);
            context.TraceIdentifier = id;
            CurrentId.Value = id;
            // OnStarting: the exception handler clears headers set earlier.
            context.Response.OnStarting(() =>
            {
                context.Response.Headers[Header] = id;
                return Task.CompletedTask;
            });
            using (logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = id }))
                await next(context);
        });
    }

    [GeneratedRegex(@"^[A-Za-z0-9._:/+=\-]{1,128}$")]
    private static partial Regex ClientId();
}
