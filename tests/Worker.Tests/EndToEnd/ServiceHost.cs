using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using TuningService.Testing;
using TuningService.Worker.Tests.Runtime;

namespace TuningService.Worker.Tests.EndToEnd;

/// <summary>
/// The whole service as a user meets it: the real API (in process) on a fresh PostgreSQL database, real worker
/// executables as child processes sharing its database and artifact store, and an HTTP client with the admin key.
/// </summary>
public sealed class ServiceHost : WebApplicationFactory<TuningService.Api.Auth.CallerContext>, IAsyncLifetime
{
    public const string AdminKey = "e2e-admin-key";

    public string ConnectionString { get; private set; } = "";
    public string ArtifactsRoot { get; } = Directory.CreateTempSubdirectory("tuning-e2e-").FullName;
    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = await PostgresServer.Instance.CreateDatabaseAsync("e2e");
        Http = CreateClient();
        HangfireTestLogging.Unbind();
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await PostgresServer.Instance.DropDatabaseAsync(ConnectionString);
        TempDirectory.Delete(ArtifactsRoot);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Tuning", ConnectionString);
        builder.UseSetting("Tuning:AdminApiKey", AdminKey);
        builder.UseSetting("Tuning:ArtifactsRoot", ArtifactsRoot);
    }

    public WorkerProcess StartWorker(string name) => WorkerProcess.Start(ConnectionString, ArtifactsRoot, name);

    public async Task<string> UploadAsync(string fileName, IEnumerable<string> lines)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("fine-tune"), "purpose");
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n")), "file", fileName);
        var response = await Http.PostAsync("/v1/files", form);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        Assert.Equal("processed", body.GetProperty("status").GetString());
        return body.GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> CreateJobAsync(object spec)
    {
        var response = await Http.PostAsJsonAsync("/v1/fine_tuning/jobs", spec);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body;
    }

    public Task<JsonElement> GetJsonAsync(string path) => Http.GetFromJsonAsync<JsonElement>(path);

    /// <summary>Polls the job over HTTP like a client would, until it reaches a final status.</summary>
    public async Task<JsonElement> PollUntilFinishedAsync(string jobId, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}");
            if (job.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled") return job;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{job}\n{await GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}/events?limit=100")}\n{diagnostics?.Invoke()}");
            await Task.Delay(250);
        }
    }

    public async Task<JsonElement> PollUntilAsync(string jobId, Func<JsonElement, bool> condition, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}");
            if (condition(job)) return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{job}\n{diagnostics?.Invoke()}");
            await Task.Delay(150);
        }
    }
}
