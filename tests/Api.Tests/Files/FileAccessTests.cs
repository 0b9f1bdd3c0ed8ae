using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Domain;
using TuningService.Domain.Jobs;
using TuningService.Domain.Projects;
using static TuningService.Api.Tests.Files.FileUploads;

namespace TuningService.Api.Tests.Files;

public sealed class FileAccessTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task List_PagesNewestFirst_WithAfterAndLimit()
    {
        var (client, _) = await NewProjectClient();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await UploadOk(client, ValidJsonl())).GetProperty("id").GetString()!);

        var all = await client.GetFromJsonAsync<JsonElement>("/v1/files");
        Assert.Equal("list", all.GetProperty("object").GetString());
        Assert.Equal(Enumerable.Reverse(ids), all.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()));
        Assert.False(all.GetProperty("has_more").GetBoolean());

        var first = await client.GetFromJsonAsync<JsonElement>("/v1/files?limit=2");
        Assert.True(first.GetProperty("has_more").GetBoolean());
        Assert.Equal(ids[1], first.GetProperty("last_id").GetString());
        var next = await client.GetFromJsonAsync<JsonElement>($"/v1/files?limit=2&after={ids[1]}");
        Assert.Equal([ids[0]], next.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()));
        Assert.False(next.GetProperty("has_more").GetBoolean());

        var ascending = await client.GetFromJsonAsync<JsonElement>("/v1/files?order=asc&purpose=fine-tune");
        Assert.Equal(ids, ascending.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("id").GetString()));
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/v1/files?purpose=assistants")).GetProperty("data").EnumerateArray());
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=10001", "limit")]
    [InlineData("order=sideways", "order")]
    [InlineData("after=file-nope", "after")]
    public async Task List_Is400_WhenQueryIsOutOfRange(string query, string param)
    {
        var response = await api.CreateAdminClient().GetAsync($"/v1/files?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(param, (await Error(response)).GetProperty("param").GetString());
    }

    [Fact]
    public async Task Get_ReturnsTheStoredFileObject()
    {
        var uploaded = await UploadOk(api.CreateAdminClient(), ValidJsonl());
        var id = uploaded.GetProperty("id").GetString();
        var file = await api.CreateAdminClient().GetFromJsonAsync<JsonElement>($"/v1/files/{id}");
        Assert.Equal(uploaded.GetProperty("sha256").GetString(), file.GetProperty("sha256").GetString());
        Assert.Equal(uploaded.GetProperty("warnings").GetArrayLength(), file.GetProperty("warnings").GetArrayLength());
    }

    [Fact]
    public async Task Delete_RemovesRecordAndChunks()
    {
        var id = (await UploadOk(api.CreateAdminClient(), ValidJsonl())).GetProperty("id").GetString()!;
        var deleted = await (await api.CreateAdminClient().DeleteAsync($"/v1/files/{id}")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((id, "file", true), (deleted.GetProperty("id").GetString(), deleted.GetProperty("object").GetString(), deleted.GetProperty("deleted").GetBoolean()));

        Assert.Equal(HttpStatusCode.NotFound, (await api.CreateAdminClient().GetAsync($"/v1/files/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.CreateAdminClient().DeleteAsync($"/v1/files/{id}")).StatusCode);
        await using var db = api.CreateDbContext();
        Assert.Equal(0, await db.FileChunks.CountAsync(c => c.FileId == id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Delete_Is409_WhileAQueuedJobUsesTheFile(bool asValidationFile)
    {
        var id = (await UploadOk(api.CreateAdminClient(), ValidJsonl())).GetProperty("id").GetString()!;
        var job = NewJob(trainingFileId: asValidationFile ? "file-other" : id, validationFileId: asValidationFile ? id : null);
        await using (var db = api.CreateDbContext())
        {
            db.Jobs.Add(job);
            await db.SaveChangesAsync();
            db.JobEvents.Add(job.MarkQueued(DateTimeOffset.UtcNow));
            await db.SaveChangesAsync();
        }

        var response = await api.CreateAdminClient().DeleteAsync($"/v1/files/{id}");
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("file_in_use", (await Error(response)).GetProperty("code").GetString());

        await using (var db = api.CreateDbContext())
        {
            var stored = await db.Jobs.SingleAsync(j => j.Id == job.Id);
            db.JobEvents.Add(stored.Cancel(DateTimeOffset.UtcNow));
            await db.SaveChangesAsync();
        }
        Assert.Equal(HttpStatusCode.OK, (await api.CreateAdminClient().DeleteAsync($"/v1/files/{id}")).StatusCode);
    }

    [Fact]
    public async Task AnotherProjectsFile_Is404Everywhere()
    {
        var id = (await UploadOk(api.CreateAdminClient(), ValidJsonl())).GetProperty("id").GetString()!;
        var (other, _) = await NewProjectClient();

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/v1/files/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/v1/files/{id}/content")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync($"/v1/files/{id}")).StatusCode);
        var list = await other.GetFromJsonAsync<JsonElement>("/v1/files");
        Assert.DoesNotContain(list.GetProperty("data").EnumerateArray(), f => f.GetProperty("id").GetString() == id);
        Assert.Equal(HttpStatusCode.BadRequest, (await other.GetAsync($"/v1/files?after={id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.CreateAdminClient().GetAsync($"/v1/files/{id}")).StatusCode);
    }

    private async Task<(HttpClient Client, string ProjectId)> NewProjectClient()
    {
        var project = new Project { Id = Ids.New("proj_"), Name = "other" };
        var (key, secret) = ApiKey.Create(project.Id, "test");
        await using var db = api.CreateDbContext();
        db.Projects.Add(project);
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync();
        return (api.CreateClient(secret), project.Id);
    }

    private static TrainingJob NewJob(string trainingFileId, string? validationFileId) => new()
    {
        Id = Ids.New("ftjob-"),
        ProjectId = Project.DefaultProjectId,
        Model = "tiny-gpt2",
        TrainingFileId = trainingFileId,
        ValidationFileId = validationFileId,
        MethodType = "supervised",
        Spec = JsonDocument.Parse("{}"),
    };
}
