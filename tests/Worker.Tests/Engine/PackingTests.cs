using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Tokenization;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class PackingTests
{
    private static readonly TextTokenizer Gpt2 = TokenizerFiles.Gpt2();
    private static readonly TrainingHyperparameters Small = ResolvedSettings.Training() with { BatchSize = 4, MaxSeqLength = 64, Seed = 11 };

    private static EncodedExample Example(int length, int first) =>
        new(Enumerable.Range(first, length).ToArray(), Enumerable.Range(0, length).Select(t => t > 0).ToArray());

    [Fact]
    public void Pack_PutsWholeExamplesIntoRowsOfAtMostTheLimit_TightestFitFirst()
    {
        int[] lengths = [5, 3, 7, 2, 4, 6, 1];
        var examples = lengths.Select((l, i) => Example(l, 100 * i)).ToList();

        var rows = SequencePacking.Pack(examples, maxLength: 8);

        Assert.All(rows, r => Assert.InRange(r.Length, 1, 8));
        Assert.Equal(4, rows.Count);                                  // 28 tokens: best-fit decreasing needs ⌈28 / 8⌉ = 4 rows
        var packed = new List<int[]>();
        foreach (var row in rows)
        {
            int start = 0;
            foreach (var length in row.ExampleLengths ?? [row.Length])
            {
                packed.Add(row.InputIds[start..(start + length)]);
                Assert.False(row.Labelled[start]);                     // nothing before an example's first token belongs to it
                start += length;
            }
        }
        Assert.Equal(examples.Select(e => e.InputIds), packed.OrderBy(ids => ids[0]));
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void PackedStep_HasTheUnpackedLossAndGradients(string arch)
    {
        var examples = ExampleEncoder.EncodeAll(TrainingData.Sentiment(12, seed: 3), Gpt2, 64, false).Kept;
        var rows = SequencePacking.Pack(examples, 64);
        Assert.True(rows.Count < examples.Count / 3, $"{rows.Count} rows for {examples.Count} examples");

        (float Loss, Tensor[] Gradients) Step(bool packing, IReadOnlyList<EncodedExample> batch)
        {
            using var trainer = NewTrainer(Small with { Packing = packing }, arch, examples: 12);
            var (lossSum, _, labels, _) = trainer.ForwardBackward([batch]);
            return (lossSum.item<float>() / labels, trainer.Model.parameters().Select(p => p.grad!.clone()).ToArray());
        }
        var unpacked = Step(false, examples);
        var packed = Step(true, rows);

        Assert.Equal(unpacked.Loss, packed.Loss, 4);
        for (int i = 0; i < unpacked.Gradients.Length; i++)
            Assert.True(unpacked.Gradients[i].allclose(packed.Gradients[i], rtol: 1e-4, atol: 1e-6),
                $"parameter {i} differs by {(unpacked.Gradients[i] - packed.Gradients[i]).abs().max().item<float>()}");
    }

    [Fact]
    public void StepsPerEpoch_CountPackedRows_AndAnEpochTrainsEveryExample()
    {
        using var plain = NewTrainer(Small, "gpt2", examples: 24);
        using var packed = NewTrainer(Small with { Packing = true }, "gpt2", examples: 24);
        Assert.Equal(6, plain.StepsPerEpoch);                            // 24 examples / 4 per step
        Assert.Equal(24, packed.TrainingExamples);
        Assert.InRange(packed.StepsPerEpoch, 1, 2);                      // ~5 examples per 64-token row: ≤ 8 rows / 4 per step
        while (packed.Step < packed.StepsPerEpoch) packed.TrainStep();
        while (plain.Step < plain.StepsPerEpoch) plain.TrainStep();
        Assert.Equal(plain.TrainedTokens, packed.TrainedTokens);          // same tokens, fewer rows
        Assert.Equal(plain.TrainedLabelTokens, packed.TrainedLabelTokens);
    }

    private static Trainer NewTrainer(TrainingHyperparameters hp, string arch, int examples)
    {
        var model = TinyModels.Create(arch == "gpt2" ? TinyModels.Gpt2(50257) : TinyModels.Llama(50257, tied: true), seed: 5);
        return new Trainer(model, Gpt2, TrainingData.Sentiment(examples, seed: 1), null, hp);
    }
}
