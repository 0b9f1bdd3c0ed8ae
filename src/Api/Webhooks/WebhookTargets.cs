using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace TuningService.Api.Webhooks;

/// <summary>
/// Which addresses a webhook may be sent to. Private, loopback, link-local and other non-public ranges are refused
/// unless configuration allows them, both when an endpoint is created (its host resolved) and at every connection
/// (the address actually dialled), so a DNS name that later points inside the network is refused too.
/// </summary>
public sealed class WebhookTargets(IOptions<WebhooksOptions> options)
{
    private static readonly IPNetwork[] NonPublic = [.. new[]
    {
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "224.0.0.0/3", "::/128", "fc00::/7", "fe80::/10", "ff00::/8",
    }.Select(IPNetwork.Parse)];

    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        var o = options.Value;
        if (IPAddress.IsLoopback(address)) return o.AllowLoopbackTargets || o.AllowPrivateTargets;
        return o.AllowPrivateTargets || !NonPublic.Any(n => n.Contains(address));
    }

    /// <summary>Why <paramref name="url"/> cannot be a webhook target, or null when it can.</summary>
    public async Task<string?> RefusalAsync(string url, CancellationToken ct)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            return "url must be an absolute http or https URL.";
        if (uri.UserInfo.Length > 0) return "url must not carry credentials.";
        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.DnsSafeHost, out var literal)) addresses = [literal];
        else if (uri.IsLoopback) addresses = [IPAddress.Loopback];
        else
        {
            // A name that does not resolve now is accepted: each delivery resolves it again and checks what it dials.
            try { addresses = await Dns.GetHostAddressesAsync(uri.DnsSafeHost, ct); }
            catch (SocketException) { addresses = []; }
        }
        return addresses.FirstOrDefault(a => !IsAllowed(a)) is { } refused
            ? $"url resolves to {refused}, a private or loopback address; webhooks go to public addresses only (see Webhooks:AllowPrivateTargets)."
            : null;
    }

    /// <summary>For the delivery client: resolves, refuses non-public addresses, connects to the first allowed one.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var allowed = addresses.Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
            throw new HttpRequestException($"{host} resolves only to private or loopback addresses, which webhooks may not reach.");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
