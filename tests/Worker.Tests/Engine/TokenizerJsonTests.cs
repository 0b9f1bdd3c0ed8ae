using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Tokenization;
using Xunit.Abstractions;
using RustTokenizer = Tokenizers.DotNet.Tokenizer;

namespace TuningService.Worker.Tests.Engine;

/// <summary>
/// tokenizer.json files shaped like real checkpoints' (Fixtures/tokenizer-json, README there) encoded by the service and
/// by the Rust tokenizers library itself (Tokenizers.DotNet): the ids must be the same for every text.
/// </summary>
public sealed class TokenizerJsonTests(ITestOutputHelper output)
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizer-json");

    public static readonly string[] Families =
        ["llama3", "qwen2", "smollm2", "roberta-like", "mistral-v0.3", "phi3", "gemma2", "llama-metaspace", "t5-like", "t5-precompiled", "unigram-byte-fallback", "bert", "punctuation-split", "wordlevel"];

    /// <summary>Texts every family is checked on; each family adds texts around its own added tokens.</summary>
    public static readonly string[] Texts =
    [
        "", " ", "Hello world", "Hello world!", " leading space", "  two", "a    b", "trailing   ", "12345", "Numbers 2024, 3.14 and 1,000",
        "___", "x___y", "Café", "Cafe\u0301 cre\u0300me", "naïve résumé", "don't stop, we'll see. It's THE user's turn",
        "emoji 😀 and 👍🏽 here", "中文字符 and 日本語テキスト", "line one\nline two\n\nline four", "\ttab\tseparated\t", "\r\n windows",
        "mixed\n  indented\n    code", "def main():\n    return 0  # done", "ﬁne ligature ① ² ｆｕｌｌ", "ÀÉÎÕÜ UPPER", "hello hello hello",
        "tokenizers tokenize tokens", "The quick brown fox jumps over the lazy dog.", "\u2581already metaspace\u2581 ", "hello", " hello ",
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello there<|im_end|>\n",
        "한국어 \u1100\u1161\u11A8 Tiếng Việt ά हिन्दी العربية", "a\u0301\u0323 \u212B \u1E9B\u0323 \u0344", "𝒜𝓁𝓅𝒽𝒶 math letters", "a𝒜b 𠀀中文𠀁 x😀y 𝟏𝟐 won't𝒜", "x\u00A0y\u2003z\u200Bw",
        "👩\u200D👩\u200D👧 family, 🏳\uFE0F\u200D🌈 flag, 👍🏽\u200D", "ｆｉｎｅ ﬁ ﬃ ㍿ ¼ ™\u001Eg Å A\u030A ｅ\u0301", "\u001E\u3000start\u2028\u00ADsoft\u202Fend\u00A0",
    ];

    private const int RandomTexts = 150;

    public static TheoryData<string> FamilyNames() => [.. Families];

    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void Encode_MatchesTheRustTokenizersLibrary_OnEveryText(string family)
    {
        var (tokenizer, rust, specialIds) = Load(family);
        var mismatches = new List<string>();
        var texts = TextsFor(family);
        foreach (var text in texts)
        {
            var expected = rust.Encode(text).Select(id => (int)id).ToArray();
            var actual = tokenizer.Encode(text);
            if (!expected.SequenceEqual(actual))
                mismatches.Add($"{Show(text)}: expected [{string.Join(' ', expected)}], got [{string.Join(' ', actual)}]");
            var plain = actual.Where(id => !specialIds.Contains(id)).ToArray();
            var decodedExpected = rust.Decode(plain.Select(id => (uint)id).ToArray());
            if (decodedExpected != tokenizer.Decode(plain))
                mismatches.Add($"decode {Show(text)}: expected {Show(decodedExpected)}, got {Show(tokenizer.Decode(plain))}");
        }
        output.WriteLine($"{family}: {texts.Count - mismatches.Count(m => !m.StartsWith("decode"))}/{texts.Count} texts encode identically, "
            + $"{texts.Count - mismatches.Count(m => m.StartsWith("decode"))}/{texts.Count} decode identically");
        Assert.True(mismatches.Count == 0, $"{family}: {mismatches.Count} mismatches\n{string.Join('\n', mismatches)}");
    }

    /// <summary>Random strings of tricky pieces (seeded): spaces, marks, digits, surrogates, the family's added tokens.</summary>
    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void Encode_MatchesTheRustTokenizersLibrary_OnRandomTexts(string family)
    {
        var (tokenizer, rust, _) = Load(family);
        string[] pieces = ["a", "b", "e", "é", "e\u0301", "\u0323", "A", "Z", "0", "7", "'", "s", "t", "ll", "_", "-", ".", ",", "!", " ", " ", "  ",
            "\n", "\t", "\r\n", "▁", "😀", "中", "𝒜", "𝟏", "①", "ﬁ", "ß", "İ", "hello", "world", "the", "क", "ि", "\u00A0", "<", "|", ">",
            "\u200D", "👩", "🏽", "ｅ", "\u3000", "\u001E", "™", "\uFE0F"];
        var added = TextsFor(family).Skip(Texts.Length).Where((_, i) => i % 8 == 7).ToArray(); // each added token on its own
        var random = new Random(12);
        var mismatches = new List<string>();
        for (int n = 0; n < RandomTexts; n++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(0, 24))
                .Select(_ => added.Length > 0 && random.Next(10) == 0 ? added[random.Next(added.Length)] : pieces[random.Next(pieces.Length)]));
            var expected = rust.Encode(text).Select(id => (int)id).ToArray();
            if (!expected.SequenceEqual(tokenizer.Encode(text))) mismatches.Add($"{Show(text)}: expected [{string.Join(' ', expected)}], got [{string.Join(' ', tokenizer.Encode(text))}]");
        }
        output.WriteLine($"{family}: {RandomTexts - mismatches.Count}/{RandomTexts} random texts encode identically");
        Assert.True(mismatches.Count == 0, $"{family}: {mismatches.Count} mismatches\n{string.Join('\n', mismatches)}");
    }

    [Theory]
    [MemberData(nameof(FamilyNames))]
    public void Offsets_AreOrderedRangesOfTheOriginalText(string family)
    {
        var (tokenizer, _, _) = Load(family);
        foreach (var text in TextsFor(family))
        {
            var encoded = tokenizer.EncodeWithOffsets(text);
            Assert.Equal(encoded.Ids.Length, encoded.Offsets.Length);
            int previousStart = 0;
            foreach (var (start, end) in encoded.Offsets)
            {
                Assert.InRange(start, previousStart, end);
                Assert.InRange(end, start, text.Length);
                previousStart = start;
            }
        }
    }

    /// <summary>Families that remove no character (no Removed split, Strip or BERT clean-up): tokens tile the whole text.</summary>
    [Theory]
    [InlineData("llama3"), InlineData("qwen2"), InlineData("smollm2"), InlineData("mistral-v0.3"), InlineData("gemma2"), InlineData("llama-metaspace"), InlineData("t5-like")]
    public void Offsets_TileTheOriginalText_WhenNothingIsRemoved(string family)
    {
        var (tokenizer, _, _) = Load(family);
        foreach (var text in TextsFor(family))
        {
            var offsets = tokenizer.EncodeWithOffsets(text).Offsets;
            int covered = 0;
            for (int i = 0; i < offsets.Length; i++)
            {
                // No gap; tokens may share a character (its UTF-8 bytes, or "ﬁ" normalized to "fi" and split).
                Assert.True(offsets[i].Start <= covered, $"{family} {Show(text)}: token {i} at {offsets[i]} after {covered}");
                covered = Math.Max(covered, offsets[i].End);
            }
            Assert.Equal(text.Length, covered);
        }
    }

    internal static (TextTokenizer Tokenizer, RustTokenizer Rust, HashSet<int> SpecialIds) Load(string family)
    {
        var folder = Path.Combine(Folder, family);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer.json")))!.AsObject();
        var specialIds = (json["added_tokens"] as JsonArray ?? []).Where(t => t!["special"]!.GetValue<bool>()).Select(t => t!["id"]!.GetValue<int>()).ToHashSet();
        json["post_processor"] = null; // the service adds BOS itself; the library would add it in Encode
        using var dir = new TempDirectory("tokenizer-json-");
        var withoutTemplate = Path.Combine(dir.Path, "tokenizer.json");
        File.WriteAllText(withoutTemplate, json.ToJsonString());
        return (TokenizerFiles.Load(folder), new RustTokenizer(vocabPath: withoutTemplate), specialIds);
    }

    internal static List<string> TextsFor(string family)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, family, "tokenizer.json")))!;
        var added = (json["added_tokens"] as JsonArray ?? []).Select(t => t!["content"]!.GetValue<string>()).Take(6);
        var texts = Texts.ToList();
        foreach (var token in added)
            texts.AddRange([$"{token}hello", $"hello {token} world", $"x{token}y", $"{token}  {token}", $" {token}\nline", $"a {token}", $"{token} ", $"{token}"]);
        return texts;
    }

    private static string Show(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
