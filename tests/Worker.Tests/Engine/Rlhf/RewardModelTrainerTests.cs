using TuningService.Domain.Jobs.Specs;
using TuningService.Worker.Engine;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine.Rlhf;

[Collection(EngineTestCollection.Name)] // torch's global generator: seeded runs must not interleave with other engine tests
public sealed class RewardModelTrainerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Reward_IsReadWhereTransformersPools_WhateverTheRightPadding()
    {
        using var scope = NewDisposeScope();
        using var loaded = ModelLoader.LoadPreset("tiny-gpt2", seed: 3);
        var model = new RewardModel(loaded.Model, loaded.Tokenizer.PadId);
        var (pairs, _) = PreferenceEncoder.EncodePairs(PolitePreferences.Pairs(4, seed: 1), loaded.Tokenizer, 512);
        using var batch = PairBatch.Collate(pairs, loaded.Tokenizer.PadId, CPU);

        var batched = model.Rewards(batch.InputIds, batch.LastIndex);                      // (2B), rows padded to the longest
        var alone = pairs.Select(p => model.Rewards(tensor(p.Chosen.Select(i => (long)i).ToArray(), 1, p.Chosen.Length),
            tensor(new long[] { p.Chosen.Length - 1 })).item<float>()).ToArray();

        for (int i = 0; i < pairs.Count; i++) Assert.Equal(alone[i], batched[i].item<float>(), 4);
        Assert.All(pairs, p => Assert.Equal(loaded.Tokenizer.EosId, p.Chosen[^1]));

        // AutoModelForSequenceClassification's pooling: the last position whose token is not config.pad_token_id.
        var notPad = batch.InputIds.ne(loaded.Tokenizer.PadId).to(ScalarType.Int64);                         // (2B, T)
        var pooled = (arange(batch.InputIds.shape[1]).unsqueeze(0) * notPad).argmax(-1);                     // (2B)
        var transformers = model.Values(batch.InputIds).gather(1, pooled.unsqueeze(1)).squeeze(1);
        Assert.Equal(transformers.data<float>().ToArray(), batched.data<float>().ToArray());
    }

    [Fact]
    public void RewardModel_LearnsPoliteOverRude_WithHighValidationPairwiseAccuracy()
    {
        using var loaded = ModelLoader.LoadPreset("tiny-gpt2", seed: 5);
        manual_seed(5);
        var model = new RewardModel(loaded.Model, loaded.Tokenizer.PadId);
        var tokenizer = loaded.Tokenizer;
        var (train, _) = PreferenceEncoder.EncodePairs(PolitePreferences.Pairs(32, seed: 1), tokenizer, 256);
        var (valid, _) = PreferenceEncoder.EncodePairs(PolitePreferences.Pairs(24, seed: 2), tokenizer, 256);
        var hp = ResolvedSettings.Training(MethodTypes.RewardModel) with { NEpochs = 3, BatchSize = 8, LearningRate = 1e-3, Seed = 5 };
        using var trainer = new RewardModelTrainer(model, train, valid, hp, tokenizer.PadId, centerRewardsCoefficient: 0.01);

        var before = trainer.Evaluate().Metrics["valid_accuracy"];
        while (trainer.Step < trainer.TotalSteps) trainer.TrainStep();
        var after = trainer.Evaluate().Metrics;
        output.WriteLine($"valid accuracy {before} -> {after["valid_accuracy"]}, margin {after["valid_margin"]}");

        Assert.True(after["valid_accuracy"] >= 0.9, $"validation accuracy {after["valid_accuracy"]} (before training {before})");
        Assert.True(after["valid_margin"] > 0);
        Assert.True(after["valid_reward_max"] > after["valid_reward_min"]);
    }

    [Fact]
    public void SavedRewardModel_IsAnHfSequenceClassificationDirectory_ThatLoadsBackTheSameScores()
    {
        using var scope = NewDisposeScope();
        using var loaded = ModelLoader.LoadPreset("tiny-gpt2", seed: 3);
        var model = new RewardModel(loaded.Model, loaded.Tokenizer.PadId);
        using var scratch = new TempDirectory("reward-model-");
        var directory = scratch.Path;
        model.SaveHf(directory, loaded.Tokenizer);

        var config = File.ReadAllText(Path.Combine(directory, "config.json"));
        Assert.Contains("GPT2ForSequenceClassification", config);
        Assert.Contains("\"num_labels\": 1", config);
        Assert.Contains("\"pad_token_id\": 50256", config);
        Assert.True(RewardModel.IsRewardModelDirectory(directory));
        var reloaded = RewardModel.Load(directory);
        var ids = tensor(new long[] { 464, 3797, 318, 922, 50256 }, 1, 5);
        var last = tensor(new long[] { 4 });
        Assert.Equal(model.Rewards(ids, last).item<float>(), reloaded.Rewards(ids, last).item<float>(), 5);
        Assert.Equal(reloaded.Values(ids)[0, 3].item<float>(), reloaded.Rewards(ids, last).item<float>()); // before the closing EOS (= pad)
    }

    [Fact]
    public void SavedUntiedRewardModel_CarriesNoLanguageModelHead()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var backbone = Worker.Engine.Checkpoints.HfCheckpoint.Create(new Worker.Engine.Models.ModelConfig
        {
            Architecture = Worker.Engine.Models.ModelArchitecture.Llama, ModelType = "llama", VocabSize = 50257, HiddenSize = 32,
            NumLayers = 1, NumHeads = 2, NumKeyValueHeads = 1, IntermediateSize = 64, MaxPositionEmbeddings = 64, TieWordEmbeddings = false,
        });
        backbone.InitializeWeights();
        var model = new RewardModel(backbone, padTokenId: 50256);
        using var scratch = new TempDirectory("reward-model-");
        model.SaveHf(scratch.Path, Worker.Engine.Tokenization.TokenizerFiles.Gpt2());

        var keys = Worker.Engine.Checkpoints.Safetensors.Read(Path.Combine(scratch.Path, "model.safetensors")).Keys.ToList();
        Assert.Contains("score.weight", keys);
        Assert.DoesNotContain("lm_head.weight", keys);
        Assert.Contains(keys, k => k.StartsWith("model.layers.0."));
        using var reloaded = RewardModel.Load(scratch.Path);
        var ids = tensor(new long[] { 464, 3797, 318, 50256 }, 1, 4);
        Assert.Equal(model.Rewards(ids, tensor(new long[] { 3 })).item<float>(), reloaded.Rewards(ids, tensor(new long[] { 3 })).item<float>(), 5);
    }
}
