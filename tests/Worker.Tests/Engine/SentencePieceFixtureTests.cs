using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Tokenization;
using TuningService.Worker.Engine.Tokenization.SentencePiece;

namespace TuningService.Worker.Tests.Engine;

/// <summary>
/// Small SentencePiece models trained by Fixtures/sentencepiece/make-fixtures.py (BPE and Unigram; byte fallback on and
/// off; split digits; whitespace-only pieces; user-defined, control and unused pieces; normalization rules; Llama-,
/// Gemma- and default-style whitespace handling) encode every recorded text as Python's sentencepiece does, and as transformers' slow
/// LlamaTokenizer does with `legacy` true and false (see the fixture README for how those ids were made).
/// </summary>
public sealed class SentencePieceFixtureTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "sentencepiece");
    private static readonly JsonObject Expected = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "expected.json")))!.AsObject();

    public static TheoryData<string> ModelNames() => new(Expected.Select(kv => kv.Key));

    public static TheoryData<string, bool> ModelsAndLegacy()
    {
        var data = new TheoryData<string, bool>();
        foreach (var (name, model) in Expected)
        {
            data.Add(name, true);
            if (model!["tokenizer_class"]!.GetValue<string>() != "GemmaTokenizer") data.Add(name, false);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Model_EncodesEveryText_AsSentencePieceDoes_WithItsOffsets(string name)
    {
        var model = SentencePieceModel.Load(Path.Combine(Folder, name + ".model"));
        var differing = new List<string>();
        foreach (var c in Cases(name))
        {
            var text = c["text"]!.GetValue<string>();
            var expected = c["sentencepiece"]!;
            var tokens = model.Encode(text, model.AddDummyPrefix);
            var ids = tokens.Select(t => t.Id).ToArray();
            var offsets = tokens.Select(t => $"{t.Start}-{t.End}");
            if (!ids.SequenceEqual(Ints(expected["ids"])))
                differing.Add($"{Show(text)}: [{string.Join(' ', ids.Select(model.PieceOf))}], sentencepiece [{string.Join(' ', Ints(expected["ids"]).Select(model.PieceOf))}]");
            else if (!offsets.SequenceEqual(expected["offsets"]!.AsArray().Select(o => $"{o![0]}-{o[1]}")))
                differing.Add($"{Show(text)}: offsets {string.Join(' ', offsets)}");
            else if (model.Decode(ids) != expected["decoded"]!.GetValue<string>())
                differing.Add($"{Show(text)}: decodes as {Show(model.Decode(ids))}");
        }
        Assert.Empty(differing);
    }

    [Theory]
    [MemberData(nameof(ModelsAndLegacy))]
    public void Checkpoint_EncodesEveryText_AsTransformersLlamaTokenizer(string name, bool legacy)
    {
        using var dir = new TempDirectory("sentencepiece-");
        var tokenizer = Checkpoint(dir.Path, name, legacy);
        Assert.Equal(TokenizerKind.SentencePiece, tokenizer.Kind);
        var spec = SentencePieceModel.Load(Path.Combine(Folder, name + ".model")).Proto;
        var differing = new List<string>();
        foreach (var c in Cases(name))
        {
            var text = c["text"]!.GetValue<string>();
            var encoded = tokenizer.EncodeWithOffsets(text);
            if (!encoded.Ids.SequenceEqual(Ints(c[legacy ? "legacy" : "non_legacy"])))
            {
                differing.Add($"{Show(text)}: [{string.Join(' ', encoded.Ids)}], transformers [{string.Join(' ', Ints(c[legacy ? "legacy" : "non_legacy"]))}]");
                continue;
            }
            AssertOffsetsCoverTheText(text, encoded);
            // Lossless where nothing is unknown, collapsed, or "▁" in the text (it decodes as a space).
            bool lossless = !spec.RemoveExtraWhitespaces && !text.Contains('\u2581') && !encoded.Ids.Contains(0);
            if (lossless && tokenizer.Decode(encoded.Ids) != text) differing.Add($"{Show(text)}: decodes as {Show(tokenizer.Decode(encoded.Ids))}");
        }
        Assert.Empty(differing);
    }

    [Fact]
    public void RunOfSpaces_OnLlamaLikeBpe_IsTwoSpacesThenSpaceTwo()
    {
        using var dir = new TempDirectory("sentencepiece-");
        foreach (var legacy in (bool[])[true, false])
            Assert.Equal(["▁▁", "▁two"], Pieces(Checkpoint(dir.Path, "llama-bpe", legacy), "  two"));
    }

    [Fact]
    public void EqualScoreMerges_MergeTheLeftmostPairFirst()
    {
        using var dir = new TempDirectory("sentencepiece-");
        Assert.Equal(["__", "_"], Pieces(Checkpoint(dir.Path, "gemma-bpe", legacy: true), "___"));
        Assert.Equal(["<s>", "__", "_"], Pieces(Checkpoint(dir.Path, "llama-bpe", legacy: false), "<s>___"));
    }

    [Fact]
    public void UnusedPieces_AreMergedThrough_ThenSplitBackIntoTheirHalves()
    {
        using var dir = new TempDirectory("sentencepiece-");
        Assert.Equal(["▁▁", "▁two"], Pieces(Checkpoint(dir.Path, "llama-bpe", legacy: true), "  two"));
        Assert.Equal(["▁▁", "▁t", "wo"], Pieces(Checkpoint(dir.Path, "llama-bpe-unused", legacy: true), "  two")); // ▁two is unused
    }

    [Fact]
    public void SpaceAfterSpecialToken_IsAWordOfItsOwnWithLegacy_AndTheNextWordsSpaceWithout()
    {
        using var dir = new TempDirectory("sentencepiece-");
        var legacy = Checkpoint(dir.Path, "llama-bpe", legacy: true);
        Assert.Equal(["<s>", "▁hello"], Pieces(legacy, "<s>hello"));           // the dummy prefix of the text after it
        Assert.Equal(["<s>", "▁▁", "hello"], Pieces(legacy, "<s> hello"));
        var current = Checkpoint(dir.Path, "llama-bpe", legacy: false);
        Assert.Equal(["<s>", "hello"], Pieces(current, "<s>hello"));
        Assert.Equal(["<s>", "▁hello"], Pieces(current, "<s> hello"));
        Assert.Equal([(0, 3), (3, 9)], current.EncodeWithOffsets("<s> hello").Offsets);
        Assert.Equal("<s> hello", current.Decode(current.Encode("<s> hello")));
    }

    [Fact]
    public void DummyPrefix_MapsToAnEmptySpanAtTheTokensStart()
    {
        using var dir = new TempDirectory("sentencepiece-");
        var tokenizer = Checkpoint(dir.Path, "llama-bpe", legacy: true);
        Assert.Equal(["▁", "<0xF0>", "<0x9F>", "<0x98>", "<0x80>"], Pieces(tokenizer, "😀"));
        // The dummy "▁" and the first three bytes stand for no character; the last byte carries 😀's two UTF-16 units.
        Assert.Equal([(0, 0), (0, 0), (0, 0), (0, 0), (0, 2)], tokenizer.EncodeWithOffsets("😀").Offsets);
    }

    [Fact]
    public void NormalizationRules_RewriteTheLongestKey_AndOffsetsPointAtTheOriginalCharacters()
    {
        var model = SentencePieceModel.Load(Path.Combine(Folder, "unigram-rules.model"));
        Assert.NotEmpty(model.Proto.PrecompiledCharsmap);
        var tokens = model.Encode("ABCAB\U0001F600", model.AddDummyPrefix);            // "ABC" → x (not a b c), A → a, 😀 → ":)"
        Assert.Equal(["▁", "x", "a", "b", ":", ")"], tokens.Select(t => model.PieceOf(t.Id)));
        Assert.Equal([(0, 0), (0, 3), (3, 4), (4, 5), (5, 5), (5, 7)], tokens.Select(t => (t.Start, t.End)));
    }

    [Fact]
    public void BrokenCharsmap_IsRefused()
    {
        using var dir = new TempDirectory("sentencepiece-");
        var bytes = File.ReadAllBytes(Path.Combine(Folder, "llama-bpe.model"));
        byte[] charsmap = [0x12, 5, 0xFF, 0xFF, 0, 0, 1];  // a trie larger than the blob
        // A second normalizer_spec (field 3) merges over the first, as protobuf readers do.
        File.WriteAllBytes(Path.Combine(dir.Path, "tokenizer.model"), [.. bytes, 0x1A, (byte)charsmap.Length, .. charsmap]);
        Assert.Throws<InvalidDataException>(() => TokenizerFiles.Load(dir.Path));
    }

    private static TextTokenizer Checkpoint(string directory, string name, bool legacy)
    {
        var model = Expected[name]!;
        File.Copy(Path.Combine(Folder, model["model"]!.GetValue<string>()), Path.Combine(directory, "tokenizer.model"), overwrite: true);
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), new JsonObject
        {
            ["tokenizer_class"] = model["tokenizer_class"]!.GetValue<string>(),
            ["legacy"] = legacy,
            ["added_tokens_decoder"] = model["added_tokens_decoder"]!.DeepClone(),
        }.ToJsonString());
        return TokenizerFiles.Load(directory);
    }

    private static string[] Pieces(TextTokenizer tokenizer, string text)
    {
        var model = SentencePieceModel.Load(Path.Combine(tokenizer.SourceDirectory!, "tokenizer.model"));
        return tokenizer.Encode(text).Select(model.PieceOf).ToArray();
    }

    /// <summary>Spans lie in the text, in order, without overlap, and every character but whitespace belongs to a token.</summary>
    private static void AssertOffsetsCoverTheText(string text, EncodedText encoded)
    {
        int end = 0;
        var covered = new bool[text.Length];
        foreach (var (start, stop) in encoded.Offsets)
        {
            Assert.True(start >= end && stop >= start && stop <= text.Length, $"{Show(text)}: span {start}-{stop} after {end}");
            for (int i = start; i < stop; i++) covered[i] = true;
            end = stop;
        }
        for (int i = 0; i < text.Length; i++)
            Assert.True(covered[i] || char.IsWhiteSpace(text[i]), $"{Show(text)}: character {i} belongs to no token");
    }

    private static IEnumerable<JsonObject> Cases(string name) => Expected[name]!["cases"]!.AsArray().Select(c => c!.AsObject());

    private static int[] Ints(JsonNode? node) => node!.AsArray().Select(n => n!.GetValue<int>()).ToArray();

    private static string Show(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
