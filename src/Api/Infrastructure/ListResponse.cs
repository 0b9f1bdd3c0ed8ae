namespace TuningService.Api.Infrastructure;

/// <summary>OpenAI's list envelope, <c>{"object":"list","data":[...],"first_id","last_id","has_more"}</c>, for every list route.</summary>
public sealed record ListResponse<T>(IReadOnlyList<T> Data, bool HasMore)
{
    public string Object => "list";
    public string? FirstId { get; init; }
    public string? LastId { get; init; }

    /// <summary>
    /// Turns <paramref name="limit"/> + 1 fetched rows into a page: the extra row, if it came back, only says
    /// <c>has_more</c>.
    /// </summary>
    public static ListResponse<T> Page<TRow>(IReadOnlyList<TRow> rows, int limit, Func<TRow, T> map, Func<T, string> id)
    {
        var data = rows.Take(limit).Select(map).ToList();
        return new ListResponse<T>(data, rows.Count > limit)
        {
            FirstId = data.Count > 0 ? id(data[0]) : null,
            LastId = data.Count > 0 ? id(data[^1]) : null,
        };
    }
}
