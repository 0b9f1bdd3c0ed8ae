using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using TuningService.Testing;
using TuningService.Worker.Tests.Runtime;

namespace TuningService.Ui.Tests;

/// <summary>
/// The real Api on Kestrel (a browser needs a socket, not the in-memory test server) with a fresh PostgreSQL database,
/// real worker processes beside it, and an HTTP client holding the admin key for setting up data.
/// </summary>
public sealed class DashboardHost : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminKey = "ui-admin-key";

    public string ConnectionString { get; private set; } = "";
    private readonly TempDirectory _scratch = new("tuning-ui-");

    public string ArtifactsRoot => _scratch.Path;
    public Uri BaseAddress { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = await PostgresServer.Instance.CreateDatabaseAsync("ui");
        UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        StartServer();
        HangfireTestLogging.Unbind();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        Http = new HttpClient { BaseAddress = BaseAddress };
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
    }

    public new async Task DisposeAsync()
    {
        Http?.Dispose();
        await base.DisposeAsync();
        await PostgresServer.Instance.DropDatabaseAsync(ConnectionString);
        _scratch.Dispose();
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
        return body.GetProperty("id").GetString()!;
    }

    public async Task<string> CreateJobAsync(object spec)
    {
        var response = await Http.PostAsJsonAsync("/v1/fine_tuning/jobs", spec);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> PostJsonAsync(string path, object body)
    {
        var response = await Http.PostAsJsonAsync(path, body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, json.ToString());
        return json;
    }

    /// <summary>Polls the job until it ends; returns its fine-tuned model id (asserting that it succeeded).</summary>
    public async Task<string> WaitForModelAsync(string jobId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await Http.GetFromJsonAsync<JsonElement>($"/v1/fine_tuning/jobs/{jobId}");
            var status = job.GetProperty("status").GetString();
            if (status is "succeeded") return job.GetProperty("fine_tuned_model").GetString()!;
            Assert.False(status is "failed" or "cancelled" || DateTime.UtcNow > deadline, job.ToString());
            await Task.Delay(250);
        }
    }

    public async Task<string> JobStatusAsync(string jobId) =>
        (await Http.GetFromJsonAsync<JsonElement>($"/v1/fine_tuning/jobs/{jobId}")).GetProperty("status").GetString()!;
}
