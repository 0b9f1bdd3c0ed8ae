using System.Text.Json;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Tokenization;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class ExampleEncoderTests
{
    private static readonly TextTokenizer Gpt2 = TokenizerFiles.Gpt2();

    [Fact]
    public void PromptCompletion_LabelsCompletionAndEos_NotPrompt()
    {
        var encoded = ExampleEncoder.Encode(TrainingExample.FromPromptCompletion("Review: great\nSentiment:", " positive"), Gpt2, 64);
        var promptIds = Gpt2.Encode("Review: great\nSentiment:");
        Assert.Equal([.. promptIds, .. Gpt2.Encode(" positive"), 50256], encoded.InputIds);
        Assert.All(encoded.Labelled.Take(promptIds.Length), Assert.False);
        Assert.All(encoded.Labelled.Skip(promptIds.Length), Assert.True);
        Assert.Equal(2, encoded.LabelCount);
    }

    [Fact]
    public void Collate_WithPadEqualToEos_KeepsTheRealEosAsALabel()
    {
        var shortOne = ExampleEncoder.Encode(TrainingExample.FromPromptCompletion("a", " b"), Gpt2, 64);
        var longOne = ExampleEncoder.Encode(TrainingExample.FromPromptCompletion("a much longer prompt here", " c d"), Gpt2, 64);
        using var batch = MicroBatch.Collate([shortOne, longOne], Gpt2.PadId, CPU);
        var labels = batch.LabelIds.data<long>().ToArray();
        Assert.Equal(shortOne.LabelCount + longOne.LabelCount, labels.Length);
        Assert.Equal(2, labels.Count(id => id == 50256)); // each example's EOS, none of the pads
        Assert.Equal(Gpt2.PadId, batch.InputIds[0, -1].item<long>()); // the short row is right-padded
    }

    [Fact]
    public void Chat_LabelsWeightedAssistantTurnsAndTheirEndOfTurn_Only()
    {
        var example = ChatTemplate.Of(Gpt2).RenderExample([
            new("system", "be brief"), new("user", "hi"), new("assistant", "first answer", Weight: 0),
            new("user", "again"), new("assistant", "second answer"),
        ]);
        var encoded = ExampleEncoder.Encode(example, Gpt2, 256);
        var labelled = encoded.InputIds.Where((_, i) => encoded.Labelled[i]).ToArray();
        Assert.Equal("second answer<|endoftext|>", Gpt2.Decode(labelled));
    }

    [Fact]
    public void Chat_WithImEndToken_LabelsImEndAsEndOfTurn()
    {
        using var dir = new TempDirectory();
        TinyBpe.WriteTokenizerJson(dir.Path);
        var tokenizer = TokenizerFiles.Load(dir.Path);
        var example = ChatTemplate.Of(tokenizer).RenderExample([new("user", "hello"), new("assistant", "hello world")]);
        var encoded = ExampleEncoder.Encode(example, tokenizer, 256);
        Assert.Equal(20, encoded.InputIds[0]); // BOS
        Assert.Equal([11, 16, 19], encoded.InputIds.Where((_, i) => encoded.Labelled[i]).ToArray());
    }

    [Fact]
    public void TrainOnInputs_LabelsEveryTokenButTheFirst()
    {
        var encoded = ExampleEncoder.Encode(TrainingExample.FromPromptCompletion("Review: great", " positive"), Gpt2, 64, trainOnInputs: true);
        Assert.Equal(encoded.Length - 1, encoded.LabelCount);
    }

    [Fact]
    public void ExampleTruncatedBeforeItsCompletion_IsDroppedAndCounted()
    {
        var (kept, dropped) = ExampleEncoder.EncodeAll([
            TrainingExample.FromPromptCompletion("one two three four five six seven eight", " yes"),
            TrainingExample.FromPromptCompletion("one", " yes"),
        ], Gpt2, maxLength: 4, trainOnInputs: false);
        Assert.Single(kept);
        Assert.Equal(1, dropped);
    }

    [Theory]
    [InlineData("""{"prompt":"p","completion":" c"}""", "p| c|<eos>", "011")]
    [InlineData("""{"text":"hello"}""", "hello|<eos>", "11")]
    [InlineData("""{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a","weight":1}]}""", "<|im_start|>user\nq<|endoftext|>\n<|im_start|>assistant\n|a<|endoftext|>|\n", "010")]
    public void JsonLine_OfEachFormat_ParsedByTheDomain_BecomesSegments(string line, string texts, string trainable)
    {
        var parsed = Domain.Datasets.DatasetReader.ReadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(line + "\n"))).ToBlockingEnumerable().Single();
        var example = DomainExamples.ToTraining(parsed, ChatTemplate.Of(Gpt2))!;
        Assert.Equal(texts, string.Join("|", example.Segments.Select(s => s.Kind == SegmentKind.EndOfSequence ? "<eos>" : s.Text)));
        Assert.Equal(trainable, string.Concat(example.Segments.Select(s => s.Trainable ? '1' : '0')));
    }
}
