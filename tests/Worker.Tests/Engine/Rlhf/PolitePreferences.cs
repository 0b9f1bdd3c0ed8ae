using System.Text.Json;
using TuningService.Worker.Engine.Rlhf;

namespace TuningService.Worker.Tests.Engine.Rlhf;

/// <summary>
/// A learnable preference set made by the tests: the chosen reply is polite ("please", "thank you"), the rejected
/// one is rude. Requests and wordings vary, so a model must read the reply, not memorise pairs.
/// </summary>
public static class PolitePreferences
{
    private static readonly string[] Things = ["password", "invoice", "order", "refund", "account", "delivery", "printer", "booking", "subscription", "laptop"];
    private static readonly string[] Polite =
    [
        "Thank you for asking, please let me fix your {0} right away.",
        "Of course! Please wait a moment while I check your {0}. Thank you!",
        "Happy to help with your {0}, thank you for your patience.",
        "Please accept my apologies about your {0}; thank you, I will sort it out.",
    ];
    private static readonly string[] Rude =
    [
        "Fix your {0} yourself, stop bothering me.",
        "Your {0} is not my problem. Go away.",
        "Ugh, another stupid question about a {0}. Figure it out.",
        "Whatever. Nobody cares about your {0}.",
    ];

    public static List<PreferencePair> Pairs(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var thing = Things[random.Next(Things.Length)];
            return new PreferencePair($"Customer: I need help with my {thing}.\nAgent:",
                " " + string.Format(Polite[random.Next(Polite.Length)], thing),
                " " + string.Format(Rude[random.Next(Rude.Length)], thing));
        }).ToList();
    }

    /// <summary>The same pairs as preference JSONL lines, alternating the plain and the OpenAI shape.</summary>
    public static List<string> JsonLines(int count, int seed) => Pairs(count, seed).Select((p, i) => i % 2 == 0
        ? JsonSerializer.Serialize(new { prompt = p.Prompt, chosen = p.Chosen, rejected = p.Rejected })
        : JsonSerializer.Serialize(new
        {
            input = new { messages = new[] { new { role = "user", content = p.Prompt } } },
            preferred_output = new[] { new { role = "assistant", content = p.Chosen } },
            non_preferred_output = new[] { new { role = "assistant", content = p.Rejected } },
        })).ToList();

    /// <summary>prompt_only lines, plain and chat.</summary>
    public static List<string> PromptLines(int count, int seed) => Pairs(count, seed).Select((p, i) => i % 2 == 0
        ? JsonSerializer.Serialize(new { prompt = p.Prompt })
        : JsonSerializer.Serialize(new { messages = new[] { new { role = "user", content = p.Prompt } } })).ToList();
}
