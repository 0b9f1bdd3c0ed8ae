using System.Text.Json;
using FluentValidation;
using FluentValidation.Results;

namespace TuningService.Domain.Jobs.Specs;

/// <summary>
/// Rules of a job spec that need no database: required fields, ranges, enumerations, method consistency, PPO's batch split.
/// Checked by the API on the request (model-aware rules: <see cref="JobSpecValidation.ValidateForModel"/>), so the worker
/// trains only specs that passed them. Error codes: <c>missing_field</c>, <c>invalid_value</c>.
/// </summary>
public sealed class JobSpecValidator : AbstractValidator<JobSpec>
{
    public const int MaxMetadataPairs = 16, MaxMetadataKeyLength = 64, MaxMetadataValueLength = 512, MaxSuffixLength = 64;

    public JobSpecValidator()
    {
        RuleFor(s => s.Model).NotEmpty().WithErrorCode("missing_field").WithMessage("model is required.")
            .MaximumLength(256).WithErrorCode("invalid_value");
        RuleFor(s => s.TrainingFile).NotEmpty().WithErrorCode("missing_field").WithMessage("training_file is required.");
        RuleFor(s => s.ValidationFile).NotEmpty().When(s => s.ValidationFile is not null).WithErrorCode("invalid_value")
            .WithMessage("validation_file must be a file id or absent.");
        RuleFor(s => s.Suffix).MaximumLength(MaxSuffixLength).Matches("^[a-z0-9_-]*$").WithErrorCode("invalid_value")
            .WithMessage($"suffix must be at most {MaxSuffixLength} characters of a-z, 0-9, '-' and '_'.");
        RuleFor(s => s.Seed).InclusiveBetween(0, int.MaxValue).WithErrorCode("invalid_value").WithMessage($"seed must be between 0 and {int.MaxValue}.");
        RuleFor(s => s.Metadata).Custom(ValidateMetadata);
        RuleFor(s => s.ReferenceFile).NotEmpty().When(s => s.ReferenceFile is not null).WithErrorCode("invalid_value")
            .WithMessage("reference_file must be a file id or absent.");
        RuleFor(s => s.ReferenceFile).Null().When(s => s.Method?.Type == MethodTypes.RewardModel).WithErrorCode("invalid_value")
            .WithMessage("reference_file measures forgetting of a language model; a reward_model job has none to measure.");
        RuleFor(s => s.Integrations).Must(i => i is null || i.Count == 0).WithErrorCode("invalid_value")
            .WithMessage("integrations (e.g. wandb) are not supported by this service; remove the field. Metrics are in the job's events, " +
                "its result file and GET /metrics.");

        RuleFor(s => s.Hyperparameters).SetValidator(new SupervisedHyperparametersValidator()!);
        RuleFor(s => s.Hyperparameters).Must((s, _) => s.Method is null || s.Method.Type == MethodTypes.Supervised)
            .When(s => s.Hyperparameters is not null).WithErrorCode("invalid_value")
            .WithMessage("The deprecated top-level hyperparameters apply only to supervised jobs; use method.<type>.hyperparameters.");
        RuleFor(s => s.Hyperparameters).Must((s, _) => s.Method?.Supervised?.Hyperparameters is null)
            .When(s => s.Hyperparameters is not null).WithErrorCode("invalid_value")
            .WithMessage("Give hyperparameters either at the top level or in method.supervised, not both.");
        RuleFor(s => s.Method).SetValidator(new MethodSpecValidator()!);
    }

    private static void ValidateMetadata(Dictionary<string, string>? metadata, ValidationContext<JobSpec> context)
    {
        if (metadata is null) return;
        if (metadata.Count > MaxMetadataPairs)
            Add(context, "metadata", $"metadata holds at most {MaxMetadataPairs} pairs.");
        foreach (var (key, value) in metadata)
        {
            if (key.Length is 0 or > MaxMetadataKeyLength)
                Add(context, $"metadata.{key}", $"metadata keys must be 1..{MaxMetadataKeyLength} characters.");
            if (value is null || value.Length > MaxMetadataValueLength)
                Add(context, $"metadata.{key}", $"metadata values must be strings of at most {MaxMetadataValueLength} characters.");
        }
    }

    private static void Add(ValidationContext<JobSpec> context, string param, string message) =>
        context.AddFailure(new ValidationFailure("Metadata", message) { ErrorCode = "invalid_value", CustomState = new ExactParam(param) });

    /// <summary>Marks a failure whose param is already a JSON path (metadata keys are user text, not C# names).</summary>
    internal sealed record ExactParam(string Param);
}

public sealed class MethodSpecValidator : AbstractValidator<MethodSpec>
{
    public MethodSpecValidator()
    {
        RuleFor(m => m.Type).NotEmpty().WithErrorCode("missing_field").WithMessage("method.type is required.");
        RuleFor(m => m.Type).Must(t => MethodTypes.All.Contains(t!)).When(m => !string.IsNullOrEmpty(m.Type)).WithErrorCode("invalid_value")
            .WithMessage(m => $"Unknown method type '{m.Type}'; expected one of {string.Join(", ", MethodTypes.All)}.");

        Only(MethodTypes.Supervised, m => m.Supervised);
        Only(MethodTypes.Instruction, m => m.Instruction);
        Only(MethodTypes.RewardModel, m => m.RewardModel);
        Only(MethodTypes.Ppo, m => m.Ppo);
        Only(MethodTypes.Dpo, m => m.Dpo);

        RuleFor(m => m.Supervised!.Hyperparameters).SetValidator(new SupervisedHyperparametersValidator()!).When(m => m.Supervised is not null);
        RuleFor(m => m.Instruction!.Hyperparameters).SetValidator(new InstructionHyperparametersValidator()!).When(m => m.Instruction is not null);
        RuleFor(m => m.RewardModel!.Hyperparameters).SetValidator(new RewardModelHyperparametersValidator()!).When(m => m.RewardModel is not null);
        RuleFor(m => m.Dpo!.Hyperparameters).SetValidator(new DpoHyperparametersValidator()!).When(m => m.Dpo is not null);
        RuleFor(m => m.Ppo!.Hyperparameters).SetValidator(new PpoHyperparametersValidator()!).When(m => m.Ppo is not null);
        RuleFor(m => m.Ppo == null || m.Ppo.Hyperparameters == null ? null : m.Ppo.Hyperparameters.RewardModel)
            .NotEmpty().When(m => m.Type == MethodTypes.Ppo).OverridePropertyName("Ppo.Hyperparameters.RewardModel")
            .WithErrorCode("missing_field").WithMessage("A ppo job needs method.ppo.hyperparameters.reward_model (a reward model id).");
    }

    private void Only<T>(string type, System.Linq.Expressions.Expression<Func<MethodSpec, T?>> select) where T : class =>
        RuleFor(select).Null().When(m => m.Type != type && MethodTypes.All.Contains(m.Type ?? "")).WithErrorCode("invalid_value")
            .WithMessage(m => $"method.{type} does not match method.type '{m.Type}'.");
}

public class TrainingHyperparametersValidator<T> : AbstractValidator<T> where T : TrainingHyperparameters
{
    public TrainingHyperparametersValidator()
    {
        RuleFor(h => h.NEpochs).InRange(HyperparameterRanges.NEpochs);
        RuleFor(h => h.BatchSize).InRange(HyperparameterRanges.BatchSize);
        RuleFor(h => h.LearningRate).InRange(HyperparameterRanges.LearningRate);
        RuleFor(h => h.LearningRateMultiplier).InRange(HyperparameterRanges.LearningRateMultiplier);
        RuleFor(h => h.LrScheduler).OneOf(LrSchedulers.All);
        RuleFor(h => h.WarmupRatio).InRange(HyperparameterRanges.WarmupRatio);
        RuleFor(h => h.WeightDecay).InRange(HyperparameterRanges.WeightDecay);
        RuleFor(h => h.MaxGradNorm).InRange(HyperparameterRanges.MaxGradNorm);
        RuleFor(h => h.GradientAccumulationSteps).InRange(HyperparameterRanges.GradientAccumulationSteps);
        RuleFor(h => h.MaxSeqLength).InRange(HyperparameterRanges.MaxSeqLength);
        RuleFor(h => h.EvalInterval).InRange(HyperparameterRanges.EvalInterval);
        RuleFor(h => h.CheckpointInterval).InRange(HyperparameterRanges.CheckpointInterval);
        RuleFor(h => h.Lora).SetValidator(new LoraSpecValidator()!);
        RuleFor(h => h.EarlyStopping).SetValidator(new EarlyStoppingSpecValidator()!);
        RuleFor(h => h.Publish).OneOf(PublishChoices.All);
        RuleFor(h => h.ForgettingThreshold).InRange(HyperparameterRanges.ForgettingThreshold);
        RuleFor(h => h.Precision).OneOf(Precisions.All);
        if (typeof(T) != typeof(SupervisedHyperparameters) && typeof(T) != typeof(InstructionHyperparameters))
        {
            RuleFor(h => h.Packing).NotEqual(true).WithErrorCode("invalid_value")
                .WithMessage($"packing applies only to {string.Join(" and ", MethodTypes.Packable)} jobs (one sequence per example).");
        }
    }
}

public sealed class EarlyStoppingSpecValidator : AbstractValidator<EarlyStoppingSpec>
{
    public EarlyStoppingSpecValidator()
    {
        RuleFor(e => e.Patience).InRange(HyperparameterRanges.Patience);
        RuleFor(e => e.MinDelta).InRange(HyperparameterRanges.MinDelta);
    }
}

public sealed class LoraSpecValidator : AbstractValidator<LoraSpec>
{
    public LoraSpecValidator()
    {
        RuleFor(l => l.R).InRange(HyperparameterRanges.LoraR);
        RuleFor(l => l.Alpha).InRange(HyperparameterRanges.LoraAlpha);
        RuleFor(l => l.Dropout).InRange(HyperparameterRanges.LoraDropout);
        RuleFor(l => l.TargetModules).Must(t => t is null || t.Count is > 0 and <= HyperparameterRanges.MaxLoraTargetModules)
            .WithErrorCode("invalid_value").WithMessage($"target_modules must list 1..{HyperparameterRanges.MaxLoraTargetModules} module names.");
        RuleForEach(l => l.TargetModules).NotEmpty().MaximumLength(128).Matches(@"^[A-Za-z0-9_.]+$")
            .WithErrorCode("invalid_value").WithMessage("Module names are 1..128 characters of letters, digits, '_' and '.'.");
    }
}

public sealed class SupervisedHyperparametersValidator : TrainingHyperparametersValidator<SupervisedHyperparameters>;

public sealed class InstructionHyperparametersValidator : TrainingHyperparametersValidator<InstructionHyperparameters>;

public sealed class RewardModelHyperparametersValidator : TrainingHyperparametersValidator<RewardModelHyperparameters>
{
    public RewardModelHyperparametersValidator()
    {
        RuleFor(h => h.Margin).InRange(HyperparameterRanges.Margin);
        RuleFor(h => h.CenterRewardsCoefficient).InRange(HyperparameterRanges.CenterRewardsCoefficient);
    }
}

public sealed class DpoHyperparametersValidator : TrainingHyperparametersValidator<DpoHyperparameters>
{
    public DpoHyperparametersValidator()
    {
        RuleFor(h => h.Beta).InRange(HyperparameterRanges.Beta);
        RuleFor(h => h.LabelSmoothing).InRange(HyperparameterRanges.LabelSmoothing);
        RuleFor(h => h.LossType).OneOf(DpoLossTypes.All);
    }
}

public sealed class PpoHyperparametersValidator : TrainingHyperparametersValidator<PpoHyperparameters>
{
    public PpoHyperparametersValidator()
    {
        RuleFor(h => h.RewardModel).MaximumLength(256).WithErrorCode("invalid_value");
        RuleFor(h => h.KlCoef).InRange(HyperparameterRanges.KlCoef);
        RuleFor(h => h.KlEstimator).OneOf(KlEstimators.All);
        RuleFor(h => h.Cliprange).InRange(HyperparameterRanges.Cliprange);
        RuleFor(h => h.CliprangeValue).InRange(HyperparameterRanges.CliprangeValue);
        RuleFor(h => h.VfCoef).InRange(HyperparameterRanges.VfCoef);
        RuleFor(h => h.Gamma).InRange(HyperparameterRanges.Gamma);
        RuleFor(h => h.Lam).InRange(HyperparameterRanges.Lam);
        RuleFor(h => h.PpoEpochs).InRange(HyperparameterRanges.PpoEpochs);
        RuleFor(h => h.NumMiniBatches).InRange(HyperparameterRanges.NumMiniBatches);
        RuleFor(h => h.ResponseLength).InRange(HyperparameterRanges.ResponseLength);
        RuleFor(h => h.Temperature).InRange(HyperparameterRanges.Temperature);
        RuleFor(h => h.RolloutBatchSize).InRange(HyperparameterRanges.RolloutBatchSize);
        RuleFor(h => h.TotalEpisodes).Must(v => v is null || HyperparameterRanges.TotalEpisodes.Contains(v.Value))
            .WithErrorCode("invalid_value").WithMessage(HyperparameterRanges.TotalEpisodes.Describe() + ".");
        RuleFor(h => h.MissingEosPenalty).InRange(HyperparameterRanges.MissingEosPenalty);
        RuleFor(h => h.KlTarget).InRange(HyperparameterRanges.KlTarget);
        RuleFor(h => h.KlHorizon).Must(v => v is null || HyperparameterRanges.KlHorizon.Contains(v.Value))
            .WithErrorCode("invalid_value").WithMessage(HyperparameterRanges.KlHorizon.Describe() + ".");
        RuleFor(h => h.KlBudget).InRange(HyperparameterRanges.KlBudget);
        RuleFor(h => h.KlBudget).Must((h, budget) => budget is null || h.KlTarget is null || budget > h.KlTarget)
            .WithErrorCode("invalid_value").WithMessage(h => $"kl_budget ({h.KlBudget}) must exceed kl_target ({h.KlTarget}): the controller steers toward the target, the budget stops the run.");
        RuleFor(h => h.EarlyStopping).Null().WithErrorCode("invalid_value")
            .WithMessage("ppo has no validation loss to stop on; bound the policy's drift with kl_target and kl_budget instead.");
        RuleFor(h => h.Publish).Must(p => p != PublishChoices.Best).WithErrorCode("invalid_value")
            .WithMessage("ppo has no validation loss to pick a best checkpoint by; publish is last.");
        // Each rollout batch is split into num_mini_batches equal minibatches (one optimizer step each); absent = the default.
        RuleFor(h => h.NumMiniBatches)
            .Must((h, n) => RolloutBatchSizeOf(h) % (n ?? HyperparameterRanges.NumMiniBatches.IntValue) == 0)
            .When(h => HyperparameterRanges.RolloutBatchSize.Contains(RolloutBatchSizeOf(h))
                && HyperparameterRanges.NumMiniBatches.Contains(h.NumMiniBatches ?? HyperparameterRanges.NumMiniBatches.IntValue))
            .WithErrorCode("invalid_value")
            .WithMessage(h => $"rollout_batch_size ({RolloutBatchSizeOf(h)}) must be a multiple of num_mini_batches " +
                $"({h.NumMiniBatches ?? HyperparameterRanges.NumMiniBatches.IntValue}): each rollout batch is split into equal minibatches.");
    }

    private static int RolloutBatchSizeOf(PpoHyperparameters h) => h.RolloutBatchSize ?? HyperparameterRanges.RolloutBatchSize.IntValue;
}

internal static class SpecRules
{
    public static IRuleBuilderOptions<T, int?> InRange<T>(this IRuleBuilder<T, int?> rule, NumericRange range) =>
        rule.Must(v => v is null || range.Contains(v.Value)).WithErrorCode("invalid_value").WithMessage(range.Describe() + ".");

    public static IRuleBuilderOptions<T, double?> InRange<T>(this IRuleBuilder<T, double?> rule, NumericRange range) =>
        rule.Must(v => v is null || range.Contains(v.Value)).WithErrorCode("invalid_value").WithMessage(range.Describe() + ".");

    public static IRuleBuilderOptions<T, string?> OneOf<T>(this IRuleBuilder<T, string?> rule, IReadOnlyList<string> allowed) =>
        rule.Must(v => v is null || allowed.Contains(v)).WithErrorCode("invalid_value")
            .WithMessage((_, v) => $"'{v}' is not one of {string.Join(", ", allowed)}.");
}

/// <summary>
/// Runs <see cref="JobSpecValidator"/> and names each failure by its JSON path; <see cref="ValidateForModel"/> adds the rules
/// that need the base model (its context length) on the resolved spec. Every rule of a job spec lives here or in the validator.
/// </summary>
public static partial class JobSpecValidation
{
    private static readonly JobSpecValidator Validator = new();

    public static IReadOnlyList<SpecError> Validate(JobSpec spec)
    {
        var errors = Validator.Validate(spec).Errors.Select(f => new SpecError(
            f.CustomState is JobSpecValidator.ExactParam exact ? exact.Param : ToJsonPath(f.PropertyName),
            f.ErrorCode is "missing_field" or "invalid_value" ? f.ErrorCode : "invalid_value",
            f.ErrorMessage)).ToList();
        // learning_rate and learning_rate_multiplier are two ways to say one thing: both only when they agree (as in a resolved spec).
        foreach (var (path, method, h) in Hyperparameters(spec))
            if (h is { LearningRate: { } lr, LearningRateMultiplier: { } multiplier }
                && Math.Abs(lr - HyperparameterRanges.BaseLearningRate(method) * multiplier) > 1e-9 * lr)
                errors.Add(new SpecError($"{path}.learning_rate_multiplier", "invalid_value",
                    "Give learning_rate or learning_rate_multiplier, not both."));
        // Early stopping and the best checkpoint are judged by the validation loss, measured every eval_interval steps.
        foreach (var (path, method, h) in Hyperparameters(spec))
        {
            if (spec.ValidationFile is not null || method == MethodTypes.Ppo) continue;
            if (h.EarlyStopping is not null)
                errors.Add(new SpecError($"{path}.early_stopping", "invalid_value",
                    "early_stopping watches the validation loss: give a validation_file (held-out examples in the training file's format)."));
            else if (h.Publish == PublishChoices.Best)
                errors.Add(new SpecError($"{path}.publish", "invalid_value",
                    "publish best picks the checkpoint with the lowest validation loss: give a validation_file."));
        }
        return errors;
    }

    private static IEnumerable<(string Path, string Method, TrainingHyperparameters H)> Hyperparameters(JobSpec spec)
    {
        if (spec.Hyperparameters is { } top) yield return ("hyperparameters", MethodTypes.Supervised, top);
        var m = spec.Method;
        if (m?.Supervised?.Hyperparameters is { } s) yield return ("method.supervised.hyperparameters", MethodTypes.Supervised, s);
        if (m?.Instruction?.Hyperparameters is { } i) yield return ("method.instruction.hyperparameters", MethodTypes.Instruction, i);
        if (m?.RewardModel?.Hyperparameters is { } r) yield return ("method.reward_model.hyperparameters", MethodTypes.RewardModel, r);
        if (m?.Ppo?.Hyperparameters is { } p) yield return ("method.ppo.hyperparameters", MethodTypes.Ppo, p);
        if (m?.Dpo?.Hyperparameters is { } d) yield return ("method.dpo.hyperparameters", MethodTypes.Dpo, d);
    }

    /// <summary><c>Method.Dpo.Hyperparameters.Lora.TargetModules[0]</c> → <c>method.dpo.hyperparameters.lora.target_modules[0]</c>.</summary>
    public static string ToJsonPath(string propertyName) => string.Join('.', propertyName.Split('.').Select(segment =>
    {
        var bracket = segment.IndexOf('[');
        var name = bracket >= 0 ? segment[..bracket] : segment;
        return JsonNamingPolicy.SnakeCaseLower.ConvertName(name) + (bracket >= 0 ? segment[bracket..] : "");
    }));
}
