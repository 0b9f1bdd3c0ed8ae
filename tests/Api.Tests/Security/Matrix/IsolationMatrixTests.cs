using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TuningService.Api.Tests.Jobs;
using TuningService.Domain;
using TuningService.Domain.Jobs;

namespace TuningService.Api.Tests.Security.Matrix;

/// <summary>
/// Two projects made through the admin API; project B's key against every project-scoped route aimed at project A's
/// file, job, checkpoint and model. B sees a 404 (or a list without them), A's rows are untouched.
/// </summary>
public sealed class IsolationMatrixTests(SecurityApiFactory api) : IClassFixture<SecurityApiFactory>
{
    public static TheoryData<IsolationProbe> Probes => ProjectRoutes.All();

    [Theory]
    [MemberData(nameof(Probes))]
    public async Task AnotherProjectsKey_NeitherSeesNorChangesTheResource(IsolationProbe probe)
    {
        var (owned, owner) = await CreateOwnerAsync();
        var (strangerProject, stranger) = await api.CreateProjectViaApiAsync("stranger");
        var before = await api.SnapshotAsync();

        using var request = probe.Request(owned);
        var asked = request.RequestUri + (request.Content is null ? "" : await request.Content.ReadAsStringAsync());
        var response = await stranger.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        switch (probe.Expect)
        {
            case Isolation.NotFound:
                var error = await ErrorShape.AssertAsync(response, HttpStatusCode.NotFound);
                Assert.NotEqual("unknown_url", error.GetProperty("code").GetString()); // the route matched; the resource is hidden
                break;
            case Isolation.RefusedAsMissing:
                var refused = await ErrorShape.AssertAsync(response, HttpStatusCode.BadRequest);
                Assert.Equal(probe.Param, refused.GetProperty("param").GetString());
                break;
            case Isolation.NotListed:
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
                break;
            case Isolation.CallersOwn:
                Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
                await AssertCallersOwnAsync(probe, JsonDocument.Parse(body).RootElement, strangerProject, owner);
                break;
        }
        // Nothing of the owner's leaks, beyond the ids the caller itself sent (which error messages echo).
        foreach (var id in owned.Ids.Append(owned.ProjectId).Where(id => !asked.Contains(id))) Assert.DoesNotContain(id, body);
        if (probe.Expect != Isolation.CallersOwn) (await api.SnapshotAsync()).AssertUnchangedSince(before, $"{probe}");
        await AssertOwnerStillHasEverythingAsync(owned, owner);
    }

    private async Task<(OwnedResources, HttpClient)> CreateOwnerAsync()
    {
        var (projectId, owner) = await api.CreateProjectViaApiAsync("owner");
        var fileId = await SecurityApiFactory.UploadDatasetAsync(owner);
        var jobId = (await owner.CreateSupervisedJobAsync(fileId)).Str("id");
        await using (var db = api.CreateDbContext())
        {
            db.Checkpoints.Add(new JobCheckpoint
            {
                Id = Ids.New("ftckpt-"), JobId = jobId, Step = 1, ArtifactPath = $"jobs/{jobId}/checkpoints/step-0000001",
                FineTunedModelCheckpoint = $"ft:tiny-gpt2:iso:{jobId}:ckpt-step-1",
            });
            await db.SaveChangesAsync();
        }
        var (modelId, fileName) = await api.AddModelWithFilesAsync(projectId);
        var webhook = await owner.PostAsync("/v1/webhooks", new StringContent("""{"url":"https://hooks.example.com/owner"}""", System.Text.Encoding.UTF8, "application/json"));
        var webhookId = (await webhook.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        return (new OwnedResources(projectId, fileId, jobId, modelId, fileName, webhookId), owner);
    }

    private static async Task AssertCallersOwnAsync(IsolationProbe probe, JsonElement body, string strangerProject, HttpClient owner)
    {
        if (probe.Route == "GET /v1/me")
        {
            Assert.Equal(strangerProject, body.GetProperty("project_id").GetString());
            return;
        }
        var id = body.GetProperty("id").GetString();
        if (probe.Route == "POST /v1/webhooks")
        {
            Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/v1/webhooks/{id}")).StatusCode);
            return;
        }
        // An upload: the new file is the caller's, invisible to the other project.
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/v1/files/{id}")).StatusCode);
    }

    private static async Task AssertOwnerStillHasEverythingAsync(OwnedResources owned, HttpClient owner)
    {
        var job = await owner.GetFromJsonAsync<JsonElement>($"/v1/fine_tuning/jobs/{owned.JobId}");
        Assert.Equal(JobStatus.Queued, job.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/v1/files/{owned.FileId}/content")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/v1/models/{owned.ModelId}/files/{owned.ModelFileName}")).StatusCode);
        var checkpoints = await owner.GetFromJsonAsync<JsonElement>($"/v1/fine_tuning/jobs/{owned.JobId}/checkpoints");
        Assert.Equal(1, checkpoints.GetProperty("data").GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/v1/webhooks/{owned.WebhookId}")).StatusCode);
    }
}
