using System.Buffers.Binary;
using System.Text;

namespace TuningService.Worker.Engine.Tokenization.SentencePiece;

/// <summary>The kind of a vocabulary entry (sentencepiece_model.proto, ModelProto.SentencePiece.Type).</summary>
public enum PieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

public enum SentencePieceModelType
{
    Unigram = 1,
    Bpe = 2,
    Word = 3,
    Char = 4,
}

public sealed record VocabularyPiece(string Piece, float Score, PieceType Type);

/// <summary>The fields of a tokenizer.model the encoder reads; everything else in the file is skipped.</summary>
public sealed record SentencePieceModelProto
{
    public required IReadOnlyList<VocabularyPiece> Pieces { get; init; }
    public SentencePieceModelType ModelType { get; init; } = SentencePieceModelType.Unigram;
    public bool TreatWhitespaceAsSuffix { get; init; }
    public bool ByteFallback { get; init; }
    public int UnkId { get; init; }
    public int BosId { get; init; } = 1;
    public int EosId { get; init; } = 2;
    public int PadId { get; init; } = -1;
    /// <summary>What <see cref="PieceType.Unknown"/> decodes to.</summary>
    public string UnkSurface { get; init; } = " \u2047 ";
    /// <summary>Informational: the normalization the model was trained with ("identity", "nmt_nfkc", ...).</summary>
    public string NormalizerName { get; init; } = "";
    /// <summary>The compiled normalization rules; empty for "identity".</summary>
    public byte[] PrecompiledCharsmap { get; init; } = [];
    public bool AddDummyPrefix { get; init; } = true;
    public bool RemoveExtraWhitespaces { get; init; } = true;
    public bool EscapeWhitespaces { get; init; } = true;

    /// <summary>
    /// Reads the protobuf wire format of a ModelProto. Hand-written because it needs a dozen fields of three messages;
    /// defaults are those of sentencepiece_model.proto. The denormalizer_spec (rules sentencepiece applies after
    /// decoding) is skipped: <see cref="SentencePieceModel.Decode"/> does not apply it.
    /// </summary>
    public static SentencePieceModelProto Read(byte[] bytes)
    {
        var pieces = new List<VocabularyPiece>();
        SentencePieceModelProto model = new() { Pieces = pieces };
        var reader = new WireReader(bytes);
        while (reader.Next(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (1, 2): pieces.Add(ReadPiece(reader.Bytes())); break;
                case (2, 2): model = ReadTrainerSpec(reader.Bytes(), model); break;
                case (3, 2): model = ReadNormalizerSpec(reader.Bytes(), model); break;
                default: reader.Skip(wireType); break;
            }
        }
        return model;
    }

    private static VocabularyPiece ReadPiece(ReadOnlyMemory<byte> bytes)
    {
        string piece = "";
        float score = 0;
        var type = PieceType.Normal;
        var reader = new WireReader(bytes);
        while (reader.Next(out var field, out var wireType))
        {
            switch (field, wireType)
            {
                case (1, 2): piece = Encoding.UTF8.GetString(reader.Bytes().Span); break;
                case (2, 5): score = reader.Float(); break;
                case (3, 0): type = (PieceType)(int)reader.Varint(); break;
                default: reader.Skip(wireType); break;
            }
        }
        if (piece.Length == 0) throw new InvalidDataException("tokenizer.model has an empty piece.");
        return new VocabularyPiece(piece, score, type);
    }

    private static SentencePieceModelProto ReadTrainerSpec(ReadOnlyMemory<byte> bytes, SentencePieceModelProto model)
    {
        var reader = new WireReader(bytes);
        while (reader.Next(out var field, out var wireType))
        {
            if (field == 44 && wireType == 2) { model = model with { UnkSurface = Encoding.UTF8.GetString(reader.Bytes().Span) }; continue; }
            if (wireType != 0) { reader.Skip(wireType); continue; }
            long value = (long)reader.Varint();
            model = field switch
            {
                3 => model with { ModelType = (SentencePieceModelType)(int)value },
                24 => model with { TreatWhitespaceAsSuffix = value != 0 },
                35 => model with { ByteFallback = value != 0 },
                40 => model with { UnkId = (int)value },
                41 => model with { BosId = (int)value },
                42 => model with { EosId = (int)value },
                43 => model with { PadId = (int)value },
                _ => model,
            };
        }
        return model;
    }

    private static SentencePieceModelProto ReadNormalizerSpec(ReadOnlyMemory<byte> bytes, SentencePieceModelProto model)
    {
        var reader = new WireReader(bytes);
        while (reader.Next(out var field, out var wireType))
        {
            model = (field, wireType) switch
            {
                (1, 2) => model with { NormalizerName = Encoding.UTF8.GetString(reader.Bytes().Span) },
                (2, 2) => model with { PrecompiledCharsmap = reader.Bytes().ToArray() },
                (3, 0) => model with { AddDummyPrefix = reader.Varint() != 0 },
                (4, 0) => model with { RemoveExtraWhitespaces = reader.Varint() != 0 },
                (5, 0) => model with { EscapeWhitespaces = reader.Varint() != 0 },
                _ => Skipped(reader, wireType, model),
            };
        }
        return model;
    }

    private static SentencePieceModelProto Skipped(WireReader reader, int wireType, SentencePieceModelProto model)
    {
        reader.Skip(wireType);
        return model;
    }

    /// <summary>Protobuf wire format: (field &lt;&lt; 3 | wire type) tags, varints, fixed32/64 and length-delimited bytes.</summary>
    private sealed class WireReader(ReadOnlyMemory<byte> data)
    {
        private int position;

        public bool Next(out int field, out int wireType)
        {
            field = wireType = 0;
            if (position >= data.Length) return false;
            ulong tag = Varint();
            field = (int)(tag >> 3);
            wireType = (int)(tag & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (int shift = 0; ; shift += 7)
            {
                if (position >= data.Length || shift > 63) throw new InvalidDataException("tokenizer.model: truncated varint.");
                byte b = data.Span[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return value;
            }
        }

        public float Float() => BinaryPrimitives.ReadSingleLittleEndian(Take(4).Span);

        public ReadOnlyMemory<byte> Bytes() => Take(checked((int)Varint()));

        public void Skip(int wireType)
        {
            switch (wireType)
            {
                case 0: Varint(); break;
                case 1: Take(8); break;
                case 2: Bytes(); break;
                case 5: Take(4); break;
                default: throw new InvalidDataException($"tokenizer.model: unsupported protobuf wire type {wireType}.");
            }
        }

        private ReadOnlyMemory<byte> Take(int count)
        {
            if (count < 0 || position + count > data.Length) throw new InvalidDataException("tokenizer.model: truncated field.");
            var slice = data.Slice(position, count);
            position += count;
            return slice;
        }
    }
}
