using TorchSharp;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Models;

namespace TuningService.Worker.Tests.Engine;

/// <summary>Small shapes used across the engine tests.</summary>
public static class TinyModels
{
    public static ModelConfig Gpt2(int vocab = 97) => new()
    {
        Architecture = ModelArchitecture.Gpt2, ModelType = "gpt2", VocabSize = vocab, HiddenSize = 32, NumLayers = 2,
        NumHeads = 4, NumKeyValueHeads = 4, IntermediateSize = 128, MaxPositionEmbeddings = 64, BosTokenId = vocab - 1, EosTokenId = vocab - 1,
    };

    public static ModelConfig Llama(int vocab = 97, bool tied = false, bool bias = false, string type = "llama") => new()
    {
        Architecture = ModelArchitecture.Llama, ModelType = type, VocabSize = vocab, HiddenSize = 32, NumLayers = 2,
        NumHeads = 4, NumKeyValueHeads = 2, IntermediateSize = 48, MaxPositionEmbeddings = 128, NormEps = 1e-6,
        RopeTheta = 10000, TieWordEmbeddings = tied, AttentionBias = bias, BosTokenId = 1, EosTokenId = 2,
    };

    public static CausalLanguageModel Create(ModelConfig config, long seed = 1)
    {
        torch.manual_seed(seed);
        var model = HfCheckpoint.Create(config);
        model.InitializeWeights();
        return model;
    }
}
