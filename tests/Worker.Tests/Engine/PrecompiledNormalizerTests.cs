using System.Text;
using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Tokenization;
using TuningService.Worker.Engine.Tokenization.TokenizerJson;
using Xunit.Abstractions;
using RustTokenizer = Tokenizers.DotNet.Tokenizer;

namespace TuningService.Worker.Tests.Engine;

/// <summary>
/// The tokenizer.json "Precompiled" normalizer with T5's nmt_nfkc charsmap (Fixtures/tokenizer-json/t5-precompiled).
/// Ids are checked against the Rust library in <see cref="TokenizerJsonTests"/>; the library's Encode gives no offsets
/// there, so the spans each normalized character keeps are checked here against its alignment rules
/// (normalizers/precompiled.rs and NormalizedString::transform_range).
/// </summary>
public sealed class PrecompiledNormalizerTests(ITestOutputHelper output)
{
    private static readonly Lazy<INormalizer> Nfkc = new(() =>
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerJsonTests.Folder, "t5-precompiled", "tokenizer.json")))!;
        return Normalizers.Read(json["normalizer"]!["normalizers"]![0])!;
    });

    /// <summary>
    /// The normalized text itself against the library's: the charsmap in front of a byte-level BPE without merges (the
    /// llama3 fixture's 256 byte tokens, id = byte), so each side's ids are the UTF-8 bytes of its normalized text.
    /// </summary>
    [Fact]
    public void NormalizedText_IsByteForByteTheRustLibrarys_OnRandomUnicode()
    {
        using var dir = new TempDirectory("precompiled-");
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerJsonTests.Folder, "llama3", "tokenizer.json")))!.AsObject();
        var t5 = JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerJsonTests.Folder, "t5-precompiled", "tokenizer.json")))!;
        json["normalizer"] = t5["normalizer"]!["normalizers"]![0]!.DeepClone();
        json["model"]!["merges"] = new JsonArray();
        json["model"]!["ignore_merges"] = false;
        json["post_processor"] = null;
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer.json"), json.ToJsonString());
        File.Copy(Path.Combine(TokenizerJsonTests.Folder, "llama3", "tokenizer_config.json"), Path.Combine(dir.Path, "tokenizer_config.json"));
        var tokenizer = TokenizerFiles.Load(dir.Path);
        var rust = new RustTokenizer(vocabPath: Path.Combine(dir.Path, "tokenizer.json"));
        Assert.Equal(Encoding.UTF8.GetBytes("fi x").Select(b => (uint)b), rust.Encode("ﬁ\u00A0x")); // ids are bytes

        // Blocks the nmt_nfkc rules touch (controls, Latin-1, combining marks, jamo, odd spaces and ZWJ, letterlike and
        // enclosed forms, CJK compatibility, ligatures, variation selectors, full-width, math letters, emoji, tags).
        (int First, int Last)[] blocks = [(0x00, 0x7F), (0x80, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x900, 0x97F), (0x1100, 0x11FF),
            (0x2000, 0x206F), (0x2100, 0x24FF), (0x3000, 0x33FF), (0xAC00, 0xAC40), (0xFB00, 0xFB4F), (0xFE00, 0xFE6F), (0xFF00, 0xFFEF),
            (0x1D400, 0x1D7FF), (0x1F000, 0x1F6FF), (0x1F900, 0x1F9FF), (0xE0000, 0xE007F), (0x2F800, 0x2FA1F)];
        var random = new Random(7);
        const int count = 3000;
        var mismatches = new List<string>();
        for (int n = 0; n < count; n++)
        {
            var text = new StringBuilder();
            for (int i = random.Next(0, 12); i > 0; i--)
            {
                var (first, last) = blocks[random.Next(blocks.Length)];
                if (random.Next(8) == 0) text.Append('\u200D');
                text.Append(char.ConvertFromUtf32(random.Next(first, last + 1)));
                if (random.Next(5) == 0) text.Append((char)random.Next(0x300, 0x370)); // a short cluster: looked up whole
                if (random.Next(6) == 0) text.Append(' ');
            }
            var expected = rust.Encode(text.ToString()).Select(id => (int)id).ToArray();
            var actual = tokenizer.Encode(text.ToString());
            if (!expected.SequenceEqual(actual))
                mismatches.Add($"{System.Text.Json.JsonSerializer.Serialize(text.ToString())}: expected [{string.Join(' ', expected)}], got [{string.Join(' ', actual)}]");
        }
        output.WriteLine($"{count - mismatches.Count}/{count} random texts normalize byte for byte as the Rust library does");
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches.Take(20)));
    }

    private static AlignedText Normalize(string text) => Nfkc.Value.Normalize(AlignedText.FromOriginal(text, 0, text.Length));

    [Fact]
    public void Ligature_ExpandsToLetters_ThatBothStandForIt()
    {
        var normalized = Normalize("ﬁne");
        Assert.Equal("fine", normalized.Text);
        Assert.Equal([(0, 1), (0, 1), (1, 2), (2, 3)], normalized.Spans);
    }

    [Fact]
    public void FullWidthLettersAndOddSpaces_MapOneToOne()
    {
        var normalized = Normalize("ｆｕｌｌ\u00A0x\u3000y");
        Assert.Equal("full x y", normalized.Text);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (i, i + 1)), normalized.Spans);
    }

    [Fact]
    public void RemovedControlCharacter_IsTakenOverByTheNextReplacement()
    {
        // "™" → "TM", then "\u001E" → "": the library turns the inserted "M" into the one that overwrites "\u001E".
        var normalized = Normalize("™\u001Eg");
        Assert.Equal("TMg", normalized.Text);
        Assert.Equal([(0, 1), (1, 2), (2, 3)], normalized.Spans);
    }

    [Fact]
    public void RemovedCharacterAtTheStart_ShiftsTheSpans_AsTheLibraryDoes()
    {
        // Nothing precedes it to carry the removal, so every later character takes its predecessor's span.
        var normalized = Normalize("\u001Eab");
        Assert.Equal("ab", normalized.Text);
        Assert.Equal([(0, 1), (1, 2)], normalized.Spans);
    }

    [Fact]
    public void ShortClusterWithAFullWidthStart_IsReplacedWhole_ByTheShortestRule()
    {
        // "ｅ" + combining acute is one 5-byte grapheme: its first rule ("ｅ" → "e") replaces all of it.
        var normalized = Normalize("xｅ\u0301y");
        Assert.Equal("xey", normalized.Text);
        Assert.Equal([(0, 1), (1, 2), (3, 4)], normalized.Spans);
    }

    [Fact]
    public void EmojiZwjSequence_IsLookedUpPerCodePoint_AndKeepsSurrogatePairsWhole()
    {
        // An 11-byte grapheme: too long to look up whole, so each code point is looked up (and kept) alone.
        var normalized = Normalize("👩\u200D👧ﬁ");
        Assert.Equal("👩\u200D👧fi", normalized.Text);
        Assert.Equal([(0, 2), (0, 2), (2, 3), (3, 5), (3, 5), (5, 6), (5, 6)], normalized.Spans);
    }

    [Fact]
    public void UnchangedText_IsReturnedAsIs()
    {
        var original = AlignedText.FromOriginal("plain text 123", 0, 14);
        Assert.Same(original, Nfkc.Value.Normalize(original));
    }
}
