using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Tokenization;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class GradientCheckpointingTests
{
    private static readonly TextTokenizer Gpt2 = TokenizerFiles.Gpt2();

    /// <summary>
    /// A checkpointed block reruns the same ops on the same input in backward, with the dropout masks of the forward
    /// (LoRA's dropout 0.1 here), so loss and every gradient match an ordinary backward, and the random stream goes on unchanged.
    /// </summary>
    [Theory]
    [InlineData("gpt2", false)]
    [InlineData("gpt2", true)]
    [InlineData("llama", false)]
    [InlineData("llama", true)]
    public void CheckpointedStep_HasTheLossAndGradientsOfAPlainStep(string arch, bool lora)
    {
        var hp = ResolvedSettings.Training() with
        {
            BatchSize = 6, MaxSeqLength = 64, Seed = 7,
            Lora = lora ? ResolvedSettings.Lora(arch) with { Rank = 4, Dropout = 0.1 } : null,
        };
        var examples = ExampleEncoder.EncodeAll(TrainingData.Sentiment(6, seed: 4), Gpt2, 64, false).Kept;

        (float Loss, Dictionary<string, Tensor> Gradients, byte[] RngAfter) Step(bool checkpointing)
        {
            var model = TinyModels.Create(arch == "gpt2" ? TinyModels.Gpt2(50257) : TinyModels.Llama(50257, tied: true), seed: 5);
            using var trainer = new Trainer(model, Gpt2, TrainingData.Sentiment(6, seed: 1), null, hp with { GradientCheckpointing = checkpointing });
            Assert.Equal(checkpointing, model.GradientCheckpointing);
            var (lossSum, _, labels, _) = trainer.ForwardBackward([examples]);
            var gradients = model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!.clone());
            return (lossSum.item<float>() / labels, gradients, get_rng_state().data<byte>().ToArray());
        }
        var plain = Step(false);
        var checkpointed = Step(true);

        Assert.Equal(plain.Loss, checkpointed.Loss, 6);
        Assert.Equal(plain.Gradients.Keys, checkpointed.Gradients.Keys);
        Assert.Contains(plain.Gradients.Keys, k => k.Contains("lora_") == lora && (k.Contains(".h.") || k.Contains(".layers."))); // parameters inside blocks
        foreach (var (name, gradient) in plain.Gradients)
            Assert.True(gradient.allclose(checkpointed.Gradients[name], rtol: 1e-5, atol: 1e-7),
                $"{name} differs by {(gradient - checkpointed.Gradients[name]).abs().max().item<float>()}");
        Assert.Equal(plain.RngAfter, checkpointed.RngAfter); // checkpointing leaves the random stream as it found it
    }
}
