using TuningService.Domain.Jobs;
using TuningService.Worker.Runtime.Methods;

namespace TuningService.Worker.Tests.Runtime;

/// <summary>The guards' judgement of a run's evaluations, fed the metrics a trainer reports.</summary>
public sealed class RunGuardsTests
{
    private static GuardSettings Settings(EarlyStoppingSettings? early, bool publishBest = true) =>
        new() { EarlyStopping = early, PublishBest = publishBest, ForgettingThreshold = 0.1 };

    private static Dictionary<string, double?> Valid(double loss) => new() { [MetricNames.ValidLoss] = loss };

    [Fact]
    public void EarlyStopping_CountsEvaluationsWithoutAnImprovementOfMinDelta_AndRemembersTheBest()
    {
        var guards = new RunGuards(Settings(new EarlyStoppingSettings(Patience: 2, MinDelta: 0.05)));
        Assert.Equal((true, false), Judge(guards, 10, 2.0));
        Assert.Equal((true, false), Judge(guards, 20, 1.9));
        Assert.Equal((false, false), Judge(guards, 30, 1.88));   // a fall smaller than min_delta is no improvement
        Assert.Equal((false, true), Judge(guards, 40, 1.87));
        Assert.Equal((20, 1.9, 40), (guards.State.BestStep, guards.State.BestValidLoss, guards.State.StoppedAt));
        Assert.True(guards.Stopped);
        Assert.Equal(20, guards.PublishedStep(40));
        Assert.Equal(40, new RunGuards(Settings(null, publishBest: false)).PublishedStep(40));
    }

    [Fact]
    public void Upturn_IsNamedOnce_EvenWithoutEarlyStopping()
    {
        var guards = new RunGuards(Settings(early: null, publishBest: false));
        Assert.Empty(guards.Evaluated(5, Valid(3.0)).Warnings);
        Assert.Empty(guards.Evaluated(10, Valid(2.5)).Warnings);
        var warning = Assert.Single(guards.Evaluated(15, Valid(2.7)).Warnings);
        Assert.StartsWith("Validation loss turned upward at step 15 (2.5 → 2.7; lowest 2.5 at step 10)", warning);
        Assert.Contains("Set early_stopping", warning);
        Assert.Empty(guards.Evaluated(20, Valid(2.9)).Warnings);
        Assert.False(guards.Evaluated(25, Valid(3.1)).Stop);
    }

    [Fact]
    public void State_SurvivesAResume_SoTheBestAndThePatienceCountCarryOver()
    {
        var guards = new RunGuards(Settings(new EarlyStoppingSettings(2, 0)));
        Judge(guards, 10, 1.0);
        Judge(guards, 20, 1.2);
        var resumed = new RunGuards(Settings(new EarlyStoppingSettings(2, 0)));
        resumed.Resume(System.Text.Json.Nodes.JsonNode.Parse(guards.Save().ToJsonString()));
        Assert.Equal((false, true), Judge(resumed, 30, 1.1));
        Assert.Equal(10, resumed.PublishedStep(30));
    }

    [Fact]
    public void Dpo_WarnsOnce_WhenTheChosenLogProbabilityFallsWhileTheMarginGrows()
    {
        var guards = new RunGuards(Settings(null, publishBest: false));
        Dictionary<string, double?> Dpo(double chosen, double margin) => new() { ["rewards/chosen"] = chosen, ["rewards/margins"] = margin };
        Assert.Empty(guards.Evaluated(5, Dpo(0.02, 0.1)).Warnings);     // both responses' likelihood moves the right way
        Assert.Empty(guards.Evaluated(10, Dpo(-0.05, -0.01)).Warnings); // no margin gained
        var warning = Assert.Single(guards.Evaluated(15, Dpo(-0.2, 0.6)).Warnings);
        Assert.Contains("chosen responses' log-probability has fallen", warning);
        Assert.Empty(guards.Evaluated(20, Dpo(-0.4, 0.9)).Warnings);
        // Validation metrics are preferred when the job has a validation file.
        var withValidation = new RunGuards(Settings(null, publishBest: false));
        Assert.Empty(withValidation.Evaluated(5, new() { ["rewards/chosen"] = -0.2, ["rewards/margins"] = 0.5, ["valid_rewards/chosen"] = 0.1, ["valid_rewards/margins"] = 0.3 }).Warnings);
    }

    private static (bool Improved, bool Stop) Judge(RunGuards guards, int step, double loss)
    {
        var (improved, stop, _) = guards.Evaluated(step, Valid(loss));
        return (improved, stop);
    }
}
