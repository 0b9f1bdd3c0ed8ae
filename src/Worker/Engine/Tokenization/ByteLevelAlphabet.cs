namespace TuningService.Worker.Engine.Tokenization;

/// <summary>
/// GPT-2's byte-to-unicode alphabet: every byte is one printable character, so byte-level tokens can be written
/// as text (vocab.json, merges.txt). Printable Latin-1 bytes stand for themselves; the others map to U+0100 onwards
/// in byte order (a space becomes 'Ġ', a newline 'Ċ').
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] CharOfByte = Build();

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = CharOfByte[bytes[i]];
        return new string(chars);
    }

    private static char[] Build()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
            map[b] = b is >= '!' and <= '~' or >= '¡' and <= '¬' or >= '®' and <= 'ÿ' ? (char)b : (char)next++;
        return map;
    }
}
