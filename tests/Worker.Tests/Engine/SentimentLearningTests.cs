using TuningService.Domain.Jobs;
using TuningService.Worker.Engine;
using TuningService.Worker.Engine.Training;

namespace TuningService.Worker.Tests.Engine;

[Collection(EngineTestCollection.Name)]
public sealed class SentimentLearningTests
{
    [Fact]
    public void TinyGpt2_FineTunedOnReviews_ClassifiesValidationReviewsWellAboveChance()
    {
        using var loaded = ModelLoader.LoadPreset("tiny-gpt2", seed: 1);
        var hp = ResolvedSettings.Training() with
        {
            NEpochs = 10, BatchSize = 10, LearningRate = 1e-2, WarmupRatio = 0.05, WeightDecay = 0.0, MaxSeqLength = 32, Seed = 3, LogInterval = 1000,
        };
        using var trainer = new Trainer(loaded.Model, loaded.Tokenizer, TrainingData.Sentiment(100, seed: 10), TrainingData.Sentiment(40, seed: 20), hp);
        while (trainer.Step < trainer.TotalSteps) trainer.TrainStep();

        var final = trainer.Evaluate().Metrics;
        var exactMatch = final[MetricNames.ExactMatchAccuracy];
        Assert.NotNull(exactMatch);
        Assert.True(exactMatch >= 0.8, $"exact match {exactMatch}, valid loss {final[MetricNames.ValidLoss]}, token acc {final[MetricNames.ValidMeanTokenAccuracy]}");
    }
}
