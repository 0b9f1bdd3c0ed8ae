using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using TuningService.Worker.Tests.Runtime;

namespace TuningService.Worker.Tests.EndToEnd;

/// <summary>A user talks to the model their job fine-tuned: OpenAI's SDK and raw HTTP, through the Api, served by an inference worker.</summary>
[Collection(WorkerProcessCollection.Name)]
public sealed class InferenceEndToEndTests(InferenceService fixture) : IClassFixture<InferenceService>
{
    private static readonly (string Review, string Label)[] Reviews =
    [
        (InferenceService.Review("lamp", "wonderful"), "positive"),
        (InferenceService.Review("kettle", "awful"), "negative"),
        (InferenceService.Review("chair", "excellent"), "positive"),
        (InferenceService.Review("keyboard", "broken"), "negative"),
    ];

    private ServiceHost Service => fixture.Service;

    private ChatClient Chat() => new(fixture.ModelId, new ApiKeyCredential(ServiceHost.AdminKey), new OpenAIClientOptions
    {
        Endpoint = new Uri(Service.Http.BaseAddress!, "/v1"),
        Transport = new HttpClientPipelineTransport(Service.CreateClient()),
    });

    [Fact]
    public async Task OpenAiChatClient_GetsTheSentimentLabel_AsTrainingTaughtIt()
    {
        var chat = Chat();
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 4 };
        var answers = new List<string>();
        foreach (var (review, _) in Reviews)
        {
            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage(review)], options);
            answers.Add(completion.Content[0].Text.Trim());
            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            Assert.True(completion.Usage.InputTokenCount > 0 && completion.Usage.OutputTokenCount > 0);
            Assert.StartsWith("chatcmpl-", completion.Id);
        }
        Assert.Equal(Reviews.Select(r => r.Label), answers);
    }

    [Fact]
    public async Task OpenAiChatClient_Streaming_SendsTheSameAnswerInChunks()
    {
        var chat = Chat();
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 4 };
        var (review, label) = Reviews[1];
        var text = "";
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(review)], options))
        {
            foreach (var part in update.ContentUpdate) text += part.Text;
            finish ??= update.FinishReason;
        }
        Assert.Equal(label, text.Trim());
        Assert.Equal(ChatFinishReason.Stop, finish);
    }

    [Fact]
    public async Task RawSse_SendsChunksThenUsage_AndEndsWithDone()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new
            {
                model = fixture.ModelId, messages = new[] { new { role = "user", content = Reviews[0].Review } },
                temperature = 0, max_tokens = 4, stream = true, stream_options = new { include_usage = true },
            }),
        };
        using var response = await Service.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var text = string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : ""));
        Assert.Equal(Reviews[0].Label, text.Trim());
        var usage = chunks[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        var u = usage.GetProperty("usage");
        Assert.Equal(u.GetProperty("prompt_tokens").GetInt32() + u.GetProperty("completion_tokens").GetInt32(), u.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_ContinueAPrompt_AndTheSameSeedGivesTheSameText()
    {
        async Task<JsonElement> CompleteAsync(long seed)
        {
            var response = await Service.Http.PostAsJsonAsync("/v1/completions", new
            {
                model = fixture.ModelId, prompt = "Review: the lamp is", max_tokens = 12, temperature = 1.0, seed, n = 2, logprobs = 2,
            });
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.IsSuccessStatusCode, body.ToString());
            return body;
        }
        var first = await CompleteAsync(17);
        var again = await CompleteAsync(17);
        Assert.Equal("text_completion", first.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", first.GetProperty("id").GetString());
        Assert.Equal(2, first.GetProperty("choices").GetArrayLength());
        string Texts(JsonElement body) => string.Join("|", body.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("text").GetString()));
        Assert.Equal(Texts(first), Texts(again));
        var logprobs = first.GetProperty("choices")[0].GetProperty("logprobs");
        Assert.Equal(logprobs.GetProperty("tokens").GetArrayLength(), logprobs.GetProperty("token_logprobs").GetArrayLength());
    }

    [Fact]
    public async Task CheckpointId_IsAModel_WithFiles_AndServesCompletions()
    {
        var checkpoints = await Service.GetJsonAsync($"/v1/fine_tuning/jobs/{fixture.JobId}/checkpoints");
        var checkpoint = checkpoints.GetProperty("data")[0].GetProperty("fine_tuned_model_checkpoint").GetString()!;
        Assert.StartsWith(fixture.ModelId + ":ckpt-step-", checkpoint);

        var model = await Service.GetJsonAsync($"/v1/models/{Uri.EscapeDataString(checkpoint)}");
        Assert.Equal(checkpoint, model.GetProperty("id").GetString());
        Assert.Equal("checkpoint", model.GetProperty("kind").GetString());
        var files = await Service.GetJsonAsync($"/v1/models/{Uri.EscapeDataString(checkpoint)}/files");
        Assert.Contains(files.GetProperty("data").EnumerateArray(), f => f.GetProperty("name").GetString() == "model.safetensors");
        var config = await Service.GetJsonAsync($"/v1/models/{Uri.EscapeDataString(checkpoint)}/files/config.json");
        Assert.Equal("gpt2", config.GetProperty("model_type").GetString());

        var response = await Service.Http.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = checkpoint, messages = new[] { new { role = "user", content = Reviews[0].Review } }, temperature = 0, max_tokens = 3,
        });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        Assert.Equal(checkpoint, body.GetProperty("model").GetString());
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
    }

    [Fact]
    public async Task CheckpointId_AsANewJobsModel_ContinuesFromThatCheckpoint()
    {
        var checkpoints = await Service.GetJsonAsync($"/v1/fine_tuning/jobs/{fixture.JobId}/checkpoints");
        var checkpoint = checkpoints.GetProperty("data")[0].GetProperty("fine_tuned_model_checkpoint").GetString()!;
        var training = await Service.UploadAsync("support.jsonl", SampleData.SupportChat(16));
        var created = await Service.CreateJobAsync(new
        {
            model = checkpoint, training_file = training, suffix = "more", seed = 1,
            method = new { type = "instruction", instruction = new { hyperparameters = new { n_epochs = 1, batch_size = 8, learning_rate = 1e-3 } } },
        });
        var jobId = created.GetProperty("id").GetString()!;
        using var trainer = Service.StartWorker("trainer-2");
        var job = await Service.PollUntilFinishedAsync(jobId, TimeSpan.FromMinutes(3), () => trainer.Output);
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        Assert.Equal($"ft:tiny-gpt2:more:{jobId}", job.GetProperty("fine_tuned_model").GetString());
    }

    [Fact]
    public async Task ClientLeavingAStream_StopsItsGeneration()
    {
        var client = Service.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ServiceHost.AdminKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            // The 124M preset: slow enough per token on a CPU that 480 tokens cannot finish before the client leaves.
            Content = JsonContent.Create(new { model = "gpt2-124m-random", prompt = "Once upon a time", max_tokens = 480, temperature = 0, stream = true }),
        };
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync()); // generation is under way; now the client goes
        }
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!fixture.Inference.Output.Contains("cancelled by the client after") && DateTime.UtcNow < deadline) await Task.Delay(100);
        var line = fixture.Inference.Output.Split('\n').FirstOrDefault(l => l.Contains("cancelled by the client after"));
        Assert.True(line is not null, fixture.Inference.Output);
        var generated = int.Parse(line.Split("after ")[1].Split(' ')[0]);
        Assert.True(generated < 480, line);
    }

    [Fact]
    public async Task Errors_NameTheFieldOrTheModel()
    {
        var tooLong = await Service.Http.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = fixture.ModelId, messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 100_000,
        });
        await AssertErrorAsync(tooLong, HttpStatusCode.BadRequest, "max_tokens");

        var hot = await Service.Http.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = fixture.ModelId, messages = new[] { new { role = "user", content = "hi" } }, temperature = 3,
        });
        await AssertErrorAsync(hot, HttpStatusCode.BadRequest, "temperature");

        using var other = await fixture.OtherProjectClientAsync();
        var foreign = await other.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = fixture.ModelId, messages = new[] { new { role = "user", content = "hi" } },
        });
        await AssertErrorAsync(foreign, HttpStatusCode.NotFound, "model");
    }

    [Fact]
    public async Task SwaggerExamples_RunAsShown_AndTheChatExampleTalksToTheFineTunedModel()
    {
        var document = await Service.GetJsonAsync("/swagger/v1/swagger.json");
        JsonElement ExamplesOf(string path) => document.GetProperty("paths").GetProperty(path).GetProperty("post")
            .GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("examples");
        var chatExamples = ExamplesOf("/v1/chat/completions").EnumerateObject().ToList();
        var completionExamples = ExamplesOf("/v1/completions").EnumerateObject().ToList();
        Assert.True(chatExamples.Count >= 2 && completionExamples.Count >= 2, document.ToString());
        Assert.Contains(chatExamples, e => e.Value.GetProperty("value").TryGetProperty("stream", out var s) && s.GetBoolean());
        Assert.Contains(completionExamples, e => e.Value.GetProperty("value").TryGetProperty("stream", out var s) && s.GetBoolean());

        foreach (var example in chatExamples) await AssertExampleAnswersAsync("/v1/chat/completions", example.Name, example.Value.GetProperty("value").GetRawText(), chat: true);
        foreach (var example in completionExamples) await AssertExampleAnswersAsync("/v1/completions", example.Name, example.Value.GetProperty("value").GetRawText(), chat: false);

        // The first chat example with its model replaced by the fine-tuned id, as its summary says: the label comes back.
        var mine = JsonNode.Parse(chatExamples[0].Value.GetProperty("value").GetRawText())!;
        mine["model"] = fixture.ModelId;
        var answer = await AssertExampleAnswersAsync("/v1/chat/completions", "fine-tuned", mine.ToJsonString(), chat: true);
        Assert.Equal(fixture.ModelId, answer.GetProperty("model").GetString());
        Assert.Equal("positive", answer.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!.Trim());
    }

    /// <summary>Sends one example body as it is and checks the answer's OpenAI shape: a completion, or SSE chunks ending with [DONE].</summary>
    private async Task<JsonElement> AssertExampleAnswersAsync(string path, string name, string json, bool chat)
    {
        var body = JsonDocument.Parse(json).RootElement;
        int n = body.TryGetProperty("n", out var count) ? count.GetInt32() : 1;
        bool stream = body.TryGetProperty("stream", out var s) && s.GetBoolean();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        using var response = await Service.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path} example {name}: {response.StatusCode} {text}");
        string kind = chat ? "chat.completion" : "text_completion";
        if (!stream)
        {
            var completion = JsonDocument.Parse(text).RootElement;
            Assert.Equal(kind, completion.GetProperty("object").GetString());
            Assert.Equal(body.GetProperty("model").GetString(), completion.GetProperty("model").GetString());
            var choices = completion.GetProperty("choices").EnumerateArray().ToList();
            Assert.Equal(Enumerable.Range(0, n), choices.Select(c => c.GetProperty("index").GetInt32()));
            Assert.All(choices, c => Assert.Contains(c.GetProperty("finish_reason").GetString(), new[] { "stop", "length" }));
            Assert.All(choices, c => Assert.Equal(JsonValueKind.String, (chat ? c.GetProperty("message").GetProperty("content") : c.GetProperty("text")).ValueKind));
            if (body.TryGetProperty("logprobs", out var wanted) && wanted.ValueKind != JsonValueKind.False)
                Assert.All(choices, c => Assert.NotEqual(JsonValueKind.Null, c.GetProperty("logprobs").ValueKind));
            var usage = completion.GetProperty("usage");
            Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
            return completion;
        }
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal(chat ? "chat.completion.chunk" : kind, c.GetProperty("object").GetString()));
        var finished = chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Where(c => c.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String).Select(c => c.GetProperty("index").GetInt32());
        Assert.Equal(Enumerable.Range(0, n), finished.Order());
        if (body.TryGetProperty("stream_options", out var options) && options.GetProperty("include_usage").GetBoolean())
            Assert.True(chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0, chunks[^1].ToString());
        return chunks[^1];
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string param)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {body}");
        Assert.Equal(param, body.GetProperty("error").GetProperty("param").GetString());
    }
}

/// <summary>Generation with no inference worker running.</summary>
public sealed class NoInferenceWorkerTests(ServiceHost service) : IClassFixture<ServiceHost>
{
    [Fact]
    public async Task ChatCompletion_WithoutALiveInferenceWorker_Is503WithRetryAfter()
    {
        var response = await service.Http.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "tiny-gpt2", messages = new[] { new { role = "user", content = "hi" } },
        });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("no_inference_worker", body.GetProperty("error").GetProperty("code").GetString());
    }
}
