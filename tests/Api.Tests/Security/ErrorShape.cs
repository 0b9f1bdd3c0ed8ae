using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace TuningService.Api.Tests.Security;

/// <summary>Asserts OpenAI's error shape: <c>{"error":{"message","type","param","code"}}</c> with the expected status.</summary>
public static class ErrorShape
{
    public static async Task<JsonElement> AssertAsync(HttpResponseMessage response, HttpStatusCode status, string? code = null)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out _));
        if (code is not null) Assert.Equal(code, error.GetProperty("code").GetString());
        return error;
    }

    public static async Task<JsonElement> AssertClientErrorAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode is >= 400 and < 500, $"Expected a 4xx, got {(int)response.StatusCode}: {body}");
        return await AssertAsync(response, response.StatusCode);
    }

    public static Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response) =>
        response.Content.ReadFromJsonAsync<JsonElement>();
}
