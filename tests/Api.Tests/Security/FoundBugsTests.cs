using System.Net;
using System.Net.Http.Headers;
using System.Text;
using TuningService.Api.Tests.Jobs;

namespace TuningService.Api.Tests.Security;

/// <summary>What the bad-input corpus found, each pinned by name.</summary>
public sealed class FoundBugsTests(SecurityApiFactory api) : IClassFixture<SecurityApiFactory>
{
    [Fact]
    public async Task Upload_TruncatedMultipartBody_Is400InvalidMultipart_AndStoresNothing()
    {
        var (_, client) = await api.CreateProjectViaApiAsync("truncated");
        var body = Encoding.UTF8.GetBytes("--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n" +
            "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jsonl\"\r\n\r\n{\"prompt\":\"a\",\"comp");
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");
        var before = await api.SnapshotAsync();

        await ErrorShape.AssertAsync(await client.PostAsync("/v1/files", content), HttpStatusCode.BadRequest, "invalid_multipart");
        (await api.SnapshotAsync()).AssertUnchangedSince(before, "a truncated upload");
    }

    [Fact]
    public async Task CreateJob_WithoutAJsonContentType_Is415_AndCreatesNoJob()
    {
        var (projectId, client) = await api.CreateProjectViaApiAsync("content type");
        var fileId = await SecurityApiFactory.UploadDatasetAsync(client);
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"model":"tiny-gpt2","training_file":"{{fileId}}"}"""));

        await ErrorShape.AssertAsync(await client.PostAsync("/v1/fine_tuning/jobs", content), HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        await using var db = api.CreateDbContext();
        Assert.False(db.Jobs.Any(j => j.ProjectId == projectId));
    }

    [Fact]
    public async Task Upload_LargerThanTheGlobalBodyLimit_IsAccepted()
    {
        var (_, client) = await api.CreateProjectViaApiAsync("large upload");
        var line = $$"""{"prompt":"{{new string('p', 1000)}}","completion":" c"}""";
        var dataset = string.Join("\n", Enumerable.Repeat(line, 1500)) + "\n"; // ≈ 1.5 MB > Limits:MaxRequestBodyBytes (1 MiB)
        using var form = new MultipartFormDataContent
        {
            { new StringContent("fine-tune"), "purpose" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(dataset)), "file", "large.jsonl" },
        };
        var response = await client.PostAsync("/v1/files", form);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ListEvents_WithANegativeCursor_Is400InvalidCursor()
    {
        var (_, client) = await api.CreateProjectViaApiAsync("cursor");
        var jobId = (await client.CreateSupervisedJobAsync(await SecurityApiFactory.UploadDatasetAsync(client))).Str("id");
        await ErrorShape.AssertAsync(await client.GetAsync($"/v1/fine_tuning/jobs/{jobId}/events?after=ftevent--1"), HttpStatusCode.BadRequest, "invalid_cursor");
    }
}
