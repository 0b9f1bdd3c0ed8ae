using TuningService.Domain.Jobs.Specs;
using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Runtime.Methods;
using EngineTraining = TuningService.Worker.Engine.Training;

namespace TuningService.Worker.Tests.Engine;

/// <summary>
/// Engine settings as a job gets them: the Domain's <see cref="JobSpecResolver"/> fills every default (HyperparameterRanges,
/// their one source) and the worker's <see cref="HyperparameterMapping"/> turns the resolved spec into engine records.
/// Engine tests start here and override only what they exercise (<c>with { ... }</c>).
/// </summary>
public static class ResolvedSettings
{
    public static EngineTraining.TrainingHyperparameters Training(string method = MethodTypes.Supervised, long seed = 42) =>
        HyperparameterMapping.FromSpec(Resolve(method).Method!.Selected!, seed, metricsInterval: 1);

    /// <summary>LoRA with the documented defaults (r 8, alpha 16, dropout 0.05, PEFT's target modules for the architecture).</summary>
    public static EngineTraining.LoraSettings Lora(string architecture) =>
        HyperparameterMapping.FromSpec(Resolve(MethodTypes.Supervised, new LoraSpec(), architecture).Method!.Selected!, 42, 1).Lora!;

    /// <summary>PPO's documented defaults; total_episodes = n_epochs × <paramref name="prompts"/>, as the resolver computes it.</summary>
    public static PpoSettings Ppo(int prompts) => HyperparameterMapping.Ppo(Resolve(MethodTypes.Ppo, trainingExamples: prompts).Method!.Ppo!.Hyperparameters!);

    public static DpoSettings Dpo() => HyperparameterMapping.Dpo(Resolve(MethodTypes.Dpo).Method!.Dpo!.Hyperparameters!);

    private static JobSpec Resolve(string method, LoraSpec? lora = null, string architecture = "gpt2", int trainingExamples = 1)
    {
        var request = new JobSpec
        {
            Model = "m", TrainingFile = "f",
            Method = method switch
            {
                MethodTypes.Supervised => new MethodSpec { Type = method, Supervised = new() { Hyperparameters = new() { Lora = lora } } },
                MethodTypes.Ppo => new MethodSpec { Type = method, Ppo = new() { Hyperparameters = new() { RewardModel = "rm" } } },
                MethodTypes.Dpo => new MethodSpec { Type = method, Dpo = new() { Hyperparameters = new() } },
                MethodTypes.RewardModel => new MethodSpec { Type = method, RewardModel = new() { Hyperparameters = new() } },
                _ => new MethodSpec { Type = method, Instruction = new() { Hyperparameters = new() } },
            },
        };
        Assert.Empty(JobSpecValidation.Validate(request));
        return JobSpecResolver.Resolve(request, new SpecResolutionContext(RandomSeed: 1, architecture, trainingExamples));
    }
}
