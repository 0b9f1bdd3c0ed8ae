using System.Text.Json.Nodes;

namespace TuningService.Worker.Engine.Tokenization.TokenizerJson;

/// <summary>
/// A Hugging Face tokenizer.json run the way the Rust tokenizers library runs it: added tokens split out (those with
/// normalized=false on the original text), each remaining run normalized, normalized added tokens split out, then
/// pre-tokenized into words that the model (BPE, Unigram, WordPiece or WordLevel) tokenizes. Offsets point into the original text
/// through every normalization. The post-processor is not applied: BOS is the <see cref="TextTokenizer"/>'s decision.
/// </summary>
internal sealed class TokenizerJsonEncoder : ITokenEncoder
{
    private readonly INormalizer? normalizer;
    private readonly IPreTokenizer? preTokenizer;
    private readonly ITokenModel model;
    private readonly ITokenDecoder? decoder;
    private readonly AddedTokenMatcher originalMatcher;
    private readonly AddedTokenMatcher normalizedMatcher;
    private readonly Dictionary<int, string> addedById;

    public TokenizerJsonEncoder(JsonObject json)
    {
        normalizer = Normalizers.Read(json["normalizer"]);
        preTokenizer = PreTokenizers.Read(json["pre_tokenizer"]);
        model = ReadModel(json["model"]!.AsObject());
        decoder = Decoders.Read(json["decoder"]);
        AddedTokens = (json["added_tokens"] as JsonArray ?? []).Select(t => AddedToken.Read(t!.AsObject())).ToList();
        addedById = AddedTokens.GroupBy(t => t.Id).ToDictionary(g => g.Key, g => g.Last().Content);
        originalMatcher = new AddedTokenMatcher(AddedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        normalizedMatcher = new AddedTokenMatcher(AddedTokens.Where(t => t.Normalized).Select(t => (NormalizedContent(t.Content), t)));
    }

    public IReadOnlyList<AddedToken> AddedTokens { get; }

    public EncodedText Encode(string text)
    {
        var ids = new List<int>();
        var offsets = new List<(int Start, int End)>();
        foreach (var (start, end, token) in SplitAddedTokens(originalMatcher, text))
        {
            if (token is not null) { ids.Add(token.Id); offsets.Add((start, end)); continue; }
            var run = AlignedText.FromOriginal(text, start, end);
            var normalized = normalizer?.Normalize(run) ?? run;
            foreach (var (from, to, inner) in SplitAddedTokens(normalizedMatcher, normalized.Text))
            {
                if (inner is not null) { ids.Add(inner.Id); offsets.Add(normalized.OriginalSpan(from, to)); continue; }
                var piece = normalized.Slice(from, to);
                foreach (var word in preTokenizer?.Split(piece) ?? [piece])
                foreach (var modelToken in model.Tokenize(word.Text))
                {
                    ids.Add(modelToken.Id);
                    offsets.Add(word.OriginalSpan(modelToken.Start, modelToken.End));
                }
            }
        }
        return new EncodedText(ids.ToArray(), offsets.ToArray());
    }

    /// <summary>Tokens back to text through the decoder chain (special tokens included, as written).</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var tokens = ids.Select(id => addedById.TryGetValue(id, out var added) ? added : model.IdToToken(id)).OfType<string>().ToList();
        return decoder is null ? string.Join(" ", tokens) : string.Concat(decoder.Decode(tokens));
    }

    private static List<(int Start, int End, AddedToken? Token)> SplitAddedTokens(AddedTokenMatcher matcher, string text)
        => matcher.IsEmpty ? [(0, text.Length, null)] : matcher.Split(text);

    private string NormalizedContent(string content)
        => normalizer is null ? content : normalizer.Normalize(AlignedText.FromOriginal(content, 0, content.Length)).Text;

    private static ITokenModel ReadModel(JsonObject model)
    {
        var type = model["type"]?.GetValue<string>() ?? (model["merges"] is not null ? "BPE" : model["vocab"] is JsonArray ? "Unigram" : "WordPiece");
        return type switch
        {
            "BPE" => new BpeModel(model),
            "Unigram" => new UnigramModel(model),
            "WordPiece" => new WordPieceModel(model),
            "WordLevel" => new WordLevelModel(model),
            _ => throw new NotSupportedException($"The tokenizer.json model '{type}' is not supported (supported: BPE, Unigram, WordPiece, WordLevel)."),
        };
    }
}
