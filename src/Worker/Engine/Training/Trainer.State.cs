using TuningService.Worker.Engine.Checkpoints;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Training;

public sealed partial class Trainer
{
    private const string AdapterWeightsFile = "adapter_model.safetensors";

    /// <summary>
    /// The run's <see cref="TrainingCheckpoint"/>, whose weights are a full HF model directory (config, float32
    /// safetensors, tokenizer) or, for LoRA runs, the PEFT adapter: a checkpoint is also a servable model.
    /// </summary>
    public void SaveState(string directory)
        => TrainingCheckpoint.Save(directory, Method, Step, TotalSteps, TrainedTokens, optimizer, Hyperparameters, temp =>
        {
            if (Hyperparameters.Lora is LoraSettings lora) LoraAdapter.Save(model, lora, temp, baseModel: "");
            else
            {
                HfCheckpoint.Save(model, temp, ScalarType.Float32);
                tokenizer.SaveTo(temp);
            }
        });

    /// <summary>Continues from <see cref="SaveState"/>'s directory. Build the trainer as the original was: the freshly loaded base model, the same data and spec.</summary>
    public void LoadState(string directory)
        => (Step, TrainedTokens) = TrainingCheckpoint.Load(directory, Method, TotalSteps, optimizer, dir =>
        {
            if (Hyperparameters.Lora is not null) LoraAdapter.LoadWeights(model, Safetensors.Read(Path.Combine(dir, AdapterWeightsFile)));
            else HfCheckpoint.LoadWeights(model, dir);
        });

    /// <summary>
    /// The trained model as a Hugging Face directory (LoRA merged in) with its tokenizer, written atomically; in float32
    /// unless told, so the job's metrics describe the delivered weights: an fp32 run's are what it trained and evaluated
    /// (a bfloat16 base is delivered in float32, as transformers' Trainer saves a model trained in float32); a bf16 run's
    /// are its bf16 weights widened without rounding (not the optimizer's float32 masters), those it evaluated in bf16.
    /// </summary>
    public void SaveModel(string directory, ScalarType dtype = ScalarType.Float32)
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
