using System.Text.Json.Nodes;
using TorchSharp;
using TorchSharp.Modules;
using TuningService.Worker.Engine.Checkpoints;
using TuningService.Worker.Engine.Models;
using TuningService.Worker.Engine.Tokenization;
using static TorchSharp.torch;

namespace TuningService.Worker.Engine.Rlhf;

/// <summary>
/// A transformer backbone with a scalar head, like Hugging Face's *ForSequenceClassification with num_labels 1:
/// the head <c>score</c> (Linear(C, 1), no bias) gives a value per position; a sequence's reward is the value where
/// transformers pools: its last token that is not <c>pad_token_id</c>. Used as the reward model and, initialised from
/// it, as PPO's value model.
/// </summary>
public sealed class RewardModel : nn.Module
{
    private const string ScoreWeight = "score.weight";
    private const string LanguageModelHead = "lm_head.weight";
    private readonly CausalLanguageModel backbone;
    private readonly Linear score;

    /// <summary>
    /// Wraps <paramref name="backbone"/> with a new head drawn from the global generator (std 0.02, as HF initialises it).
    /// <paramref name="padTokenId"/> is the pad id the exported config names (the tokenizer's), which decides where a
    /// sequence is scored; null scores at the last real token whatever it is (a value model, which scores every position).
    /// </summary>
    public RewardModel(CausalLanguageModel backbone, int? padTokenId) : base(nameof(RewardModel))
    {
        this.backbone = backbone;
        PadTokenId = padTokenId;
        score = nn.Linear(backbone.HiddenSize, 1, hasBias: false);
        using (no_grad()) nn.init.normal_(score.weight!, 0, 0.02);
        RegisterComponents();
    }

    public CausalLanguageModel Backbone => backbone;

    public int? PadTokenId { get; }

    /// <summary>
    /// Value at every position (B, T), in float32 whatever the model's precision (a bf16 model's hidden states and head are
    /// widened for the head's dot product). <paramref name="attentionMask"/> (B, T) is needed for left padding only.
    /// </summary>
    public Tensor Values(Tensor inputIds, Tensor? attentionMask = null)
    {
        var hidden = backbone.HiddenStates(inputIds, attentionMask);                                  // (B, T, C)
        if (hidden.dtype == ScalarType.Float32 && score.weight!.dtype == ScalarType.Float32) return score.forward(hidden).squeeze(-1);
        return nn.functional.linear(hidden.to(ScalarType.Float32), score.weight!.to(ScalarType.Float32)).squeeze(-1); // (B, T)
    }

    /// <summary>Reward of each sequence (B), given <paramref name="lastIndex"/> (B), the position of its last real token.</summary>
    public Tensor Rewards(Tensor inputIds, Tensor lastIndex, Tensor? attentionMask = null)
        => Values(inputIds, attentionMask).gather(1, ScoredIndex(inputIds, lastIndex).unsqueeze(1)).squeeze(1);

    /// <summary>
    /// Where AutoModelForSequenceClassification pools: the last token that is not the pad token. Most tokenizers have no
    /// pad of their own and use EOS, so a sequence closed by EOS is scored at the token before it (B).
    /// </summary>
    private Tensor ScoredIndex(Tensor inputIds, Tensor lastIndex)
    {
        if (PadTokenId is not int pad) return lastIndex;
        var lastIsPad = inputIds.gather(1, lastIndex.unsqueeze(1)).squeeze(1).eq(pad).to(ScalarType.Int64); // (B)
        return (lastIndex - lastIsPad).clamp_min(0);
    }

    /// <summary>This model as a <see cref="SequenceScorer"/> for PPO.</summary>
    public SequenceScorer AsScorer() => (ids, mask, last) => Rewards(ids, last, mask);

    /// <summary>
    /// Writes an HF sequence-classification directory: backbone weights plus <c>score.weight</c> in
    /// model.safetensors, config.json naming *ForSequenceClassification with num_labels 1 and pad_token_id, the tokenizer.
    /// </summary>
    public void SaveHf(string directory, TextTokenizer tokenizer)
    {
        HfCheckpoint.Save(backbone, directory, ScalarType.Float32, maxShardBytes: long.MaxValue);
        var file = Path.Combine(directory, "model.safetensors");
        var tensors = Safetensors.Read(file);
        tensors[ScoreWeight] = score.weight!.detach().cpu().to(ScalarType.Float32).contiguous(); // delivered in float32, as the backbone
        if (tensors.Remove(LanguageModelHead, out var head)) head.Dispose(); // *ForSequenceClassification has no lm_head
        Safetensors.Write(file, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        foreach (var t in tensors.Values) t.Dispose();

        var configPath = Path.Combine(directory, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["architectures"] = new JsonArray(backbone.Config.Architecture == ModelArchitecture.Gpt2
            ? "GPT2ForSequenceClassification" : "LlamaForSequenceClassification");
        config["num_labels"] = 1;
        config["id2label"] = new JsonObject { ["0"] = "LABEL_0" };
        config["label2id"] = new JsonObject { ["LABEL_0"] = 0 };
        config["pad_token_id"] = PadTokenId ?? tokenizer.PadId;
        File.WriteAllText(configPath, config.ToJsonString(new() { WriteIndented = true }));
        tokenizer.SaveTo(directory);
    }

    /// <summary>Loads a directory written by <see cref="SaveHf"/> (or any HF *ForSequenceClassification checkpoint with one label).</summary>
    public static RewardModel Load(string directory)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "config.json")))!.AsObject();
        int? pad = config["pad_token_id"] is JsonValue v && v.TryGetValue<int>(out var id) ? id : null;
        var model = new RewardModel(HfCheckpoint.Load(directory), pad);
        if (!model.LoadHead(directory)) throw new InvalidDataException($"{directory} has no {ScoreWeight}: it is not a reward model.");
        return model;
    }

    /// <summary>Copies <c>score.weight</c> from a model directory into the head; false when the directory has none (a plain LM).</summary>
    public bool LoadHead(string directory)
    {
        using var _ = no_grad();
        foreach (var file in HfCheckpoint.WeightFiles(directory))
        {
            var tensors = Safetensors.Read(file);
            bool found = tensors.TryGetValue(ScoreWeight, out var weight);
            if (found) score.weight!.copy_(weight!);
            foreach (var t in tensors.Values) t.Dispose();
            if (found) return true;
        }
        return false;
    }

    /// <summary>Whether a model directory holds a scalar head (a reward model) rather than a language model.</summary>
    public static bool IsRewardModelDirectory(string directory) => HfCheckpoint.IsSequenceClassification(directory);
}

/// <summary>Scores whole sequences (B): token ids (B, T), attention mask (B, T), position of each last real token (B).</summary>
public delegate Tensor SequenceScorer(Tensor inputIds, Tensor attentionMask, Tensor lastIndex);
