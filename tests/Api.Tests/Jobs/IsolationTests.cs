using System.Net;

namespace TuningService.Api.Tests.Jobs;

public sealed class IsolationTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    [Theory]
    [InlineData("GET", "")]
    [InlineData("GET", "/events")]
    [InlineData("GET", "/checkpoints")]
    [InlineData("POST", "/cancel")]
    [InlineData("POST", "/pause")]
    [InlineData("POST", "/resume")]
    public async Task AnotherProjectsJob_Is404Everywhere(string method, string suffix)
    {
        var (owner, ownerClient) = await api.CreateProjectAsync();
        var jobId = (await ownerClient.CreateSupervisedJobAsync(await api.AddFileAsync(owner, "text"))).Str("id");
        var (_, stranger) = await api.CreateProjectAsync();

        var response = await stranger.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"/v1/fine_tuning/jobs/{jobId}{suffix}"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("\"not_found\"", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await ownerClient.GetAsync($"/v1/fine_tuning/jobs/{jobId}{(method == "GET" ? suffix : "")}")).StatusCode);
    }

    [Fact]
    public async Task ListJobs_ShowsOnlyTheCallersJobs()
    {
        var (owner, ownerClient) = await api.CreateProjectAsync();
        await ownerClient.CreateSupervisedJobAsync(await api.AddFileAsync(owner, "text"));
        var (_, stranger) = await api.CreateProjectAsync();
        var (_, list) = await stranger.GetJsonAsync("/v1/fine_tuning/jobs");
        Assert.Equal(0, list.GetProperty("data").GetArrayLength());
    }
}
