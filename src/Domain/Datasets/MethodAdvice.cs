using TuningService.Domain.Jobs.Specs;

namespace TuningService.Domain.Datasets;

/// <summary>
/// Which methods a file suits and whether its size fits, by the lesson the service rests on: supervised and
/// instruction tuning want hundreds to tens of thousands of good examples; a reward model wants thousands of
/// preference pairs (below that DPO, which needs no reward model, is the better use of them); PPO wants a varied pool
/// of prompts and a reward model trained on data like them.
/// </summary>
public static class MethodAdvice
{
    /// <summary>How well a file's size fits a method: <c>few</c> (expect overfitting), <c>good</c>, or <c>large</c> (fine; consider fewer epochs).</summary>
    public static class Fits
    {
        public const string Few = "few";
        public const string Good = "good";
        public const string Large = "large";
    }

    /// <summary>A method the file can train, how its size fits, and what to do about it.</summary>
    public sealed record MethodFit(string Method, string Fit, string Advice);

    /// <summary>Fewest and most examples (pairs, prompts) that fit each method well.</summary>
    public static (int Minimum, int Maximum) GoodRange(string method) => method switch
    {
        MethodTypes.Supervised or MethodTypes.Instruction => (100, 50_000),
        MethodTypes.RewardModel => (1_000, 500_000),
        MethodTypes.Dpo => (200, 200_000),
        MethodTypes.Ppo => (50, 200_000),
        _ => (100, 50_000),
    };

    /// <summary>Every method that trains on <paramref name="format"/>, with the fit of <paramref name="examples"/> examples.</summary>
    public static IReadOnlyList<MethodFit> For(string format, long examples) =>
        MethodTypes.All.Where(m => MethodTypes.FormatsFor(m).Contains(format)).Select(m => Fit(m, examples)).ToList();

    public static MethodFit Fit(string method, long examples)
    {
        var (minimum, maximum) = GoodRange(method);
        var unit = method switch { MethodTypes.RewardModel or MethodTypes.Dpo => "preference pairs", MethodTypes.Ppo => "prompts", _ => "examples" };
        if (examples < minimum)
            return new MethodFit(method, Fits.Few, method switch
            {
                MethodTypes.RewardModel => $"{examples} {unit}: a reward model wants {minimum:N0}+ or it learns the few pairs by heart and PPO exploits its gaps; with this few, train dpo on them instead.",
                MethodTypes.Ppo => $"{examples} {unit}: PPO wants a varied pool ({minimum}+) like the data its reward model learned, or it overfits a few prompts.",
                _ => $"{examples} {unit}: {method} wants hundreds to tens of thousands ({minimum}+); expect overfitting: add data, hold out a validation file with early_stopping, or use LoRA.",
            });
        if (examples > maximum)
            return new MethodFit(method, Fits.Large, $"{examples:N0} {unit}: plenty; one or two epochs usually suffice.");
        return new MethodFit(method, Fits.Good, $"{examples:N0} {unit}: within the range {method} wants ({minimum:N0}–{maximum:N0}).");
    }
}
