using System.Text.Json;

namespace TuningService.Worker.Tests.Runtime;

/// <summary>Small learnable datasets made by the tests themselves.</summary>
public static class SampleData
{
    private static readonly string[] Good = ["great", "excellent", "love it", "wonderful", "fantastic", "works perfectly", "very happy", "superb"];
    private static readonly string[] Bad = ["terrible", "awful", "hate it", "broken", "waste of money", "very disappointed", "useless", "poor"];
    private static readonly string[] Things = ["blender", "headphones", "lamp", "backpack", "kettle", "keyboard", "chair", "phone case"];

    /// <summary>Review → " positive"/" negative" prompt/completion lines, balanced and deterministic.</summary>
    public static List<string> Sentiment(int count, int seed = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var positive = i % 2 == 0;
            var cue = (positive ? Good : Bad)[random.Next(Good.Length)];
            var thing = Things[random.Next(Things.Length)];
            return JsonSerializer.Serialize(new { prompt = $"Review: the {thing} is {cue}.\nSentiment:", completion = positive ? " positive" : " negative" });
        }).ToList();
    }

    /// <summary>Support conversations as chat lines with a system turn and an assistant answer.</summary>
    public static List<string> SupportChat(int count, int seed = 2)
    {
        var random = new Random(seed);
        string[] topics = ["password", "invoice", "delivery", "refund"];
        return Enumerable.Range(0, count).Select(_ =>
        {
            var topic = topics[random.Next(topics.Length)];
            return JsonSerializer.Serialize(new
            {
                messages = new object[]
                {
                    new { role = "system", content = "You are a helpful support agent." },
                    new { role = "user", content = $"I have a problem with my {topic}." },
                    new { role = "assistant", content = $"Sorry about your {topic}. I will fix it now." },
                },
            });
        }).ToList();
    }
}
