using System.Text.Json;
using System.Text.Json.Serialization;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;
using TuningService.Worker.Engine.Data;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Training;

public sealed partial class Trainer
{
    private const string StateFile = "trainer_state.json";
    private const string OptimizerFile = "optimizer.safetensors";
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>Position and counters of a run; with the weights, optimizer moments and RNG it is the full state.</summary>
    private sealed record TrainerState(
        int Step, int Epoch, int MicroBatchInEpoch, int TotalSteps, int OptimizerSteps, long TrainedTokens, long TrainedLabelTokens,
        int TrainingExamples, string TorchRngState, TrainingHyperparameters Hyperparameters, ModelConfig ModelConfig);

    /// <summary>
    /// Writes the complete training state to <paramref name="directory"/> atomically (temp dir, fsync, rename):
    /// trainer_state.json (position, counters, hyperparameters, RNG), optimizer.safetensors, and the weights:
    /// a full HF model directory (config, float32 safetensors, tokenizer), or the PEFT adapter for LoRA runs.
    /// </summary>
    public void SaveState(string directory)
    {
        AtomicDirectory.Write(directory, temp =>
        {
            if (Hyperparameters.Lora is LoraSettings lora) LoraAdapter.Save(model, lora, temp, baseModel: "");
            else
            {
                HfCheckpoint.Save(model, temp, ScalarType.Float32);
                tokenizer.SaveTo(temp);
            }
            Safetensors.Write(Path.Combine(temp, OptimizerFile), optimizer.StateTensors());
            var state = new TrainerState(Step, Epoch, microBatchInEpoch, TotalSteps, optimizer.StepCount, trainedTokens, trainedLabelTokens,
                train.Count, Convert.ToBase64String(get_rng_state().bytes), Hyperparameters, model.Config);
            File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, Json));
        });
    }

    /// <summary>Whether a directory holds a state written by <see cref="SaveState"/>.</summary>
    public static bool IsCheckpoint(string directory) => File.Exists(Path.Combine(directory, StateFile));

    /// <summary>
    /// Continues a run from a checkpoint: <paramref name="baseModel"/> is the freshly loaded base model and the
    /// datasets are the same as the original run's; hyperparameters come from the checkpoint.
    /// </summary>
    public static Trainer Resume(string directory, CausalLanguageModel baseModel, TextTokenizer tokenizer,
        IEnumerable<TrainingExample> trainingSet, IEnumerable<TrainingExample>? validationSet)
    {
        var state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(Path.Combine(directory, StateFile)), Json)
            ?? throw new InvalidDataException($"Empty {StateFile} in {directory}.");
        var trainer = new Trainer(baseModel, tokenizer, trainingSet, validationSet, state.Hyperparameters);
        if (trainer.train.Count != state.TrainingExamples || trainer.TotalSteps != state.TotalSteps)
            throw new InvalidDataException("The training set differs from the one the checkpoint was trained on.");
        if (state.Hyperparameters.Lora is not null)
            LoraAdapter.LoadWeights(baseModel, Safetensors.Read(Path.Combine(directory, "adapter_model.safetensors")));
        else
            HfCheckpoint.LoadWeights(baseModel, directory);
        var moments = Safetensors.Read(Path.Combine(directory, OptimizerFile));
        trainer.optimizer.LoadState(moments, state.OptimizerSteps);
        foreach (var t in moments.Values) t.Dispose();
        trainer.Step = state.Step;
        trainer.Epoch = state.Epoch;
        trainer.microBatchInEpoch = state.MicroBatchInEpoch;
        trainer.epochBatches = LengthGroupedBatches.ForEpoch(trainer.train, state.Hyperparameters.BatchSize, state.Hyperparameters.Seed, state.Epoch, state.Hyperparameters.GroupByLength);
        trainer.trainedTokens = state.TrainedTokens;
        trainer.trainedLabelTokens = state.TrainedLabelTokens;
        var rng = empty(Convert.FromBase64String(state.TorchRngState).LongLength, ScalarType.Byte);
        rng.bytes = Convert.FromBase64String(state.TorchRngState);
        set_rng_state(rng);
        return trainer;
    }

    /// <summary>The trained model as a Hugging Face directory (LoRA merged in) with its tokenizer, written atomically.</summary>
    public void SaveModel(string directory, ScalarType? dtype = null)
        => AtomicDirectory.Write(directory, temp =>
        {
            HfCheckpoint.Save(model, temp, dtype);
            tokenizer.SaveTo(temp);
        });

    /// <summary>The LoRA adapter in PEFT format (LoRA runs only), written atomically.</summary>
    public void SaveAdapter(string directory, string baseModel)
    {
        var lora = Hyperparameters.Lora ?? throw new InvalidOperationException("This run has no LoRA adapter.");
        AtomicDirectory.Write(directory, temp =>
        {
            LoraAdapter.Save(model, lora, temp, baseModel);
            tokenizer.SaveTo(temp);
        });
    }
}
