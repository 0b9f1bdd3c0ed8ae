using System.Text;
using TuningService.Domain.Jobs.Specs;

namespace TuningService.Domain.Tests.Jobs;

public sealed class JobSpecValidationTests
{
    /// <summary>Parses and validates like the API does; returns the first error or null.</summary>
    public static SpecError? FirstError(string json)
    {
        var spec = JobSpecSerializer.TryParse(Encoding.UTF8.GetBytes(json), out var parseError);
        return spec is null ? parseError : JobSpecValidation.Validate(spec).FirstOrDefault();
    }

    private static string Base(string rest = "") => $$"""{"model":"tiny-gpt2","training_file":"file-1"{{(rest.Length > 0 ? "," + rest : "")}}}""";
    private static string Method(string type, string hyperparameters) =>
        Base("\"method\":{\"type\":\"" + type + "\",\"" + type + "\":{\"hyperparameters\":{" + hyperparameters + "}}}");
    private static string WithValidation(string type, string hyperparameters) =>
        Base("\"validation_file\":\"file-2\",\"method\":{\"type\":\"" + type + "\",\"" + type + "\":{\"hyperparameters\":{" + hyperparameters + "}}}");
    private static string Ppo(string extra) => Method("ppo", "\"reward_model\":\"ft:rm\"" + (extra.Length > 0 ? "," + extra : ""));

    public static TheoryData<string, string, string> InvalidSpecs() => new()
    {
        // top level
        { """{"training_file":"file-1"}""", "model", "missing_field" },
        { """{"model":"tiny-gpt2"}""", "training_file", "missing_field" },
        { """{"model":"tiny-gpt2","training_file":""}""", "training_file", "missing_field" },
        { """{"model":123,"training_file":"file-1"}""", "model", "invalid_type" },
        { Base("\"validation_file\":\"\""), "validation_file", "invalid_value" },
        { Base("\"suffix\":\"Bad Suffix\""), "suffix", "invalid_value" },
        { Base($"\"suffix\":\"{new string('a', 65)}\""), "suffix", "invalid_value" },
        { Base("\"seed\":-1"), "seed", "invalid_value" },
        { Base("\"seed\":3000000000"), "seed", "invalid_value" },
        { Base("\"seed\":\"42\""), "seed", "invalid_type" },
        { Base("\"metadata\":{" + string.Join(",", Enumerable.Range(0, 17).Select(i => $"\"k{i}\":\"v\"")) + "}"), "metadata", "invalid_value" },
        { Base($"\"metadata\":{{\"{new string('k', 65)}\":\"v\"}}"), $"metadata.{new string('k', 65)}", "invalid_value" },
        { Base($"\"metadata\":{{\"team\":\"{new string('v', 513)}\"}}"), "metadata.team", "invalid_value" },
        { Base("\"metadata\":{\"team\":1}"), "metadata.team", "invalid_type" },
        // method
        { Base("\"method\":{}"), "method.type", "missing_field" },
        { Base("\"method\":{\"type\":\"rlhf\"}"), "method.type", "invalid_value" },
        { Base("\"method\":{\"type\":\"dpo\",\"supervised\":{}}"), "method.supervised", "invalid_value" },
        { Base("\"method\":{\"type\":\"supervised\",\"extra\":{}}"), "method.extra", "unknown_parameter" },
        { Base("\"method\":\"supervised\""), "method", "invalid_type" },
        { Base("\"method\":{\"type\":\"dpo\"},\"hyperparameters\":{\"n_epochs\":2}"), "hyperparameters", "invalid_value" },
        { Base("\"method\":{\"type\":\"supervised\",\"supervised\":{\"hyperparameters\":{}}},\"hyperparameters\":{}"), "hyperparameters", "invalid_value" },
        // common hyperparameters (deprecated top-level and per method)
        { Base("\"hyperparameters\":{\"n_epochs\":0}"), "hyperparameters.n_epochs", "invalid_value" },
        { Base("\"hyperparameters\":{\"n_epochs\":51}"), "hyperparameters.n_epochs", "invalid_value" },
        { Base("\"hyperparameters\":{\"n_epochs\":\"many\"}"), "hyperparameters.n_epochs", "invalid_type" },
        { Base("\"hyperparameters\":{\"n_epochs\":1.5}"), "hyperparameters.n_epochs", "invalid_type" },
        { Base("\"hyperparameters\":{\"n_epochs\":1e10}"), "hyperparameters.n_epochs", "invalid_type" },
        { Base("\"hyperparameters\":{\"epochs\":3}"), "hyperparameters.epochs", "unknown_parameter" },
        { Method("supervised", "\"batch_size\":0"), "method.supervised.hyperparameters.batch_size", "invalid_value" },
        { Method("supervised", "\"batch_size\":257"), "method.supervised.hyperparameters.batch_size", "invalid_value" },
        { Method("supervised", "\"learning_rate\":0"), "method.supervised.hyperparameters.learning_rate", "invalid_value" },
        { Method("supervised", "\"learning_rate\":1e400"), "method.supervised.hyperparameters.learning_rate", "invalid_value" },
        { Method("supervised", "\"learning_rate_multiplier\":-1"), "method.supervised.hyperparameters.learning_rate_multiplier", "invalid_value" },
        { Method("supervised", "\"learning_rate_multiplier\":\"fast\""), "method.supervised.hyperparameters.learning_rate_multiplier", "invalid_type" },
        { Method("supervised", "\"learning_rate\":0.001,\"learning_rate_multiplier\":2"), "method.supervised.hyperparameters.learning_rate_multiplier", "invalid_value" },
        { Method("supervised", "\"lr_scheduler\":\"exponential\""), "method.supervised.hyperparameters.lr_scheduler", "invalid_value" },
        { Method("supervised", "\"warmup_ratio\":1"), "method.supervised.hyperparameters.warmup_ratio", "invalid_value" },
        { Method("supervised", "\"weight_decay\":1.5"), "method.supervised.hyperparameters.weight_decay", "invalid_value" },
        { Method("supervised", "\"max_grad_norm\":-1"), "method.supervised.hyperparameters.max_grad_norm", "invalid_value" },
        { Method("supervised", "\"gradient_accumulation_steps\":0"), "method.supervised.hyperparameters.gradient_accumulation_steps", "invalid_value" },
        { Method("supervised", "\"max_seq_length\":4"), "method.supervised.hyperparameters.max_seq_length", "invalid_value" },
        { Method("supervised", "\"eval_interval\":0"), "method.supervised.hyperparameters.eval_interval", "invalid_value" },
        { Method("supervised", "\"checkpoint_interval\":0"), "method.supervised.hyperparameters.checkpoint_interval", "invalid_value" },
        { Method("supervised", "\"train_on_inputs\":\"yes\""), "method.supervised.hyperparameters.train_on_inputs", "invalid_type" },
        { Method("supervised", "\"beta\":0.1"), "method.supervised.hyperparameters.beta", "unknown_parameter" },
        { Method("instruction", "\"train_on_inputs\":true"), "method.instruction.hyperparameters.train_on_inputs", "unknown_parameter" },
        // lora
        { Method("supervised", "\"lora\":{\"r\":0}"), "method.supervised.hyperparameters.lora.r", "invalid_value" },
        { Method("supervised", "\"lora\":{\"alpha\":0}"), "method.supervised.hyperparameters.lora.alpha", "invalid_value" },
        { Method("supervised", "\"lora\":{\"dropout\":1}"), "method.supervised.hyperparameters.lora.dropout", "invalid_value" },
        { Method("supervised", "\"lora\":{\"target_modules\":[]}"), "method.supervised.hyperparameters.lora.target_modules", "invalid_value" },
        { Method("supervised", "\"lora\":{\"target_modules\":[\"q proj\"]}"), "method.supervised.hyperparameters.lora.target_modules[0]", "invalid_value" },
        { Method("supervised", "\"lora\":{\"rank\":8}"), "method.supervised.hyperparameters.lora.rank", "unknown_parameter" },
        // packing: one sequence per example, so supervised and instruction only
        { Method("supervised", "\"packing\":\"yes\""), "method.supervised.hyperparameters.packing", "invalid_type" },
        { Method("dpo", "\"packing\":true"), "method.dpo.hyperparameters.packing", "invalid_value" },
        { Method("reward_model", "\"packing\":true"), "method.reward_model.hyperparameters.packing", "invalid_value" },
        { Ppo("\"packing\":true"), "method.ppo.hyperparameters.packing", "invalid_value" },
        { Method("supervised", "\"gradient_checkpointing\":1"), "method.supervised.hyperparameters.gradient_checkpointing", "invalid_type" },
        // precision: auto | bf16 | fp32, for every method
        { Method("supervised", "\"precision\":\"fp16\""), "method.supervised.hyperparameters.precision", "invalid_value" },
        { Method("instruction", "\"precision\":16"), "method.instruction.hyperparameters.precision", "invalid_type" },
        { Method("dpo", "\"precision\":\"bfloat16\""), "method.dpo.hyperparameters.precision", "invalid_value" },
        { Ppo("\"precision\":\"fp16\""), "method.ppo.hyperparameters.precision", "invalid_value" },
        // reward_model
        { Method("reward_model", "\"margin\":-1"), "method.reward_model.hyperparameters.margin", "invalid_value" },
        { Method("reward_model", "\"center_rewards_coefficient\":11"), "method.reward_model.hyperparameters.center_rewards_coefficient", "invalid_value" },
        // dpo
        { Method("dpo", "\"beta\":0"), "method.dpo.hyperparameters.beta", "invalid_value" },
        { Method("dpo", "\"beta\":\"high\""), "method.dpo.hyperparameters.beta", "invalid_type" },
        { Method("dpo", "\"label_smoothing\":0.5"), "method.dpo.hyperparameters.label_smoothing", "invalid_value" },
        { Method("dpo", "\"loss_type\":\"hinge\""), "method.dpo.hyperparameters.loss_type", "invalid_value" },
        // ppo
        { Base("\"method\":{\"type\":\"ppo\"}"), "method.ppo.hyperparameters.reward_model", "missing_field" },
        { Method("ppo", "\"kl_coef\":0.1"), "method.ppo.hyperparameters.reward_model", "missing_field" },
        { Ppo("\"kl_coef\":-1"), "method.ppo.hyperparameters.kl_coef", "invalid_value" },
        { Ppo("\"kl_estimator\":\"k2\""), "method.ppo.hyperparameters.kl_estimator", "invalid_value" },
        { Ppo("\"cliprange\":0"), "method.ppo.hyperparameters.cliprange", "invalid_value" },
        { Ppo("\"cliprange_value\":0"), "method.ppo.hyperparameters.cliprange_value", "invalid_value" },
        { Ppo("\"vf_coef\":11"), "method.ppo.hyperparameters.vf_coef", "invalid_value" },
        { Ppo("\"gamma\":1.1"), "method.ppo.hyperparameters.gamma", "invalid_value" },
        { Ppo("\"lam\":-0.1"), "method.ppo.hyperparameters.lam", "invalid_value" },
        { Ppo("\"ppo_epochs\":0"), "method.ppo.hyperparameters.ppo_epochs", "invalid_value" },
        { Ppo("\"num_mini_batches\":0"), "method.ppo.hyperparameters.num_mini_batches", "invalid_value" },
        { Ppo("\"response_length\":0"), "method.ppo.hyperparameters.response_length", "invalid_value" },
        { Ppo("\"temperature\":0"), "method.ppo.hyperparameters.temperature", "invalid_value" },
        { Ppo("\"rollout_batch_size\":0"), "method.ppo.hyperparameters.rollout_batch_size", "invalid_value" },
        { Ppo("\"total_episodes\":0"), "method.ppo.hyperparameters.total_episodes", "invalid_value" },
        { Ppo("\"missing_eos_penalty\":-1"), "method.ppo.hyperparameters.missing_eos_penalty", "invalid_value" },
        { Ppo("\"whiten_rewards\":1"), "method.ppo.hyperparameters.whiten_rewards", "invalid_type" },
        { Ppo("\"kl_target\":0"), "method.ppo.hyperparameters.kl_target", "invalid_value" },
        { Ppo("\"kl_horizon\":0"), "method.ppo.hyperparameters.kl_horizon", "invalid_value" },
        { Ppo("\"kl_budget\":-1"), "method.ppo.hyperparameters.kl_budget", "invalid_value" },
        { Ppo("\"kl_target\":6,\"kl_budget\":6"), "method.ppo.hyperparameters.kl_budget", "invalid_value" },
        { Ppo("\"early_stopping\":{}"), "method.ppo.hyperparameters.early_stopping", "invalid_value" },
        { Ppo("\"publish\":\"best\""), "method.ppo.hyperparameters.publish", "invalid_value" },
        // guards: early stopping and publish best judge the validation loss; the reference text measures forgetting
        { Method("supervised", "\"early_stopping\":{\"patience\":2}"), "method.supervised.hyperparameters.early_stopping", "invalid_value" },
        { Method("instruction", "\"publish\":\"best\""), "method.instruction.hyperparameters.publish", "invalid_value" },
        { WithValidation("supervised", "\"early_stopping\":{\"patience\":0}"), "method.supervised.hyperparameters.early_stopping.patience", "invalid_value" },
        { WithValidation("supervised", "\"early_stopping\":{\"min_delta\":-0.1}"), "method.supervised.hyperparameters.early_stopping.min_delta", "invalid_value" },
        { WithValidation("supervised", "\"early_stopping\":{\"patience\":\"3\"}"), "method.supervised.hyperparameters.early_stopping.patience", "invalid_type" },
        { WithValidation("supervised", "\"early_stopping\":{\"wait\":3}"), "method.supervised.hyperparameters.early_stopping.wait", "unknown_parameter" },
        { WithValidation("dpo", "\"publish\":\"first\""), "method.dpo.hyperparameters.publish", "invalid_value" },
        { Method("supervised", "\"forgetting_threshold\":0"), "method.supervised.hyperparameters.forgetting_threshold", "invalid_value" },
        { Base("\"reference_file\":\"\""), "reference_file", "invalid_value" },
        { Base("\"reference_file\":\"file-2\",\"method\":{\"type\":\"reward_model\"}"), "reference_file", "invalid_value" },
        { Base("\"integrations\":[{\"type\":\"wandb\",\"wandb\":{\"project\":\"p\"}}]"), "integrations", "invalid_value" },
        { Base("\"integrations\":{\"type\":\"wandb\"}"), "integrations", "invalid_type" },
        // each rollout batch splits into num_mini_batches equal minibatches (absent = the default rollout_batch_size 8)
        { Ppo("\"rollout_batch_size\":6,\"num_mini_batches\":4"), "method.ppo.hyperparameters.num_mini_batches", "invalid_value" },
        { Ppo("\"num_mini_batches\":3"), "method.ppo.hyperparameters.num_mini_batches", "invalid_value" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void InvalidSpec_IsRefused_NamingTheFieldByItsFullPath(string json, string param, string code)
    {
        var error = FirstError(json);
        Assert.NotNull(error);
        Assert.Equal((param, code), (error.Param, error.Code));
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Theory]
    [InlineData("{\"model\":")]
    [InlineData("{\"model\":\"m\",\"training_file\":\"f\",\"hyperparameters\":{\"learning_rate\":NaN}}")]
    [InlineData("{\"model\":\"m\",}")]
    [InlineData("null")]
    [InlineData("")]
    public void MalformedJson_IsRefusedAsInvalidJson(string json) =>
        Assert.Equal("invalid_json", FirstError(json)?.Code);

    [Fact]
    public void NonObjectBody_IsRefusedAsInvalidType() => Assert.Equal("invalid_type", FirstError("[1,2]")?.Code);

    [Theory]
    [InlineData("""{"model":"tiny-gpt2","training_file":"f"}""")]
    [InlineData("""{"model":"tiny-gpt2","training_file":"f","hyperparameters":{"n_epochs":"auto","batch_size":"auto","learning_rate_multiplier":"auto"}}""")]
    [InlineData("""{"model":"tiny-gpt2","training_file":"f","suffix":"my-model_1","seed":7,"metadata":{"team":"search"}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"dpo","dpo":{"hyperparameters":{"beta":"auto","n_epochs":"auto"}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"ppo","ppo":{"hyperparameters":{"reward_model":"ft:rm","whiten_rewards":true,"total_episodes":100}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"instruction","instruction":{"hyperparameters":{"lora":{"r":4,"target_modules":["q_proj"]}}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"reward_model"}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"supervised","supervised":{"hyperparameters":{"packing":true,"gradient_checkpointing":true}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"instruction","instruction":{"hyperparameters":{"packing":true}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"supervised","supervised":{"hyperparameters":{"precision":"bf16","lora":{"r":8}}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"reward_model","reward_model":{"hyperparameters":{"precision":"fp32"}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"dpo","dpo":{"hyperparameters":{"precision":"auto"}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"reward_model","reward_model":{"hyperparameters":{"precision":"bf16","lora":{"r":8}}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"dpo","dpo":{"hyperparameters":{"precision":"bf16"}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"ppo","ppo":{"hyperparameters":{"reward_model":"ft:rm","precision":"bf16"}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"dpo","dpo":{"hyperparameters":{"packing":false,"gradient_checkpointing":true}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","integrations":[],"unknown_top_level":1}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"ppo","ppo":{"hyperparameters":{"reward_model":"ft:rm","rollout_batch_size":12,"num_mini_batches":4}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"ppo","ppo":{"hyperparameters":{"reward_model":"ft:rm","num_mini_batches":8}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","validation_file":"v","reference_file":"r","method":{"type":"supervised","supervised":{"hyperparameters":{"early_stopping":{"patience":2,"min_delta":0.01},"forgetting_threshold":0.2}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","validation_file":"v","method":{"type":"dpo","dpo":{"hyperparameters":{"early_stopping":null,"publish":"best"}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","method":{"type":"supervised","supervised":{"hyperparameters":{"early_stopping":null,"publish":"last"}}}}""")]
    [InlineData("""{"model":"m","training_file":"f","reference_file":"r","method":{"type":"ppo","ppo":{"hyperparameters":{"reward_model":"ft:rm","kl_target":6,"kl_horizon":1000,"kl_budget":20}}}}""")]
    public void ValidSpec_HasNoErrors(string json) => Assert.Null(FirstError(json));

    [Theory]
    [InlineData("\"early_stopping\":{}", "best", 3, 0.0)]
    [InlineData("\"early_stopping\":{\"patience\":5,\"min_delta\":0.01},\"publish\":\"last\"", "last", 5, 0.01)]
    [InlineData("", "last", null, null)]
    public void Resolution_FillsEarlyStopping_AndPublishesBestWhenItIsOn(string hyperparameters, string publish, int? patience, double? minDelta)
    {
        var h = Resolved(WithValidation("supervised", hyperparameters), contextLength: null).Method!.Supervised!.Hyperparameters!;
        Assert.Equal(publish, h.Publish);
        Assert.Equal(patience, h.EarlyStopping?.Patience);
        Assert.Equal(minDelta, h.EarlyStopping?.MinDelta);
        Assert.Equal(0.1, h.ForgettingThreshold);
    }

    [Fact]
    public void Resolution_LeavesTheKlControllerAndBudgetOff_WithTrlsHorizon()
    {
        var h = Resolved(Ppo(""), contextLength: null).Method!.Ppo!.Hyperparameters!;
        Assert.Equal((null, 10_000L, null, "last"), (h.KlTarget, h.KlHorizon, h.KlBudget, h.Publish));
    }

    private static JobSpec Resolved(string json, int? contextLength) => JobSpecResolver.Resolve(
        JobSpecSerializer.TryParse(Encoding.UTF8.GetBytes(json), out _)!, new SpecResolutionContext(1, "gpt2", 10, contextLength));

    [Theory]
    [InlineData(512, null)]
    [InlineData(513, "method.supervised.hyperparameters.max_seq_length")]
    public void MaxSeqLength_BeyondTheModelsContext_IsRefusedNamingIt(int maxSeqLength, string? param)
    {
        var spec = Resolved(Method("supervised", $"\"max_seq_length\":{maxSeqLength}"), contextLength: 512);
        Assert.Equal(param, JobSpecValidation.ValidateForModel(spec, contextLength: 512).SingleOrDefault()?.Param);
        Assert.Empty(JobSpecValidation.ValidateForModel(spec, contextLength: null));   // unknown context: the worker checks at load
    }

    [Fact]
    public void MaxSeqLength_OnTheDeprecatedTopLevel_IsNamedThere()
    {
        var spec = Resolved(Base("\"hyperparameters\":{\"max_seq_length\":4096}"), contextLength: 1024);
        var error = Assert.Single(JobSpecValidation.ValidateForModel(spec, 1024, "hyperparameters"));
        Assert.Equal(("hyperparameters.max_seq_length", "invalid_value"), (error.Param, error.Code));
        Assert.Contains("1024", error.Message);
    }

    [Theory]
    [InlineData("\"response_length\":63,\"max_seq_length\":64", null)]
    [InlineData("\"response_length\":64,\"max_seq_length\":64", "method.ppo.hyperparameters.response_length")]
    [InlineData("\"response_length\":600", "method.ppo.hyperparameters.response_length")]   // default max_seq_length 512
    public void PpoResponseLength_MustLeaveThePromptRoomWithinMaxSeqLength(string hyperparameters, string? param)
    {
        var spec = Resolved(Ppo(hyperparameters), contextLength: 2048);
        Assert.Empty(JobSpecValidation.Validate(spec));
        Assert.Equal(param, JobSpecValidation.ValidateForModel(spec, 2048).SingleOrDefault()?.Param);
    }

    [Fact]
    public void PpoResponseLength_BeyondASmallModelsContext_IsRefused_EvenWithDefaults()
    {
        // A 64-token model: max_seq_length defaults to 64, so the default response_length (64) leaves the prompt nothing.
        var spec = Resolved(Ppo(""), contextLength: 64);
        Assert.Equal(64, spec.Method!.Ppo!.Hyperparameters!.MaxSeqLength);
        Assert.Equal("method.ppo.hyperparameters.response_length", Assert.Single(JobSpecValidation.ValidateForModel(spec, 64)).Param);
    }
}
