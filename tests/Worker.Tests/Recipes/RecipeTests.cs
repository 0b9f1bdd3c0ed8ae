using System.Text.Json;
using TuningService.Domain.Jobs;
using TuningService.Worker.Tests.Runtime;

namespace TuningService.Worker.Tests.Recipes;

/// <summary>
/// The README's and docs/rlhf.md's recipes at reduced size: the same spec shapes on the same samples/ files (their first
/// lines), through the real worker executable, each asserting on held-out data the learning its doc claims at full size.
/// </summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class RecipeTests(RuntimeDatabase database, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<RuntimeDatabase>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task SupervisedQuickstart_ThenLoraOnItsModel_EachClassifiesHeldOutTextWellAboveChance()
    {
        var reviews = await database.AddFileAsync("prompt_completion", SampleFiles.Lines("sentiment.jsonl"));
        var heldOutReviews = await database.AddFileAsync("prompt_completion", SampleFiles.Lines("sentiment-valid.jsonl", 30));
        var quickstartId = await database.SubmitAsync("supervised", reviews, new
        {
            n_epochs = 6, batch_size = 10, learning_rate = 0.01, warmup_ratio = 0.05, eval_interval = 40, checkpoint_interval = 40,
        }, heldOutReviews, seed: 3);

        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-recipe-sft");
        var quickstart = await SucceededAsync(quickstartId, worker);
        var reviewsLearned = await FinalMetricsAsync(quickstartId);

        // README "LoRA": an adapter on the quickstart's model teaches it support tickets, in words the reviews never use.
        var tickets = await database.AddFileAsync("prompt_completion", SampleFiles.Lines("tickets.jsonl"));
        var heldOutTickets = await database.AddFileAsync("prompt_completion", SampleFiles.Lines("tickets-valid.jsonl", 30));
        var loraId = await database.SubmitAsync("supervised", tickets, new
        {
            n_epochs = 6, batch_size = 10, learning_rate = 0.02, eval_interval = 32, lora = new { r = 8, alpha = 16 },
        }, heldOutTickets, model: quickstart.FineTunedModel!, seed: 3);
        await SucceededAsync(loraId, worker);
        var ticketsLearned = await FinalMetricsAsync(loraId);

        output.WriteLine($"quickstart exact match {Em(reviewsLearned)}, LoRA on tickets {Em(ticketsLearned)}");
        Assert.True(Em(reviewsLearned) >= 0.8, $"quickstart held-out exact match {Em(reviewsLearned)} (chance 0.5)");
        Assert.True(Em(ticketsLearned) >= 0.75, $"LoRA held-out exact match {Em(ticketsLearned)} (chance 0.5; the base without the adapter 0.5)");
    }

    [Fact]
    public async Task InstructionThenRewardModelThenPpo_AndDpo_LearnTheirHeldOutFiguresAndRaiseTheRewardWithinTheKlBudget()
    {
        // README "Instruction tuning": the support model every RLHF recipe starts from.
        var chats = await database.AddFileAsync("chat", SampleFiles.Lines("support-chat.jsonl", 40));
        var heldOutChats = await database.AddFileAsync("chat", SampleFiles.Lines("support-chat-valid.jsonl", 12));
        var supportId = await database.SubmitAsync("instruction", chats, new
        {
            n_epochs = 6, batch_size = 8, learning_rate = 0.01, warmup_ratio = 0.05, eval_interval = 45,
        }, heldOutChats, seed: 3);
        using var worker = WorkerProcess.Start(database.ConnectionString, database.ArtifactsRoot, "w-recipe-rlhf");
        var support = (await SucceededAsync(supportId, worker)).FineTunedModel!;
        var supportLearned = (await FinalMetricsAsync(supportId)).GetProperty(MetricNames.ValidMeanTokenAccuracy).GetDouble();

        // docs/rlhf.md "1. Reward model" on the support model, judged on requests training never asks.
        var pairs = await database.AddFileAsync("preference", SampleFiles.Lines("polite-preferences.jsonl", 48));
        var heldOutPairs = await database.AddFileAsync("preference", SampleFiles.Lines("polite-preferences-valid.jsonl", 20));
        var rewardId = await database.SubmitAsync("reward_model", pairs, new
        {
            n_epochs = 2, batch_size = 8, learning_rate = 1e-3, center_rewards_coefficient = 0.01,
        }, heldOutPairs, model: support, seed: 3);
        var rewardModel = (await SucceededAsync(rewardId, worker)).FineTunedModel!;
        var rewardAccuracy = (await FinalMetricsAsync(rewardId)).GetProperty("valid_accuracy").GetDouble();

        // docs/rlhf.md "2. PPO": the support model answers support prompts; the reward model's score must rise within the budget.
        var prompts = await database.AddFileAsync("prompt_only", SampleFiles.Lines("ppo-prompts.jsonl", 32));
        var ppoId = await database.SubmitAsync("ppo", prompts, PpoHyperparameters(rewardModel, totalEpisodes: PpoEpisodes), model: support, seed: 3);
        await SucceededAsync(ppoId, worker);
        var updates = await MetricsAsync(ppoId);
        double Mean(IEnumerable<JsonElement> m, string name) => m.Average(e => e.GetProperty(name).GetDouble());
        double before = Mean(updates.Take(3), "objective/scores"), after = Mean(updates.TakeLast(3), "objective/scores");
        var kls = updates.Select(e => e.GetProperty("objective/kl").GetDouble()).ToList();

        // docs/rlhf.md "DPO" on the same pairs.
        var dpoId = await database.SubmitAsync("dpo", pairs, new { beta = 0.1, n_epochs = 2, learning_rate = 1e-3 }, heldOutPairs, model: support, seed: 3);
        await SucceededAsync(dpoId, worker);
        var dpoAccuracy = (await FinalMetricsAsync(dpoId)).GetProperty("valid_rewards/accuracies").GetDouble();

        output.WriteLine($"instruction valid token accuracy {supportLearned:0.###}; reward model valid accuracy {rewardAccuracy:0.###}; " +
            $"PPO score {before:0.###} -> {after:0.###}, KL per update {string.Join(", ", kls.Select(k => k.ToString("0.##")))}; DPO valid accuracy {dpoAccuracy:0.###}");
        Assert.True(supportLearned >= MinInstructionTokenAccuracy, $"instruction held-out token accuracy {supportLearned} (a random-init model: 0)");
        Assert.True(rewardAccuracy >= 0.9, $"reward model held-out pairwise accuracy {rewardAccuracy} (chance 0.5)");
        Assert.True(after > before + MinPpoScoreGain, $"PPO mean reward-model score {before} -> {after}");
        Assert.All(kls, kl => Assert.True(kl <= PpoKlBudget, $"KL {kl} past the budget {PpoKlBudget}"));
        Assert.True(dpoAccuracy >= 0.9, $"DPO held-out reward accuracy {dpoAccuracy} (chance 0.5)");
    }

    // Reduced-size bars. Instruction: 30 steps (the README's 180 reach 0.90). PPO: 12 updates at 3e-4 show the rise
    // the recipe's 32 updates at 1e-4 show (scores −0.37 → 0.11 over the first and last 8), within the same budget.
    private const double MinInstructionTokenAccuracy = 0.12, MinPpoScoreGain = 0.15, PpoKlBudget = 6;
    private const int PpoEpisodes = 96;

    /// <summary>docs/rlhf.md's PPO hyperparameters (the recipe: 256 episodes at learning_rate 1e-4).</summary>
    private static object PpoHyperparameters(string rewardModel, int totalEpisodes) => new
    {
        reward_model = rewardModel, learning_rate = 3e-4, kl_coef = 0.05, rollout_batch_size = 8, total_episodes = totalEpisodes,
        response_length = 24, temperature = 0.7, missing_eos_penalty = 1.0, kl_budget = PpoKlBudget,
    };

    private static double Em(JsonElement metrics) => metrics.GetProperty(MetricNames.ExactMatchAccuracy).GetDouble();

    private async Task<TrainingJob> SucceededAsync(string jobId, WorkerProcess worker)
    {
        var job = await database.WaitForAsync(jobId, j => JobStatus.IsTerminal(j.Status), Timeout, () => worker.Output);
        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Status}: {job.Error?.Message}\n{worker.Output}");
        return job;
    }

    private async Task<List<JsonElement>> MetricsAsync(string jobId) => (await database.EventsAsync(jobId))
        .Where(e => e.Type == EventTypes.Metrics).Select(e => e.Data!.RootElement).ToList();

    private async Task<JsonElement> FinalMetricsAsync(string jobId) => (await MetricsAsync(jobId))[^1];
}
