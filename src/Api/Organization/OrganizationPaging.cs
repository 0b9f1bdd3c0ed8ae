using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using TuningService.Api.Errors;

namespace TuningService.Api.Organization;

/// <summary>Cursor and id rules shared by the organization routes.</summary>
internal static partial class OrganizationPaging
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static JsonHttpResult<ErrorResponse>? CheckLimit(int? limit) =>
        limit is < 1 or > MaxLimit ? ApiErrors.BadRequest($"limit must be between 1 and {MaxLimit}.", "limit") : null;

    public static JsonHttpResult<ErrorResponse> UnknownCursor(string after) =>
        ApiErrors.BadRequest($"No item with id '{after}' to list after.", "after");

    /// <summary>Ids are short ASCII tokens (<c>proj_…</c>, <c>key_…</c>); anything else cannot exist, so it is a 404 without a query.</summary>
    public static bool IsWellFormedId(string? id) => id is not null && IdPattern().IsMatch(id);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();
}
