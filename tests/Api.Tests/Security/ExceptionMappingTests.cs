using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TuningService.Api.Errors;

namespace TuningService.Api.Tests.Security;

/// <summary>What <see cref="ApiExceptionHandler"/> answers for errors that bad input or a database outage cause below the validators.</summary>
public sealed class ExceptionMappingTests
{
    public static TheoryData<string, Exception, int, string> Cases => new()
    {
        { "string too long", Wrapped(new PostgresException("value too long", "ERROR", "ERROR", "22001")), 400, "value_too_long" },
        { "invalid byte sequence", Wrapped(new PostgresException("invalid byte sequence", "ERROR", "ERROR", "22021")), 400, "invalid_text" },
        { "\\u0000 in text", Wrapped(new PostgresException("unsupported Unicode escape", "ERROR", "ERROR", "22P05")), 400, "invalid_text" },
        { "numeric out of range", Wrapped(new PostgresException("out of range", "ERROR", "ERROR", "22003")), 400, "invalid_value" },
        { "unique violation", Wrapped(new PostgresException("duplicate key", "ERROR", "ERROR", "23505")), 409, "conflict" },
        { "unpaired surrogate", new EncoderFallbackException("lone surrogate"), 400, "invalid_text" },
        { "malformed JSON", new JsonException("bad", "$.name", 0, 9), 400, "invalid_json" },
        { "server down", new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)), 503, "service_unavailable" },
        { "server shutting down", new PostgresException("terminating connection", "FATAL", "FATAL", "57P01"), 503, "service_unavailable" },
        { "connection pool exhausted under load", new NpgsqlException("The connection pool has been exhausted", new TimeoutException()), 503, "service_unavailable" },
        { "a bug", new InvalidOperationException("bug"), 500, "server_error" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Classifies(string why, Exception exception, int status, string code)
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().BuildServiceProvider() };
        context.Response.Body = new MemoryStream();

        Assert.True(await new ApiExceptionHandler(NullLogger<ApiExceptionHandler>.Instance).TryHandleAsync(context, exception, CancellationToken.None));

        Assert.True(status == context.Response.StatusCode, $"{why}: {context.Response.StatusCode}");
        context.Response.Body.Position = 0;
        var error = JsonDocument.Parse(context.Response.Body).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(status == 503, context.Response.Headers.RetryAfter.Count > 0);
    }

    private static DbUpdateException Wrapped(PostgresException inner) => new("An error occurred while saving the entity changes.", inner);
}
