using System.Net.Http.Json;
using System.Text.Json;
using TuningService.Api.Tests.Infrastructure;

namespace TuningService.Api.Tests.Files;

public sealed class FilesSwaggerTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Swagger_DocumentsMultipartUpload_WithExamplesAndEveryResponse()
    {
        var document = await api.CreateClient(apiKey: null).GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var paths = document.GetProperty("paths");
        var upload = paths.GetProperty("/v1/files").GetProperty("post");
        Assert.Equal("UploadFile", upload.GetProperty("operationId").GetString());
        var form = upload.GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data");
        Assert.Equal("fine-tune", form.GetProperty("example").GetProperty("purpose").GetString());
        var schemaName = form.GetProperty("schema").GetProperty("$ref").GetString()!.Split('/')[^1];
        var properties = document.GetProperty("components").GetProperty("schemas").GetProperty(schemaName).GetProperty("properties");
        Assert.Equal("binary", properties.GetProperty("file").GetProperty("format").GetString());
        Assert.True(properties.TryGetProperty("purpose", out _));
        var responses = upload.GetProperty("responses");
        foreach (var status in new[] { "200", "400", "413" }) Assert.True(responses.TryGetProperty(status, out _), status);
        Assert.Equal("file", responses.GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("example").GetProperty("object").GetString());

        var list = paths.GetProperty("/v1/files").GetProperty("get");
        Assert.All(list.GetProperty("parameters").EnumerateArray(), p => Assert.True(p.TryGetProperty("example", out _), p.GetRawText()));
        Assert.StartsWith("file-", paths.GetProperty("/v1/files/{id}").GetProperty("get").GetProperty("parameters")[0].GetProperty("example").GetString());
        Assert.True(paths.GetProperty("/v1/files/{id}").GetProperty("delete").GetProperty("responses").TryGetProperty("409", out _));
        Assert.True(paths.GetProperty("/v1/files/{id}/content").GetProperty("get").GetProperty("responses").TryGetProperty("404", out _));
    }
}
