using System.Text.Json;

namespace TuningService.Api.Tests.Jobs;

/// <summary>The lesson's size guidance where users look: on the file object, and as a warning event of a job that has too little data.</summary>
public sealed class MethodAdviceApiTests(JobsApiFactory api) : IClassFixture<JobsApiFactory>
{
    [Fact]
    public async Task FileObject_SaysWhichMethodsItSuits_AndAJobOnTooFewExamples_WarnsInItsEvents()
    {
        var (projectId, client) = await api.CreateProjectAsync();
        var file = await api.AddFileAsync(projectId, "preference", examples: 300);

        var (_, fileObject) = await client.GetJsonAsync($"/v1/files/{file}");
        var methods = fileObject.GetProperty("methods").EnumerateArray().ToDictionary(m => m.GetProperty("method").GetString()!, m => m.GetProperty("fit").GetString());
        Assert.Equal(new Dictionary<string, string?> { ["reward_model"] = "few", ["dpo"] = "good" }, methods);

        var few = await client.CreateJobAsync($$$"""{"model":"tiny-gpt2","training_file":"{{{file}}}","method":{"type":"reward_model"}}""");
        var fine = await client.CreateJobAsync($$$"""{"model":"tiny-gpt2","training_file":"{{{file}}}","method":{"type":"dpo"}}""");
        Assert.Contains(await WarningsAsync(client, few.GetProperty("id").GetString()!), m => m.StartsWith("Method advice:") && m.Contains("dpo"));
        Assert.DoesNotContain(await WarningsAsync(client, fine.GetProperty("id").GetString()!), m => m.StartsWith("Method advice:"));
    }

    private static async Task<List<string>> WarningsAsync(HttpClient client, string jobId)
    {
        var (_, events) = await client.GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}/events");
        return events.GetProperty("data").EnumerateArray().Where(e => e.GetProperty("level").GetString() == "warn")
            .Select(e => e.GetProperty("message").GetString()!).ToList();
    }
}
