using TuningService.Domain.Datasets;

namespace TuningService.Domain.Tests.Datasets;

public sealed class MethodAdviceTests
{
    [Fact]
    public void PreferenceFile_SuitsRewardModelAndDpo_AndAFewHundredPairsPointToDpo()
    {
        var advice = MethodAdvice.For(DatasetFormat.Preference, 300);
        Assert.Equal(["reward_model", "dpo"], advice.Select(a => a.Method));
        var reward = advice.Single(a => a.Method == "reward_model");
        Assert.Equal(MethodAdvice.Fits.Few, reward.Fit);
        Assert.Contains("dpo", reward.Advice);
        Assert.Equal(MethodAdvice.Fits.Good, advice.Single(a => a.Method == "dpo").Fit);
    }

    [Theory]
    [InlineData("chat", 24, "instruction", "few")]
    [InlineData("prompt_completion", 2_000, "supervised", "good")]
    [InlineData("text", 80_000, "supervised", "large")]
    [InlineData("prompt_only", 20, "ppo", "few")]
    public void EachFormat_SuitsItsMethods_WithTheFitOfItsSize(string format, long examples, string method, string fit)
    {
        var advice = Assert.Single(MethodAdvice.For(format, examples));
        Assert.Equal((method, fit), (advice.Method, advice.Fit));
    }
}
