using TuningService.Domain.Jobs.Specs;
using TuningService.Worker.Engine;
using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine.Rlhf;

[Collection(EngineTestCollection.Name)] // torch's global generator: seeded runs must not interleave with other engine tests
public sealed class DpoTrainerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Dpo_LearnsToPreferPoliteReplies_WithHighRewardAccuracyOnValidation()
    {
        using var loaded = ModelLoader.LoadPreset("tiny-gpt2", seed: 11);
        var tokenizer = loaded.Tokenizer;
        var (train, _) = PreferenceEncoder.EncodePairs(PolitePreferences.Pairs(32, seed: 1), tokenizer, 256);
        var (valid, _) = PreferenceEncoder.EncodePairs(PolitePreferences.Pairs(16, seed: 2), tokenizer, 256);
        var hp = ResolvedSettings.Training(MethodTypes.Dpo) with { NEpochs = 2, BatchSize = 8, LearningRate = 2e-3, Seed = 11 };
        using var trainer = new DpoTrainer(loaded.Model, loaded.Model, train, valid, hp, ResolvedSettings.Dpo() with { Beta = 0.1 }, tokenizer.PadId);

        var before = trainer.Evaluate().Metrics;
        Assert.Equal(0.0, before["valid_rewards/chosen"]!.Value, 4);               // policy == reference at the start
        while (trainer.Step < trainer.TotalSteps) trainer.TrainStep();
        var after = trainer.Evaluate().Metrics;
        output.WriteLine($"valid rewards/accuracies {before["valid_rewards/accuracies"]} -> {after["valid_rewards/accuracies"]}, margins {after["valid_rewards/margins"]}, loss {before["valid_loss"]} -> {after["valid_loss"]}");

        Assert.True(after["valid_rewards/accuracies"] >= 0.9, $"reward accuracy {after["valid_rewards/accuracies"]}");
        Assert.True(after["valid_rewards/margins"] > 0);
        Assert.True(after["valid_loss"] < before["valid_loss"]);
    }

    [Fact]
    public void Dpo_ResumedFromItsState_ContinuesExactlyAsAnUninterruptedRun()
    {
        var hp = ResolvedSettings.Training(MethodTypes.Dpo) with { NEpochs = 1, BatchSize = 4, LearningRate = 1e-3, Seed = 3 };
        var pairs = PolitePreferences.Pairs(8, seed: 4);
        DpoTrainer Build(LoadedModel m) =>
            new(m.Model, m.Model, PreferenceEncoder.EncodePairs(pairs, m.Tokenizer, 256).Kept, [], hp, ResolvedSettings.Dpo() with { LossType = "ipo" }, m.Tokenizer.PadId);

        using var straight = ModelLoader.LoadPreset("tiny-gpt2", seed: 3);
        using var straightTrainer = Build(straight);
        while (straightTrainer.Step < straightTrainer.TotalSteps) straightTrainer.TrainStep();

        using var scratch = new TempDirectory("dpo-state-");
        var directory = scratch.Sub("step-1");
        using (var first = ModelLoader.LoadPreset("tiny-gpt2", seed: 3))
        using (var firstTrainer = Build(first))
        {
            firstTrainer.TrainStep();
            firstTrainer.SaveState(directory);
        }
        using var resumed = ModelLoader.LoadPreset("tiny-gpt2", seed: 3);
        using var resumedTrainer = Build(resumed);
        resumedTrainer.LoadState(directory);
        Assert.Equal(1, resumedTrainer.Step);
        while (resumedTrainer.Step < resumedTrainer.TotalSteps) resumedTrainer.TrainStep();

        var a = straight.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in resumed.Model.named_parameters())
            Assert.True(p.allclose(a[name], rtol: 1e-4, atol: 1e-6), $"{name} differs after resume");
    }
}
