using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Tests.Engine;

/// <summary>The tokenizer.json defects of issue 12, each on the fixture shaped like the checkpoint that showed it.</summary>
public sealed class TokenizerJsonBehaviourTests
{
    private static TextTokenizer Family(string name) => TokenizerFiles.Load(Path.Combine(TokenizerJsonTests.Folder, name));

    private static int VocabId(string family, string token)
        => JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerJsonTests.Folder, family, "tokenizer.json")))!["model"]!["vocab"]![token]!.GetValue<int>();

    [Fact]
    public void Qwen2_AppliesNfc_SoADecomposedEEncodesAsThePrecomposedOne()
    {
        var qwen = Family("qwen2");
        var decomposed = qwen.EncodeWithOffsets("Cafe\u0301");
        Assert.Equal(qwen.Encode("Café"), decomposed.Ids);
        Assert.Equal(5, decomposed.Offsets[^1].End); // the composed é stands for both original characters
    }

    [Fact]
    public void SmolLM2_SplitsDigitsOneByOne()
    {
        var smol = Family("smollm2");
        Assert.Equal(["1", "2", "3", "4", "5"], smol.Encode("12345").Select(id => smol.Decode([id])));
    }

    [Fact]
    public void Gemma2_KeepsRunsOfSpacesAsSpacePieces()
    {
        var gemma = Family("gemma2");
        var ids = gemma.Encode("a    b");
        Assert.Contains(VocabId("gemma2", "▁▁▁▁"), ids);
        Assert.Equal("a    b", gemma.Decode(ids));
        Assert.Equal("  two", gemma.Decode(gemma.Encode("  two")));
    }

    [Theory]
    [InlineData("llama3", true), InlineData("qwen2", false), InlineData("mistral-v0.3", true), InlineData("phi3", false), InlineData("t5-like", false)]
    public void AddBos_FollowsTokenizerConfigElseTheTemplateProcessing(string family, bool addBos)
        => Assert.Equal(addBos, Family(family).AddBos);

    [Fact]
    public void TokenizerJson_IsPreferredOverTokenizerModel()
    {
        using var dir = new TempDirectory();
        foreach (var file in Directory.GetFiles(Path.Combine(TokenizerJsonTests.Folder, "mistral-v0.3"))) File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer.model"), "not read: tokenizer.json comes first");
        var tokenizer = TokenizerFiles.Load(dir.Path);
        Assert.Equal(TokenizerKind.TokenizerJson, tokenizer.Kind);
        Assert.Equal(Family("mistral-v0.3").Encode("Hello world"), tokenizer.Encode("Hello world"));
    }

    [Fact]
    public void Offsets_PointIntoTheOriginalText_ThroughPrependAndReplace()
    {
        var mistral = Family("mistral-v0.3");
        const string text = "Hello world";
        var encoded = mistral.EncodeWithOffsets(text);
        Assert.Equal((0, 5), encoded.Offsets[0]); // "▁Hello": the prepended "▁" has no character of its own
        Assert.Equal(text, string.Concat(encoded.Offsets.Select(o => text[o.Start..o.End])));
        Assert.Equal(" world", text[encoded.Offsets[^1].Start..]); // "▁world" stands for the space
    }

    [Fact]
    public void Offsets_OfAMetaspaceUnigram_CoverCollapsedSpaces()
    {
        var t5 = Family("t5-like");
        const string text = "a    b";
        var offsets = t5.EncodeWithOffsets(text).Offsets;
        Assert.Equal(6, offsets[^1].End);
        Assert.Equal(1, offsets.Last(o => o.Start < o.End && text[o.Start] == ' ').Start); // the four spaces became one "▁"
    }

    [Fact]
    public void AddedTokens_RStrip_TakesTheSpacesAfterIt()
    {
        var phi3 = Family("phi3");
        var encoded = phi3.EncodeWithOffsets("<|assistant|>   hi");
        Assert.Equal(phi3.TokenId("<|assistant|>"), encoded.Ids[0]);
        Assert.Equal((0, 16), encoded.Offsets[0]);
        Assert.Equal(phi3.Encode("hi"), encoded.Ids[1..]);
    }

    [Fact]
    public void AddedTokens_Normalized_MatchOnTheNormalizedText()
    {
        var tokenizer = Family("unigram-byte-fallback"); // "hello" is a normalized added token; the normalizer lowercases
        var id = tokenizer.TokenId("hello");
        Assert.Equal([id!.Value], tokenizer.Encode("HELLO").Where(i => i == id).ToArray());
    }

    [Fact]
    public void Chat_OnAMetaspaceTokenizer_LabelsTheAssistantTurnOnly()
    {
        using var dir = new TempDirectory();
        foreach (var file in Directory.GetFiles(Path.Combine(TokenizerJsonTests.Folder, "llama-metaspace"))) File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "tokenizer_config.json")))!.AsObject();
        config["chat_template"] = "{% for m in messages %}{% if m['role'] == 'user' %}{{ bos_token + '[INST] ' + m['content'] + ' [/INST]' }}"
            + "{% else %}{{ ' ' + m['content'] + ' ' + eos_token }}{% endif %}{% endfor %}"; // Llama 2's shape
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer_config.json"), config.ToJsonString());
        var tokenizer = TokenizerFiles.Load(dir.Path);
        var example = ChatTemplate.Of(tokenizer).RenderExample([new("user", "hi there"), new("assistant", "hello world")]);
        var encoded = ExampleEncoder.Encode(example, tokenizer, 256);
        var labelled = encoded.InputIds.Where((_, i) => encoded.Labelled[i]).ToArray();
        Assert.Equal("hello world </s>", tokenizer.Decode(labelled)); // the decoder drops the first token's leading space
        int firstLabelled = Array.IndexOf(encoded.Labelled, true);
        Assert.All(encoded.Labelled[firstLabelled..], Assert.True); // one contiguous span: the answer and its EOS
        Assert.EndsWith("[/INST]", tokenizer.Decode(encoded.InputIds[..firstLabelled]));
    }

    [Theory]
    [InlineData("""{"type":"Nmt"}""", "normalizer", "Nmt")]
    [InlineData("""{"type":"UnicodeScripts"}""", "pre_tokenizer", "UnicodeScripts")]
    [InlineData("""{"type":"CTC"}""", "decoder", "CTC")]
    public void UnsupportedComponents_AreRefusedByName(string component, string key, string name)
    {
        using var dir = new TempDirectory();
        foreach (var file in Directory.GetFiles(Path.Combine(TokenizerJsonTests.Folder, "bert"))) File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "tokenizer.json")))!.AsObject();
        json[key] = JsonNode.Parse(component);
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer.json"), json.ToJsonString());
        var error = Assert.Throws<NotSupportedException>(() => TokenizerFiles.Load(dir.Path));
        Assert.Contains(name, error.Message);
    }
}
