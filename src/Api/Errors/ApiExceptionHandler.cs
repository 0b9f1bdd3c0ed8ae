using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using TuningService.Domain.Jobs;
using TuningService.Domain.Persistence;

namespace TuningService.Api.Errors;

/// <summary>
/// Last line of defence: every exception becomes the OpenAI error shape. Client mistakes are 4xx, a database
/// that is down is a fast 503, and only genuine bugs are 500.
/// </summary>
public sealed class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var (status, message, code) = Classify(exception);
        if (status >= 500) logger.LogError(exception, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "2";
            if (IsConnectionLost(exception)) ForgetPooledConnections(context);
        }
        await ApiErrors.Write(context, status, message, status >= 500 ? "server_error" : ApiErrors.InvalidRequest, code);
        return true;
    }

    private static (int Status, string Message, string Code) Classify(Exception exception) => exception switch
    {
        BadHttpRequestException { StatusCode: 413 } => (413, "Request body too large.", "request_too_large"),
        BadHttpRequestException { InnerException: JsonException json } => InvalidJson(json),
        BadHttpRequestException bad => (bad.StatusCode, bad.Message, "invalid_request"),
        JsonException json => InvalidJson(json),
        InvalidJobTransitionException transition => (409, transition.Message, "invalid_state"),
        DbUpdateConcurrencyException => (409, "The resource was changed by another request; retry.", "conflict"),
        OperationCanceledException => (499, "The request was cancelled.", "cancelled"),
        _ when RejectedInput(exception) is { } rejected => rejected,
        _ when IsDatabaseUnavailable(exception) => (503, "The database is unavailable; retry shortly.", "service_unavailable"),
        _ => (500, "The server had an error while processing your request.", "server_error"),
    };

    /// <summary>Where the body went wrong, without the serializer's .NET type names.</summary>
    private static (int, string, string) InvalidJson(JsonException json)
    {
        var what = json.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)
            ? "a value has the wrong type"
            : "the body is not well-formed JSON";
        return (400, $"Invalid JSON body: {what} (at {json.Path ?? "$"}, line {json.LineNumber ?? 0}, byte {json.BytePositionInLine ?? 0}).", "invalid_json");
    }

    /// <summary>
    /// A restarted server leaves every pooled connection dead; dropping them now means the first request after it is
    /// back opens a fresh one instead of failing on a corpse.
    /// </summary>
    private static void ForgetPooledConnections(HttpContext context)
    {
        if (context.RequestServices.GetService<TuningDbContext>()?.Database.GetDbConnection() is NpgsqlConnection connection)
            NpgsqlConnection.ClearPool(connection);
    }

    /// <summary>Errors that bad input causes below the validators: PostgreSQL data exceptions, unencodable text.</summary>
    private static (int, string, string)? RejectedInput(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException { SqlState: "22001" }:
                    return (400, "A value is longer than its field allows.", "value_too_long");
                case PostgresException { SqlState: "22021" or "22P05" }:
                    return (400, "Text contains a character that cannot be stored (e.g. \\u0000 or an invalid byte sequence).", "invalid_text");
                case PostgresException { SqlState: var state } when state.StartsWith("22", StringComparison.Ordinal):
                    return (400, $"A value is out of range or malformed: {((PostgresException)e).MessageText}", "invalid_value");
                case PostgresException { SqlState: "23505" }:
                    return (409, "A resource with the same unique value already exists.", "conflict");
                case System.Text.EncoderFallbackException or System.Text.DecoderFallbackException:
                    return (400, "Text is not valid Unicode (e.g. an unpaired surrogate).", "invalid_text");
            }
        }
        return null;
    }

    /// <summary>
    /// A connection died or could not be made (the server went away), as opposed to a wait for a pooled connection that
    /// timed out under load: clearing the pool then would close healthy idle connections and make the overload worse.
    /// </summary>
    private static bool IsConnectionLost(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
            if (e is IOException or System.Net.Sockets.SocketException or PostgresException { SqlState: "57P01" or "57P02" or "57P03" }) return true;
        return false;
    }

    public static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or System.Net.Sockets.SocketException or TimeoutException) return true;
            if (e is PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" }) return true;
        }
        return false;
    }
}
