using System.Text;
using TuningService.Domain.Jobs;
using TuningService.Domain.Jobs.Specs;
using TuningService.Worker.Runtime;
using TorchSharp;
using TuningService.Worker.Engine.Training;
using TuningService.Worker.Runtime.Methods;

namespace TuningService.Worker.Tests.Runtime;

/// <summary>The resolved spec is the engine's only configuration: every value reaches the engine unchanged, none is invented.</summary>
public sealed class HyperparameterMappingTests
{
    private static JobSpec Resolve(string json, int? contextLength = null) =>
        JobSpecResolver.Resolve(JobSpecSerializer.TryParse(Encoding.UTF8.GetBytes(json), out _)!,
            new SpecResolutionContext(RandomSeed: 3, Architecture: "gpt2", TrainingExamples: 10, contextLength));

    private static string Method(string type, string hyperparameters = "") =>
        "{\"model\":\"tiny-gpt2\",\"training_file\":\"f\",\"method\":{\"type\":\"" + type + "\",\"" + type + "\":{\"hyperparameters\":{" + hyperparameters + "}}}}";

    [Theory]
    [InlineData(MethodTypes.Supervised, 1e-4)]
    [InlineData(MethodTypes.Instruction, 1e-4)]
    [InlineData(MethodTypes.RewardModel, 5e-5)]
    [InlineData(MethodTypes.Dpo, 1e-5)]
    [InlineData(MethodTypes.Ppo, 1e-5)]
    public void ResolvedLearningRate_IsTheMethodsOwnBaseRate_AndReachesTheEngineUnchanged(string method, double expected)
    {
        var extra = method == MethodTypes.Ppo ? "\"reward_model\":\"ft:rm\"," : "";
        var plain = Resolve(Method(method, extra.TrimEnd(','))).Method!.Selected!;
        var doubled = Resolve(Method(method, extra + "\"learning_rate_multiplier\":2")).Method!.Selected!;

        Assert.Equal(expected, HyperparameterRanges.BaseLearningRate(method));
        Assert.Equal(expected, plain.LearningRate);
        Assert.Equal(expected, HyperparameterMapping.FromSpec(plain, seed: 1, metricsInterval: 1).LearningRate);
        Assert.Equal(2 * expected, HyperparameterMapping.FromSpec(doubled, seed: 1, metricsInterval: 1).LearningRate, 15);
    }

    [Fact]
    public void EveryResolvedValue_ReachesTheEngineRecords()
    {
        var spec = (PpoHyperparameters)Resolve(Method(MethodTypes.Ppo,
            "\"reward_model\":\"ft:rm\",\"max_seq_length\":300,\"eval_interval\":7,\"response_length\":40,\"rollout_batch_size\":12,\"num_mini_batches\":3,\"lora\":{\"r\":4}"))
            .Method!.Selected!;
        var hp = HyperparameterMapping.FromSpec(spec, seed: 9, metricsInterval: 5);
        var ppo = HyperparameterMapping.Ppo(spec);

        Assert.Equal((300, 7, 100, 9L, 5), (hp.MaxSeqLength, hp.EvalInterval, hp.CheckpointInterval, hp.Seed, hp.LogInterval));
        Assert.Equal((4, 16.0, 0.05), (hp.Lora!.Rank, hp.Lora.Alpha, hp.Lora.Dropout));
        Assert.Equal(["c_attn"], hp.Lora.TargetModules);
        Assert.Equal((40, 12, 3, 10L * 3), (ppo.ResponseLength, ppo.RolloutBatchSize, ppo.NumMiniBatches, ppo.TotalEpisodes));
        Assert.Equal((HyperparameterRanges.KlCoef.Value, HyperparameterRanges.Temperature.Value, 0.0), (ppo.KlCoef, ppo.Temperature, ppo.MissingEosPenalty));
    }

    [Fact]
    public void PackingAndGradientCheckpointing_DefaultOff_AndReachTheEngineWhenAsked()
    {
        var defaults = HyperparameterMapping.FromSpec(Resolve(Method(MethodTypes.Instruction)).Method!.Selected!, 1, 1);
        var asked = HyperparameterMapping.FromSpec(Resolve(Method(MethodTypes.Supervised, "\"packing\":true,\"gradient_checkpointing\":true")).Method!.Selected!, 1, 1);

        Assert.Equal((false, false), (defaults.Packing, defaults.GradientCheckpointing));
        Assert.Equal((true, true), (asked.Packing, asked.GradientCheckpointing));
    }

    [Theory]
    [InlineData(MethodTypes.Supervised, "", DeviceType.CPU, TrainingPrecision.Float32)]
    [InlineData(MethodTypes.Supervised, "", DeviceType.CUDA, TrainingPrecision.BFloat16)]
    [InlineData(MethodTypes.Instruction, "\"precision\":\"auto\"", DeviceType.CUDA, TrainingPrecision.BFloat16)]
    [InlineData(MethodTypes.Supervised, "\"precision\":\"fp32\"", DeviceType.CUDA, TrainingPrecision.Float32)]
    [InlineData(MethodTypes.Supervised, "\"precision\":\"bf16\"", DeviceType.CPU, TrainingPrecision.BFloat16)]
    [InlineData(MethodTypes.Dpo, "", DeviceType.CUDA, TrainingPrecision.BFloat16)]
    [InlineData(MethodTypes.RewardModel, "\"precision\":\"auto\"", DeviceType.CUDA, TrainingPrecision.BFloat16)]
    [InlineData(MethodTypes.Ppo, "", DeviceType.CPU, TrainingPrecision.Float32)]
    public void PrecisionAuto_IsBf16OnCudaAndFp32OnCpu_AndAnExplicitPrecisionIsKept(string method, string hyperparameters, DeviceType device, TrainingPrecision expected)
    {
        var spec = Resolve(Method(method, hyperparameters)).Method!.Selected!;
        Assert.Equal(hyperparameters == "" ? Precisions.Auto : spec.Precision, spec.Precision);
        Assert.Equal(expected, HyperparameterMapping.FromSpec(spec, seed: 1, metricsInterval: 1, device).Precision);
        Assert.Equal(TrainingPrecision.Float32, HyperparameterMapping.FromSpec(spec with { Precision = null }, 1, 1).Precision); // stored before the field
    }

    [Fact]
    public void SpecStoredBeforeTheNewerFields_RunsAsItWasCreated()
    {
        var stored = (PpoHyperparameters)Resolve(Method(MethodTypes.Ppo, "\"reward_model\":\"ft:rm\"")).Method!.Selected! with
        {
            Packing = null, GradientCheckpointing = null, Publish = null, ForgettingThreshold = null, KlHorizon = null,
        };
        var hp = HyperparameterMapping.FromSpec(stored, seed: 1, metricsInterval: 1);
        var guards = HyperparameterMapping.Guards(stored);

        Assert.Equal((false, false), (hp.Packing, hp.GradientCheckpointing));
        Assert.Equal((false, HyperparameterRanges.ForgettingThreshold.Value), (guards.PublishBest, guards.ForgettingThreshold));
        Assert.Equal(HyperparameterRanges.KlHorizon.IntValue, HyperparameterMapping.Ppo(stored).KlHorizon);
    }

    [Fact]
    public void DefaultMaxSeqLength_IsCappedAtTheModelsContext()
    {
        Assert.Equal(128, Resolve(Method(MethodTypes.Supervised), contextLength: 128).Method!.Selected!.MaxSeqLength);
        Assert.Equal(HyperparameterRanges.MaxSeqLength.IntValue, Resolve(Method(MethodTypes.Supervised), contextLength: 2048).Method!.Selected!.MaxSeqLength);
    }

    [Fact]
    public void SpecWithoutAField_FailsTheJobNamingIt_InsteadOfDefaulting()
    {
        var resolved = (DpoHyperparameters)Resolve(Method(MethodTypes.Dpo)).Method!.Selected!;

        var missingRate = Assert.Throws<JobFailureException>(() => HyperparameterMapping.FromSpec(resolved with { LearningRate = null }, 1, 1));
        var missingBeta = Assert.Throws<JobFailureException>(() => HyperparameterMapping.Dpo(resolved with { Beta = null }));

        Assert.Equal((JobFailures.InvalidHyperparameters, "method.dpo.hyperparameters.learning_rate"), (missingRate.Error.Code, missingRate.Error.Param));
        Assert.Equal("method.dpo.hyperparameters.beta", missingBeta.Error.Param);
    }

    [Fact]
    public void MaxSeqLengthBeyondTheLoadedModelsContext_FailsTheJob_InsteadOfClamping()
    {
        var hp = HyperparameterMapping.FromSpec(Resolve(Method(MethodTypes.Instruction, "\"max_seq_length\":1024")).Method!.Selected!, 1, 1);
        var job = new TrainingJob { Id = "ftjob-1", ProjectId = "p", Model = "tiny-gpt2", TrainingFileId = "f", MethodType = MethodTypes.Instruction, Spec = System.Text.Json.JsonDocument.Parse("{}") };

        Assert.Same(hp, hp.WithinContext(1024, job));
        var failure = Assert.Throws<JobFailureException>(() => hp.WithinContext(512, job));
        Assert.Equal((JobFailures.InvalidHyperparameters, "method.instruction.hyperparameters.max_seq_length"), (failure.Error.Code, failure.Error.Param));
    }
}
