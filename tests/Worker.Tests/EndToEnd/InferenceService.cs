using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using TuningService.Worker.Tests.Runtime;

namespace TuningService.Worker.Tests.EndToEnd;

/// <summary>
/// The service with a model worth talking to: the Api, a training worker that fine-tunes tiny-gpt2 on chat-format
/// reviews (the assistant answers "positive" or "negative"), and an inference worker serving it.
/// </summary>
public sealed class InferenceService : IAsyncLifetime
{
    public ServiceHost Service { get; } = new();
    public WorkerProcess Inference { get; private set; } = null!;
    public string ModelId { get; private set; } = "";
    public string JobId { get; private set; } = "";

    public static readonly string[] Good = ["great", "excellent", "love it", "wonderful", "fantastic", "superb"];
    public static readonly string[] Bad = ["terrible", "awful", "hate it", "broken", "useless", "poor"];
    private static readonly string[] Things = ["blender", "headphones", "lamp", "kettle", "keyboard", "chair"];

    public static string Review(string thing, string cue) => $"Review: the {thing} is {cue}.";

    public async Task InitializeAsync()
    {
        await Service.InitializeAsync();
        Inference = WorkerProcess.Start(Service.ConnectionString, Service.ArtifactsRoot, "inference-1",
            new Dictionary<string, string> { ["Worker__Role"] = "inference", ["Inference__HeartbeatSeconds"] = "1" });
        var random = new Random(4);
        var lines = Enumerable.Range(0, 48).Select(i =>
        {
            bool positive = i % 2 == 0;
            var review = Review(Things[random.Next(Things.Length)], (positive ? Good : Bad)[random.Next(Good.Length)]);
            return JsonSerializer.Serialize(new { messages = new object[]
            {
                new { role = "user", content = review },
                new { role = "assistant", content = positive ? "positive" : "negative" },
            } });
        });
        var training = await Service.UploadAsync("sentiment-chat.jsonl", lines);
        var created = await Service.CreateJobAsync(new
        {
            model = "tiny-gpt2", training_file = training, suffix = "sentiment", seed = 3,
            method = new { type = "instruction", instruction = new { hyperparameters = new { n_epochs = 16, batch_size = 8, learning_rate = 1e-2, checkpoint_interval = 48 } } },
        });
        using var trainer = Service.StartWorker("trainer-1");
        var job = await Service.PollUntilFinishedAsync(created.GetProperty("id").GetString()!, TimeSpan.FromMinutes(4), () => trainer.Output);
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString() + trainer.Output);
        ModelId = job.GetProperty("fine_tuned_model").GetString()!;
        JobId = job.GetProperty("id").GetString()!;
    }

    public async Task DisposeAsync()
    {
        Inference?.Dispose();
        await Service.DisposeAsync();
    }

    /// <summary>An HTTP client with the key of a new, other project.</summary>
    public async Task<HttpClient> OtherProjectClientAsync()
    {
        var project = await (await Service.Http.PostAsJsonAsync("/v1/organization/projects", new { name = "other" })).Content.ReadFromJsonAsync<JsonElement>();
        var key = await (await Service.Http.PostAsJsonAsync($"/v1/organization/projects/{project.GetProperty("id").GetString()}/api_keys", new { name = "k" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var client = Service.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key.GetProperty("value").GetString());
        return client;
    }
}
