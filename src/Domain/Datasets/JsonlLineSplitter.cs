namespace TuningService.Domain.Datasets;

/// <summary>Receives the lines of a JSONL stream, in order, numbered from 1.</summary>
internal interface ILineSink
{
    /// <summary>A complete line without its <c>\n</c>, <c>\r</c> or (on line 1) UTF-8 BOM. Valid only during the call.</summary>
    void OnLine(long line, ReadOnlySpan<byte> content);

    /// <summary>A line longer than the limit; its bytes were skipped, never buffered.</summary>
    void OnLineTooLong(long line, long length);
}

/// <summary>
/// Splits pushed bytes into lines. Memory is bounded by the longest accepted line: a line that outgrows
/// <c>maxLineBytes</c> is counted and skipped, not buffered. A leading UTF-8 BOM is ignored (the stored bytes keep it).
/// </summary>
internal sealed class JsonlLineSplitter(int maxLineBytes)
{
    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    private byte[] _carry = new byte[Math.Min(maxLineBytes, 64 * 1024)];
    private int _carryLength;
    private bool _overlong;
    private long _overlongLength;
    private long _line;

    public long LinesSeen => _line;

    /// <summary>A line of only spaces, tabs and carriage returns: skipped by the validator and the reader alike.</summary>
    public static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
        return true;
    }

    public void Write(ReadOnlySpan<byte> data, ILineSink sink)
    {
        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            if (newline < 0)
            {
                Append(data);
                return;
            }
            EndLine(data[..newline], sink);
            data = data[(newline + 1)..];
        }
    }

    /// <summary>Flushes a last line that has no trailing newline.</summary>
    public void Complete(ILineSink sink)
    {
        if (_carryLength > 0 || _overlong) EndLine([], sink);
    }

    private void EndLine(ReadOnlySpan<byte> tail, ILineSink sink)
    {
        _line++;
        if (!_overlong && _carryLength == 0 && tail.Length <= maxLineBytes)
        {
            Emit(tail, sink);
            return;
        }
        Append(tail);
        if (_overlong) sink.OnLineTooLong(_line, _overlongLength);
        else Emit(_carry.AsSpan(0, _carryLength), sink);
        _carryLength = 0;
        _overlong = false;
        _overlongLength = 0;
    }

    private void Emit(ReadOnlySpan<byte> line, ILineSink sink)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        if (_line == 1 && line.StartsWith(Bom)) line = line[Bom.Length..];
        sink.OnLine(_line, line);
    }

    private void Append(ReadOnlySpan<byte> piece)
    {
        if (_overlong)
        {
            _overlongLength += piece.Length;
            return;
        }
        var needed = _carryLength + piece.Length;
        if (needed > maxLineBytes)
        {
            _overlong = true;
            _overlongLength = needed;
            _carryLength = 0;
            return;
        }
        if (needed > _carry.Length) Array.Resize(ref _carry, Math.Min(maxLineBytes, Math.Max(needed, _carry.Length * 2)));
        piece.CopyTo(_carry.AsSpan(_carryLength));
        _carryLength = needed;
    }
}
