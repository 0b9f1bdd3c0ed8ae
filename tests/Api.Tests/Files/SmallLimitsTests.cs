using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Tests.Infrastructure;
using static TuningService.Api.Tests.Files.FileUploads;

namespace TuningService.Api.Tests.Files;

/// <summary>The API with tiny limits: 64 KiB files, 4 KiB chunks, 512-byte lines, 5 minimum examples.</summary>
public sealed class SmallLimitsApiFactory : ApiFactory
{
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
    [
        new("Files:MaxFileBytes", "65536"),
        new("Files:ChunkBytes", "4096"),
        new("Files:MaxLineBytes", "512"),
        new("Files:MinExamples", "5"),
    ];
}

public sealed class SmallLimitsTests(SmallLimitsApiFactory api) : IClassFixture<SmallLimitsApiFactory>
{
    [Fact]
    public async Task Upload_Is413FileTooLarge_WhenOverTheConfiguredLimit()
    {
        await using var db = api.CreateDbContext();
        var before = await db.Files.CountAsync();
        var response = await Upload(api.CreateAdminClient(), ValidJsonl(3000));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var error = await Error(response);
        Assert.Equal(("file_too_large", "invalid_request_error"), (error.GetProperty("code").GetString(), error.GetProperty("type").GetString()));
        Assert.Equal(before, await db.Files.CountAsync());
        Assert.Equal(0, await db.FileChunks.CountAsync(c => !db.Files.Any(f => f.Id == c.FileId)));
    }

    [Fact]
    public async Task Upload_UsesConfiguredMinimumAndLineLimit()
    {
        var file = await UploadOk(api.CreateAdminClient(), ValidJsonl(5));
        Assert.Equal("processed", file.GetProperty("status").GetString());

        var rejected = await UploadOk(api.CreateAdminClient(), ValidJsonl(5) + PromptCompletion(1).Replace("Question", new string('Q', 600)) + "\n");
        Assert.Equal("line_too_long", rejected.GetProperty("validation").GetProperty("errors")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task Content_IsByteIdentical_AcrossManyChunks_WithBomAndCrlf()
    {
        var content = Encoding.UTF8.GetBytes("\uFEFF" + ValidJsonl(700).Replace("\n", "\r\n") + "{\"prompt\":\"Grüße 👋\",\"completion\":\" ok\"}");
        Assert.InRange(content.Length, 4096 * 3, 65536);
        var response = await Upload(api.CreateAdminClient(), content);
        var file = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("processed", file.GetProperty("status").GetString());
        var id = file.GetProperty("id").GetString()!;

        var download = await api.CreateAdminClient().GetAsync($"/v1/files/{id}/content");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal(content, await download.Content.ReadAsByteArrayAsync());

        await using var db = api.CreateDbContext();
        var chunks = await db.FileChunks.Where(c => c.FileId == id).OrderBy(c => c.Index).ToListAsync();
        Assert.Equal((content.Length + 4095) / 4096, chunks.Count);
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(4096, c.Data.Length));
        Assert.Equal(chunks.Count, (await db.Files.SingleAsync(f => f.Id == id)).ChunkCount);
    }
}
