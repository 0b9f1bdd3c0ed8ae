using TorchSharp;
using TuningService.Domain.Models;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Engine.Training;
using static TorchSharp.torch;

namespace TuningService.Worker.Runtime.Methods;

/// <summary>
/// RLHF stage 2 on prompt_only data: the policy starts from the job's model, a frozen copy of it is the KL
/// reference, the value model and the frozen scorer both start from the reward model named in the hyperparameters.
/// The result is the policy, registered as a fine-tuned model.
/// </summary>
public sealed class PpoMethod : ITrainingMethod
{
    public IReadOnlyCollection<string> MethodTypes { get; } = ["ppo"];

    public MethodResult Run(TrainingRun run)
    {
        var job = run.Job;
        var spec = JobSpecs.HyperparametersOf<Domain.Jobs.Specs.PpoHyperparameters>(job);
        var hp = HyperparameterMapping.FromSpec(spec, job.Seed, run.MetricsInterval, run.Device.type);
        var settings = HyperparameterMapping.Ppo(spec);
        var rewardDirectory = RewardModelDirectory(run, spec.RewardModel);

        using var loaded = run.Models.Load(job.ProjectId, job.Model, job.Seed);
        using var reward = RewardModel.Load(rewardDirectory);
        using var valueModel = RewardModel.Load(rewardDirectory);
        if (reward.Backbone.VocabSize != loaded.Model.VocabSize)
            throw JobFailures.Fail(JobFailures.InvalidHyperparameters,
                $"The reward model's vocabulary ({reward.Backbone.VocabSize} tokens) differs from the policy's ({loaded.Model.VocabSize}): train the reward model from the same base.",
                "method.ppo.hyperparameters.reward_model");
        foreach (var (_, p) in reward.named_parameters()) p.requires_grad = false;
        if (hp.Precision == TrainingPrecision.BFloat16) reward.to(ScalarType.BFloat16);   // only read; it scores in float32
        var reference = Optimization.FrozenCopy(loaded.Model);             // the trainer casts it with the policy
        manual_seed(job.Seed);
        if (hp.Lora is { } lora)
        {
            MixedPrecision.Prepare(loaded.Model, hp.Precision, fullFineTune: false); // bf16: the bases, before the float32 adapters
            MixedPrecision.Prepare(valueModel, hp.Precision, fullFineTune: false);
            LoraAdapter.Attach(loaded.Model, lora);
            LoraAdapter.Attach(valueModel.Backbone, lora);           // the value head itself stays fully trainable
        }
        foreach (var module in new nn.Module[] { loaded.Model, reference, reward, valueModel }) module.to(run.Device);
        reward.eval();
        run.Reporter.Info($"Policy {job.Model} and reward model {spec.RewardModel} loaded on {run.Device.type}; " +
            $"the reference is a frozen copy of the policy, the value model starts from the reward model; {HyperparameterMapping.TrainingIn(spec, hp)}.",
            new { precision = hp.Precision.SpecName() });

        var template = ChatTemplate.Of(loaded.Tokenizer);
        // Prompt and response share max_seq_length (the API refuses a response_length that leaves the prompt no room).
        int maxPrompt = hp.WithinContext(loaded.Model.Config.MaxPositionEmbeddings, job).MaxSeqLength - settings.ResponseLength;
        List<int[]> Encode(List<PromptText> prompts) => prompts.Select(p => PreferenceEncoder.EncodePrompt(p.Text, loaded.Tokenizer, maxPrompt, p.AddBos)).ToList();
        var prompts = Encode(RlhfData.ReadPrompts(run, job.TrainingFileId, "training_file", template));
        var validation = job.ValidationFileId is null ? [] : Encode(RlhfData.ReadPrompts(run, job.ValidationFileId, "validation_file", template));

        RlhfData.ReportTemplate(run, template);
        // A chat policy ends its answer with its template's end-of-turn token (<|eot_id|>, <end_of_turn>, <|end|>), not always EOS.
        int? endOfTurn = template.EndOfTurn is string turnEnd && loaded.Tokenizer.TokenId(turnEnd) is int id && id != loaded.Tokenizer.EosId ? id : null;
        using var trainer = new PpoTrainer(loaded.Model, reference, valueModel, reward.AsScorer(), prompts, validation, hp, settings,
            loaded.Tokenizer.EosId, loaded.Tokenizer.PadId, ids => loaded.Tokenizer.Decode(ids), endOfTurn);
        run.Reporter.Info(
            $"Data tokenized: {prompts.Count} prompts (kept to their last {maxPrompt} tokens), {validation.Count} validation prompts; " +
            $"{trainer.TotalSteps} PPO updates of {settings.RolloutBatchSize} rollouts, {settings.PpoEpochs} epochs × {settings.NumMiniBatches} minibatches each.",
            new { prompts = prompts.Count, validation_prompts = validation.Count, total_steps = trainer.TotalSteps });

        var guards = RunGuards.For(run, spec, loaded.Model, loaded.Tokenizer, hp);
        TrainingOutcome outcome;
        try
        {
            outcome = StepwiseTrainingLoop.Run(run, trainer, hp, guards);
        }
        catch (KlBudgetExceededException e)
        {
            // Fails rather than publishing: the policy being trained is past the budget, and the last one within it was not kept.
            throw JobFailures.Fail(JobFailures.KlBudgetExceeded,
                $"{e.Message} The policy drifted further from the reference than allowed, a sign of reward hacking (the reward model is being " +
                $"exploited rather than satisfied); kl_coef was {e.KlCoef:0.####}. Earlier checkpoints are kept. Set kl_target (the adaptive " +
                "controller raises kl_coef as KL grows), raise kl_coef, lower learning_rate, or raise kl_budget.", "method.ppo.hyperparameters.kl_budget", e);
        }
        if (outcome.Stopped != StopReason.None) return new MethodResult(outcome.Stopped, 0);

        var modelPath = ArtifactStore.ModelPath(job.Id);
        PolicyOutput.Save(run, loaded, hp, modelPath);
        return new MethodResult(StopReason.None, outcome.TrainedTokens, modelPath, Architecture: loaded.Model.Config.ModelType);
    }

    /// <summary>The reward model's directory: a model this project's reward_model job produced.</summary>
    private static string RewardModelDirectory(TrainingRun run, string? id)
    {
        const string param = "method.ppo.hyperparameters.reward_model";
        if (string.IsNullOrEmpty(id))
            throw JobFailures.Fail(JobFailures.InvalidHyperparameters, "A ppo job needs reward_model: the id of a model produced by a reward_model job.", param);
        var record = run.Models.FindProduced(run.Job.ProjectId, id)
            ?? throw JobFailures.Fail(JobFailures.ModelLoadFailed, $"Reward model '{id}' was not found among this project's models.", param);
        if (record.Kind != ModelKinds.RewardModel)
            throw JobFailures.Fail(JobFailures.InvalidHyperparameters, $"Model '{id}' is a {record.Kind} model, not a reward_model: train one with a reward_model job first.", param);
        return run.Artifacts.FullPath(record.ArtifactPath);
    }
}
