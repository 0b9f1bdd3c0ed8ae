using TuningService.Worker.Engine.Data;

namespace TuningService.Worker.Tests.Engine;

/// <summary>Deterministic toy datasets.</summary>
public static class TrainingData
{
    private static readonly string[] Good = ["great", "love it", "excellent", "wonderful", "amazing", "fantastic", "superb", "delightful"];
    private static readonly string[] Bad = ["terrible", "hate it", "awful", "horrible", "broken", "useless", "disappointing", "poor"];
    private static readonly string[] Things = ["product", "phone", "book", "movie", "service", "meal", "hotel", "game"];

    /// <summary>Reviews whose sentiment word decides the completion " positive" / " negative".</summary>
    public static List<TrainingExample> Sentiment(int count, int seed)
    {
        var rng = new Random(seed);
        var examples = new List<TrainingExample>();
        for (int i = 0; i < count; i++)
        {
            bool positive = rng.Next(2) == 0;
            var word = (positive ? Good : Bad)[rng.Next(Good.Length)];
            var thing = Things[rng.Next(Things.Length)];
            var prompt = $"Review: {word} {thing}\nSentiment:";
            examples.Add(TrainingExample.FromPromptCompletion(prompt, positive ? " positive" : " negative"));
        }
        return examples;
    }
}
