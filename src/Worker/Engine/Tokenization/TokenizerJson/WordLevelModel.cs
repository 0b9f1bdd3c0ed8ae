using System.Text.Json.Nodes;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>WordLevel: each pre-tokenized word is one token, or the unk token when the vocabulary lacks it.</summary>
internal sealed class WordLevelModel : ITokenModel
{
    private readonly Dictionary<string, int> vocab;
    private readonly string[] tokenOfId;
    private readonly string unkToken;

    public WordLevelModel(JsonObject model)
    {
        vocab = model["vocab"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>());
        tokenOfId = new string[vocab.Count == 0 ? 0 : vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab) tokenOfId[id] = token;
        unkToken = model["unk_token"]?.GetValue<string>() ?? "<unk>";
    }

    public string? IdToToken(int id) => id >= 0 && id < tokenOfId.Length ? tokenOfId[id] : null;

    public IReadOnlyList<ModelToken> Tokenize(string word)
    {
        if (word.Length == 0) return [];
        if (vocab.TryGetValue(word, out var id) || vocab.TryGetValue(unkToken, out id)) return [new ModelToken(id, 0, word.Length)];
        throw new InvalidDataException($"The WordLevel unk token '{unkToken}' is not in the vocabulary.");
    }
}
