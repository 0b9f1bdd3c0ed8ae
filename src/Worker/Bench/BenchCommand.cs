using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchSharp;
using TuningService.Domain.Models;
using TuningService.Worker.Engine;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Data;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;
using TuningService.Worker.Engine.Training;
using Spec = TuningService.Domain.Jobs.Specs;

namespace TuningService.Worker.Bench;

/// <summary>
/// <c>bench</c>: times the real training code. Without --dataset it trains a model of the given shape on random tokens;
/// with --dataset FILE --model ID it runs the supervised pipeline on a JSONL file. --packing, --gradient-checkpointing,
/// --precision bf16|fp32 (default fp32, the CPU's auto) and --lora [rank] set the job-spec fields of those names.
/// --plain and --gemm-floor time the peers (a textbook TorchSharp loop, the step's GEMMs alone). Prints one JSON line
/// last, with throughput and memory.
/// </summary>
public static class BenchCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var options = ParseOptions(args);
        string Get(string key, string fallback) => options.TryGetValue(key, out var v) ? v : fallback;
        int Int(string key, int fallback) => int.Parse(Get(key, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

        int threads = Int("threads", Environment.ProcessorCount), steps = Int("steps", 6), batch = Int("batch", 8), seq = Int("seq", 128);
        torch.set_num_threads(threads);
        // The service's own defaults (a resolved spec), overriding only what the bench measures; no mid-run evaluation or checkpoint.
        var architecture = options.ContainsKey("dataset") ? Domain.Models.ModelCatalog.FindPreset(Get("model", "tiny-gpt2"))?.Architecture : Get("arch", "gpt2");
        var request = new Spec.JobSpec
        {
            Model = "bench", TrainingFile = "bench",
            Hyperparameters = new Spec.SupervisedHyperparameters
            {
                NEpochs = 1, BatchSize = batch, MaxSeqLength = seq, LearningRate = 1e-4,
                Lora = options.TryGetValue("lora", out var rank) ? new Spec.LoraSpec { R = rank == "true" ? Spec.HyperparameterRanges.LoraR.IntValue : Int("lora", 0) } : null,
                Packing = options.ContainsKey("packing"),
                GradientCheckpointing = options.ContainsKey("gradient-checkpointing"),
                Precision = Get("precision", Spec.Precisions.Float32),
            },
        };
        var resolved = Spec.JobSpecResolver.Resolve(request, new Spec.SpecResolutionContext(RandomSeed: 1, architecture, TrainingExamples: 0));
        var hp = Runtime.Methods.HyperparameterMapping.FromSpec(resolved.Method!.Selected!, seed: 1, metricsInterval: 1) with
        {
            EvalInterval = 0, CheckpointInterval = 0, GroupByLength = !options.ContainsKey("no-length-grouping"),
        };
        if (options.ContainsKey("generate"))
            return GenerateBench.RunAsync(ShapeFromArgs(Get("arch", "gpt2"), Int("layers", 4), Int("dim", 256), Int("heads", 4), Int("kv-heads", Int("heads", 4)), Int("vocab", 50257), Math.Max(seq, 256)),
                Int("prompt", 16), Int("tokens", 64), Int("concurrent", 8), Int("repeats", 3));
        if (options.ContainsKey("gemm-floor"))
        {
            Console.WriteLine(JsonSerializer.Serialize(GemmFloorBench.Run(Int("layers", 4), Int("dim", 256), Int("vocab", 50257), seq, batch)));
            return Task.FromResult(0);
        }
        if (options.ContainsKey("plain"))
        {
            var (median, medianCpu, tokensPerSecond, parameters) = PlainTorchSharpLoop.Run(Int("layers", 4), Int("dim", 256), Int("heads", 4), Int("vocab", 50257), seq, batch, steps);
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["baseline"] = "plain_torchsharp", ["params"] = parameters, ["tokens_per_s"] = Math.Round(tokensPerSecond, 1),
                ["median_step_s"] = Math.Round(median, 4), ["median_step_cpu_s"] = Math.Round(medianCpu, 4), ["peak_rss_mb"] = ProcessMemory.PeakMegabytes(),
            }));
            return Task.FromResult(0);
        }
        Trainer trainer;
        if (options.TryGetValue("dataset", out var dataset))
        {
            // --model: a preset or a checkpoint folder under --models-root (as a job names it), else a model directory path.
            var modelId = Get("model", "tiny-gpt2");
            var loaded = ModelCatalog.FindBase(Get("models-root", "models"), modelId) is { } model
                ? ModelLoader.Load(model, seed: 1)
                : ModelLoader.LoadDirectory(modelId, modelId);
            var template = ChatTemplate.Of(loaded.Tokenizer);
            var examples = DomainExamples.ReadFile(dataset).Select(e => DomainExamples.ToTraining(e, template)
                ?? throw new InvalidDataException($"{dataset}: bench --method supervised needs text, prompt_completion or chat data.")).ToList();
            trainer = new Trainer(loaded.Model, loaded.Tokenizer, examples, null, hp with { NEpochs = Int("epochs", 1) });
        }
        else
        {
            var config = ShapeFromArgs(Get("arch", "gpt2"), Int("layers", 4), Int("dim", 256), Int("heads", 4), Int("kv-heads", Int("heads", 4)), Int("vocab", 50257), seq);
            torch.manual_seed(1);
            var model = HfCheckpoint.Create(config);
            model.InitializeWeights();
            var random = new Random(1);
            var examples = Enumerable.Range(0, batch * steps).Select(_ =>
                new EncodedExample(Enumerable.Range(0, seq).Select(_ => random.Next(config.VocabSize)).ToArray(), Enumerable.Repeat(true, seq).ToArray())).ToList();
            trainer = new Trainer(model, TokenizerFiles.Gpt2(), (examples, 0), [], hp);
        }
        var report = Measure(trainer, steps);
        report["forward_activations_mb"] = ForwardActivationMegabytes(trainer.Model, batch, seq);
        Console.WriteLine(JsonSerializer.Serialize(report));
        return Task.FromResult(0);
    }

    /// <summary>
    /// Trains up to maxSteps steps, reading the metrics every step as a job with metrics_interval 1 does. Memory: RSS once
    /// model and optimizer are set up, RSS after the first step (gradients allocated, the step's activations freed), and
    /// the peak of the later steps above that: the memory a step needs on top of weights, optimizer state and gradients.
    /// </summary>
    private static Dictionary<string, object?> Measure(Trainer trainer, int maxSteps)
    {
        double setupRss = ProcessMemory.ResidentMegabytes(), afterFirstRss = 0, firstPeak = 0;
        bool peakReset = false;
        var stepSeconds = new List<double>();
        long tokensAfterFirst = 0, labelsAfterFirst = 0, tokensAtFirst = 0, labelsAtFirst = 0;
        var clock = Stopwatch.StartNew();
        var cpuSeconds = new List<double>();
        var cpuAtLastStep = Process.GetCurrentProcess().TotalProcessorTime;
        while (trainer.Step < Math.Min(maxSteps, trainer.TotalSteps))
        {
            trainer.TrainStep();
            trainer.ReadMetrics(); // sync point: the step's work is done
            stepSeconds.Add(clock.Elapsed.TotalSeconds);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            cpuSeconds.Add((cpu - cpuAtLastStep).TotalSeconds);
            cpuAtLastStep = cpu;
            clock.Restart();
            if (trainer.Step == 1)
            {
                tokensAtFirst = trainer.TrainedTokens;
                labelsAtFirst = trainer.TrainedLabelTokens;
                (firstPeak, afterFirstRss) = (ProcessMemory.PeakMegabytes(), ProcessMemory.ResidentMegabytes());
                peakReset = ProcessMemory.ResetPeak();
            }
            tokensAfterFirst = trainer.TrainedTokens - tokensAtFirst;
            labelsAfterFirst = trainer.TrainedLabelTokens - labelsAtFirst;
        }
        var timed = stepSeconds.Skip(1).ToList(); // the first step pays for allocation and kernel warm-up
        if (timed.Count == 0) timed = stepSeconds;
        double total = timed.Sum();
        var sorted = timed.Order().ToList();
        double laterPeak = ProcessMemory.PeakMegabytes();
        return new Dictionary<string, object?>
        {
            ["steps"] = stepSeconds.Count,
            ["packing"] = trainer.Hyperparameters.Packing,
            ["gradient_checkpointing"] = trainer.Hyperparameters.GradientCheckpointing,
            ["precision"] = trainer.Hyperparameters.Precision.SpecName(),
            ["lora_rank"] = trainer.Hyperparameters.Lora?.Rank,
            ["examples"] = trainer.TrainingExamples,
            ["rows"] = trainer.TrainingRows,
            ["params"] = trainer.Model.Config.ParameterCount(),
            ["trainable_params"] = trainer.Model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()),
            ["tokens_per_s"] = Math.Round(tokensAfterFirst / total, 1),
            ["effective_tokens_per_s"] = Math.Round(labelsAfterFirst / total, 1),
            // per CPU second of this process: steadier than wall time on a shared machine
            ["effective_tokens_per_cpu_s"] = Math.Round(labelsAfterFirst / cpuSeconds.Skip(1).DefaultIfEmpty(cpuSeconds[0]).Sum(), 1),
            // an epoch's label tokens over its estimated time (steps per epoch × mean timed step): steadier than a few steps'
            // label counts when rows differ (packed rows full of short examples carry more labels than rows of long ones)
            ["effective_tokens_per_s_epoch"] = Math.Round(trainer.LabelTokensPerEpoch / (trainer.StepsPerEpoch * timed.Average()), 2),
            ["effective_tokens_per_cpu_s_epoch"] = Math.Round(trainer.LabelTokensPerEpoch / (trainer.StepsPerEpoch * cpuSeconds.Skip(1).DefaultIfEmpty(cpuSeconds[0]).Average()), 2),
            ["median_step_s"] = Math.Round(sorted[sorted.Count / 2], 4),
            ["median_step_cpu_s"] = Math.Round(cpuSeconds.Skip(1).DefaultIfEmpty(cpuSeconds[0]).Order().ElementAt(Math.Max(0, cpuSeconds.Count - 1) / 2), 4),
            ["peak_rss_mb"] = Math.Max(firstPeak, laterPeak),
            ["setup_rss_mb"] = setupRss,
            ["after_first_step_rss_mb"] = afterFirstRss,
            // what a step allocates beyond weights, optimizer state and gradients (activations, logits chunks, temporaries)
            ["step_peak_above_rss_mb"] = peakReset && stepSeconds.Count > 1 ? Math.Round(laterPeak - afterFirstRss, 1) : null,
            ["malloc_mmap_threshold"] = Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_"),
        };
    }

    /// <summary>
    /// What the model's forward keeps for backward: RSS with the graph of one training forward alive (batch × seq random
    /// tokens, gradients on) minus RSS before it. Run after training, so its random tokens do not move the run's generator.
    /// </summary>
    private static double ForwardActivationMegabytes(CausalLanguageModel model, int batch, int seq)
    {
        using var scope = torch.NewDisposeScope();
        model.train();
        var ids = torch.randint(model.VocabSize, [batch, seq], dtype: torch.ScalarType.Int64, device: model.parameters().First().device);
        double before = ProcessMemory.ResidentMegabytes();
        var hidden = model.HiddenStates(ids); // (B, T, C), its graph holding the saved activations
        return Math.Round(ProcessMemory.ResidentMegabytes() - before, 1);
    }

    internal static ModelConfig ShapeFromArgs(string arch, int layers, int dim, int heads, int kvHeads, int vocab, int seq) => arch switch
    {
        "gpt2" => new ModelConfig { VocabSize = vocab, HiddenSize = dim, NumLayers = layers, NumHeads = heads, NumKeyValueHeads = heads, IntermediateSize = 4 * dim, MaxPositionEmbeddings = seq },
        "llama" => new ModelConfig
        {
            Architecture = ModelArchitecture.Llama, ModelType = "llama", VocabSize = vocab, HiddenSize = dim, NumLayers = layers, NumHeads = heads,
            NumKeyValueHeads = kvHeads, IntermediateSize = (int)(8.0 / 3 * dim / 64 + 1) * 64, MaxPositionEmbeddings = seq, TieWordEmbeddings = false,
        },
        _ => throw new ArgumentException($"--arch must be gpt2 or llama, not {arch}."),
    };

    private static Dictionary<string, string> ParseOptions(string[] args)
    {
        var options = new Dictionary<string, string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--")) continue;
            bool hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--");
            options[args[i][2..]] = hasValue ? args[++i] : "true";
        }
        return options;
    }
}
