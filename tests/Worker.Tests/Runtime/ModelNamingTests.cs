using System.Text.Json;
using TuningService.Domain.Jobs;
using TuningService.Domain.Jobs.Specs;
using TuningService.Domain.Models;
using TuningService.Worker.Runtime;

namespace TuningService.Worker.Tests.Runtime;

public sealed class ModelNamingTests
{
    private static TrainingJob Job(string model, string? suffix) => new()
    {
        Id = "ftjob-abc", ProjectId = "proj_x", Model = model, TrainingFileId = "file-x", MethodType = MethodTypes.Supervised,
        Spec = JsonDocument.Parse("{}"), Suffix = suffix,
    };

    private static ModelRecord Produced(string id, string baseModel) => new()
    {
        Id = id, ProjectId = "proj_x", Kind = ModelKinds.FineTuned, BaseModel = baseModel, JobId = "ftjob-parent", ArtifactPath = "models/ftjob-parent",
    };

    [Fact]
    public void AJobOnABaseModel_IsNamedAfterIt_AndRecordsItAsItsBase()
    {
        var job = Job("tiny-gpt2", "sentiment");
        Assert.Equal("tiny-gpt2", ModelPublisher.RootBase(job, _ => null));
        Assert.Equal("ft:tiny-gpt2:sentiment:ftjob-abc", ModelPublisher.ModelName(job, _ => null));
        Assert.Equal("ft:tiny-gpt2:ftjob-abc", ModelPublisher.ModelName(Job("tiny-gpt2", null), _ => null));
    }

    [Fact]
    public void AJobContinuingAFineTunedModel_TakesItsRecordedBase_SoNamesDoNotNest()
    {
        // The parent's base is read from its record, never parsed out of its name.
        var parent = Produced("ft:tiny-gpt2:first:ftjob-parent", "my-base");
        var job = Job(parent.Id, "second");
        Assert.Equal("my-base", ModelPublisher.RootBase(job, id => id == parent.Id ? parent.BaseModel : null));
        Assert.Equal("ft:my-base:second:ftjob-abc", ModelPublisher.ModelName(job, id => id == parent.Id ? parent.BaseModel : null));
    }
}
