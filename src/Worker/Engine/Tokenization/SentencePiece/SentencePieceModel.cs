using System.Text;

namespace TuningService.Worker.Engine.Tokenization.SentencePiece;

/// <summary>A token of the model with the characters [Start, End) of the encoded text it stands for.</summary>
public readonly record struct SentencePieceToken(int Id, int Start, int End);

/// <summary>
/// A tokenizer.model as sentencepiece's SentencePieceProcessor encodes with it: normalize, segment (BPE merges or
/// Unigram Viterbi), then unknown pieces become their UTF-8 bytes (byte_fallback) or one merged unknown token.
/// It knows nothing of transformers' added tokens or `legacy`: <see cref="SentencePieceEncoder"/> adds those.
/// </summary>
public sealed class SentencePieceModel
{
    private readonly SentencePieceModelProto proto;
    private readonly Dictionary<string, int> modelPieces = new(StringComparer.Ordinal);   // normal, user-defined, unused
    private readonly Dictionary<string, int> reservedPieces = new(StringComparer.Ordinal); // unknown, control, byte
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> modelLookup;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> reservedLookup;
    private readonly int[] byteIds = new int[256];
    private readonly SentencePieceNormalizer normalizer;
    private readonly Func<string, List<(int Start, int Length, int Id)>> segment;

    public SentencePieceModel(SentencePieceModelProto proto)
    {
        this.proto = proto;
        Array.Fill(byteIds, -1);
        int unk = -1;
        for (int id = 0; id < proto.Pieces.Count; id++)
        {
            var piece = proto.Pieces[id];
            bool inModel = piece.Type is PieceType.Normal or PieceType.UserDefined or PieceType.Unused;
            if (!(inModel ? modelPieces : reservedPieces).TryAdd(piece.Piece, id))
                throw new InvalidDataException($"tokenizer.model defines the piece '{piece.Piece}' twice.");
            if (piece.Type == PieceType.Unknown) unk = unk < 0 ? id : throw new InvalidDataException("tokenizer.model defines two unknown pieces.");
            if (piece.Type == PieceType.Byte) byteIds[ByteOf(piece.Piece)] = id;
        }
        UnkId = unk >= 0 ? unk : throw new InvalidDataException("tokenizer.model defines no unknown piece.");
        if (proto.ByteFallback && byteIds.Contains(-1)) throw new InvalidDataException("tokenizer.model uses byte_fallback without all 256 byte pieces.");
        modelLookup = modelPieces.GetAlternateLookup<ReadOnlySpan<char>>();
        reservedLookup = reservedPieces.GetAlternateLookup<ReadOnlySpan<char>>();
        UserDefined = new UserDefinedSymbols(proto.Pieces.Where(p => p.Type == PieceType.UserDefined).Select(p => p.Piece));
        normalizer = new SentencePieceNormalizer(proto, UserDefined);
        segment = proto.ModelType switch
        {
            SentencePieceModelType.Bpe => new BpeSegmenter(this).Segment,
            SentencePieceModelType.Unigram => new UnigramSegmenter(this).Segment,
            _ => throw new NotSupportedException($"tokenizer.model has model_type {proto.ModelType}; only BPE and UNIGRAM are supported."),
        };
    }

    public static SentencePieceModel Load(string path) => new(SentencePieceModelProto.Read(File.ReadAllBytes(path)));

    public SentencePieceModelProto Proto => proto;
    public int UnkId { get; }
    public bool AddDummyPrefix => proto.AddDummyPrefix;
    public int Count => proto.Pieces.Count;
    internal UserDefinedSymbols UserDefined { get; }

    public string PieceOf(int id) => proto.Pieces[id].Piece;

    /// <summary>sentencepiece's PieceToId: reserved pieces first, then the model's, else the unknown id.</summary>
    public int PieceToId(ReadOnlySpan<char> piece)
        => reservedLookup.TryGetValue(piece, out var id) || modelLookup.TryGetValue(piece, out id) ? id : UnkId;

    /// <summary>The id of a normal, user-defined or unused piece (what merges and the lattice may produce).</summary>
    internal bool TryModelPiece(ReadOnlySpan<char> piece, out int id) => modelLookup.TryGetValue(piece, out id);

    internal VocabularyPiece this[int id] => proto.Pieces[id];

    /// <summary>
    /// Token ids of <paramref name="text"/> as sentencepiece's Encode gives them, with each token's characters of
    /// <paramref name="text"/>. <paramref name="addDummyPrefix"/> overrides normalizer_spec.add_dummy_prefix (transformers
    /// turns it off when `legacy` is false).
    /// </summary>
    public List<SentencePieceToken> Encode(string text, bool addDummyPrefix)
    {
        var normalized = normalizer.Normalize(text, addDummyPrefix);
        var tokens = new List<SentencePieceToken>();
        if (normalized.Text.Length == 0) return tokens;
        bool previousUnknown = false;
        foreach (var (start, length, id) in segment(normalized.Text))
        {
            int begin = normalized.ToOriginal[start], end = normalized.ToOriginal[start + length];
            bool unknown = id == UnkId;
            if (unknown && proto.ByteFallback)
            {
                var bytes = Encoding.UTF8.GetBytes(normalized.Text.Substring(start, length));
                for (int i = 0; i < bytes.Length; i++)   // the last byte carries the character, the others are empty
                    tokens.Add(new SentencePieceToken(byteIds[bytes[i]], begin, i == bytes.Length - 1 ? end : begin));
            }
            else if (unknown && previousUnknown)
                tokens[^1] = tokens[^1] with { End = end };     // a run of unknown characters is one unknown token
            else
                tokens.Add(new SentencePieceToken(id, begin, end));
            previousUnknown = unknown;
        }
        return tokens;
    }

    /// <summary>
    /// The text of model ids as sentencepiece's Decode gives it: "▁" as spaces, byte pieces joined into UTF-8 (an
    /// invalid byte as U+FFFD), control pieces as nothing, the unknown piece as unk_surface, and the leading "▁" of the
    /// first visible piece removed when the model adds a dummy prefix (every leading one when it removes extra
    /// whitespace).
    /// </summary>
    public string Decode(IReadOnlyList<int> ids) => Decode(ids, removeLeadingSpace: proto.AddDummyPrefix || proto.RemoveExtraWhitespaces);

    /// <summary><see cref="Decode(IReadOnlyList{int})"/>, with the caller deciding whether a leading "▁" is a dummy to remove.</summary>
    public string Decode(IReadOnlyList<int> ids, bool removeLeadingSpace)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        bool atStart = removeLeadingSpace, startSpaceSeen = false;
        foreach (var id in ids)
        {
            var piece = proto.Pieces[id];
            if (piece.Type == PieceType.Byte) { bytes.Add((byte)ByteOf(piece.Piece)); continue; }
            AppendBytes(text, bytes);
            if (startSpaceSeen || text.Length > 0) atStart = false;
            var surface = piece.Type switch
            {
                PieceType.Control => "",
                PieceType.Unknown => proto.UnkSurface,
                _ => piece.Piece,
            };
            if (atStart && piece.Type is not (PieceType.Control or PieceType.Unknown) && surface.StartsWith(SentencePieceNormalizer.SpaceSymbol))
            {
                surface = surface[1..];
                startSpaceSeen = !proto.RemoveExtraWhitespaces;
            }
            text.Append(surface.Replace(SentencePieceNormalizer.SpaceSymbol, ' '));
        }
        AppendBytes(text, bytes);
        return text.ToString();
    }

    /// <summary>Appends UTF-8 <paramref name="bytes"/> (each byte of an invalid sequence as U+FFFD) and empties the list.</summary>
    private static void AppendBytes(StringBuilder text, List<byte> bytes)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        while (!span.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf8(span, out var rune, out int consumed) != System.Buffers.OperationStatus.Done)
                (rune, consumed) = (System.Text.Rune.ReplacementChar, 1);
            text.Append(rune.ToString());
            span = span[consumed..];
        }
        bytes.Clear();
    }

    /// <summary>"&lt;0x41&gt;" → 0x41.</summary>
    private static int ByteOf(string piece)
        => piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
           && int.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var b)
            ? b
            : throw new InvalidDataException($"tokenizer.model has an invalid byte piece '{piece}'.");
}
