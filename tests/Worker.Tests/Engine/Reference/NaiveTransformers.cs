using static TorchSharp.torch;

namespace TuningService.Worker.Tests.Engine.Reference;

/// <summary>
/// Straight-line re-implementations of GPT-2 and Llama forward passes over raw HF-named tensors, written from the
/// papers/HF modeling code and sharing nothing with the engine: explicit softmax attention, explicit rotary pairs.
/// </summary>
public static class NaiveTransformers
{
    /// <summary>GPT-2 logits (T, V) for one sequence; weights in HF layout (Conv1D = (in, out)), keys without prefix.</summary>
    public static Tensor Gpt2Logits(IReadOnlyDictionary<string, Tensor> w, long[] ids, int layers, int heads, double eps = 1e-5)
    {
        int t = ids.Length;
        var x = w["wte.weight"][tensor(ids)] + w["wpe.weight"][arange(t)];           // (T, C)
        for (int l = 0; l < layers; l++)
        {
            string p = $"h.{l}.";
            var h = LayerNorm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps);
            var qkv = h.matmul(w[p + "attn.c_attn.weight"]) + w[p + "attn.c_attn.bias"];
            long c = x.shape[1];
            var y = Attention(qkv[.., ..(int)c], qkv[.., (int)c..(int)(2 * c)], qkv[.., (int)(2 * c)..], heads, heads);
            x = x + y.matmul(w[p + "attn.c_proj.weight"]) + w[p + "attn.c_proj.bias"];
            h = LayerNorm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps);
            var m = h.matmul(w[p + "mlp.c_fc.weight"]) + w[p + "mlp.c_fc.bias"];
            m = 0.5 * m * (1 + tanh(Math.Sqrt(2 / Math.PI) * (m + 0.044715 * m.pow(3))));
            x = x + m.matmul(w[p + "mlp.c_proj.weight"]) + w[p + "mlp.c_proj.bias"];
        }
        x = LayerNorm(x, w["ln_f.weight"], w["ln_f.bias"], eps);
        return x.matmul(w["wte.weight"].t());
    }

    /// <summary>Llama logits (T, V); Linear weights are (out, in); biases on q/k/v when present; lm_head if untied.</summary>
    public static Tensor LlamaLogits(IReadOnlyDictionary<string, Tensor> w, long[] ids, int layers, int heads, int kvHeads, double theta, double eps)
        => LlamaLogits(w, ids, layers, heads, kvHeads, eps, i => Math.Pow(theta, -2.0 * i), 1.0, window: null);

    /// <summary>
    /// The same with the rotary frequency of pair i given as a function of i / D (<paramref name="inverseFrequency"/>),
    /// cos and sin scaled by <paramref name="attentionFactor"/>, q_norm / k_norm per head where the weights have them,
    /// and a sliding window (each query sees at most <paramref name="window"/> keys, itself included).
    /// </summary>
    public static Tensor LlamaLogits(IReadOnlyDictionary<string, Tensor> w, long[] ids, int layers, int heads, int kvHeads, double eps,
        Func<double, double> inverseFrequency, double attentionFactor, int? window)
    {
        int t = ids.Length;
        var x = w["model.embed_tokens.weight"][tensor(ids)];                           // (T, C)
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            var h = Rms(x, w[p + "input_layernorm.weight"], eps);
            Tensor Proj(string name) => h.matmul(w[p + name + ".weight"].t()) + (w.TryGetValue(p + name + ".bias", out var b) ? b : zeros(1));
            var q = Proj("self_attn.q_proj");
            var k = Proj("self_attn.k_proj");
            var v = Proj("self_attn.v_proj");
            int d = (int)(q.shape[1] / heads);
            if (w.TryGetValue(p + "self_attn.q_norm.weight", out var qNorm))
            {
                q = Rms(q.view(t, heads, d), qNorm, eps).view(t, heads * d);
                k = Rms(k.view(t, kvHeads, d), w[p + "self_attn.k_norm.weight"], eps).view(t, kvHeads * d);
            }
            q = Rotate(q, heads, d, inverseFrequency, attentionFactor);
            k = Rotate(k, kvHeads, d, inverseFrequency, attentionFactor);
            var y = Attention(q, k, v, heads, kvHeads, window);
            x = x + y.matmul(w[p + "self_attn.o_proj.weight"].t());
            h = Rms(x, w[p + "post_attention_layernorm.weight"], eps);
            var gate = h.matmul(w[p + "mlp.gate_proj.weight"].t());
            var up = h.matmul(w[p + "mlp.up_proj.weight"].t());
            x = x + (gate * sigmoid(gate) * up).matmul(w[p + "mlp.down_proj.weight"].t());
        }
        x = Rms(x, w["model.norm.weight"], eps);
        var head = w.TryGetValue("lm_head.weight", out var lm) ? lm : w["model.embed_tokens.weight"];
        return x.matmul(head.t());
    }

    /// <summary>
    /// Gemma 2 logits (T, V), read from the paper and transformers' modeling_gemma2: embeddings × √C; RMSNorm
    /// weights as offsets from 1; norms before and after attention and the GeGLU MLP; scores scaled by
    /// query_pre_attn_scalar^−½ and soft-capped (cap · tanh(s / cap)); even layers attend within a sliding window;
    /// tied head; logits soft-capped.
    /// </summary>
    public static Tensor Gemma2Logits(IReadOnlyDictionary<string, Tensor> w, long[] ids, int layers, int heads, int kvHeads, int d,
        double theta, double eps, double queryScalar, double attentionCap, double finalCap, int window)
    {
        int t = ids.Length;
        Tensor Norm(Tensor x, string name) => x / (x.pow(2).mean([-1], keepdim: true) + eps).sqrt() * (1 + w[name]);
        var x = w["model.embed_tokens.weight"][tensor(ids)] * Math.Sqrt(w["model.embed_tokens.weight"].shape[1]); // (T, C)
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            var h = Norm(x, p + "input_layernorm.weight");
            var q = Rotate(h.matmul(w[p + "self_attn.q_proj.weight"].t()), heads, d, r => Math.Pow(theta, -2 * r), 1.0);
            var k = Rotate(h.matmul(w[p + "self_attn.k_proj.weight"].t()), kvHeads, d, r => Math.Pow(theta, -2 * r), 1.0);
            var v = h.matmul(w[p + "self_attn.v_proj.weight"].t());
            var outputs = new List<Tensor>();
            for (int head = 0; head < heads; head++)
            {
                int kv = head / (heads / kvHeads);
                var scores = q[.., (head * d)..((head + 1) * d)].matmul(k[.., (kv * d)..((kv + 1) * d)].t()) / Math.Sqrt(queryScalar);
                scores = (scores / attentionCap).tanh() * attentionCap;
                scores = scores.masked_fill(ones(t, t, ScalarType.Bool).triu(1), double.NegativeInfinity);
                if (l % 2 == 0) scores = scores.masked_fill(ones(t, t, ScalarType.Bool).tril(-window), double.NegativeInfinity);
                outputs.Add(scores.softmax(-1).matmul(v[.., (kv * d)..((kv + 1) * d)]));
            }
            x = x + Norm(cat(outputs, 1).matmul(w[p + "self_attn.o_proj.weight"].t()), p + "post_attention_layernorm.weight");
            h = Norm(x, p + "pre_feedforward_layernorm.weight");
            var gate = h.matmul(w[p + "mlp.gate_proj.weight"].t());
            var gelu = 0.5 * gate * (1 + (Math.Sqrt(2 / Math.PI) * (gate + 0.044715 * gate.pow(3))).tanh());
            x = x + Norm((gelu * h.matmul(w[p + "mlp.up_proj.weight"].t())).matmul(w[p + "mlp.down_proj.weight"].t()), p + "post_feedforward_layernorm.weight");
        }
        var logits = Norm(x, "model.norm.weight").matmul(w["model.embed_tokens.weight"].t());
        return (logits / finalCap).tanh() * finalCap;
    }

    private static Tensor LayerNorm(Tensor x, Tensor weight, Tensor bias, double eps)
    {
        var mean = x.mean([-1], keepdim: true);
        var variance = (x - mean).pow(2).mean([-1], keepdim: true);
        return (x - mean) / (variance + eps).sqrt() * weight + bias;
    }

    private static Tensor Rms(Tensor x, Tensor weight, double eps) => x / (x.pow(2).mean([-1], keepdim: true) + eps).sqrt() * weight;

    /// <summary>Rotate-half rotary: pair (i, i + d/2) of each head rotated by angle pos · f(i/d), scaled by <paramref name="factor"/>.</summary>
    private static Tensor Rotate(Tensor x, int heads, int d, Func<double, double> inverseFrequency, double factor)
    {
        long t = x.shape[0];
        var data = x.to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var result = new double[data.Length];
        for (int pos = 0; pos < t; pos++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < d / 2; i++)
                {
                    double angle = pos * inverseFrequency((double)i / d), cos = Math.Cos(angle) * factor, sin = Math.Sin(angle) * factor;
                    int a = (int)(pos * heads * d + h * d + i), b = a + d / 2;
                    result[a] = data[a] * cos - data[b] * sin;
                    result[b] = data[b] * cos + data[a] * sin;
                }
        return tensor(result, x.shape).to(x.dtype);
    }

    /// <summary>Causal softmax attention; query head h reads key/value head h / (heads / kvHeads).</summary>
    private static Tensor Attention(Tensor q, Tensor k, Tensor v, int heads, int kvHeads, int? window = null)
    {
        long t = q.shape[0];
        int d = (int)(q.shape[1] / heads);
        var outputs = new List<Tensor>();
        for (int h = 0; h < heads; h++)
        {
            int kv = h / (heads / kvHeads);
            var qh = q[.., (h * d)..((h + 1) * d)];
            var kh = k[.., (kv * d)..((kv + 1) * d)];
            var vh = v[.., (kv * d)..((kv + 1) * d)];
            var scores = qh.matmul(kh.t()) / Math.Sqrt(d);                            // (T, T)
            scores = scores.masked_fill(ones(t, t, ScalarType.Bool).triu(1), double.NegativeInfinity);
            if (window is int span) scores = scores.masked_fill(ones(t, t, ScalarType.Bool).tril(-span), double.NegativeInfinity);
            outputs.Add(scores.softmax(-1).matmul(vh));
        }
        return cat(outputs, 1);
    }
}
