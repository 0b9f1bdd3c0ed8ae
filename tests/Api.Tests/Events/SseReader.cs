using System.Text;

namespace TuningService.Api.Tests.Events;

/// <summary>One Server-Sent Events message: its fields, or a comment line (<c>: keep-alive</c>).</summary>
public sealed record SseMessage(string? Id, string? Event, string? Data, string? Comment);

/// <summary>Reads a text/event-stream response message by message, as a browser's EventSource would parse it.</summary>
public sealed class SseReader(Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream, Encoding.UTF8);

    /// <summary>The next message, or null when the server ended the stream.</summary>
    public async Task<SseMessage?> ReadAsync(CancellationToken ct)
    {
        string? id = null, name = null, comment = null;
        StringBuilder? data = null;
        while (await _reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
            {
                if (id is null && name is null && data is null && comment is null) continue;
                return new SseMessage(id, name, data?.ToString(), comment);
            }
            if (line.StartsWith(':')) { comment = line[1..].Trim(); continue; }
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id": id = value; break;
                case "event": name = value; break;
                case "data": data = data is null ? new StringBuilder(value) : data.Append('\n').Append(value); break;
            }
        }
        return null;
    }

    /// <summary>The next message that is not a comment.</summary>
    public async Task<SseMessage?> ReadEventAsync(CancellationToken ct)
    {
        while (await ReadAsync(ct) is { } message)
            if (message.Comment is null) return message;
        return null;
    }

    public void Dispose() => _reader.Dispose();
}
