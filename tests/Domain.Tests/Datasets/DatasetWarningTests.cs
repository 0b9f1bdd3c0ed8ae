using TuningService.Domain.Datasets;
using static TuningService.Domain.Tests.Datasets.DatasetText;

namespace TuningService.Domain.Tests.Datasets;

public sealed class DatasetWarningTests
{
    private static DatasetWarning? Warning(DatasetReport report, string code) => report.Warnings.SingleOrDefault(w => w.Code == code);

    [Fact]
    public async Task Validate_WarnsFewExamples_BelowRecommendedMinimum()
    {
        var report = await Validate(Lines(20, PromptCompletion));
        Assert.True(report.IsValid);
        var warning = Assert.IsType<DatasetWarning>(Warning(report, DatasetCodes.FewExamples));
        Assert.Equal(20, warning.Count);
        Assert.Contains("hundreds to tens of thousands", warning.Message);
        Assert.Null(Warning(await Validate(Lines(150, PromptCompletion)), DatasetCodes.FewExamples));
    }

    [Fact]
    public async Task Validate_WarnsDuplicates_WithTheirCount()
    {
        var report = await Validate(Lines(100, PromptCompletion) + Lines(7, PromptCompletion));
        Assert.Equal(7, Warning(report, DatasetCodes.DuplicateExamples)!.Count);
    }

    [Fact]
    public async Task Validate_WarnsConflictingLabels_WhenSamePromptHasDifferentCompletions()
    {
        var conflicting = Lines(3, i => Json(new { prompt = "Question 5?", completion = $" Other answer {i}." }));
        var report = await Validate(Lines(100, PromptCompletion) + conflicting);
        Assert.Equal(3, Warning(report, DatasetCodes.ConflictingLabels)!.Count);
        Assert.Null(Warning(report, DatasetCodes.DuplicateExamples));
    }

    [Fact]
    public async Task Validate_WarnsLengthOutliers_WhenAnExampleIsFarLongerThanTypical()
    {
        var huge = Json(new { prompt = "Question?", completion = new string('z', 20_000) });
        var report = await Validate(Lines(100, PromptCompletion) + huge + "\n");
        var warning = Warning(report, DatasetCodes.LengthOutliers)!;
        Assert.Equal(1, warning.Count);
        Assert.Equal(101L, warning.Details!["longest_line"]);
    }

    [Fact]
    public async Task Validate_WarnsLabelImbalance_WhenOneShortCompletionDominates()
    {
        var report = await Validate(Lines(100, i => Json(new { prompt = $"Review {i}", completion = i < 90 ? " positive" : " negative" })));
        var warning = Warning(report, DatasetCodes.LabelImbalance)!;
        Assert.Equal(90, warning.Count);
        Assert.Contains("positive", warning.Message);
    }

    [Fact]
    public async Task Validate_DoesNotWarnLabelImbalance_WhenLabelsAreBalanced()
    {
        var report = await Validate(Lines(100, i => Json(new { prompt = $"Review {i}", completion = i % 2 == 0 ? " positive" : " negative" })));
        Assert.Null(Warning(report, DatasetCodes.LabelImbalance));
    }

    [Fact]
    public async Task Validate_KeepsCountingDuplicates_PastTheHashCap()
    {
        var report = await Validate(Lines(100, PromptCompletion) + Lines(100, PromptCompletion), new DatasetLimits { HashTrackingCap = 10 });
        Assert.Equal(10, Warning(report, DatasetCodes.DuplicateExamples)!.Count); // a lower bound: only the first 10 are remembered
    }
}
