using System.Text;
using TuningService.Domain.Jobs.Specs;

namespace TuningService.Domain.Tests.Jobs;

public sealed class JobSpecResolverTests
{
    private static readonly SpecResolutionContext Context = new(RandomSeed: 1234, Architecture: "gpt2", TrainingExamples: 50);

    private static JobSpec Resolve(string json) =>
        JobSpecResolver.Resolve(JobSpecSerializer.TryParse(Encoding.UTF8.GetBytes(json), out _)!, Context);

    [Fact]
    public void Resolve_WithoutMethod_IsSupervisedWithEveryDefault()
    {
        var spec = Resolve("""{"model":"tiny-gpt2","training_file":"f"}""");
        Assert.Equal(MethodTypes.Supervised, spec.Method!.Type);
        Assert.Null(spec.Hyperparameters);
        var h = spec.Method.Supervised!.Hyperparameters!;
        Assert.Equal(3, h.NEpochs);
        Assert.Equal(8, h.BatchSize);
        Assert.Equal(1.0, h.LearningRateMultiplier);
        Assert.Equal(1e-4, h.LearningRate);
        Assert.Equal("linear", h.LrScheduler);
        Assert.Equal(512, h.MaxSeqLength);
        Assert.False(h.TrainOnInputs);
        Assert.False(h.Packing);
        Assert.False(h.GradientCheckpointing);
        Assert.Null(h.Lora);
        Assert.Equal(1234, spec.Seed);
        Assert.Empty(spec.Metadata!);
    }

    [Fact]
    public void Resolve_Auto_BecomesTheDocumentedDefault()
    {
        var spec = Resolve("""{"model":"m","training_file":"f","method":{"type":"dpo","dpo":{"hyperparameters":{"n_epochs":"auto","batch_size":"auto","beta":"auto","learning_rate_multiplier":"auto"}}}}""");
        var h = spec.Method!.Dpo!.Hyperparameters!;
        Assert.Equal(HyperparameterRanges.NEpochs.IntValue, h.NEpochs);
        Assert.Equal(HyperparameterRanges.BatchSize.IntValue, h.BatchSize);
        Assert.Equal(HyperparameterRanges.Beta.Value, h.Beta);
        Assert.Equal(HyperparameterRanges.BaseLearningRate(MethodTypes.Dpo), h.LearningRate);
        Assert.Equal("sigmoid", h.LossType);
    }

    [Fact]
    public void Resolve_DeprecatedTopLevelHyperparameters_BecomeMethodSupervised()
    {
        var spec = Resolve("""{"model":"m","training_file":"f","seed":9,"hyperparameters":{"n_epochs":5,"learning_rate_multiplier":2}}""");
        var h = spec.Method!.Supervised!.Hyperparameters!;
        Assert.Equal(5, h.NEpochs);
        Assert.Equal(2e-4, h.LearningRate!.Value, 12);
        Assert.Equal(9, spec.Seed);
        Assert.Null(spec.Hyperparameters);
    }

    [Fact]
    public void Resolve_LearningRateGiven_DerivesTheMultiplier()
    {
        var h = Resolve("""{"model":"m","training_file":"f","method":{"type":"instruction","instruction":{"hyperparameters":{"learning_rate":0.0003}}}}""")
            .Method!.Instruction!.Hyperparameters!;
        Assert.Equal(0.0003, h.LearningRate);
        Assert.Equal(3.0, h.LearningRateMultiplier!.Value, 9);
    }

    [Theory]
    [InlineData("gpt2", new[] { "c_attn" })]
    [InlineData("llama", new[] { "q_proj", "v_proj" })]
    public void Resolve_LoraWithoutTargets_UsesTheArchitecturesPeftDefault(string architecture, string[] modules)
    {
        var request = JobSpecSerializer.TryParse("""{"model":"m","training_file":"f","hyperparameters":{"lora":{}}}"""u8, out _)!;
        var lora = JobSpecResolver.Resolve(request, Context with { Architecture = architecture }).Method!.Supervised!.Hyperparameters!.Lora!;
        Assert.Equal(modules, lora.TargetModules);
        Assert.Equal((8, 16, 0.05), (lora.R, lora.Alpha, lora.Dropout));
    }

    [Fact]
    public void Resolve_PpoTotalEpisodes_DefaultsToEpochsTimesExamples()
    {
        var h = Resolve("""{"model":"m","training_file":"f","method":{"type":"ppo","ppo":{"hyperparameters":{"reward_model":"ft:rm","n_epochs":2}}}}""")
            .Method!.Ppo!.Hyperparameters!;
        Assert.Equal(100, h.TotalEpisodes);
        Assert.Equal("ft:rm", h.RewardModel);
        Assert.Equal("k1", h.KlEstimator);
    }

    public static TheoryData<string> EveryMethod() => new()
    {
        """{"model":"m","training_file":"f","hyperparameters":{"lora":{}}}""",
        """{"model":"m","training_file":"f","method":{"type":"instruction","instruction":{"hyperparameters":{"lora":{}}}}}""",
        """{"model":"m","training_file":"f","method":{"type":"reward_model"}}""",
        """{"model":"m","training_file":"f","method":{"type":"dpo","dpo":{"hyperparameters":{"lora":{}}}}}""",
        """{"model":"m","training_file":"f","method":{"type":"ppo","ppo":{"hyperparameters":{"reward_model":"ft:rm"}}}}""",
    };

    [Theory]
    [MemberData(nameof(EveryMethod))]
    public void ResolvedSpec_HasEveryHyperparameterSet_PassesValidation_AndRoundTrips(string json)
    {
        var spec = Resolve(json);
        var h = spec.Method!.Selected!;
        // Absent = off: a full fine-tune, no early stopping, a fixed kl_coef, no KL budget.
        string[] offWhenAbsent = [nameof(TrainingHyperparameters.Lora), nameof(TrainingHyperparameters.EarlyStopping),
            nameof(PpoHyperparameters.KlTarget), nameof(PpoHyperparameters.KlBudget)];
        foreach (var property in h.GetType().GetProperties().Where(p => !offWhenAbsent.Contains(p.Name)))
            Assert.True(property.GetValue(h) is not null, $"{property.Name} is not resolved");
        if (h.Lora is { } lora)
            foreach (var property in lora.GetType().GetProperties())
                Assert.NotNull(property.GetValue(lora));
        Assert.Empty(JobSpecValidation.Validate(spec));

        var stored = JobSpecSerializer.Serialize(spec);
        var back = JobSpecSerializer.Deserialize(stored);
        Assert.Equal(JobSpecSerializer.SerializeToString(spec), JobSpecSerializer.SerializeToString(back));
        Assert.Equal(spec.Method.Type, back.Method!.Type);
        Assert.Equal(h.NEpochs, back.Method.Selected!.NEpochs);
    }

    [Fact]
    public void StoredSpec_IsSnakeCase_AndHoldsOnlyTheChosenMethod()
    {
        var json = JobSpecSerializer.SerializeToString(Resolve("""{"model":"m","training_file":"f","method":{"type":"reward_model"}}"""));
        Assert.Contains("\"reward_model\":{\"hyperparameters\":{", json);
        Assert.Contains("\"center_rewards_coefficient\":", json);
        Assert.DoesNotContain("\"supervised\"", json);
        Assert.DoesNotContain("\"dpo\"", json);
    }

    [Fact]
    public void Ranges_ContainTheirDefaults_AndOnlyComputedDefaultsAreMissing()
    {
        foreach (var range in HyperparameterRanges.ByName.Values.Where(r => r.Default is not null))
            Assert.True(range.Contains(range.Value), $"{range.Name} default {range.Default} is outside its range");
        // Computed (learning_rate, total_episodes) or off when absent (kl_target, kl_budget).
        Assert.Equal(["kl_budget", "kl_target", "learning_rate", "total_episodes"], HyperparameterRanges.ByName.Values.Where(r => r.Default is null).Select(r => r.Name).Order());
        Assert.True(HyperparameterRanges.LearningRate.Contains(HyperparameterRanges.BaseLearningRate(MethodTypes.Supervised)));
    }

    [Fact]
    public void EveryHyperparameterOfEveryMethod_HasARange_OrADocumentedDefault()
    {
        // Every JSON field a method's hyperparameters carry is covered by HyperparameterRanges, the single source (reward_model
        // and target_modules are ids/lists, lora and early_stopping are objects, publish's default is computed: best with
        // early stopping, else last); a field added without one fails here.
        var names = new[] { typeof(SupervisedHyperparameters), typeof(InstructionHyperparameters), typeof(RewardModelHyperparameters),
                typeof(DpoHyperparameters), typeof(PpoHyperparameters), typeof(LoraSpec), typeof(EarlyStoppingSpec) }
            .SelectMany(t => t.GetProperties()).Select(p => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name)).Distinct()
            .Except(["reward_model", "target_modules", "lora", "early_stopping", "publish"]);
        Assert.All(names, name => Assert.True(
            HyperparameterRanges.ByName.ContainsKey(name) || HyperparameterRanges.DocumentedDefaults.ContainsKey(name), $"{name} has no range or default"));
    }
}
