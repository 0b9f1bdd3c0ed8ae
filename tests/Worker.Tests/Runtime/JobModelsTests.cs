using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;
using TuningService.Domain;
using TuningService.Domain.Models;
using TuningService.Domain.Persistence;
using TuningService.Domain.Projects;
using TuningService.Worker.Engine;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Runtime;

namespace TuningService.Worker.Tests.Runtime;

/// <summary>The worker loads what the Domain's catalogue resolves: the same ids the API accepted.</summary>
public sealed class JobModelsTests(RuntimeDatabase database) : IClassFixture<RuntimeDatabase>, IDisposable
{
    private readonly TempDirectory _scratch = new("tuning-models-");

    private string ModelsRootPath => _scratch.Path;

    public void Dispose() => _scratch.Dispose();

    private JobModels Models() => new(
        new PooledDbContextFactory<TuningDbContext>(new DbContextOptionsBuilder<TuningDbContext>().UseNpgsql(database.ConnectionString).Options),
        Options.Create(new TuningOptions { ArtifactsRoot = database.ArtifactsRoot, ModelsRoot = ModelsRootPath }));

    [Fact]
    public async Task Load_ResolvesPresets_BaseCheckpoints_AndTheProjectsProducedModels()
    {
        using (var preset = ModelLoader.LoadPreset("tiny-gpt2", seed: 1))
        {
            Save(preset, Path.Combine(ModelsRootPath, "my-gpt2"));
            Save(preset, Path.Combine(database.ArtifactsRoot, "models", "ftjob-produced"));
        }
        var produced = $"ft:my-gpt2:{Ids.New("ftjob-")}";
        await using (var db = database.CreateDbContext())
        {
            db.Models.Add(new ModelRecord
            {
                Id = produced, ProjectId = Project.DefaultProjectId, Kind = ModelKinds.FineTuned, BaseModel = "my-gpt2", JobId = "ftjob-produced",
                ArtifactPath = Path.Combine("models", "ftjob-produced"), Architecture = "gpt2",
            });
            await db.SaveChangesAsync();
        }

        using var fromPreset = Models().Load(Project.DefaultProjectId, "tiny-llama", seed: 3);
        Assert.Equal(("tiny-llama", null), (fromPreset.Id, fromPreset.Directory));
        using var fromCheckpoint = Models().Load(Project.DefaultProjectId, "my-gpt2", seed: 3);
        Assert.Equal(Path.Combine(ModelsRootPath, "my-gpt2"), fromCheckpoint.Directory);
        using var fromProduced = Models().Load(Project.DefaultProjectId, produced, seed: 3);
        Assert.Equal((produced, Path.Combine(database.ArtifactsRoot, "models", "ftjob-produced")), (fromProduced.Id, fromProduced.Directory));
        Assert.Equal("my-gpt2", Models().FindProduced(Project.DefaultProjectId, produced)!.BaseModel);
    }

    [Theory]
    [InlineData("no-such-model")]
    [InlineData("../etc")]
    [InlineData("ft:tiny-gpt2:x:ftjob-missing")]
    public void Load_FailsTheJob_WithModelLoadFailed_ForAnIdTheCatalogueDoesNotKnow(string id)
    {
        var failure = Assert.Throws<JobFailureException>(() => Models().Load(Project.DefaultProjectId, id, seed: 1));
        Assert.Equal((JobFailures.ModelLoadFailed, "model"), (failure.Error.Code, failure.Error.Param));
    }

    private static void Save(LoadedModel model, string directory)
    {
        Directory.CreateDirectory(directory);
        HfCheckpoint.Save(model.Model, directory);
        model.Tokenizer.SaveTo(directory);
    }
}
