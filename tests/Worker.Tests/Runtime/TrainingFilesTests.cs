using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using TuningService.Domain.Datasets;
using TuningService.Domain.Persistence;
using TuningService.Domain.Projects;
using TuningService.Worker.Runtime;

namespace TuningService.Worker.Tests.Runtime;

public sealed class TrainingFilesTests(RuntimeDatabase database) : IClassFixture<RuntimeDatabase>
{
    private TrainingFiles Files() => new(new PooledDbContextFactory<TuningDbContext>(
        new DbContextOptionsBuilder<TuningDbContext>().UseNpgsql(database.ConnectionString).Options));

    [Fact]
    public async Task ReadExamples_ReturnsTheStoredFilesExamples_InFileOrder()
    {
        var file = await database.AddFileAsync(DatasetFormat.Chat, SampleData.SupportChat(6));
        var examples = Files().ReadExamples(Project.DefaultProjectId, file, "training_file");
        Assert.Equal(6, examples.Count);
        Assert.All(examples, e => Assert.IsType<ChatExample>(e));
    }

    [Fact]
    public async Task ReadExamples_FailsTheJob_WithNoAssistantMessage_WhenAChatLineHasNoAssistantTurn()
    {
        // The validator rejects such a line at upload; a stored file that holds one anyway is read with the same rules.
        var lines = SampleData.SupportChat(3).Append("""{"messages":[{"role":"user","content":"Anyone there?"}]}""");
        var file = await database.AddFileAsync(DatasetFormat.Chat, lines);
        var failure = Assert.Throws<JobFailureException>(() => Files().ReadExamples(Project.DefaultProjectId, file, "validation_file"));
        Assert.Equal((JobFailures.InvalidValidationFile, "validation_file"), (failure.Error.Code, failure.Error.Param));
        Assert.Contains($"line 4", failure.Error.Message);
        Assert.Contains(DatasetCodes.NoAssistantMessage, failure.Error.Message);
    }

    [Fact]
    public void ReadExamples_FailsTheJob_WhenTheFileIsGone()
    {
        var failure = Assert.Throws<JobFailureException>(() => Files().ReadExamples(Project.DefaultProjectId, "file-gone", "training_file"));
        Assert.Equal(JobFailures.InvalidTrainingFile, failure.Error.Code);
    }
}
