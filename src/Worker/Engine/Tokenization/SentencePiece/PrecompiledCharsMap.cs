using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;

namespace TuningService.Worker.Engine.Tokenization.SentencePiece;

/// <summary>
/// normalizer_spec.precompiled_charsmap: normalization rules (nmt_nfkc, nfkc_cf, a user's TSV) compiled into a
/// darts-clone double-array trie over UTF-8 keys, followed by the NUL-terminated replacement strings the trie's values
/// point into. Layout: [trie size in bytes, uint32 LE][trie units, uint32 LE each][replacements]. Read from
/// tokenizer.model's normalizer_spec and from tokenizer.json's "Precompiled" normalizer (the same blob, base64).
/// </summary>
internal sealed class PrecompiledCharsMap
{
    private readonly uint[] units;
    private readonly byte[] replacements;
    private readonly ConcurrentDictionary<int, string> decoded = new();

    public PrecompiledCharsMap(byte[] blob)
    {
        if (blob.Length <= 4) throw new InvalidDataException("The precompiled charsmap is broken.");
        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (4L + trieSize > blob.Length || trieSize % 4 != 0) throw new InvalidDataException("The precompiled charsmap's trie exceeds it.");
        units = new uint[trieSize / 4];
        for (int i = 0; i < units.Length; i++) units[i] = BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(4 + i * 4));
        replacements = blob[(4 + (int)trieSize)..];
    }

    /// <summary>The longest rule whose key starts <paramref name="utf8"/>: its key length in bytes and replacement, or (0, "").</summary>
    public (int Length, string Replacement) LongestMatch(ReadOnlySpan<byte> utf8) => Match(utf8, shortest: false);

    /// <summary>
    /// The shortest rule whose key starts <paramref name="utf8"/> (the first a prefix search finds, which is what the
    /// Rust tokenizers library applies), or (0, "").
    /// </summary>
    public (int Length, string Replacement) ShortestMatch(ReadOnlySpan<byte> utf8) => Match(utf8, shortest: true);

    private (int Length, string Replacement) Match(ReadOnlySpan<byte> utf8, bool shortest)
    {
        int found = 0, value = 0;
        if (units.Length == 0) return (0, "");
        uint position = Offset(units[0]);
        for (int i = 0; i < utf8.Length; i++)
        {
            position ^= utf8[i];
            if (position >= units.Length) break;
            uint unit = units[position];
            if (Label(unit) != utf8[i]) break;
            position ^= Offset(unit);
            if (HasLeaf(unit) && position < units.Length)
            {
                found = i + 1;                                // every later match is longer
                value = (int)(units[position] & 0x7FFFFFFF);
                if (shortest) break;
            }
        }
        return found == 0 ? (0, "") : (found, Replacement(value));
    }

    private string Replacement(int start) => decoded.GetOrAdd(start, at =>
    {
        if (at >= replacements.Length) throw new InvalidDataException("A precompiled charsmap rule points past its replacements.");
        int end = Array.IndexOf(replacements, (byte)0, at);
        return Encoding.UTF8.GetString(replacements, at, (end < 0 ? replacements.Length : end) - at);
    });

    // darts-clone's unit layout.
    private static bool HasLeaf(uint unit) => ((unit >> 8) & 1) == 1;
    private static uint Label(uint unit) => unit & ((1u << 31) | 0xFF);
    private static uint Offset(uint unit) => (unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
