using System.Net;
using System.Text.Json;
using TuningService.Api.Tests.Jobs;

namespace TuningService.Api.Tests.Observability;

public sealed class RequestIdTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    [Fact]
    public async Task RequestId_SentByTheClient_IsEchoed_AndNamedInTheErrorBody()
    {
        var (_, client) = await api.CreateProjectAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/fine_tuning/jobs/ftjob-missing");
        request.Headers.Add("x-request-id", "client-trace-42");
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("client-trace-42", response.Headers.GetValues("x-request-id").Single());
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("client-trace-42", error.GetProperty("request_id").GetString());
        Assert.Equal("not_found", error.GetProperty("code").GetString()); // the existing fields stay as they were
    }

    [Fact]
    public async Task RequestId_IsGenerated_WhenAbsentOrUnusable_OnSuccessesAndOnErrorsFromEveryLayer()
    {
        var (_, client) = await api.CreateProjectAsync();
        var ok = await client.GetAsync("/v1/fine_tuning/jobs");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.StartsWith("req_", ok.Headers.GetValues("x-request-id").Single());

        using var garbage = new HttpRequestMessage(HttpMethod.Get, "/v1/fine_tuning/jobs");
        garbage.Headers.TryAddWithoutValidation("x-request-id", new string('x', 500));
        Assert.StartsWith("req_", (await client.SendAsync(garbage)).Headers.GetValues("x-request-id").Single());

        // Unauthenticated (auth handler), unknown route (status code pages), malformed JSON (exception handler).
        foreach (var response in new[]
                 {
                     await api.CreateClient(apiKey: null).GetAsync("/v1/fine_tuning/jobs"),
                     await client.GetAsync("/v1/no-such-route"),
                     await client.PostAsync("/v1/fine_tuning/jobs", new StringContent("{not json", System.Text.Encoding.UTF8, "application/json")),
                 })
        {
            var id = response.Headers.GetValues("x-request-id").Single();
            Assert.StartsWith("req_", id);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(id, body.GetProperty("error").GetProperty("request_id").GetString());
        }
    }
}
