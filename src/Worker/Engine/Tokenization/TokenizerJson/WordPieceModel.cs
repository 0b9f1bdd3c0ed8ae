using System.Text.Json.Nodes;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>
/// WordPiece (BERT): the longest vocabulary prefix of the word, then the longest "##"-prefixed continuation, and so on;
/// a word that cannot be covered (or longer than max_input_chars_per_word) is one unk token.
/// </summary>
internal sealed class WordPieceModel : ITokenModel
{
    private readonly Dictionary<string, int> vocab;
    private readonly string[] tokenOfId;
    private readonly string unkToken;
    private readonly string prefix;
    private readonly int maxInputCharsPerWord;

    public WordPieceModel(JsonObject model)
    {
        vocab = model["vocab"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>());
        tokenOfId = new string[vocab.Count == 0 ? 0 : vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab) tokenOfId[id] = token;
        unkToken = model["unk_token"]?.GetValue<string>() ?? "[UNK]";
        prefix = model["continuing_subword_prefix"]?.GetValue<string>() ?? "##";
        maxInputCharsPerWord = model["max_input_chars_per_word"]?.GetValue<int>() ?? 100;
    }

    public string? IdToToken(int id) => id >= 0 && id < tokenOfId.Length ? tokenOfId[id] : null;

    public IReadOnlyList<ModelToken> Tokenize(string word)
    {
        if (word.Length == 0) return [];
        if (word.EnumerateRunes().Count() > maxInputCharsPerWord) return [Unknown(word)];
        var tokens = new List<ModelToken>();
        for (int start = 0; start < word.Length;)
        {
            int end = word.Length;
            ModelToken? found = null;
            while (start < end)
            {
                var candidate = start > 0 ? prefix + word[start..end] : word[start..end];
                if (vocab.TryGetValue(candidate, out var id)) { found = new ModelToken(id, start, end); break; }
                end -= end >= 2 && char.IsLowSurrogate(word[end - 1]) && char.IsHighSurrogate(word[end - 2]) ? 2 : 1;
            }
            if (found is not { } token) return [Unknown(word)];
            tokens.Add(token);
            start = end;
        }
        return tokens;
    }

    private ModelToken Unknown(string word)
        => new(vocab.TryGetValue(unkToken, out var id) ? id : throw new InvalidDataException($"The WordPiece unk token '{unkToken}' is not in the vocabulary."), 0, word.Length);
}
