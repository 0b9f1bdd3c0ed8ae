using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TuningService.Worker.Engine;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;
using TuningService.Worker.Inference;
using static TorchSharp.torch;

namespace TuningService.Worker.Bench;

/// <summary>
/// <c>bench --generate</c>: decode speed of the inference scheduler on a model of the given shape (random weights,
/// every sequence runs its full length): one request alone, N requests one after another and N at once, against a
/// plain TorchSharp greedy loop with a KV cache. Peers run back to back in each repeat; ratios are the medians of the
/// repeats' ratios (robust to a shared machine's load changing between repeats), times the medians. Prints one JSON line.
/// </summary>
internal static class GenerateBench
{
    public static async Task<int> RunAsync(ModelConfig config, int promptLength, int tokens, int concurrent, int repeats)
    {
        torch.manual_seed(1);
        var model = HfCheckpoint.Create(config);
        model.InitializeWeights();
        model.eval();
        var random = new Random(1);
        var prompts = Enumerable.Range(0, concurrent).Select(_ => Enumerable.Range(0, promptLength).Select(_ => random.Next(config.VocabSize)).ToArray()).ToList();
        using var served = new ResidentModel("bench", new LoadedModel("bench", model, TokenizerFiles.Gpt2(), null), maxBatch: Math.Max(concurrent, 1), NullLogger.Instance);

        GenerationSequence Sequence(int[] prompt) => new(prompt, new SamplingSettings(tokens, 0, 1, 0, null), new HashSet<int>(), null, CancellationToken.None);
        var cpu = new Dictionary<string, List<double>> { ["plain"] = [], ["single"] = [], ["sequential"] = [], ["concurrent"] = [] };
        async Task<double> TimeAsync(Func<Task> run, string? phase = null)
        {
            var clock = Stopwatch.StartNew();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            await run();
            if (phase is not null) cpu[phase].Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds);
            return clock.Elapsed.TotalSeconds;
        }
        async Task DrainAsync(GenerationSequence s) { await foreach (var _ in s.Tokens.ReadAllAsync()) { } }
        Task RunOne(int[] prompt) { var s = Sequence(prompt); served.Submit(s); return DrainAsync(s); }

        await RunOne(prompts[0]); // warm-up: allocation and kernel selection
        PlainGenerateLoop.Run(model, prompts[0], tokens);
        var plain = new List<double>(); var single = new List<double>(); var sequential = new List<double>(); var together = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            // Peers run next to each other, in alternating order, so that each repeat's ratio sees one level of load.
            async Task Plain() => plain.Add(await TimeAsync(() => { PlainGenerateLoop.Run(model, prompts[0], tokens); return Task.CompletedTask; }, "plain"));
            async Task Single() => single.Add(await TimeAsync(() => RunOne(prompts[0]), "single"));
            async Task Sequential() => sequential.Add(await TimeAsync(async () => { foreach (var p in prompts) await RunOne(p); }, "sequential"));
            async Task Together() => together.Add(await TimeAsync(() => Task.WhenAll(prompts.Select(RunOne)), "concurrent"));
            if (r % 2 == 0) { await Plain(); await Single(); await Sequential(); await Together(); }
            else { await Single(); await Plain(); await Together(); await Sequential(); }
        }
        double Median(IEnumerable<double> xs) { var sorted = xs.Order().ToList(); return sorted[sorted.Count / 2]; }
        double Paired(List<double> a, List<double> b) => Math.Round(Median(a.Zip(b, (x, y) => x / y)), 3); // median of per-repeat ratios
        double plainS = Median(plain), singleS = Median(single), sequentialS = Median(sequential), togetherS = Median(together);
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["mode"] = "generate", ["params"] = config.ParameterCount(), ["prompt_tokens"] = promptLength, ["new_tokens"] = tokens, ["concurrent"] = concurrent,
            ["plain_loop_tokens_per_s"] = Math.Round(tokens / plainS, 1),
            ["single_tokens_per_s"] = Math.Round(tokens / singleS, 1),
            ["single_vs_plain"] = Paired(plain, single),
            ["single_vs_plain_cpu"] = Paired(cpu["plain"], cpu["single"]),
            ["sequential_s"] = Math.Round(sequentialS, 3),
            ["concurrent_s"] = Math.Round(togetherS, 3),
            ["concurrent_tokens_per_s"] = Math.Round(concurrent * tokens / togetherS, 1),
            ["concurrent_vs_sequential_time"] = Paired(together, sequential),
            // CPU seconds of this process: what the run cost, less distorted than wall time on a shared machine.
            ["concurrent_vs_sequential_cpu"] = Paired(cpu["concurrent"], cpu["sequential"]),
        }));
        return 0;
    }
}

/// <summary>
/// The baseline: greedy decoding as a textbook loop over the same model, with a KV cache: the attention mask grown
/// and passed every step, full (B, T, V) logits, one <c>item()</c> per token.
/// </summary>
internal static class PlainGenerateLoop
{
    public static int[] Run(CausalLanguageModel model, int[] prompt, int tokens)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var cache = new KvCache(model.Config.NumLayers);
        var input = tensor(prompt.Select(i => (long)i).ToArray(), ScalarType.Int64).unsqueeze(0);
        var mask = ones(1, prompt.Length, ScalarType.Int64);
        var output = new int[tokens];
        for (int step = 0; step < tokens; step++)
        {
            var logits = model.Forward(input, mask, null, cache);                 // (1, T, V)
            var next = logits[0, -1].argmax().item<long>();                       // sync point
            output[step] = (int)next;
            input = tensor(new[] { next }, ScalarType.Int64).unsqueeze(0);         // (1, 1)
            mask = cat([mask, ones(1, 1, ScalarType.Int64)], 1);
        }
        return output;
    }
}
