using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using TuningService.Api.Auth;
using TuningService.Api.Errors;

namespace TuningService.Api.Limits;

/// <summary>Request body size limit and per-key rate limit, both from <see cref="ApiLimitsOptions"/>.</summary>
public static class ApiLimits
{
    public static void AddApiLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiLimitsOptions>()
            .Bind(configuration.GetSection(ApiLimitsOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Kestrel enforces the global limit while the body streams (chunked bodies included); the routing middleware
        // raises it for endpoints carrying IRequestSizeLimitMetadata ([RequestSizeLimit], [DisableRequestSizeLimit]).
        services.AddOptions<KestrelServerOptions>()
            .Configure<IOptions<ApiLimitsOptions>>((kestrel, limits) => kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes);

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<ApiLimitsOptions>>((o, limits) =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => Partition(context, limits.Value));
            o.OnRejected = (rejected, _) => WriteRateLimitedAsync(rejected, limits.Value);
        });
    }

    /// <summary>Refuses a body whose declared length is over the route's limit with 413, before anything reads it.</summary>
    public static void UseRequestBodyLimit(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var limit = EffectiveBodyLimit(context);
        return context.Request.ContentLength > limit ? WriteTooLargeAsync(context, limit.Value) : next(context);
    });

    /// <summary>
    /// The endpoint's own <see cref="IRequestSizeLimitMetadata"/> when it has one (null: unlimited), else the global limit.
    /// Checked against Content-Length so an oversized body is refused before a byte of it is read, on any server.
    /// </summary>
    public static long? EffectiveBodyLimit(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>();
        if (metadata is not null) return metadata.MaxRequestBodySize;
        return context.RequestServices.GetRequiredService<IOptions<ApiLimitsOptions>>().Value.MaxRequestBodyBytes;
    }

    /// <summary>
    /// One fixed window per API key (claim <c>key_id</c>, the admin key included); requests without a valid key share
    /// one window per client IP. Only <c>/v1</c> is limited: health probes, Swagger and the dashboard are not.
    /// </summary>
    public static RateLimitPartition<string> Partition(HttpContext context, ApiLimitsOptions limits)
    {
        if (limits.RateLimitRequestsPerWindow == 0 || !context.Request.Path.StartsWithSegments("/v1"))
            return RateLimitPartition.GetNoLimiter("unlimited");

        var keyId = context.User.FindFirstValue(ApiKeyAuthenticationHandler.KeyClaim);
        var partition = keyId is not null ? "key:" + keyId : "ip:" + context.Connection.RemoteIpAddress;
        return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limits.RateLimitRequestsPerWindow,
            Window = TimeSpan.FromSeconds(limits.RateLimitWindowSeconds),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    private static ValueTask WriteRateLimitedAsync(OnRejectedContext rejected, ApiLimitsOptions limits)
    {
        var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
            ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
            : limits.RateLimitWindowSeconds;
        var context = rejected.HttpContext;
        context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        var message = $"Rate limit reached: {limits.RateLimitRequestsPerWindow} requests per {limits.RateLimitWindowSeconds} s " +
                      $"for this API key. Retry after {retryAfter} s.";
        return new ValueTask(ApiErrors.Write(context, StatusCodes.Status429TooManyRequests, message, "requests", "rate_limit_exceeded"));
    }

    private static Task WriteTooLargeAsync(HttpContext context, long limit)
    {
        context.Response.Headers.Connection = "close"; // the unread body must not be parsed as the next request
        return ApiErrors.Write(context, StatusCodes.Status413PayloadTooLarge,
            $"Request body too large: {context.Request.ContentLength} bytes; this route accepts at most {limit} bytes.",
            code: "request_too_large");
    }
}
