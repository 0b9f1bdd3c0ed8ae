using PuppeteerSharp;
using TuningService.Worker.Tests.Runtime;
using Xunit.Abstractions;

namespace TuningService.Ui.Tests;

/// <summary>A user at the dashboard: signs in with a key, watches a job train, cancels it, reads a file's report.</summary>
public sealed class DashboardTests(DashboardHost service, ITestOutputHelper output) : IClassFixture<DashboardHost>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private IBrowser? _browser;
    private IPage _page = null!;
    private readonly List<string> _scriptErrors = [];

    public async Task InitializeAsync()
    {
        if (Chromium.ExecutablePath is null) return;
        _browser = await Chromium.LaunchAsync();
        _page = await _browser.NewPageAsync();
        _page.DefaultTimeout = (int)Timeout.TotalMilliseconds;
        await _page.SetViewportAsync(new ViewPortOptions { Width = 1360, Height = 900 });
        _page.Console += (_, e) =>
        {
            output.WriteLine($"browser console: {e.Message.Type}: {e.Message.Text}");
            if (e.Message.Text.Contains("Content Security Policy", StringComparison.Ordinal)) _scriptErrors.Add(e.Message.Text);
        };
        _page.PageError += (_, e) => _scriptErrors.Add(e.Message);
    }

    public async Task DisposeAsync()
    {
        // Uncaught exceptions and Content-Security-Policy violations fail the test that caused them.
        Assert.Empty(_scriptErrors);
        if (_browser is not null) await _browser.DisposeAsync();
    }

    [SkippableFact]
    public async Task Chart_GainsPointsWhileTheJobTrains_AndTheCancelButtonStopsIt()
    {
        Chromium.SkipWhenMissing();
        var training = await service.UploadAsync("sentiment.jsonl", SampleData.Sentiment(48));
        var validation = await service.UploadAsync("sentiment-valid.jsonl", SampleData.Sentiment(16, seed: 5));
        var jobId = await service.CreateJobAsync(new
        {
            model = "tiny-gpt2",
            training_file = training,
            validation_file = validation,
            suffix = "dashboard",
            seed = 3,
            // Long enough to watch several steps arrive and still be running when the test cancels it.
            method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = 40, batch_size = 8, learning_rate = 4e-3, eval_interval = 4, checkpoint_interval = 10 } } },
        });
        using var worker = service.StartWorker("ui-1");

        await SignInAsync();
        await _page.WaitForSelectorAsync($"#jobs tr[data-job-id='{jobId}']");

        await _page.ClickAsync($"#jobs tr[data-job-id='{jobId}'] a");
        var first = await StepsChartedAsync(atLeast: 2);
        var later = await StepsChartedAsync(atLeast: first + 3);
        Assert.True(later > first);
        // "stream" when the server answers text/event-stream, else "polling": the page follows the job either way.
        var mode = await _page.EvaluateExpressionAsync<string>("document.querySelector('#live-mode').dataset.mode");
        output.WriteLine($"live mode: {mode}");
        Console.WriteLine($"live mode: {mode}");
        Assert.Equal("running", await service.JobStatusAsync(jobId));
        await _page.WaitForSelectorAsync("figure[data-metric-group='Loss'] canvas");
        await _page.WaitForFunctionAsync("() => Number(document.querySelector(\"figure[data-metric-group='Loss']\")?.dataset.points) >= 5");
        await StepsChartedAsync(atLeast: 24); // a curve worth a picture: the README's docs/dashboard.png is this one
        await Chromium.ScreenshotAsync(_page, "dashboard", output, fullPage: false);
        await Chromium.ScreenshotAsync(_page, "job-training", output);

        await _page.ClickAsync("#cancel-job");
        await _page.WaitForSelectorAsync(".job-header [data-status='cancelled']");
        Assert.Equal("cancelled", await service.JobStatusAsync(jobId));
        await Chromium.ScreenshotAsync(_page, "job-cancelled", output);


        await _page.GoToAsync(new Uri(service.BaseAddress, "/ui/#/jobs").ToString());
        await _page.WaitForSelectorAsync($"#jobs tr[data-job-id='{jobId}'] [data-status='cancelled']");
        await Chromium.ScreenshotAsync(_page, "jobs-list", output);
        await _page.SelectAsync("select[name='status']", "running");
        await _page.WaitForFunctionAsync($"() => !document.querySelector(\"#jobs tr[data-job-id='{jobId}']\")");
        await _page.SelectAsync("select[name='status']", "cancelled");
        await _page.WaitForSelectorAsync($"#jobs tr[data-job-id='{jobId}']");
        await _page.SelectAsync("select[name='status']", "");

        // A short job that succeeds: its model's files download through the page (fetched with the key, saved from a blob).
        var shortJob = await service.CreateJobAsync(new
        {
            model = "tiny-gpt2", training_file = training, suffix = "short", seed = 3,
            method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = 1, batch_size = 8, learning_rate = 4e-3 } } },
        });
        var modelId = await service.WaitForModelAsync(shortJob, Timeout);
        await _page.GoToAsync(new Uri(service.BaseAddress, $"/ui/#/models?open={Uri.EscapeDataString(modelId)}").ToString());
        await _page.WaitForSelectorAsync("#model-files .downloads a");
        using var scratch = new TempDirectory("tuning-ui-downloads-");
        var downloads = scratch.Path;
        await _page.Client.SendAsync("Page.setDownloadBehavior", new { behavior = "allow", downloadPath = downloads });
        await _page.EvaluateExpressionAsync("[...document.querySelectorAll('#model-files .downloads a')].find(a => a.textContent === 'config.json').click()");
        var config = Path.Combine(downloads, "config.json");
        for (var waited = 0; !File.Exists(config) && waited < 300; waited++) await Task.Delay(100);
        Assert.True(File.Exists(config), $"config.json was not downloaded to {downloads}");
        Assert.Contains("\"vocab_size\"", await File.ReadAllTextAsync(config));
        await Chromium.ScreenshotAsync(_page, "model-files", output);
    }

    [SkippableFact]
    public async Task UploadingABrokenFile_ShowsItsValidationReport()
    {
        Chromium.SkipWhenMissing();
        using var scratch = new TempDirectory("tuning-ui-upload-");
        var broken = scratch.Sub("broken.jsonl");
        await File.WriteAllLinesAsync(broken, [
            """{"prompt": "Review: great lamp.\nSentiment:", "completion": " positive"}""",
            """{"prompt": "Review: awful kettle.", "completion": """,
            """{"prompt": "Review: nice chair."}""",
        ]);

        await SignInAsync();
        await _page.ClickAsync("nav a[href='#/files']");
        var input = await _page.WaitForSelectorAsync("#upload-input");
        await input.UploadFileAsync(broken);
        await _page.ClickAsync("#upload-button");

        await _page.WaitForSelectorAsync("#validation-errors tbody tr");
        var codes = await _page.EvaluateExpressionAsync<string[]>(
            "[...document.querySelectorAll('#validation-errors tbody tr')].map(r => r.cells[0].textContent + ':' + r.cells[2].textContent)");
        output.WriteLine(string.Join(", ", codes));
        Assert.Contains("2:invalid_json", codes);
        Assert.Contains("broken.jsonl", await _page.EvaluateExpressionAsync<string>("document.querySelector('#files').textContent"));
        await Chromium.ScreenshotAsync(_page, "file-validation-report", output);
    }

    [SkippableFact]
    public async Task ProjectKey_SeesOnlyItsOwnProject_AndIsKeptInTheTabSessionOnly()
    {
        Chromium.SkipWhenMissing();
        var adminFile = await service.UploadAsync("admin-only.jsonl", SampleData.Sentiment(4));
        var project = await service.PostJsonAsync("/v1/organization/projects", new { name = "dashboard-team" });
        var key = await service.PostJsonAsync($"/v1/organization/projects/{project.GetProperty("id").GetString()}/api_keys", new { name = "browser" });
        var secret = key.GetProperty("value").GetString()!;

        await SignInAsync(secret);
        Assert.Equal(secret, await _page.EvaluateExpressionAsync<string>("sessionStorage.getItem('tuningservice.apiKey')"));
        Assert.Equal(0, await _page.EvaluateExpressionAsync<int>("localStorage.length"));
        Assert.Contains(project.GetProperty("id").GetString()!, await _page.EvaluateExpressionAsync<string>("document.querySelector('#who').textContent"));

        await _page.ClickAsync("nav a[href='#/files']");
        await _page.WaitForSelectorAsync("#files tbody tr");
        var listed = await _page.EvaluateExpressionAsync<string>("document.querySelector('#files').textContent");
        Assert.DoesNotContain(adminFile, listed);
        Assert.Contains("No files yet", listed);

        // The playground says when the server has no chat route; with one, it offers the project's models.
        await _page.ClickAsync("nav a[href='#/playground']");
        await _page.WaitForSelectorAsync("#playground-unavailable, #playground-model");

        await _page.ClickAsync("#sign-out");
        await _page.WaitForSelectorAsync("#api-key");
        Assert.Null(await _page.EvaluateExpressionAsync<string?>("sessionStorage.getItem('tuningservice.apiKey')"));
    }

    /// <summary>Opens the site root (redirected to /ui/) and signs in with a key (the admin key unless told).</summary>
    private async Task SignInAsync(string key = DashboardHost.AdminKey)
    {
        await _page.GoToAsync(service.BaseAddress.ToString());
        Assert.EndsWith("/ui/", new Uri(_page.Url).AbsolutePath);
        await _page.WaitForSelectorAsync("#api-key");
        await _page.TypeAsync("#api-key", key);
        await _page.ClickAsync("#sign-in-button");
        await _page.WaitForSelectorAsync("#sign-out");
    }

    /// <summary>Waits until the charts hold at least this many training steps, and returns how many they hold.</summary>
    private async Task<int> StepsChartedAsync(int atLeast)
    {
        await _page.WaitForFunctionAsync($"() => Number(document.querySelector('#charts')?.dataset.steps) >= {atLeast}");
        return await _page.EvaluateExpressionAsync<int>("Number(document.querySelector('#charts').dataset.steps)");
    }
}
