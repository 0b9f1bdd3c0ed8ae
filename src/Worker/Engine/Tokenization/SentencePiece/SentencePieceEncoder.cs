using System.Text.RegularExpressions;

namespace TuningService.Worker.Engine.Tokenization.SentencePiece;

/// <summary>
/// A token transformers adds on top of the SentencePiece vocabulary (tokenizer_config.json's added_tokens_decoder, and
/// the model's unknown, BOS and EOS pieces): matched in the text before the model sees it. <see cref="LStrip"/> and
/// <see cref="RStrip"/> remove the whitespace on that side of it.
/// </summary>
public sealed record AddedToken(string Content, int Id, bool Special = true, bool LStrip = false, bool RStrip = false);

/// <summary>
/// Encodes text as transformers' slow LlamaTokenizer (and GemmaTokenizer) does on top of sentencepiece: the added
/// tokens are split out of the text first, then each stretch between them is encoded by the model.
/// <para><c>legacy</c> true (transformers' default): each stretch is encoded on its own with the model's dummy prefix,
/// so the text after a special token starts with "▁" ("&lt;s&gt;hi" → &lt;s&gt; ▁hi; "&lt;s&gt; hi" → &lt;s&gt; ▁▁hi).</para>
/// <para><c>legacy</c> false: the model's dummy prefix is off; "▁" in the text reads as a space; the whole text is
/// prefixed with "▁" (<c>add_prefix_space</c>, dropped again when a special token comes first); a stretch starting with
/// a space is encoded behind the unknown token's text and that token's pieces removed, so its space stays a word's
/// "▁" instead of becoming a lone one ("&lt;s&gt;hi" → &lt;s&gt; hi; "&lt;s&gt; hi" → &lt;s&gt; ▁hi).</para>
/// </summary>
public sealed class SentencePieceEncoder : ITokenEncoder
{
    private readonly SentencePieceModel model;
    private readonly Dictionary<string, AddedToken> addedByContent;
    private readonly Dictionary<int, AddedToken> addedById;
    private readonly Regex? splitter;
    private readonly bool legacy;
    private readonly bool addPrefixSpace;
    private readonly string unkToken;
    private readonly int unkTokenLength;
    private readonly int spaceId;

    public SentencePieceEncoder(SentencePieceModel model, IEnumerable<AddedToken> addedTokens, bool legacy, bool addPrefixSpace = true, string? unkToken = null)
    {
        this.model = model;
        this.legacy = legacy;
        this.addPrefixSpace = addPrefixSpace;
        addedByContent = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        foreach (var token in addedTokens) addedByContent.TryAdd(token.Content, token);
        addedById = addedByContent.Values.GroupBy(t => t.Id).ToDictionary(g => g.Key, g => g.First());
        if (addedByContent.Count > 0)
            splitter = new Regex("(" + string.Join("|", addedByContent.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)) + ")", RegexOptions.CultureInvariant);
        this.unkToken = unkToken ?? model.PieceOf(model.UnkId);
        unkTokenLength = model.Encode(this.unkToken, addDummyPrefix: false).Count;
        spaceId = model.TryModelPiece("\u2581", out var id) ? id : -1;
    }

    public IReadOnlyCollection<AddedToken> AddedTokens => addedByContent.Values;

    public EncodedText Encode(string text)
    {
        // legacy false works on the text with "▁" read as a space and, with add_prefix_space, a leading "▁" that
        // stands for no character of the original (shift: the positions it moves the text by).
        int shift = !legacy && text.Length > 0 && addPrefixSpace ? 1 : 0;
        var work = legacy || text.Length == 0 ? text : (shift == 1 ? "\u2581" : "") + text.Replace('\u2581', ' ');

        var tokens = new List<(SentencePieceToken Token, AddedToken? Added)>();
        foreach (var (start, part, added) in Split(work))
        {
            if (added is not null) { tokens.Add((new SentencePieceToken(added.Id, start, start + part.Length), added)); continue; }
            foreach (var token in EncodeStretch(part))
                tokens.Add((token with { Start = start + token.Start, End = start + token.End }, null));
        }
        // The prefix space alone before a special token goes ("▁<s>" → <s>).
        if (!legacy && tokens.Count > 1 && tokens[0].Added is null && tokens[0].Token.Id == spaceId && tokens[1].Added?.Special == true)
            tokens.RemoveAt(0);

        var ids = new int[tokens.Count];
        var offsets = new (int Start, int End)[tokens.Count];
        for (int i = 0; i < tokens.Count; i++)
        {
            ids[i] = tokens[i].Token.Id;
            offsets[i] = (Math.Max(tokens[i].Token.Start - shift, 0), Math.Max(tokens[i].Token.End - shift, 0));
        }
        return new EncodedText(ids, offsets);
    }

    /// <summary>
    /// The text of <paramref name="ids"/>: added tokens as their content, the model's runs through its decoder, without
    /// the dummy space encoding added (at the start of the text; with legacy, at the start — or, for whitespace-suffix
    /// models, the end — of every run between added tokens).
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        var text = new System.Text.StringBuilder();
        var run = new List<int>();
        bool runIsFirst = true;
        void Flush()
        {
            if (run.Count == 0) return;
            if (!legacy) text.Append(model.Decode(run, removeLeadingSpace: runIsFirst && addPrefixSpace));
            else if (!model.Proto.TreatWhitespaceAsSuffix) text.Append(model.Decode(run, removeLeadingSpace: model.AddDummyPrefix));
            else
            {
                var decoded = model.Decode(run, removeLeadingSpace: false);
                text.Append(model.AddDummyPrefix && decoded.EndsWith(' ') ? decoded[..^1] : decoded);
            }
            run.Clear();
        }
        foreach (var id in ids)
        {
            if (addedById.TryGetValue(id, out var added))
            {
                Flush();
                text.Append(added.Content);
                runIsFirst = false;
            }
            else run.Add(id);
        }
        Flush();
        return text.ToString();
    }

    /// <summary>
    /// The stretches of text between added tokens (each with its start in <paramref name="text"/>) and the added tokens
    /// themselves, with whitespace removed beside an added token that strips it.
    /// </summary>
    private List<(int Start, string Part, AddedToken? Added)> Split(string text)
    {
        var parts = new List<(int Start, string Part, AddedToken? Added)>();
        int position = 0;
        foreach (var part in splitter is null ? [text] : splitter.Split(text))
        {
            parts.Add((position, part, addedByContent.GetValueOrDefault(part)));
            position += part.Length;
        }
        for (int i = 0; i < parts.Count; i++)
        {
            if (parts[i].Added is not { } added) continue;
            if (added.RStrip && i + 1 < parts.Count && parts[i + 1].Added is null)
            {
                var (start, part, _) = parts[i + 1];
                var trimmed = part.TrimStart();
                parts[i + 1] = (start + part.Length - trimmed.Length, trimmed, null);
            }
            if (added.LStrip && i > 0 && parts[i - 1].Added is null)
                parts[i - 1] = (parts[i - 1].Start, parts[i - 1].Part.TrimEnd(), null);
        }
        parts.RemoveAll(p => p.Part.Length == 0);
        return parts;
    }

    /// <summary>One stretch of text without added tokens, as LlamaTokenizer._tokenize encodes it.</summary>
    private IEnumerable<SentencePieceToken> EncodeStretch(string part)
    {
        if (legacy) return model.Encode(part, model.AddDummyPrefix);
        if (!part.StartsWith(' ') && !part.StartsWith('\u2581')) return model.Encode(part, addDummyPrefix: false);
        var tokens = model.Encode(unkToken + part, addDummyPrefix: false);
        int prefix = unkToken.Length;
        return tokens.Skip(tokens.Count >= unkTokenLength ? unkTokenLength : 0)
            .Select(t => new SentencePieceToken(t.Id, Math.Max(t.Start - prefix, 0), Math.Max(t.End - prefix, 0)));
    }
}
