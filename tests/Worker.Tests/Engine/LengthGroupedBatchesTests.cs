using TuningService.Worker.Engine.Data;

namespace TuningService.Worker.Tests.Engine;

public sealed class LengthGroupedBatchesTests
{
    private static readonly List<EncodedExample> MixedLengths = Enumerable.Range(0, 400)
        .Select(i => new EncodedExample(new int[8 + (i * 37) % 200], new bool[8 + (i * 37) % 200]))
        .ToList();

    [Fact]
    public void GroupedBatches_CoverEveryExampleOnce_WithFarLessPaddingThanShuffledBatches()
    {
        var grouped = LengthGroupedBatches.ForEpoch(MixedLengths, 8, seed: 1, epoch: 0);
        var shuffled = LengthGroupedBatches.ForEpoch(MixedLengths, 8, seed: 1, epoch: 0, groupByLength: false);

        Assert.Equal(Enumerable.Range(0, 400), grouped.SelectMany(b => b).Order());
        Assert.Equal(Enumerable.Range(0, 400), shuffled.SelectMany(b => b).Order());
        Assert.True(PaddedFraction(grouped) < 0.1, $"grouped padding {PaddedFraction(grouped):P1}");
        Assert.True(PaddedFraction(shuffled) > 0.3, $"shuffled padding {PaddedFraction(shuffled):P1}");
    }

    [Fact]
    public void EpochOrder_DependsOnlyOnSeedAndEpoch()
    {
        Assert.Equal(LengthGroupedBatches.ForEpoch(MixedLengths, 8, 5, 2), LengthGroupedBatches.ForEpoch(MixedLengths, 8, 5, 2));
        Assert.NotEqual(LengthGroupedBatches.ForEpoch(MixedLengths, 8, 5, 2), LengthGroupedBatches.ForEpoch(MixedLengths, 8, 5, 3));
    }

    /// <summary>Share of a padded (B, T_max) batch that is padding, over the epoch.</summary>
    private static double PaddedFraction(List<int[]> batches)
    {
        double real = batches.Sum(b => b.Sum(i => MixedLengths[i].Length));
        double padded = batches.Sum(b => b.Length * b.Max(i => MixedLengths[i].Length));
        return 1 - real / padded;
    }
}
