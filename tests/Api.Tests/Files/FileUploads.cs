using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace TuningService.Api.Tests.Files;

/// <summary>Multipart uploads and small JSONL builders for the files tests.</summary>
internal static class FileUploads
{
    public static string SamplesDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, "samples")) && File.Exists(Path.Combine(dir.FullName, "TuningService.sln")))
                    return Path.Combine(dir.FullName, "samples");
            throw new DirectoryNotFoundException("samples/ not found above the test binaries.");
        }
    }

    public static string Lines(int count, Func<int, string> line) => string.Concat(Enumerable.Range(0, count).Select(i => line(i) + "\n"));

    public static string PromptCompletion(int i) => JsonSerializer.Serialize(new { prompt = $"Question {i}?", completion = $" Answer {i}." });

    public static string ValidJsonl(int count = 12) => Lines(count, PromptCompletion);

    public static Task<HttpResponseMessage> Upload(HttpClient client, string content, string filename = "data.jsonl", string? purpose = "fine-tune") =>
        Upload(client, Encoding.UTF8.GetBytes(content), filename, purpose);

    public static Task<HttpResponseMessage> Upload(HttpClient client, byte[] content, string filename = "data.jsonl", string? purpose = "fine-tune", bool purposeLast = false) =>
        Upload(client, new ByteArrayContent(content), filename, purpose, purposeLast);

    public static async Task<HttpResponseMessage> Upload(HttpClient client, HttpContent file, string filename, string? purpose, bool purposeLast = false)
    {
        using var form = new MultipartFormDataContent();
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        if (purpose is not null && !purposeLast) form.Add(new StringContent(purpose), "purpose");
        form.Add(file, "file", filename);
        if (purpose is not null && purposeLast) form.Add(new StringContent(purpose), "purpose");
        return await client.PostAsync("/v1/files", form);
    }

    public static async Task<JsonElement> UploadOk(HttpClient client, string content, string filename = "data.jsonl")
    {
        var response = await Upload(client, content, filename);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement;
    }

    public static async Task<JsonElement> Error(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
}
