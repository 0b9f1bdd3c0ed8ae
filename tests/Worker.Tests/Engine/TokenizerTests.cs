using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class TokenizerTests
{
    [Fact]
    public void EmbeddedGpt2_EncodesHelloWorld_As15496And995()
    {
        var tokenizer = TokenizerFiles.Gpt2();
        Assert.Equal([15496, 995], tokenizer.Encode("Hello world"));
        Assert.Equal("Hello world", tokenizer.Decode([15496, 995]));
        Assert.Equal(50256, tokenizer.EosId);
        Assert.False(tokenizer.AddBos);
    }

    [Fact]
    public void EmbeddedGpt2_EncodesSpecialTokenInText_AsItsId()
        => Assert.Equal([15496, 50256, 995], TokenizerFiles.Gpt2().Encode("Hello<|endoftext|> world"));

    [Fact]
    public void TokenizerJson_ByteLevelBpe_UsesItsMergesAndAddedTokens()
    {
        using var dir = new TempDirectory();
        TinyBpe.WriteTokenizerJson(dir.Path);
        var tokenizer = TokenizerFiles.Load(dir.Path);
        Assert.Equal(TokenizerKind.TokenizerJson, tokenizer.Kind);
        Assert.Equal([11, 16], tokenizer.Encode("hello world"));
        Assert.Equal([18, 11, 19], tokenizer.Encode("<|im_start|>hello<|im_end|>"));
        Assert.Equal("hello world", tokenizer.Decode([11, 16]));
        Assert.Equal(17, tokenizer.EosId);
        Assert.Equal(20, tokenizer.BosId);
        Assert.True(tokenizer.AddBos); // the post-processor template adds BOS, as Llama 3's does
    }

    [Fact]
    public void VocabJsonAndMerges_LoadAsByteLevelBpe()
    {
        using var dir = new TempDirectory();
        TinyBpe.WriteVocabMerges(dir.Path);
        var tokenizer = TokenizerFiles.Load(dir.Path);
        Assert.Equal(TokenizerKind.VocabMerges, tokenizer.Kind);
        Assert.Equal([11, 16], tokenizer.Encode("hello world"));
        Assert.Equal(17, tokenizer.EosId);
    }

    [Fact]
    public void SavedTokenizer_LoadsBackFromTheModelDirectory()
    {
        using var source = new TempDirectory();
        using var target = new TempDirectory();
        TinyBpe.WriteTokenizerJson(source.Path);
        TokenizerFiles.Load(source.Path).SaveTo(target.Path);
        Assert.Equal([11, 16], TokenizerFiles.Load(target.Path).Encode("hello world"));

        using var embedded = new TempDirectory();
        TokenizerFiles.Gpt2().SaveTo(embedded.Path);
        Assert.Equal([15496, 995], TokenizerFiles.Load(embedded.Path).Encode("Hello world"));
    }
}

/// <summary>A hand-made byte-level BPE: "hello" and " world" are single tokens after 9 merges.</summary>
public static class TinyBpe
{
    public static readonly string[] Merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "Ġwor l", "Ġworl d"];

    public static JsonObject Vocab()
    {
        string[] tokens = ["h", "e", "l", "o", "Ġ", "w", "r", "d", "he", "ll", "hell", "hello", "Ġw", "or", "Ġwor", "Ġworl", "Ġworld"];
        var vocab = new JsonObject();
        for (int i = 0; i < tokens.Length; i++) vocab[tokens[i]] = i;
        return vocab;
    }

    public static void WriteTokenizerJson(string dir)
    {
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(Added("<|endoftext|>", 17), Added("<|im_start|>", 18), Added("<|im_end|>", 19), Added("<|begin_of_text|>", 20)),
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = TokenizerFiles.Gpt2Pattern }, ["behavior"] = "Isolated" },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false }),
            },
            ["post_processor"] = new JsonObject { ["type"] = "TemplateProcessing", ["single"] = new JsonArray(new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = "<|begin_of_text|>" } }) },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["vocab"] = Vocab(),
                ["merges"] = new JsonArray(Merges.Select(m => (JsonNode?)new JsonArray(m.Split(' ')[0], m.Split(' ')[1])).ToArray()),
            },
        };
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), new JsonObject { ["bos_token"] = "<|begin_of_text|>", ["eos_token"] = "<|endoftext|>" }.ToJsonString());
    }

    public static void WriteVocabMerges(string dir)
    {
        var vocab = Vocab();
        vocab["<|endoftext|>"] = 17;
        File.WriteAllText(Path.Combine(dir, "vocab.json"), vocab.ToJsonString());
        File.WriteAllLines(Path.Combine(dir, "merges.txt"), ["#version: 0.2", .. Merges]);
    }

    private static JsonObject Added(string content, int id) => new() { ["id"] = id, ["content"] = content, ["special"] = true };
}
