using TuningService.Domain.Models;
using TuningService.Domain.Projects;
using TuningService.Testing;

namespace TuningService.Domain.Tests.Models;

public sealed class ModelCatalogTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IDisposable
{
    private readonly TempDirectory _scratch = new("models-");

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void TinyGpt2_HasTheRecordedDimensions_AndGpt2ParameterCount()
    {
        var p = ModelCatalog.FindPreset("tiny-gpt2")!;
        Assert.Equal(("gpt2", 50257, 2, 64, 4, 512), (p.Architecture, p.VocabSize, p.NLayer, p.NEmbd, p.NHead, p.ContextLength));
        // wte 50257·64 + wpe 256·64 + 2 blocks · 49,984 + ln_f 128 (lm_head tied)
        Assert.Equal(3_216_448 + 32_768 + 2 * 49_984 + 128, p.ParameterCount);
    }

    [Fact]
    public void TinyLlama_HasTheRecordedDimensions_AndLlamaParameterCount()
    {
        var p = ModelCatalog.FindPreset("tiny-llama")!;
        Assert.Equal(("llama", 50257, 2, 64, 4, 2, 176), (p.Architecture, p.VocabSize, p.NLayer, p.NEmbd, p.NHead, p.NKvHead, p.IntermediateSize));
        // embed + 2 · (q 64·64 + k,v 2·64·32 + o 64·64 + gate/up/down 3·64·176 + 2 norms 128) + final norm 64
        Assert.Equal(50257L * 64 + 2 * (4096 + 4096 + 4096 + 33792 + 128) + 64, p.ParameterCount);
    }

    [Fact]
    public void ListBase_HasThePresets_AndEveryCheckpointFolderWithAConfig()
    {
        var root = ModelsRoot();
        var ids = ModelCatalog.ListBase(root).Select(m => m.Id).ToList();
        Assert.Equal(["tiny-gpt2", "tiny-llama", "gpt2-124m-random", "my-llama"], ids);
        var mine = ModelCatalog.FindBase(root, "my-llama")!;
        Assert.Equal((BaseModelKinds.Checkpoint, "llama", Path.Combine(root, "my-llama")), (mine.Kind, mine.Architecture, mine.Directory));
        var preset = ModelCatalog.FindBase(root, "tiny-gpt2")!;
        Assert.Equal((BaseModelKinds.Preset, null), (preset.Kind, preset.Directory)); // a preset wins a name clash
        Assert.Null(ModelCatalog.FindBase(root, "not-a-model"));
        Assert.Null(ModelCatalog.FindBase(root, "../etc"));
        Assert.Null(ModelCatalog.FindBase(Path.Combine(root, "missing"), "my-llama"));
    }

    [Fact]
    public async Task ListAsync_HasBaseModels_ThenTheProjectsOwnModelsNewestFirst_WithTheirArtifactDirectories()
    {
        var (root, artifacts) = (ModelsRoot(), Directory.CreateDirectory(_scratch.Sub("artifacts")).FullName);
        var other = await AddProjectAsync();
        var older = await AddModelAsync(Project.DefaultProjectId, DateTimeOffset.UtcNow.AddMinutes(-2));
        var newer = await AddModelAsync(Project.DefaultProjectId, DateTimeOffset.UtcNow.AddMinutes(-1));
        var deleted = await AddModelAsync(Project.DefaultProjectId, DateTimeOffset.UtcNow, deletedAt: DateTimeOffset.UtcNow);
        var theirs = await AddModelAsync(other, DateTimeOffset.UtcNow);

        await using var db = database.CreateDbContext();
        var catalog = new ModelCatalog(db, root, artifacts);
        var listed = (await catalog.ListAsync(Project.DefaultProjectId)).Select(m => m.Id).ToList();
        Assert.Equal(["tiny-gpt2", "tiny-llama", "gpt2-124m-random", "my-llama"], listed.Take(4));
        Assert.True(listed.IndexOf(newer) > 3 && listed.IndexOf(newer) < listed.IndexOf(older));
        Assert.DoesNotContain(deleted, listed);
        Assert.DoesNotContain(theirs, listed);

        var found = (await catalog.FindAsync(Project.DefaultProjectId, newer))!;
        Assert.Equal((ModelKinds.FineTuned, "tiny-gpt2", Project.DefaultProjectId, Path.Combine(artifacts, "models", newer)),
            (found.Kind, found.BaseModel, found.OwnedBy, found.Directory));
        Assert.False(found.IsBase);
        Assert.True((await catalog.FindAsync(other, "my-llama"))!.IsBase);
        Assert.Null(await catalog.FindAsync(Project.DefaultProjectId, theirs));
        Assert.Null(await catalog.FindAsync(Project.DefaultProjectId, deleted));
        Assert.Null(await catalog.FindRecordAsync(Project.DefaultProjectId, "tiny-gpt2"));
    }

    private string ModelsRoot()
    {
        var root = Directory.CreateDirectory(_scratch.Sub("models")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "my-llama"));
        File.WriteAllText(Path.Combine(root, "my-llama", "config.json"), """{"model_type":"llama","hidden_size":64}""");
        Directory.CreateDirectory(Path.Combine(root, "not-a-model"));
        Directory.CreateDirectory(Path.Combine(root, "tiny-gpt2"));
        File.WriteAllText(Path.Combine(root, "tiny-gpt2", "config.json"), """{"model_type":"llama"}""");
        return root;
    }

    private async Task<string> AddProjectAsync()
    {
        await using var db = database.CreateDbContext();
        var project = new Project { Id = Ids.New("proj_"), Name = "other" };
        db.Projects.Add(project);
        await db.SaveChangesAsync();
        return project.Id;
    }

    private async Task<string> AddModelAsync(string projectId, DateTimeOffset createdAt, DateTimeOffset? deletedAt = null)
    {
        var jobId = Ids.New("ftjob-");
        var id = $"ft:tiny-gpt2:{jobId}";
        await using var db = database.CreateDbContext();
        db.Models.Add(new ModelRecord
        {
            Id = id, ProjectId = projectId, Kind = ModelKinds.FineTuned, BaseModel = "tiny-gpt2", JobId = jobId,
            ArtifactPath = Path.Combine("models", id), Architecture = "gpt2", CreatedAt = createdAt, DeletedAt = deletedAt,
        });
        await db.SaveChangesAsync();
        return id;
    }
}
