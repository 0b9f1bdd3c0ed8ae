namespace TuningService.Domain.Models;

/// <summary>
/// Dimensions of a built-in preset. Both sides read them: the API lists the preset, the worker's TorchSharp engine
/// builds it (random init, GPT-2 tokenizer) from exactly these numbers.
/// </summary>
public sealed record BaseModelPreset(
    string Id,
    string Architecture,
    string Description,
    int VocabSize,
    int ContextLength,
    int NLayer,
    int NEmbd,
    int NHead,
    int NKvHead,
    int IntermediateSize,
    bool TieWordEmbeddings)
{
    public int HeadDim => NEmbd / NHead;

    /// <summary>Trainable parameters, counted like the reference implementation (tied lm_head counted once).</summary>
    public long ParameterCount
    {
        get
        {
            long v = VocabSize, c = NEmbd, l = NLayer, f = IntermediateSize, kv = (long)NKvHead * HeadDim;
            var lmHead = TieWordEmbeddings ? 0 : v * c;
            return Architecture switch
            {
                // wte + wpe + per block (ln_1, c_attn, c_proj, ln_2, c_fc, mlp.c_proj) + ln_f; biases everywhere.
                "gpt2" => v * c + (long)ContextLength * c
                          + l * (2 * c + (c * 3 * c + 3 * c) + (c * c + c) + 2 * c + (c * f + f) + (f * c + c))
                          + 2 * c + lmHead,
                // embed + per layer (q, k, v, o, gate, up, down, 2 RMSNorm) + final norm; no biases.
                "llama" => v * c + l * (c * c + 2 * c * kv + c * c + 3 * c * f + 2 * c) + c + lmHead,
                _ => 0,
            };
        }
    }
}

public static class BaseModelKinds
{
    public const string Preset = "base_preset";
    public const string Checkpoint = "base_checkpoint";
}
