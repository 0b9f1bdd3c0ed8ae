using System.Linq.Expressions;
using FluentValidation;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace TuningService.Api.Infrastructure;

/// <summary>
/// OpenAI's <c>after</c>/<c>limit</c> cursor over a list. <c>after</c> is the last id of the previous page; the list
/// goes on from that row. Rows are ordered by (<c>CreatedAt</c>, <c>Id</c>) so equal timestamps still page stably.
/// </summary>
/// <param name="After">The last id of the previous page.</param>
/// <param name="Limit">1 to 100; default 20.</param>
public sealed record PageQuery(
    [property: FromQuery(Name = "after")] string? After,
    [property: FromQuery(Name = "limit")] int? Limit)
{
    public const int DefaultLimit = 20, MaxLimit = 100;

    public int Take => Limit ?? DefaultLimit;

    public sealed class Validator : AbstractValidator<PageQuery>
    {
        public Validator() =>
            RuleFor(q => q.Limit).InclusiveBetween(1, MaxLimit).WithMessage($"limit must be between 1 and {MaxLimit}.");
    }
}

/// <summary>Where a cursor row sits in the (<c>CreatedAt</c>, <c>Id</c>) order.</summary>
public sealed record Cursor(DateTimeOffset CreatedAt, string Id);

public static class KeysetPaging
{
    /// <summary>The row <paramref name="id"/> names, looked up among <paramref name="visible"/>; null when the caller cannot see it.</summary>
    public static Task<Cursor?> FindCursorAsync<TRow>(this IQueryable<TRow> visible, string id, CancellationToken ct) where TRow : class =>
        visible.Where(r => EF.Property<string>(r, "Id") == id)
            .Select(r => new Cursor(EF.Property<DateTimeOffset>(r, "CreatedAt"), EF.Property<string>(r, "Id")))
            .FirstOrDefaultAsync(ct)!;

    /// <summary>
    /// One page of <paramref name="rows"/> (entities with <c>CreatedAt</c> and a string <c>Id</c>) after
    /// <paramref name="after"/>, newest first unless <paramref name="oldestFirst"/>.
    /// </summary>
    public static Task<ListResponse<T>> PageByCreationAsync<TRow, T>(this IQueryable<TRow> rows, Cursor? after, int limit, bool oldestFirst,
        Func<TRow, T> map, Func<T, string> id, CancellationToken ct) where TRow : class
    {
        if (after is not null)
            rows = rows.Where(oldestFirst ? Later<TRow>(after) : Earlier<TRow>(after));
        rows = oldestFirst
            ? rows.OrderBy(r => EF.Property<DateTimeOffset>(r, "CreatedAt")).ThenBy(r => EF.Property<string>(r, "Id"))
            : rows.OrderByDescending(r => EF.Property<DateTimeOffset>(r, "CreatedAt")).ThenByDescending(r => EF.Property<string>(r, "Id"));
        return rows.ToPageAsync(limit, map, id, ct);
    }

    /// <summary>Fetches <paramref name="limit"/> + 1 of the already ordered rows: the extra one only says <c>has_more</c>.</summary>
    public static async Task<ListResponse<T>> ToPageAsync<TRow, T>(this IQueryable<TRow> ordered, int limit, Func<TRow, T> map, Func<T, string> id, CancellationToken ct)
    {
        var rows = await ordered.Take(limit + 1).ToListAsync(ct);
        return ListResponse<T>.Page(rows, limit, map, id);
    }

    private static Expression<Func<TRow, bool>> Earlier<TRow>(Cursor c) where TRow : class => r =>
        EF.Property<DateTimeOffset>(r, "CreatedAt") < c.CreatedAt
        || (EF.Property<DateTimeOffset>(r, "CreatedAt") == c.CreatedAt && string.Compare(EF.Property<string>(r, "Id"), c.Id) < 0);

    private static Expression<Func<TRow, bool>> Later<TRow>(Cursor c) where TRow : class => r =>
        EF.Property<DateTimeOffset>(r, "CreatedAt") > c.CreatedAt
        || (EF.Property<DateTimeOffset>(r, "CreatedAt") == c.CreatedAt && string.Compare(EF.Property<string>(r, "Id"), c.Id) > 0);
}
