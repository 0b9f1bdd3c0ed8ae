using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using TuningService.Api.Errors;
using TuningService.Api.Infrastructure;

namespace TuningService.Api.Organization;

/// <summary>Cursor and id rules shared by the organization routes.</summary>
internal static partial class OrganizationPaging
{
    /// <summary>The cursor row among <paramref name="visible"/>; an id that cannot exist is not looked up.</summary>
    public static async Task<Cursor?> FindCursorAsync<TRow>(IQueryable<TRow> visible, string after, CancellationToken ct) where TRow : class =>
        IsWellFormedId(after) ? await visible.FindCursorAsync(after, ct) : null;

    public static JsonHttpResult<ErrorResponse> UnknownCursor(string after) =>
        ApiErrors.BadRequest($"No item with id '{after}' to list after.", "after");

    /// <summary>Ids are short ASCII tokens (<c>proj_…</c>, <c>key_…</c>); anything else cannot exist, so it is a 404 without a query.</summary>
    public static bool IsWellFormedId(string? id) => id is not null && IdPattern().IsMatch(id);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();
}
