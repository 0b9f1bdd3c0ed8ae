using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Tests.Runtime;

namespace TuningService.Worker.Tests.EndToEnd;

/// <summary>What a user does: upload, create a job over HTTP, poll it, read events and checkpoints, download the model.</summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class ServiceEndToEndTests(ServiceHost service) : IClassFixture<ServiceHost>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task SupervisedJob_TrainsOverHttp_AndItsModelIsListedAndDownloadable()
    {
        var training = await service.UploadAsync("sentiment.jsonl", SampleData.Sentiment(48));
        var validation = await service.UploadAsync("sentiment-valid.jsonl", SampleData.Sentiment(16, seed: 5));
        var created = await service.CreateJobAsync(new
        {
            model = "tiny-gpt2",
            training_file = training,
            validation_file = validation,
            suffix = "sentiment",
            seed = 3,
            method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = 2, batch_size = 8, learning_rate = 1e-2, checkpoint_interval = 4, eval_interval = 6 } } },
        });
        var jobId = created.GetProperty("id").GetString()!;
        Assert.Equal("queued", created.GetProperty("status").GetString());

        using var worker = service.StartWorker("e2e-1");
        var job = await service.PollUntilFinishedAsync(jobId, Timeout, () => worker.Output);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var modelId = job.GetProperty("fine_tuned_model").GetString()!;
        Assert.Equal($"ft:tiny-gpt2:sentiment:{jobId}", modelId);
        Assert.True(job.GetProperty("trained_tokens").GetInt64() > 0);

        var events = await service.GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}/events?limit=100");
        var losses = events.GetProperty("data").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "metrics")
            .Select(e => e.GetProperty("data").GetProperty("train_loss").GetDouble())
            .Reverse().ToList(); // events are newest first
        Assert.True(losses.Count >= 8);
        Assert.True(losses[^1] < losses[0] * 0.75, string.Join(", ", losses));

        var checkpoints = await service.GetJsonAsync($"/v1/fine_tuning/jobs/{jobId}/checkpoints");
        Assert.Equal(3, checkpoints.GetProperty("data").GetArrayLength());

        var model = await service.GetJsonAsync($"/v1/models/{Uri.EscapeDataString(modelId)}");
        Assert.Equal(modelId, model.GetProperty("id").GetString());
        var listed = await service.GetJsonAsync("/v1/models");
        Assert.Contains(listed.GetProperty("data").EnumerateArray(), m => m.GetProperty("id").GetString() == modelId);

        var files = await service.GetJsonAsync($"/v1/models/{Uri.EscapeDataString(modelId)}/files");
        var names = files.GetProperty("data").EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
        Assert.Contains("config.json", names);
        Assert.Contains("model.safetensors", names);
        var weights = await service.Http.GetByteArrayAsync($"/v1/models/{Uri.EscapeDataString(modelId)}/files/model.safetensors");
        using var scratch = new TempDirectory();
        var path = scratch.Sub("model.safetensors");
        await File.WriteAllBytesAsync(path, weights);
        var tensors = Safetensors.Read(path);
        Assert.Contains(tensors.Keys, k => k.EndsWith("wte.weight"));
        var config = await service.GetJsonAsync($"/v1/models/{Uri.EscapeDataString(modelId)}/files/config.json");
        Assert.Equal("gpt2", config.GetProperty("model_type").GetString());

        var traversal = await service.Http.GetAsync($"/v1/models/{Uri.EscapeDataString(modelId)}/files/..%2F..%2Fetc%2Fpasswd");
        Assert.Equal(HttpStatusCode.NotFound, traversal.StatusCode);

        var results = job.GetProperty("result_files")[0].GetString()!;
        var csv = await service.Http.GetStringAsync($"/v1/files/{results}/content");
        Assert.StartsWith("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy", csv);
    }

    [Fact]
    public async Task InstructionJob_WithLora_SucceedsAndPublishesAPeftAdapter()
    {
        var training = await service.UploadAsync("support.jsonl", SampleData.SupportChat(24));
        var created = await service.CreateJobAsync(new
        {
            model = "tiny-llama",
            training_file = training,
            method = new { type = "instruction", instruction = new { hyperparameters = new { n_epochs = 2, batch_size = 8, learning_rate = 1e-2, lora = new { r = 4, alpha = 8 } } } },
        });
        var jobId = created.GetProperty("id").GetString()!;
        using var worker = service.StartWorker("e2e-2");
        var job = await service.PollUntilFinishedAsync(jobId, Timeout, () => worker.Output);
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var modelId = Uri.EscapeDataString(job.GetProperty("fine_tuned_model").GetString()!);
        var names = (await service.GetJsonAsync($"/v1/models/{modelId}/files")).GetProperty("data").EnumerateArray()
            .Select(f => f.GetProperty("name").GetString()).ToList();
        Assert.Contains("adapter_config.json", names);
        Assert.Contains("adapter_model.safetensors", names);
        Assert.Contains("model.safetensors", names);
        var adapterConfig = await service.GetJsonAsync($"/v1/models/{modelId}/files/adapter_config.json");
        Assert.Equal("LORA", adapterConfig.GetProperty("peft_type").GetString());
    }

    [Fact]
    public async Task CancelOverHttp_StopsARunningJob()
    {
        var training = await service.UploadAsync("long.jsonl", SampleData.Sentiment(40));
        var created = await service.CreateJobAsync(new
        {
            model = "tiny-gpt2",
            training_file = training,
            method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = 30, batch_size = 4 } } },
        });
        var jobId = created.GetProperty("id").GetString()!;
        using var worker = service.StartWorker("e2e-3");
        await service.PollUntilAsync(jobId, j => j.GetProperty("status").GetString() == "running" && j.GetProperty("progress").GetProperty("step").GetInt32() >= 1,
            Timeout, () => worker.Output);

        var cancel = await service.Http.PostAsync($"/v1/fine_tuning/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var job = await service.PollUntilFinishedAsync(jobId, TimeSpan.FromSeconds(30), () => worker.Output);
        Assert.Equal("cancelled", job.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, job.GetProperty("fine_tuned_model").ValueKind);
    }
}
