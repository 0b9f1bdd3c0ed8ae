#pragma warning disable OPENAI001 // fine-tuning is marked experimental in the SDK
using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.FineTuning;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Domain.Projects;

namespace TuningService.Api.Tests.Jobs;

/// <summary>The official OpenAI .NET SDK, pointed at this service, parses every object it gets back.</summary>
public sealed class OpenAiSdkTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    private FineTuningClient Client() => new OpenAIClient(new ApiKeyCredential(ApiFactory.AdminKey), new OpenAIClientOptions
    {
        Endpoint = new Uri(api.Server.BaseAddress, "/v1"),
        Transport = new HttpClientPipelineTransport(api.CreateClient()),
    }).GetFineTuningClient();

    [Fact]
    public async Task FineTuningClient_CreatesListsRetrievesCancels_AndListsEvents()
    {
        var file = await api.AddFileAsync(Project.DefaultProjectId, "prompt_completion");
        var client = Client();

        var options = new FineTuningOptions
        {
            TrainingMethod = FineTuningTrainingMethod.CreateSupervised(epochCount: 2, batchSize: 4, learningRate: 1.5),
            Suffix = "sdk",
            Seed = 7,
        };
        options.Metadata.Add("source", "sdk");
        FineTuningJob job = await client.FineTuneAsync("tiny-gpt2", file, waitUntilCompleted: false, options);
        Assert.StartsWith("ftjob-", job.JobId);
        Assert.Equal(FineTuningStatus.Queued, job.Status);
        Assert.Equal("tiny-gpt2", job.BaseModel);
        Assert.Equal(7, job.Seed);

        var listed = new List<FineTuningJob>();
        await foreach (var j in client.GetJobsAsync(new FineTuningJobCollectionOptions { PageSize = 10 })) listed.Add(j);
        Assert.Contains(listed, j => j.JobId == job.JobId);

        var fetched = await client.GetJobAsync(job.JobId);
        Assert.Equal(job.JobId, fetched.JobId);
        Assert.Equal("sdk", fetched.UserProvidedSuffix);

        await job.CancelAndUpdateAsync();
        Assert.Equal(FineTuningStatus.Cancelled, job.Status);

        var events = new List<FineTuningEvent>();
        await foreach (var e in job.GetEventsAsync(new GetEventsOptions { PageSize = 2 })) events.Add(e);
        Assert.Equal(3, events.Count); // validating, queued, cancelled — across two pages
        Assert.Equal("Job cancelled.", events[0].Message);
    }
}
