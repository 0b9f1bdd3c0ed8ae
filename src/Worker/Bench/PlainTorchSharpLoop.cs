using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TuningService.Worker.Bench;

/// <summary>
/// The baseline for <c>bench --plain</c>: a textbook TorchSharp GPT-2 (nn.Linear, full (B, T, V) logits,
/// torch.optim.AdamW, clip_grad_norm_) trained on the same random tokens. Shares no code with the engine.
/// </summary>
internal static class PlainTorchSharpLoop
{
    public static (double MedianStepSeconds, double MedianStepCpuSeconds, double TokensPerSecond, long Parameters) Run(int layers, int dim, int heads, int vocab, int seq, int batch, int steps)
    {
        manual_seed(1);
        var model = new PlainGpt(layers, dim, heads, vocab, seq);
        var optimizer = optim.AdamW(model.parameters(), 1e-4, weight_decay: 0.0);
        var data = randint(0, vocab, [steps, batch, seq + 1]);
        var times = new List<double>();
        var cpuTimes = new List<double>();
        for (int step = 0; step < steps; step++)
        {
            var clock = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            using (var scope = NewDisposeScope())
            {
                var x = data[step, .., ..seq];
                var y = data[step, .., 1..];
                var logits = model.forward(x);                                                 // (B, T, V)
                var loss = F.cross_entropy(logits.view(-1, vocab), y.reshape(-1));
                optimizer.zero_grad();
                loss.backward();
                nn.utils.clip_grad_norm_(model.parameters(), 1.0);
                optimizer.step();
                loss.item<float>();
            }
            times.Add(clock.Elapsed.TotalSeconds);
            cpuTimes.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
        }
        var timed = times.Skip(1).Order().ToList();
        var cpuTimed = cpuTimes.Skip(1).Order().ToList();
        return (timed[timed.Count / 2], cpuTimed[cpuTimed.Count / 2], batch * seq / (timed.Sum() / timed.Count), model.parameters().Sum(p => p.numel()));
    }

    private sealed class PlainGpt : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding tokens, positions;
        private readonly ModuleList<PlainBlock> blocks;
        private readonly LayerNorm norm;

        public PlainGpt(int layers, int dim, int heads, int vocab, int seq) : base(nameof(PlainGpt))
        {
            tokens = nn.Embedding(vocab, dim);
            positions = nn.Embedding(seq, dim);
            blocks = new ModuleList<PlainBlock>(Enumerable.Range(0, layers).Select(_ => new PlainBlock(dim, heads)).ToArray());
            norm = nn.LayerNorm(dim);
            RegisterComponents();
        }

        public override Tensor forward(Tensor ids)
        {
            var x = tokens.forward(ids) + positions.forward(arange(ids.shape[1]));
            foreach (var block in blocks) x = block.forward(x);
            return F.linear(norm.forward(x), tokens.weight!);
        }
    }

    private sealed class PlainBlock : nn.Module<Tensor, Tensor>
    {
        private readonly LayerNorm ln1, ln2;
        private readonly Linear qkv, proj, fc, fcProj;
        private readonly int heads;

        public PlainBlock(int dim, int heads) : base(nameof(PlainBlock))
        {
            ln1 = nn.LayerNorm(dim);
            ln2 = nn.LayerNorm(dim);
            qkv = nn.Linear(dim, 3 * dim);
            proj = nn.Linear(dim, dim);
            fc = nn.Linear(dim, 4 * dim);
            fcProj = nn.Linear(4 * dim, dim);
            this.heads = heads;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            long b = x.shape[0], t = x.shape[1], c = x.shape[2];
            var parts = qkv.forward(ln1.forward(x)).split(c, 2);
            var q = parts[0].view(b, t, heads, c / heads).transpose(1, 2);
            var k = parts[1].view(b, t, heads, c / heads).transpose(1, 2);
            var v = parts[2].view(b, t, heads, c / heads).transpose(1, 2);
            var y = F.scaled_dot_product_attention(q, k, v, null, 0.0, true).transpose(1, 2).reshape(b, t, c);
            x = x + proj.forward(y);
            return x + fcProj.forward(F.gelu(fc.forward(ln2.forward(x)), GELU.Approximate.tanh));
        }
    }
}
