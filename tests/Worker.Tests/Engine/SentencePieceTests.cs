using System.Text;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Tokenization;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class SentencePieceTests
{
    [Fact]
    public void SentencePieceModel_EncodesWithDummyPrefix_AndLlamaSpecialTokens()
    {
        using var dir = new TempDirectory();
        TinySentencePiece.Write(Path.Combine(dir.Path, "tokenizer.model"));
        var tokenizer = TokenizerFiles.Load(dir.Path);
        Assert.Equal(TokenizerKind.SentencePiece, tokenizer.Kind);
        Assert.Equal([15, 20], tokenizer.Encode("hello world"));
        Assert.Equal("hello world", tokenizer.Decode([15, 20]));
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(2, tokenizer.EosId);
        Assert.True(tokenizer.AddBos);
    }

    [Fact]
    public void PromptCompletion_OnSentencePiece_StartsWithBos_AndDoesNotDoubleTheSpace()
    {
        using var dir = new TempDirectory();
        TinySentencePiece.Write(Path.Combine(dir.Path, "tokenizer.model"));
        var tokenizer = TokenizerFiles.Load(dir.Path);
        var encoded = ExampleEncoder.Encode(TrainingExample.FromPromptCompletion("hello", " world"), tokenizer, 16);
        Assert.Equal([1, 15, 20, 2], encoded.InputIds);
        Assert.Equal([false, false, true, true], encoded.Labelled);
    }
}

/// <summary>Writes a minimal SentencePiece BPE ModelProto by hand (protobuf wire format), so no model download is needed.</summary>
public static class TinySentencePiece
{
    // id: piece (score decides merge order: higher merges first)
    private static readonly (string Piece, float Score, int Type)[] Pieces =
    [
        ("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3), ("▁", -20, 1), ("h", -21, 1), ("e", -22, 1), ("l", -23, 1), ("o", -24, 1),
        ("w", -25, 1), ("r", -26, 1), ("d", -27, 1), ("he", -1, 1), ("ll", -2, 1), ("hell", -3, 1), ("hello", -4, 1), ("▁hello", -5, 1),
        ("or", -6, 1), ("wor", -7, 1), ("worl", -8, 1), ("world", -9, 1), ("▁world", -10, 1),
    ];

    public static void Write(string path)
    {
        var model = new MemoryStream();
        foreach (var (piece, score, type) in Pieces)
        {
            var p = new MemoryStream();
            Bytes(p, 1, Encoding.UTF8.GetBytes(piece));
            Tag(p, 2, 5); p.Write(BitConverter.GetBytes(score));
            Tag(p, 3, 0); Varint(p, (ulong)type);
            Bytes(model, 1, p.ToArray());
        }
        var trainer = new MemoryStream();
        Tag(trainer, 3, 0); Varint(trainer, 2);   // model_type = BPE
        Tag(trainer, 40, 0); Varint(trainer, 0);  // unk_id
        Tag(trainer, 41, 0); Varint(trainer, 1);  // bos_id
        Tag(trainer, 42, 0); Varint(trainer, 2);  // eos_id
        Tag(trainer, 43, 0); Varint(trainer, ulong.MaxValue); // pad_id = -1
        Bytes(model, 2, trainer.ToArray());
        var normalizer = new MemoryStream();
        Bytes(normalizer, 1, Encoding.UTF8.GetBytes("identity"));
        Tag(normalizer, 3, 0); Varint(normalizer, 1); // add_dummy_prefix
        Tag(normalizer, 4, 0); Varint(normalizer, 0); // remove_extra_whitespaces
        Tag(normalizer, 5, 0); Varint(normalizer, 1); // escape_whitespaces
        Bytes(model, 3, normalizer.ToArray());
        File.WriteAllBytes(path, model.ToArray());
    }

    private static void Tag(Stream s, int field, int wireType) => Varint(s, (ulong)(field << 3 | wireType));

    private static void Bytes(Stream s, int field, byte[] value)
    {
        Tag(s, field, 2);
        Varint(s, (ulong)value.Length);
        s.Write(value);
    }

    private static void Varint(Stream s, ulong value)
    {
        while (value >= 0x80) { s.WriteByte((byte)(value | 0x80)); value >>= 7; }
        s.WriteByte((byte)value);
    }
}
