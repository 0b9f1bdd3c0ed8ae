using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using TuningService.Api.Tests.Infrastructure;
using TuningService.Testing;
using static TuningService.Api.Tests.Files.FileUploads;

namespace TuningService.Api.Tests.Files;

public sealed class UploadFileTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Upload_StoresFile_AndAnswersWithProcessedFileObject()
    {
        var content = ValidJsonl(150);
        var file = await UploadOk(api.CreateAdminClient(), content, "train.jsonl");

        Assert.StartsWith("file-", file.GetProperty("id").GetString());
        Assert.Equal("file", file.GetProperty("object").GetString());
        Assert.Equal(Encoding.UTF8.GetByteCount(content), file.GetProperty("bytes").GetInt64());
        Assert.InRange(file.GetProperty("created_at").GetInt64(), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Equal(("train.jsonl", "fine-tune", "processed"), (file.GetProperty("filename").GetString(), file.GetProperty("purpose").GetString(), file.GetProperty("status").GetString()));
        Assert.Equal(("prompt_completion", 150), (file.GetProperty("format").GetString(), file.GetProperty("examples").GetInt32()));
        Assert.Equal(JsonValueKind.Null, file.GetProperty("validation").ValueKind);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content))), file.GetProperty("sha256").GetString());

        await using var db = api.CreateDbContext();
        var id = file.GetProperty("id").GetString()!;
        Assert.Equal(1, await db.FileChunks.CountAsync(c => c.FileId == id));
    }

    [Theory]
    [InlineData("sentiment.jsonl", "prompt_completion", 200)]
    [InlineData("sentiment-valid.jsonl", "prompt_completion", 60)]
    [InlineData("support-chat.jsonl", "chat", 120)]
    [InlineData("support-chat-valid.jsonl", "chat", 30)]
    [InlineData("tickets.jsonl", "prompt_completion", 160)]
    [InlineData("tickets-valid.jsonl", "prompt_completion", 60)]
    [InlineData("polite-preferences.jsonl", "preference", 120)]
    [InlineData("polite-preferences-valid.jsonl", "preference", 40)]
    [InlineData("ppo-prompts.jsonl", "prompt_only", 64)]
    [InlineData("stories.jsonl", "text", 150)]
    public async Task Upload_DetectsFormatOfEachSample(string sample, string format, int examples)
    {
        var file = await UploadOk(api.CreateAdminClient(), await File.ReadAllTextAsync(Path.Combine(SamplesDirectory, sample)), sample);
        Assert.Equal("processed", file.GetProperty("status").GetString());
        Assert.Equal((format, examples), (file.GetProperty("format").GetString(), file.GetProperty("examples").GetInt32()));
    }

    public static TheoryData<string, string> Rejections => new()
    {
        { "invalid_json", ValidJsonl() + "{\"prompt\": \n" },
        { "not_an_object", ValidJsonl() + "42\n" },
        { "missing_field", ValidJsonl() + "{\"completion\": \"x\"}\n" },
        { "wrong_type", ValidJsonl() + "{\"prompt\": \"x\", \"completion\": 7}\n" },
        { "unrecognized_role", Lines(12, _ => """{"messages":[{"role":"user","content":"q"},{"role":"bot","content":"a"}]}""") },
        { "empty_content", ValidJsonl() + "{\"prompt\": \"x\", \"completion\": \"\"}\n" },
        { "no_assistant_message", """{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}""" + "\n" + """{"messages":[{"role":"system","content":"s"}]}""" },
        { "last_message_not_user", Lines(12, _ => """{"messages":[{"role":"user","content":"q"}]}""") + """{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}""" },
        { "mixed_formats", ValidJsonl() + "{\"text\": \"hello\"}\n" },
        { "too_few_examples", ValidJsonl(3) },
        { "empty_file", "" },
        { "line_too_long", ValidJsonl() + JsonSerializer.Serialize(new { prompt = "p", completion = new string('x', 2_000_000) }) + "\n" },
    };

    [Theory]
    [MemberData(nameof(Rejections))]
    public async Task Upload_RejectsFile_WithCodeAndStoresOnlyTheRecord(string code, string content)
    {
        var file = await UploadOk(api.CreateAdminClient(), content);

        Assert.Equal("error", file.GetProperty("status").GetString());
        var errors = file.GetProperty("validation").GetProperty("errors");
        Assert.Contains(errors.EnumerateArray(), e => e.GetProperty("code").GetString() == code);
        Assert.Contains(code, file.GetProperty("status_details").GetString());
        var error = errors[0];
        Assert.True(error.TryGetProperty("line", out _) && error.TryGetProperty("field", out _) && error.TryGetProperty("message", out _));

        await using var db = api.CreateDbContext();
        var id = file.GetProperty("id").GetString()!;
        Assert.Equal("error", (await db.Files.SingleAsync(f => f.Id == id)).Status);
        Assert.Equal(0, await db.FileChunks.CountAsync(c => c.FileId == id));
    }

    [Fact]
    public async Task Upload_RejectsFile_WhenLineIsNotUtf8()
    {
        var bytes = Encoding.UTF8.GetBytes(ValidJsonl()).Concat(new byte[] { (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'\n' }).ToArray();
        var file = JsonDocument.Parse(await (await Upload(api.CreateAdminClient(), bytes)).Content.ReadAsStringAsync()).RootElement;
        var error = file.GetProperty("validation").GetProperty("errors")[0];
        Assert.Equal(("invalid_utf8", 13), (error.GetProperty("code").GetString(), error.GetProperty("line").GetInt32()));
    }

    [Fact]
    public async Task Upload_ReportsFieldPath_OfTheOffendingMessage()
    {
        var content = Lines(12, i => i == 4
            ? """{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"},{"role":"robot","content":"b"}]}"""
            : """{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}""");
        var error = (await UploadOk(api.CreateAdminClient(), content)).GetProperty("validation").GetProperty("errors")[0];
        Assert.Equal((5, "messages[2].role", "unrecognized_role"),
            (error.GetProperty("line").GetInt32(), error.GetProperty("field").GetString(), error.GetProperty("code").GetString()));
    }

    [Fact]
    public async Task Upload_ReturnsTeachingWarnings_WithoutRejecting()
    {
        var content = ValidJsonl(20) + ValidJsonl(5);
        var file = await UploadOk(api.CreateAdminClient(), content);
        Assert.Equal("processed", file.GetProperty("status").GetString());
        var codes = file.GetProperty("warnings").EnumerateArray().Select(w => w.GetProperty("code").GetString()).ToList();
        Assert.Contains("few_examples", codes);
        Assert.Contains("duplicate_examples", codes);
        var few = file.GetProperty("warnings").EnumerateArray().Single(w => w.GetProperty("code").GetString() == "few_examples");
        Assert.Contains("hundreds", few.GetProperty("message").GetString());
        Assert.Equal(25, few.GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Upload_Is400UnsupportedPurpose_AndStoresNothing(bool purposeLast)
    {
        await using var db = api.CreateDbContext();
        var before = await db.Files.CountAsync();
        var response = await Upload(api.CreateAdminClient(), Encoding.UTF8.GetBytes(ValidJsonl()), purpose: "assistants", purposeLast: purposeLast);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await Error(response);
        Assert.Equal(("unsupported_purpose", "purpose"), (error.GetProperty("code").GetString(), error.GetProperty("param").GetString()));
        Assert.Equal(before, await db.Files.CountAsync());
    }

    [Fact]
    public async Task Upload_Is400_WhenFormHasNoFile()
    {
        using var form = new MultipartFormDataContent { { new StringContent("fine-tune"), "purpose" } };
        var response = await api.CreateAdminClient().PostAsync("/v1/files", form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("file", (await Error(response)).GetProperty("param").GetString());
    }

    [Fact]
    public async Task Upload_Is415_WhenBodyIsNotMultipart()
    {
        var response = await api.CreateAdminClient().PostAsync("/v1/files", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("invalid_request_error", (await Error(response)).GetProperty("type").GetString());
    }

    [Fact]
    public async Task Upload_LeavesNothing_WhenClientDisconnectsMidway()
    {
        var content = Encoding.UTF8.GetBytes(ValidJsonl(50_000));
        using var handled = new ServerRequestCompletion();
        // No redirect handler: Mvc.Testing's buffers the whole body first, so the failure would never reach the server.
        var client = api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiFactory.AdminKey);
        client.DefaultRequestHeaders.Add("traceparent", handled.TraceParent);
        await Assert.ThrowsAnyAsync<Exception>(() => Upload(client, new StreamContent(new FailingStream(content, failAfter: content.Length / 2)), "broken.jsonl", "fine-tune"));

        await handled.WaitAsync(TimeSpan.FromMinutes(1)); // the server has noticed and rolled back
        await using var db = api.CreateDbContext();
        Assert.False(await db.Files.AnyAsync(f => f.Filename == "broken.jsonl"));
        Assert.False(await db.FileChunks.AnyAsync(c => !db.Files.Any(f => f.Id == c.FileId)));
    }

    /// <summary>Serves the first bytes of a file, then fails like a dropped connection.</summary>
    private sealed class FailingStream(byte[] content, int failAfter) : MemoryStream(content)
    {
        public override int Read(byte[] buffer, int offset, int count) =>
            Position >= failAfter ? throw new IOException("connection dropped") : base.Read(buffer, offset, Math.Min(count, 16 * 1024));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            Position >= failAfter ? throw new IOException("connection dropped") : base.ReadAsync(buffer[..Math.Min(buffer.Length, 16 * 1024)], ct);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    }
}
