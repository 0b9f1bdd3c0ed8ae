using System.Text.Json;
using TuningService.Domain.Jobs;
using TuningService.Domain.Models;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Tests.Engine.Rlhf;

namespace TuningService.Worker.Tests.Runtime;

/// <summary>reward_model, ppo and dpo jobs end to end through the real worker executable, on tiny data.</summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class RlhfJobTests(RuntimeDatabase database) : IClassFixture<RuntimeDatabase>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task RewardModelJob_SucceedsAsARewardModel_AndAPpoJobTrainsAPolicyAgainstIt()
    {
        var pairs = await database.AddFileAsync("preference", PolitePreferences.JsonLines(24, seed: 1));
        var validPairs = await database.AddFileAsync("preference", PolitePreferences.JsonLines(8, seed: 2));
        var rewardJobId = await database.SubmitAsync("reward_model", pairs,
            new { n_epochs = 2, batch_size = 8, learning_rate = 1e-3, center_rewards_coefficient = 0.01 }, validPairs);

        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-rlhf");
        var rewardJob = await database.WaitForAsync(rewardJobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);

        Assert.Equal(JobStatus.Succeeded, rewardJob.Status);
        var rewardMetrics = Metrics(await database.EventsAsync(rewardJobId));
        Assert.All(["train_loss", "accuracy", "margin", "reward_mean", "reward_min", "reward_max"], k => Assert.True(rewardMetrics[^1].TryGetProperty(k, out _), k));
        Assert.True(rewardMetrics[^1].TryGetProperty("valid_accuracy", out _));
        await using (var db = database.CreateDbContext())
        {
            var model = db.Models.Single(m => m.Id == rewardJob.FineTunedModel);
            Assert.Equal(ModelKinds.RewardModel, model.Kind);
            var config = File.ReadAllText(Path.Combine(database.ArtifactsRoot, model.ArtifactPath, "config.json"));
            Assert.Contains("GPT2ForSequenceClassification", config);
        }

        var prompts = await database.AddFileAsync("prompt_only", PolitePreferences.PromptLines(8, seed: 3));
        var reference = await database.AddFileAsync("text", new[] { "The museum opens at ten.", "Rain is expected on Sunday.", "He fixed the old bicycle." }
            .Select(text => System.Text.Json.JsonSerializer.Serialize(new { text })));
        var ppoJobId = await database.SubmitAsync("ppo", prompts, new
        {
            reward_model = rewardJob.FineTunedModel, learning_rate = 1e-4, rollout_batch_size = 4, total_episodes = 8,
            response_length = 8, ppo_epochs = 2, num_mini_batches = 2, missing_eos_penalty = 1.0, kl_target = 0.5, kl_horizon = 4,
        }, referenceFile: reference);
        var ppoJob = await database.WaitForAsync(ppoJobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);

        Assert.Equal(JobStatus.Succeeded, ppoJob.Status);
        Assert.Equal(2, ppoJob.TotalSteps);
        var events = await database.EventsAsync(ppoJobId);
        var ppoMetrics = Metrics(events);
        Assert.All(["objective/kl", "objective/entropy", "objective/scores", "objective/rlhf_reward", "objective/non_score_reward",
            "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg", "loss/value_avg", "val/ratio", "val/clipfrac_avg"],
            k => Assert.True(ppoMetrics[^1].TryGetProperty(k, out _), k));
        Assert.Contains(events, e => e.Message.StartsWith("Sampled responses") && e.Data!.RootElement.GetProperty("samples").GetArrayLength() > 0);
        await using (var db = database.CreateDbContext())
            Assert.Equal(ModelKinds.FineTuned, db.Models.Single(m => m.Id == ppoJob.FineTunedModel).Kind);
        // The adaptive controller: the first rollout comes from the reference (KL 0, below the target), so kl_coef falls by
        // 20% × rollout_batch_size / kl_horizon = 20% before the second update. Forgetting is measured on the policy.
        Assert.Equal([0.05, 0.04], ppoMetrics.Select(m => Math.Round(m.GetProperty("objective/kl_coef").GetDouble(), 6)));
        Assert.True(ppoMetrics[^1].TryGetProperty("forgetting", out _));
        Assert.True(ppoMetrics[^1].TryGetProperty("val/response_length_drift", out _));

        // A KL budget the policy passes after its first update fails the job, naming the field.
        var budgetJobId = await database.SubmitAsync("ppo", prompts, new
        {
            reward_model = rewardJob.FineTunedModel, learning_rate = 1e-2, rollout_batch_size = 4, total_episodes = 12,
            response_length = 8, ppo_epochs = 2, num_mini_batches = 2, kl_estimator = "k3", kl_budget = 1e-4,
        });
        var budgetJob = await database.WaitForAsync(budgetJobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);
        Assert.Equal(JobStatus.Failed, budgetJob.Status);
        Assert.Equal(("kl_budget_exceeded", "method.ppo.hyperparameters.kl_budget"), (budgetJob.ErrorCode, budgetJob.ErrorParam));
        Assert.Contains("past kl_budget 0.0001", budgetJob.Error!.Message);
        Assert.Contains("kl_target", budgetJob.Error.Message);
    }

    [Fact]
    public async Task PpoJob_Fails_NamingTheRewardModelParameter_WhenItIsNotAProducedRewardModel()
    {
        var prompts = await database.AddFileAsync("prompt_only", PolitePreferences.PromptLines(4, seed: 3));
        var jobId = await database.SubmitAsync("ppo", prompts, new { reward_model = "tiny-gpt2" });
        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-ppo-bad");
        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);

        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Equal("method.ppo.hyperparameters.reward_model", job.ErrorParam);
    }

    [Fact]
    public async Task DpoJob_ResumesFromItsNewestCheckpoint_WhenWorkerKilledHard_AndSucceeds()
    {
        var pairs = await database.AddFileAsync("preference", PolitePreferences.JsonLines(20, seed: 4));
        var jobId = await database.SubmitAsync("dpo", pairs,
            new { n_epochs = 2, batch_size = 4, learning_rate = 1e-3, beta = 0.1, checkpoint_interval = 1 }, seed: 5);

        using (var first = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "dpo-doomed"))
        {
            var deadline = DateTime.UtcNow + Timeout;
            while (true)
            {
                var job = await database.JobAsync(jobId);
                Assert.False(JobStatus.IsTerminal(job.Status), $"job ended before the kill: {job.Status}\n{first.Output}");
                if ((await database.CheckpointsAsync(jobId)).Count > 0 && job.Step >= 2) break;
                Assert.True(DateTime.UtcNow < deadline, first.Output);
                await Task.Delay(50);
            }
            first.KillHard();
        }
        var newest = (await database.CheckpointsAsync(jobId)).Max(c => c.Step);

        using var second = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "dpo-rescuer");
        var done = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => second.Output);

        Assert.Equal(JobStatus.Succeeded, done.Status);
        Assert.Equal(1, done.CrashRestarts);
        var events = await database.EventsAsync(jobId);
        Assert.Contains(events, e => e.Message == $"Resumed from the checkpoint at step {newest}.");
        var last = Metrics(events)[^1];
        Assert.All(["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"],
            k => Assert.True(last.TryGetProperty(k, out _), k));
    }

    [Fact]
    public async Task Bf16LoraRewardModelAndPpoJobs_OnTheCpu_TrainInBf16_AndDeliverFloat32Weights()
    {
        var pairs = await database.AddFileAsync("preference", PolitePreferences.JsonLines(8, seed: 1));
        var rewardJobId = await database.SubmitAsync("reward_model", pairs,
            new { n_epochs = 1, batch_size = 4, learning_rate = 1e-3, precision = "bf16", lora = new { r = 4 } });
        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-rlhf-bf16");
        var rewardJob = await database.WaitForAsync(rewardJobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);

        Assert.Equal(JobStatus.Succeeded, rewardJob.Status);
        Assert.Contains(await database.EventsAsync(rewardJobId), e => e.Message.Contains("training in bf16."));
        string rewardPath;
        await using (var db = database.CreateDbContext())
            rewardPath = Path.Combine(database.ArtifactsRoot, db.Models.Single(m => m.Id == rewardJob.FineTunedModel).ArtifactPath);
        var weights = Safetensors.Read(Path.Combine(rewardPath, "model.safetensors"));
        Assert.Contains("score.weight", weights.Keys);
        Assert.All(weights.Values, w => Assert.Equal(TorchSharp.torch.ScalarType.Float32, w.dtype)); // the head too
        foreach (var w in weights.Values) w.Dispose();

        var prompts = await database.AddFileAsync("prompt_only", PolitePreferences.PromptLines(4, seed: 3));
        var ppoJobId = await database.SubmitAsync("ppo", prompts, new
        {
            reward_model = rewardJob.FineTunedModel, learning_rate = 1e-4, rollout_batch_size = 4, total_episodes = 4,
            response_length = 4, ppo_epochs = 1, num_mini_batches = 2, precision = "bf16", lora = new { r = 4 },
        });
        var ppoJob = await database.WaitForAsync(ppoJobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);

        Assert.Equal(JobStatus.Succeeded, ppoJob.Status);
        var events = await database.EventsAsync(ppoJobId);
        Assert.Contains(events, e => e.Message.Contains("training in bf16."));
        Assert.All(["objective/kl", "objective/scores", "loss/policy_avg", "loss/value_avg"],
            k => Assert.True(double.IsFinite(Metrics(events)[^1].GetProperty(k).GetDouble()), k));
    }

    private static List<JsonElement> Metrics(IEnumerable<JobEvent> events)
        => events.Where(e => e.Type == EventTypes.Metrics).Select(e => e.Data!.RootElement).ToList();
}
