using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace TuningService.Api.Errors;

/// <summary>OpenAI's error shape: <c>{"error":{"message","type","param","code"}}</c>, plus <c>request_id</c> (the x-request-id).</summary>
public sealed record ErrorBody(string Message, string Type, string? Param, string? Code)
{
    public string? RequestId { get; init; } = Observability.RequestIds.Current;
}

public sealed record ErrorResponse(ErrorBody Error);

public static class ApiErrors
{
    public const string InvalidRequest = "invalid_request_error";

    public static JsonHttpResult<ErrorResponse> Error(int status, string message, string? code = null, string? param = null, string type = InvalidRequest) =>
        TypedResults.Json(new ErrorResponse(new ErrorBody(message, type, param, code)), statusCode: status);

    public static JsonHttpResult<ErrorResponse> BadRequest(string message, string? param = null, string? code = "invalid_value") =>
        Error(StatusCodes.Status400BadRequest, message, code, param);

    public static JsonHttpResult<ErrorResponse> NotFound(string what, string id, string param = "id") =>
        Error(StatusCodes.Status404NotFound, $"No {what} found with id '{id}'.", "not_found", param);

    public static JsonHttpResult<ErrorResponse> Conflict(string message, string? code = "conflict") =>
        Error(StatusCodes.Status409Conflict, message, code);

    public static Task Write(HttpContext context, int status, string message, string type = InvalidRequest, string? code = null, string? param = null)
    {
        if (context.Response.HasStarted) return Task.CompletedTask;
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ErrorResponse(new ErrorBody(message, type, param, code)));
    }

    /// <summary>Gives bare status codes (404 for unknown routes, 405, 415, ...) the error shape too.</summary>
    public static Task WriteStatusCodeAsync(StatusCodeContext status)
    {
        var context = status.HttpContext;
        var code = context.Response.StatusCode;
        var message = code switch
        {
            404 => $"Unknown route: {context.Request.Method} {context.Request.Path}.",
            405 => $"Method {context.Request.Method} is not allowed on {context.Request.Path}.",
            413 => "Request body too large for this route.",
            415 => "Unsupported content type.",
            _ => $"Request failed with status {code}.",
        };
        var type = code >= 500 ? "server_error" : InvalidRequest;
        return Write(context, code, message, type, code switch { 404 => "unknown_url", 413 => "request_too_large", _ => null });
    }
}
