using Microsoft.AspNetCore.Http;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using TuningService.Domain.Datasets;
using TuningService.Domain.Inference;
using TuningService.Worker.Engine.Data;

namespace TuningService.Worker.Inference;

/// <summary>A request the worker refuses, in OpenAI's error shape.</summary>
public sealed class CompletionRejected(int status, string message, string? param, string code) : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string Code { get; } = code;
}

/// <summary>
/// Serves one validated request: renders the prompt (chat: the model's chat template with the generation prompt),
/// checks it fits the context, submits one sequence per choice to the resident model's scheduler, and answers in
/// OpenAI's shape, whole or as server-sent events.
/// </summary>
public sealed class CompletionService(ServedModelResolver resolver, ModelResidency residency)
{
    private static readonly JsonSerializerOptions Json = CompletionRequest.Json;

    private sealed record Prepared(string Id, long Created, string Model, int PromptTokens, List<GenerationSequence> Sequences, ResidentModel Resident);

    private sealed record ChoiceEvent(int Index, string Delta, TokenLogprob? Logprob, string? Finish);

    public async Task<object> CompleteAsync(CompletionRequest request, bool chat, CancellationToken ct)
    {
        var prepared = await PrepareAsync(request, chat, ct);
        var texts = new string[prepared.Sequences.Count];
        var finishes = new string[texts.Length];
        var logprobs = Enumerable.Range(0, texts.Length).Select(_ => new List<TokenLogprob>()).ToArray();
        await foreach (var e in RunAsync(prepared, request, ct))
        {
            texts[e.Index] += e.Delta;
            if (e.Logprob is not null) logprobs[e.Index].Add(e.Logprob);
            if (e.Finish is not null) finishes[e.Index] = e.Finish;
        }
        var usage = Usage(prepared);
        bool wantLogprobs = request.LogprobAlternatives(chat) is not null;
        if (chat)
            return new ChatCompletion(prepared.Id, prepared.Created, prepared.Model, texts.Select((t, i) => new ChatChoice(i,
                new ChatMessageOutput("assistant", t), wantLogprobs ? new ChatLogprobs(logprobs[i]) : null, finishes[i])).ToList(), usage);
        return new TextCompletion(prepared.Id, prepared.Created, prepared.Model, texts.Select((t, i) => new TextChoice(i, t,
            wantLogprobs ? TextLogprobsOf(logprobs[i]) : null, finishes[i])).ToList(), usage);
    }

    /// <summary>Writes <c>data: {chunk}</c> events and <c>data: [DONE]</c>; a closed connection cancels generation.</summary>
    public async Task StreamAsync(CompletionRequest request, bool chat, HttpResponse response, CancellationToken ct)
    {
        var prepared = await PrepareAsync(request, chat, ct);
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        bool wantLogprobs = request.LogprobAlternatives(chat) is not null;
        if (chat)
            for (int i = 0; i < prepared.Sequences.Count; i++)
                await WriteEventAsync(response, Chunk(prepared, [new ChatChunkChoice(i, new ChatDelta("assistant", ""), null, null)]), ct);
        await foreach (var e in RunAsync(prepared, request, ct))
        {
            if (e.Delta.Length == 0 && e.Finish is null && !wantLogprobs) continue;
            object chunk = chat
                ? Chunk(prepared, [new ChatChunkChoice(e.Index, new ChatDelta(null, e.Finish is null || e.Delta.Length > 0 ? e.Delta : null),
                    wantLogprobs && e.Logprob is not null ? new ChatLogprobs([e.Logprob]) : null, e.Finish)])
                : new TextCompletion(prepared.Id, prepared.Created, prepared.Model, [new TextChoice(e.Index, e.Delta,
                    wantLogprobs && e.Logprob is not null ? TextLogprobsOf([e.Logprob]) : null, e.Finish)], null);
            await WriteEventAsync(response, chunk, ct);
        }
        if (request.StreamOptions?.IncludeUsage == true)
            await WriteEventAsync(response, chat
                ? new ChatCompletionChunk(prepared.Id, prepared.Created, prepared.Model, [], Usage(prepared))
                : new TextCompletion(prepared.Id, prepared.Created, prepared.Model, [], Usage(prepared)), ct);
        await response.WriteAsync("data: [DONE]\n\n", ct);
        await response.Body.FlushAsync(ct);
    }

    private static ChatCompletionChunk Chunk(Prepared p, IReadOnlyList<ChatChunkChoice> choices) => new(p.Id, p.Created, p.Model, choices, null);

    private static async Task WriteEventAsync(HttpResponse response, object value, CancellationToken ct)
    {
        await response.WriteAsync("data: " + JsonSerializer.Serialize(value, value.GetType(), Json) + "\n\n", ct);
        await response.Body.FlushAsync(ct);
    }

    private static Usage Usage(Prepared p)
    {
        int completion = p.Sequences.Sum(s => s.Generated);
        return new Usage(p.PromptTokens, completion, p.PromptTokens + completion);
    }

    private async Task<Prepared> PrepareAsync(CompletionRequest request, bool chat, CancellationToken ct)
    {
        ServedModelSource source;
        try { source = await resolver.ResolveAsync(request.Model!, ct); }
        catch (ModelNotServableException e) { throw new CompletionRejected(e.Code == "model_not_found" ? 404 : 400, e.Message, "model", e.Code); }
        var resident = await residency.AcquireAsync(source, ct);
        try { return Submit(request, chat, source, resident, ct); }
        finally { resident.Release(); }
    }

    /// <summary>Renders and checks the prompt, then submits one sequence per choice; <paramref name="ct"/> (the client's) stops them.</summary>
    private static Prepared Submit(CompletionRequest request, bool chat, ServedModelSource source, ResidentModel resident, CancellationToken ct)
    {
        var tokenizer = resident.Loaded.Tokenizer;
        var text = chat
            ? ChatTemplate.Of(tokenizer).Render(request.Messages!.Select(m => new ChatMessage(m.Role!, m.Text()!)).ToList(), addGenerationPrompt: true)
            : request.PromptText()!;
        var promptIds = tokenizer.Encode(text);
        if (!chat && tokenizer.AddBos && tokenizer.BosId is int bos) promptIds = [bos, .. promptIds];   // a chat template renders its own BOS
        if (promptIds.Length == 0) throw new CompletionRejected(400, "The prompt is empty.", chat ? "messages" : "prompt", "invalid_value");

        int context = resident.Loaded.Model.Config.MaxPositionEmbeddings;
        if (promptIds.Length >= context)
            throw new CompletionRejected(400, $"The prompt is {promptIds.Length} tokens; this model's context is {context} tokens.",
                chat ? "messages" : "prompt", "context_length_exceeded");
        int maxTokens = request.RequestedMaxTokens ?? context - promptIds.Length;
        if (promptIds.Length + maxTokens > context)
            throw new CompletionRejected(400, $"This model's context is {context} tokens: {promptIds.Length} in the prompt plus " +
                $"{request.MaxTokensField} {maxTokens} exceed it. Lower {request.MaxTokensField} to at most {context - promptIds.Length}.",
                request.MaxTokensField, "context_length_exceeded");

        var stopIds = new HashSet<int> { tokenizer.EosId };
        if (tokenizer.TokenId("<|im_end|>") is int endOfTurn) stopIds.Add(endOfTurn);
        if (chat && ChatTemplate.Of(tokenizer).EndOfTurn is string turnEnd && tokenizer.TokenId(turnEnd) is int turnEndId) stopIds.Add(turnEndId);   // <|eot_id|>, <end_of_turn>...
        long seed = request.Seed ?? Random.Shared.NextInt64(0, int.MaxValue);
        var sequences = Enumerable.Range(0, request.N ?? 1).Select(i => new GenerationSequence(promptIds,
            new SamplingSettings(maxTokens, request.Temperature ?? 1.0, request.TopP ?? 1.0, seed + i, request.LogprobAlternatives(chat)),
            stopIds, source.AdapterDirectory is null ? null : source.ModelId, ct)).ToList();
        foreach (var sequence in sequences) resident.Submit(sequence);
        var id = (chat ? "chatcmpl-" : "cmpl-") + Guid.NewGuid().ToString("N")[..24];
        return new Prepared(id, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), request.Model!, promptIds.Length, sequences, resident);
    }

    /// <summary>Every choice's text deltas, merged as they come; each choice ends with one event carrying its finish reason.</summary>
    private static async IAsyncEnumerable<ChoiceEvent> RunAsync(Prepared prepared, CompletionRequest request,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var events = Channel.CreateUnbounded<ChoiceEvent>();
        var tokenizer = prepared.Resident.Loaded.Tokenizer;
        var stops = request.StopStrings();
        var readers = prepared.Sequences.Select((sequence, index) => Task.Run(async () =>
        {
            var text = new ChoiceText(tokenizer, stops);
            await foreach (var token in sequence.Tokens.ReadAllAsync(ct))
            {
                var delta = text.Add(token.Id);
                await events.Writer.WriteAsync(new ChoiceEvent(index, delta, LogprobOf(tokenizer, token), null), ct);
                if (text.Stopped) { sequence.StopEarly(); break; }
            }
            var rest = text.Flush();
            var finish = text.Stopped ? "stop" : sequence.Finish == FinishReason.Length ? "length" : "stop";
            await events.Writer.WriteAsync(new ChoiceEvent(index, rest, null, finish), ct);
        }, ct)).ToArray();
        _ = Task.WhenAll(readers).ContinueWith(t => events.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);
        await foreach (var e in events.Reader.ReadAllAsync(ct)) yield return e;
    }

    private static TokenLogprob? LogprobOf(Engine.Tokenization.TextTokenizer tokenizer, GeneratedToken token)
    {
        if (token.Logprob is not float logprob) return null;
        TopLogprob Top(int id, float value)
        {
            var text = tokenizer.Decode([id]);
            return new TopLogprob(text, value, Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray());
        }
        var chosen = Top(token.Id, logprob);
        return new TokenLogprob(chosen.Token, logprob, chosen.Bytes, token.Top!.Select(t => Top(t.Id, t.Logprob)).ToList());
    }

    private static TextLogprobs TextLogprobsOf(IReadOnlyList<TokenLogprob> tokens)
    {
        var offsets = new List<int>();
        int offset = 0;
        foreach (var t in tokens) { offsets.Add(offset); offset += t.Token.Length; }
        return new TextLogprobs(tokens.Select(t => t.Token).ToList(), tokens.Select(t => t.Logprob).ToList(),
            tokens.Select(t => t.TopLogprobs.GroupBy(x => x.Token).ToDictionary(g => g.Key, g => g.First().Logprob)).ToList(), offsets);
    }
}
