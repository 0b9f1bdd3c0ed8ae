using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace TuningService.Api.Tests.Webhooks;

/// <summary>One POST as the receiver saw it, and whether its Standard Webhooks signature verified with the endpoint's secret.</summary>
public sealed record ReceivedWebhook(string Id, string Timestamp, string Signature, string Body, bool Verified, int AnsweredWith);

/// <summary>
/// A real HTTP receiver on 127.0.0.1 (Kestrel, a free port), as a customer would run one. It verifies each request
/// with the StandardWebhooks library and answers with the status <see cref="Answer"/> picks for the n-th request (1-based).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<ReceivedWebhook> _received = Channel.CreateUnbounded<ReceivedWebhook>();
    private int _count;

    public string Url { get; }
    public string? Secret { get; set; }
    public Func<int, int> Answer { get; set; } = _ => 200;

    private WebhookReceiver(WebApplication app, string url) => (_app, Url) = (app, url);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var status = receiver!.Answer(Interlocked.Increment(ref receiver._count));
            var headers = context.Request.Headers;
            await receiver._received.Writer.WriteAsync(new ReceivedWebhook(
                headers["webhook-id"].ToString(), headers["webhook-timestamp"].ToString(), headers["webhook-signature"].ToString(),
                body, receiver.Verifies(body, headers), status));
            return Results.StatusCode(status);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver = new WebhookReceiver(app, address + "/hook");
        return receiver;
    }

    private bool Verifies(string body, IHeaderDictionary headers)
    {
        if (Secret is null) return false;
        try
        {
            new StandardWebhook(Secret).Verify(body, headers);
            return true;
        }
        catch (WebhookVerificationException)
        {
            return false;
        }
    }

    public async Task<ReceivedWebhook> NextAsync(TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        return await _received.Reader.ReadAsync(timeout.Token);
    }

    public bool TryTake(out ReceivedWebhook? webhook) => _received.Reader.TryRead(out webhook);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
