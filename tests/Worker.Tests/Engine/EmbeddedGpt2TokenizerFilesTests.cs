using System.Text.Json.Nodes;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class EmbeddedGpt2TokenizerFilesTests
{
    private const string MixedText =
        "Hello world! It's 2024-06-01, the price is $1,234.56 (about 99%).\n\n" +
        "Ça coûte très cher — naïve café, Straße, ñandú, Ελληνικά, русский, 日本語のテキスト.\n" +
        "Emoji: 🙂🚀👩‍💻 and tabs\tand   spaces   \r\n" +
        "code: for (int i = 0; i < n; i++) { x[i] += y[i] * 2; } // done<|endoftext|>Next document   \n";

    [Fact]
    public void SavedEmbeddedGpt2_WritesVocabJsonWith50257TokensInTheByteLevelAlphabet()
    {
        using var dir = new TempDirectory();
        TokenizerFiles.Gpt2().SaveTo(dir.Path);

        var vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "vocab.json")))!.AsObject();
        Assert.Equal(50257, vocab.Count);
        Assert.Equal(15496, vocab["Hello"]!.GetValue<int>());
        Assert.Equal(995, vocab["Ġworld"]!.GetValue<int>());
        Assert.Equal(198, vocab["Ċ"]!.GetValue<int>());
        Assert.Equal(50256, vocab["<|endoftext|>"]!.GetValue<int>());
        Assert.Equal(Enumerable.Range(0, 50257), vocab.Select(kv => kv.Value!.GetValue<int>()).Order());
    }

    [Fact]
    public void SavedEmbeddedGpt2_WritesMergesTxtWithAVersionHeaderAnd50000MergesInRankOrder()
    {
        using var dir = new TempDirectory();
        TokenizerFiles.Gpt2().SaveTo(dir.Path);

        var text = File.ReadAllText(Path.Combine(dir.Path, "merges.txt"));
        Assert.EndsWith("\n", text); // transformers' slow GPT2Tokenizer drops the last line
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.Equal("#version: 0.2", lines[0]);
        Assert.Equal(50000, lines.Length - 1);
        Assert.Equal("Ġ t", lines[1]);
        Assert.All(lines.Skip(1), line => Assert.Equal(2, line.Split(' ').Length));

        var vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "vocab.json")))!.AsObject();
        Assert.Equal(Enumerable.Range(256, 50000), lines.Skip(1).Select(line => vocab[line.Replace(" ", "")]!.GetValue<int>()));
    }

    [Fact]
    public void SavedEmbeddedGpt2_WritesTransformersConfigAndSpecialTokensMap_KeepingTheMarker()
    {
        using var dir = new TempDirectory();
        TokenizerFiles.Gpt2().SaveTo(dir.Path);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "tokenizer_config.json")))!.AsObject();
        Assert.Equal("GPT2Tokenizer", config["tokenizer_class"]!.GetValue<string>());
        Assert.Equal(1024, config["model_max_length"]!.GetValue<int>());
        Assert.False(config["add_prefix_space"]!.GetValue<bool>());
        Assert.Equal("gpt2", config["tuningservice_tokenizer"]!.GetValue<string>());
        var map = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "special_tokens_map.json")))!.AsObject();
        foreach (var key in new[] { "bos_token", "eos_token", "unk_token" })
        {
            Assert.Equal("<|endoftext|>", config[key]!.GetValue<string>());
            Assert.Equal("<|endoftext|>", map[key]!.GetValue<string>());
        }
        Assert.Equal(TokenizerKind.EmbeddedGpt2, TokenizerFiles.Load(dir.Path).Kind);
    }

    [Fact]
    public void SavedEmbeddedGpt2_LoadedThroughVocabJsonAndMerges_EncodesMixedTextToTheEmbeddedIds()
    {
        using var dir = new TempDirectory();
        TokenizerFiles.Gpt2().SaveTo(dir.Path);
        RemoveMarker(dir.Path);

        var embedded = TokenizerFiles.Gpt2();
        var fromFiles = TokenizerFiles.Load(dir.Path);
        Assert.Equal(TokenizerKind.VocabMerges, fromFiles.Kind);
        var ids = embedded.Encode(MixedText);
        Assert.Contains(50256, ids);
        Assert.Equal(ids, fromFiles.Encode(MixedText));
        Assert.Equal(MixedText, fromFiles.Decode(ids));
        Assert.Equal(50256, fromFiles.EosId);
        Assert.False(fromFiles.AddBos);
    }

    [Fact]
    public void MarkerOnlyDirectory_SavedByEarlierVersions_StillLoadsTheEmbeddedGpt2()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "tokenizer_config.json"), """{ "tuningservice_tokenizer": "gpt2", "tokenizer_class": "GPT2Tokenizer" }""");

        var tokenizer = TokenizerFiles.Load(dir.Path);
        Assert.Equal(TokenizerKind.EmbeddedGpt2, tokenizer.Kind);
        Assert.Equal([15496, 995], tokenizer.Encode("Hello world"));
    }

    private static void RemoveMarker(string directory)
    {
        var path = Path.Combine(directory, "tokenizer_config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        Assert.True(config.Remove("tuningservice_tokenizer"));
        File.WriteAllText(path, config.ToJsonString());
    }
}
