using System.Diagnostics;
using TuningService.Domain.Datasets;
using TuningService.Domain.Jobs;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Rlhf;
using TuningService.Worker.Engine.Training;

namespace TuningService.Worker.Runtime.Methods;

/// <summary>
/// The one training loop: drives an <see cref="IStepwiseTrainer"/> (supervised, reward model, PPO, DPO) through the
/// worker runtime, read top to bottom: resume from the newest checkpoint, then per step stop if asked (checkpointing
/// on pause and shutdown), train, and at their intervals and after the last step read metrics, evaluate, let the
/// <see cref="RunGuards"/> judge the evaluation (early stopping, best weights, forgetting), report and checkpoint.
/// At the end the published weights are the best checkpoint's when the job publishes best.
/// </summary>
internal static class StepwiseTrainingLoop
{
    public static TrainingOutcome Run(TrainingRun run, IStepwiseTrainer trainer, TrainingHyperparameters hp, RunGuards guards)
    {
        if (run.ResumeDirectory is { } resume)
        {
            trainer.LoadState(resume);
            guards.Resume(TrainingCheckpoint.ReadRunState(resume));
            run.Reporter.Info($"Resumed from the checkpoint at step {trainer.Step}.");
        }
        guards.Start(run.Reporter);
        using var deviceMemory = DeviceMemoryMonitor.Start(run.Device); // null on the CPU
        int logInterval = Math.Max(1, run.MetricsInterval);
        var metrics = new Dictionary<string, double?>();
        var clock = Stopwatch.StartNew();
        long tokensAtLastRead = trainer.TrainedTokens;
        int epochsDone = (int)trainer.Epoch;
        while (trainer.Step < trainer.TotalSteps && !guards.Stopped)
        {
            var stop = run.PollStop();
            if (stop != StopReason.None)
            {
                if (stop is StopReason.Pause or StopReason.Shutdown && trainer.Step > 0) SaveCheckpoint(run, trainer, metrics, guards);
                return new TrainingOutcome(stop, trainer.TrainedTokens);
            }

            trainer.TrainStep();

            int step = trainer.Step;
            bool final = step == trainer.TotalSteps;
            bool evaluate = final || (hp.EvalInterval > 0 && step % hp.EvalInterval == 0);
            bool checkpoint = final || (hp.CheckpointInterval > 0 && step % hp.CheckpointInterval == 0);
            if (!evaluate && !checkpoint && step % logInterval != 0) continue;

            metrics = new Dictionary<string, double?>(trainer.ReadMetrics());                     // CPU-GPU sync point
            metrics[MetricNames.TokensPerSecond] = (trainer.TrainedTokens - tokensAtLastRead) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            metrics[MetricNames.TrainedTokens] = trainer.TrainedTokens;
            if (deviceMemory is not null) metrics[MetricNames.PeakDeviceMemoryMb] = deviceMemory.PeakMegabytes;
            var (improved, stopEarly, warnings) = (false, false, new List<string>());
            if (evaluate)
            {
                var evaluation = trainer.Evaluate();
                foreach (var (name, value) in evaluation.Metrics) metrics[name] = value;
                if (evaluation.Samples.Count > 0)
                    run.Reporter.Info($"Sampled responses at step {step}.", new { step, samples = evaluation.Samples });
                (improved, stopEarly, warnings) = guards.Evaluated(step, metrics);
            }
            if (final || stopEarly) metrics[MetricNames.PublishedStep] = guards.PublishedStep(step);
            run.Reporter.Metrics(step, trainer.TotalSteps, trainer.Epoch, metrics);
            foreach (var warning in warnings) run.Reporter.Warn(warning, new { step });
            if ((int)trainer.Epoch > epochsDone && !final) run.Reporter.Info($"Epoch {(int)trainer.Epoch}/{hp.NEpochs} done.");
            epochsDone = (int)trainer.Epoch;
            // The best weights are checkpointed when seen (not only at checkpoint_interval), so they can be published.
            if (checkpoint || stopEarly || (improved && guards.Settings.PublishBest)) SaveCheckpoint(run, trainer, metrics, guards);
            if (stopEarly)
                run.Reporter.Info($"Early stopping at step {step}/{trainer.TotalSteps}: validation loss has not improved for " +
                    $"{guards.Settings.EarlyStopping!.Patience} evaluations since step {guards.State.BestStep} ({guards.State.BestValidLoss:0.####}).",
                    new { step, best_step = guards.State.BestStep, best_valid_loss = guards.State.BestValidLoss });
            tokensAtLastRead = trainer.TrainedTokens;
            clock.Restart();                                                                        // evaluation and checkpoints are not training time
        }
        var outcome = new TrainingOutcome(StopReason.None, trainer.TrainedTokens);
        PublishBest(run, trainer, guards);
        return outcome;
    }

    /// <summary>Loads the best checkpoint's weights into the trainer when the job publishes best and the last step was not the best.</summary>
    private static void PublishBest(TrainingRun run, IStepwiseTrainer trainer, RunGuards guards)
    {
        int last = trainer.Step, published = guards.PublishedStep(last);
        var best = guards.State;
        if (!guards.Settings.PublishBest)
        {
            if (best.BestStep is not null) run.Reporter.Info($"Publishing the weights of the last step ({last}) as the job asked (publish: last).", new { published_step = last, publish = "last" });
            return;
        }
        if (best.BestStep is null)
        {
            run.Reporter.Warn($"No validation loss was measured, so there is no best checkpoint: publishing the weights of the last step ({last}).",
                new { published_step = last, publish = "last" });
            return;
        }
        if (published != last) trainer.LoadState(run.Artifacts.FullPath(ArtifactStore.CheckpointPath(run.Job.Id, published)));
        run.Reporter.Info($"Publishing the best checkpoint by validation loss: step {published} (valid_loss {best.BestValidLoss:0.####}" +
            (published != last ? $"; the last step, {last}, had {best.LastValidLoss:0.####})." : ", the last step)."),
            new { published_step = published, publish = "best", best_valid_loss = best.BestValidLoss });
    }

    private static void SaveCheckpoint(TrainingRun run, IStepwiseTrainer trainer, IReadOnlyDictionary<string, double?> metrics, RunGuards guards)
    {
        var path = ArtifactStore.CheckpointPath(run.Job.Id, trainer.Step);
        var directory = run.Artifacts.FullPath(path);
        trainer.SaveState(directory);
        TrainingCheckpoint.WriteRunState(directory, guards.Save());
        run.Checkpoints.Register(run.Job, trainer.Step, path, run.ModelName, metrics, keepStep: guards.Settings.PublishBest ? guards.State.BestStep : null);
    }
}

/// <summary>Why the loop ended, and the tokens trained (counted before the best checkpoint's weights are restored).</summary>
internal sealed record TrainingOutcome(StopReason Stopped, long TrainedTokens);

/// <summary>Reads preference and prompt_only files for the RLHF methods, failing with codes the user can act on.</summary>
internal static class RlhfData
{
    /// <summary>Preference pairs as the Domain parser read them; chat prompts are rendered with each response by the template when encoded.</summary>
    public static List<PreferencePair> ReadPairs(TrainingRun run, string fileId, string param)
        => Read(run, fileId, param, "preference", example => example is PreferenceExample pair
            ? new PreferencePair(pair.Prompt ?? "", pair.Chosen, pair.Rejected) { PromptMessages = pair.PromptMessages }
            : null);

    /// <summary>PPO prompts as the Domain parser read them; chat prompts rendered by the template up to the assistant header (BOS then in the text).</summary>
    public static List<PromptText> ReadPrompts(TrainingRun run, string fileId, string param, ChatTemplate template)
        => Read(run, fileId, param, "prompt_only", example => example is PromptOnlyExample prompt
            ? prompt.Prompt is string plain ? new PromptText(plain, AddBos: true) : new PromptText(template.RenderPrompt(prompt.Messages!), AddBos: false)
            : null);

    /// <summary>Runs <paramref name="render"/>, turning a chat template's refusal (its raise_exception) into a failure naming the file.</summary>
    public static T Rendering<T>(TrainingRun run, string param, Func<T> render)
    {
        try
        {
            return render();
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)           // rendered in parallel: the first failure speaks for all
        {
            if (e.InnerExceptions[0] is Engine.Chat.ChatTemplateException refusal) throw Refused(param, refusal);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        catch (Engine.Chat.ChatTemplateException e)
        {
            throw Refused(param, e);
        }
    }

    private static JobFailureException Refused(string param, Engine.Chat.ChatTemplateException e)
        => JobFailures.Fail(param == "validation_file" ? JobFailures.InvalidValidationFile : JobFailures.InvalidTrainingFile,
            $"The model's chat template refused a conversation of the {param}: {e.Message}", param.EndsWith("_file") ? param : null, e);

    /// <summary>Says which chat template rendered the conversations (once, when any was rendered).</summary>
    public static void ReportTemplate(TrainingRun run, ChatTemplate template)
    {
        if (template.Conversations > 0)
            run.Reporter.Info($"Chat template: {template.Description}.", new { chat_template = template.Description, conversations = template.Conversations });
    }

    /// <summary>Encodes pairs and fails with example_too_long when none fits within max_seq_length.</summary>
    public static (List<EncodedPair> Kept, int Dropped) EncodePairs(TrainingRun run, List<PreferencePair> pairs, Engine.Tokenization.TextTokenizer tokenizer,
        int maxSeqLength, ChatTemplate template, double defaultMargin = 0)
    {
        var encoded = Rendering(run, "preference data", () => PreferenceEncoder.EncodePairs(pairs, tokenizer, maxSeqLength, defaultMargin, template));
        if (encoded.Kept.Count == 0 && pairs.Count > 0)
            throw JobFailures.Fail(JobFailures.ExampleTooLong,
                $"All {pairs.Count} preference pairs are longer than max_seq_length ({maxSeqLength} tokens): raise max_seq_length or shorten the responses.",
                $"method.{run.Job.MethodType}.hyperparameters.max_seq_length");
        return encoded;
    }

    private static List<T> Read<T>(TrainingRun run, string fileId, string param, string format, Func<DatasetExample, T?> convert) where T : class
    {
        var code = param == "validation_file" ? JobFailures.InvalidValidationFile : JobFailures.InvalidTrainingFile;
        return Rendering(run, param, () => run.Datasets.ReadExamples(run.Job.ProjectId, fileId, param).AsParallel().AsOrdered().Select(example => convert(example)
            ?? throw JobFailures.Fail(code, $"{fileId} holds {example.GetType().Name.Replace("Example", "")} examples; a {run.Job.MethodType} job needs {format} data.", param))
            .ToList());
    }
}
