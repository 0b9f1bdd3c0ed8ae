using System.Text.Json.Nodes;

namespace TuningService.Worker.Engine.Tokenization.SentencePiece;

/// <summary>
/// What transformers' LlamaTokenizer / GemmaTokenizer read from tokenizer_config.json next to a tokenizer.model:
/// `legacy` (default true; GemmaTokenizer has no legacy=false path), `add_prefix_space` (default true), `unk_token`,
/// and the added tokens (added_tokens_decoder, plus the unknown/BOS/EOS/pad pieces the model names).
/// </summary>
public static class LlamaTokenizerConfig
{
    public static SentencePieceEncoder Encoder(SentencePieceModel model, JsonObject? tokenizerConfig)
    {
        bool gemma = tokenizerConfig?["tokenizer_class"]?.GetValue<string>()?.StartsWith("Gemma", StringComparison.Ordinal) == true;
        bool legacy = gemma || (Bool(tokenizerConfig?["legacy"]) ?? true);
        bool addPrefixSpace = Bool(tokenizerConfig?["add_prefix_space"]) ?? true;
        var unkToken = Content(tokenizerConfig?["unk_token"]) ?? model.PieceOf(model.UnkId);
        return new SentencePieceEncoder(model, AddedTokens(model, tokenizerConfig), legacy, addPrefixSpace, unkToken);
    }

    private static IEnumerable<AddedToken> AddedTokens(SentencePieceModel model, JsonObject? tokenizerConfig)
    {
        foreach (var (key, value) in tokenizerConfig?["added_tokens_decoder"] as JsonObject ?? [])
        {
            if (value is not JsonObject token || Content(token) is not { } content) continue;
            yield return new AddedToken(content, int.Parse(key, System.Globalization.CultureInfo.InvariantCulture),
                Bool(token["special"]) ?? true, Bool(token["lstrip"]) ?? false, Bool(token["rstrip"]) ?? false);
        }
        foreach (var name in (string[])["unk_token", "bos_token", "eos_token", "pad_token"])
        {
            var node = tokenizerConfig?[name];
            if (Content(node) is { } content && model.PieceToId(content) is var id && (id != model.UnkId || name == "unk_token"))
                yield return new AddedToken(content, id, true, node is JsonObject o && Bool(o["lstrip"]) == true, node is JsonObject r && Bool(r["rstrip"]) == true);
        }
        var spec = model.Proto;
        foreach (var id in (int[])[model.UnkId, spec.BosId, spec.EosId, spec.PadId])
            if (id >= 0 && id < model.Count) yield return new AddedToken(model.PieceOf(id), id);
    }

    private static bool? Bool(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    private static string? Content(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonObject o => o["content"]?.GetValue<string>(),
        _ => null,
    };
}
