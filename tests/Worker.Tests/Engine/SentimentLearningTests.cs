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
        var metrics = new List<TrainingMetrics>();
        trainer.Run(new TrainerCallbacks { Progress = new SyncProgress<TrainingMetrics>(metrics.Add) });

        var final = metrics[^1];
        Assert.NotNull(final.ExactMatchAccuracy);
        Assert.True(final.ExactMatchAccuracy >= 0.8, $"exact match {final.ExactMatchAccuracy}, valid loss {final.ValidLoss}, token acc {final.MeanTokenAccuracy}");
    }
}
