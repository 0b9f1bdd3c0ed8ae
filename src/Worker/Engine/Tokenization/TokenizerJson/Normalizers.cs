using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>A tokenizer.json normalizer: rewrites the text, keeping each unit's original span.</summary>
internal interface INormalizer
{
    AlignedText Normalize(AlignedText text);
}

/// <summary>Reads the "normalizer" of a tokenizer.json (the types of the Rust tokenizers library).</summary>
internal static class Normalizers
{
    public static INormalizer? Read(JsonNode? node)
    {
        if (node is not JsonObject o) return null;
        var type = o["type"]!.GetValue<string>();
        return type switch
        {
            "NFC" => new UnicodeNormalizer(compose: true, compatibility: false),
            "NFD" => new UnicodeNormalizer(compose: false, compatibility: false),
            "NFKC" => new UnicodeNormalizer(compose: true, compatibility: true),
            "NFKD" => new UnicodeNormalizer(compose: false, compatibility: true),
            "Lowercase" => new LowercaseNormalizer(),
            "Strip" => new StripNormalizer(o["strip_left"]?.GetValue<bool>() ?? true, o["strip_right"]?.GetValue<bool>() ?? true),
            "StripAccents" => new StripAccentsNormalizer(),
            "Prepend" => new PrependNormalizer(o["prepend"]!.GetValue<string>()),
            "Replace" => new ReplaceNormalizer(Patterns.Read(o["pattern"]!), o["content"]!.GetValue<string>()),
            "Precompiled" => PrecompiledNormalizer.Read(o),
            "Sequence" => new SequenceNormalizer((o["normalizers"] as JsonArray ?? []).Select(n => Read(n)!).ToArray()),
            "BertNormalizer" => new BertNormalizer(o["clean_text"]?.GetValue<bool>() ?? true, o["handle_chinese_chars"]?.GetValue<bool>() ?? true,
                o["strip_accents"]?.GetValue<bool?>(), o["lowercase"]?.GetValue<bool>() ?? true),
            _ => throw new NotSupportedException($"The tokenizer.json normalizer '{type}' is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Prepend, Replace, Precompiled, Sequence, BertNormalizer)."),
        };
    }

    /// <summary>Rewrites each code point on its own; <paramref name="map"/> returns its replacement (empty removes it).</summary>
    public static AlignedText MapRunes(AlignedText text, Func<Rune, string> map)
    {
        var builder = new AlignedTextBuilder(text.OriginalStart);
        foreach (var (rune, index, length) in text.Runes())
        {
            var replacement = map(rune);
            if (replacement.Length == length && replacement == text.Text.Substring(index, length)) builder.Copy(text, index, index + length);
            else builder.Append(replacement, text.OriginalSpan(index, index + length));
        }
        return builder.Build();
    }
}

/// <summary>Unicode normalization, applied per cluster (a starter and the marks after it) so spans stay per character.</summary>
internal sealed class UnicodeNormalizer(bool compose, bool compatibility) : INormalizer
{
    public AlignedText Normalize(AlignedText text)
    {
        var whole = UnicodeNormalization.Normalize(text.Text, compose, compatibility);
        if (whole == text.Text) return text;
        var builder = new AlignedTextBuilder(text.OriginalStart);
        var runes = text.Runes().ToList();
        int clusterStart = 0;
        for (int r = 1; r <= runes.Count; r++)
        {
            if (r < runes.Count && !StartsCluster(runes[r].Rune.Value)) continue;
            int end = r < runes.Count ? runes[r].Index : text.Length;
            var cluster = text.Text[clusterStart..end];
            var normalized = UnicodeNormalization.Normalize(cluster, compose, compatibility);
            if (normalized == cluster) builder.Copy(text, clusterStart, end);
            else builder.Append(normalized, text.OriginalSpan(clusterStart, end));
            clusterStart = end;
        }
        var result = builder.Build();
        // Clusters normalize independently but in rare cases (a compatibility mapping that starts with a mark): then
        // the whole text is one cluster.
        return result.Text == whole ? result
            : new AlignedText(whole, Enumerable.Repeat(text.OriginalSpan(0, text.Length), whole.Length).ToArray(), text.OriginalStart);
    }

    private static bool StartsCluster(int codePoint)
        => UnicodeNormalization.CombiningClassOf(codePoint) == 0 && !UnicodeNormalization.IsCompositionSecond(codePoint);
}

internal sealed class LowercaseNormalizer : INormalizer
{
    public AlignedText Normalize(AlignedText text) => Normalizers.MapRunes(text, r => Rune.ToLowerInvariant(r).ToString());
}

internal sealed class StripNormalizer(bool left, bool right) : INormalizer
{
    public AlignedText Normalize(AlignedText text)
    {
        int start = 0, end = text.Length;
        if (left) while (start < end && char.IsWhiteSpace(text.Text[start])) start++;
        if (right) while (end > start && char.IsWhiteSpace(text.Text[end - 1])) end--;
        return start == 0 && end == text.Length ? text : text.Slice(start, end);
    }
}

/// <summary>
/// Removes combining marks (use after NFD to strip accents): every mark, spacing ones included, as the library's
/// StripAccents does; only non-spacing ones inside its BertNormalizer.
/// </summary>
internal sealed class StripAccentsNormalizer(bool nonSpacingOnly = false) : INormalizer
{
    public AlignedText Normalize(AlignedText text) => Normalizers.MapRunes(text, r => Removes(Rune.GetUnicodeCategory(r)) ? "" : r.ToString());

    private bool Removes(UnicodeCategory category) => category == UnicodeCategory.NonSpacingMark
        || !nonSpacingOnly && category is UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
}

/// <summary>Puts a string before non-empty text (Llama 2 / Mistral fast tokenizers' "▁" dummy prefix).</summary>
internal sealed class PrependNormalizer(string prefix) : INormalizer
{
    public AlignedText Normalize(AlignedText text)
    {
        if (text.Length == 0) return text;
        var builder = new AlignedTextBuilder(text.OriginalStart);
        builder.Append(prefix, (text.Spans[0].Start, text.Spans[0].Start));
        builder.Copy(text, 0, text.Length);
        return builder.Build();
    }
}

internal sealed class ReplaceNormalizer(Regex pattern, string content) : INormalizer
{
    public AlignedText Normalize(AlignedText text)
    {
        var builder = new AlignedTextBuilder(text.OriginalStart);
        int position = 0;
        foreach (var (index, length) in RegexText.Matches(pattern, text.Text))
        {
            if (length == 0) continue;
            builder.Copy(text, position, index);
            builder.Append(content, text.OriginalSpan(index, index + length));
            position = index + length;
        }
        if (position == 0) return text;
        builder.Copy(text, position, text.Length);
        return builder.Build();
    }
}

internal sealed class SequenceNormalizer(INormalizer[] normalizers) : INormalizer
{
    public AlignedText Normalize(AlignedText text) => normalizers.Aggregate(text, (current, n) => n.Normalize(current));
}

/// <summary>BERT's normalizer: control characters out, whitespace to spaces, CJK isolated, accents and case optional.</summary>
internal sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool? stripAccents, bool lowercase) : INormalizer
{
    public AlignedText Normalize(AlignedText text)
    {
        if (cleanText)
            text = Normalizers.MapRunes(text, r => r.Value is 0 or 0xFFFD || IsControl(r) ? "" : IsWhitespace(r) ? " " : r.ToString());
        if (handleChineseChars)
            text = Normalizers.MapRunes(text, r => IsChinese(r.Value) ? $" {r} " : r.ToString());
        if (stripAccents ?? lowercase)
            text = new StripAccentsNormalizer(nonSpacingOnly: true).Normalize(new UnicodeNormalizer(compose: false, compatibility: false).Normalize(text));
        if (lowercase) text = new LowercaseNormalizer().Normalize(text);
        return text;
    }

    private static bool IsWhitespace(Rune r) => r.Value is '\t' or '\n' or '\r' || Rune.IsWhiteSpace(r);

    private static bool IsControl(Rune r)
        => r.Value is not ('\t' or '\n' or '\r') && Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;

    private static bool IsChinese(int c)
        => c is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B920 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}

/// <summary>The "pattern" of Replace and Split: {"String": s} (literal) or {"Regex": r}.</summary>
internal static class Patterns
{
    public static Regex Read(JsonNode pattern)
    {
        if (pattern["String"] is JsonNode s) return new Regex(Regex.Escape(s.GetValue<string>()), RegexOptions.CultureInvariant);
        var regex = pattern["Regex"]!.GetValue<string>();
        try
        {
            return new Regex(regex, RegexOptions.CultureInvariant | RegexOptions.Compiled);
        }
        catch (ArgumentException e)
        {
            throw new NotSupportedException($"The tokenizer.json regex '{regex}' does not compile in .NET: {e.Message}", e);
        }
    }
}
