using System.Text.Json;
using FluentValidation;
using FluentValidation.Results;
using Microsoft.AspNetCore.Http.HttpResults;
using TuningService.Api.Errors;

namespace TuningService.Api.Validation;

/// <summary>
/// Runs the FluentValidation validator of a route's bound request (a body or an <c>[AsParameters]</c> query) before the
/// handler, and answers its first failure as a 400 in OpenAI's error shape. The one place the Api turns validation
/// failures into errors.
/// </summary>
public sealed class ValidationFilter<TRequest>(IValidator<TRequest> validator) : IEndpointFilter where TRequest : class
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (context.Arguments.OfType<TRequest>().FirstOrDefault() is { } request
            && await validator.ValidateAsync(request, context.HttpContext.RequestAborted) is { IsValid: false } result)
            return ToError(result.Errors[0]);
        return await next(context);
    }

    /// <summary>
    /// <c>param</c> is the field's JSON name (<c>Limit</c> → <c>limit</c>); <c>code</c> is the rule's
    /// <c>WithErrorCode</c> when it set a snake_case one, else <c>invalid_value</c> (FluentValidation's own codes are
    /// .NET type names, not part of this API).
    /// </summary>
    public static JsonHttpResult<ErrorResponse> ToError(ValidationFailure failure) => ApiErrors.BadRequest(
        failure.ErrorMessage,
        JsonNamingPolicy.SnakeCaseLower.ConvertName(failure.PropertyName),
        failure.ErrorCode is { Length: > 0 } code && code.All(c => char.IsAsciiLetterLower(c) || c == '_') ? code : "invalid_value");
}

public static class ValidationFilterExtensions
{
    /// <summary>Validates the route's <typeparamref name="TRequest"/> with its registered validator before the handler runs.</summary>
    public static RouteHandlerBuilder Validated<TRequest>(this RouteHandlerBuilder route) where TRequest : class => route
        .AddEndpointFilter<ValidationFilter<TRequest>>()
        .Produces<ErrorResponse>(StatusCodes.Status400BadRequest);
}
