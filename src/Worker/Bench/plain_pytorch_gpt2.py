"""Plain PyTorch baseline for `bench`: the same GPT-2 shape trained on random tokens with torch.optim.AdamW.

Run with the system interpreter that has torch (Debian: apt-get install python3-torch):
  /usr/bin/python3 src/Worker/Bench/plain_pytorch_gpt2.py --layers 4 --dim 256 --heads 4 --vocab 50257 --seq 128 --batch 8 --steps 6 --threads 2
Prints one JSON line like the C# bench.
"""
import argparse, json, math, resource, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
for name, default in [("layers", 4), ("dim", 256), ("heads", 4), ("vocab", 50257), ("seq", 128), ("batch", 8), ("steps", 6), ("threads", 2)]:
    p.add_argument("--" + name, type=int, default=default)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)


class Block(nn.Module):
    def __init__(self, c, h):
        super().__init__()
        self.h, self.ln1, self.ln2 = h, nn.LayerNorm(c), nn.LayerNorm(c)
        self.qkv, self.proj, self.fc, self.fc_proj = nn.Linear(c, 3 * c), nn.Linear(c, c), nn.Linear(c, 4 * c), nn.Linear(4 * c, c)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, 2)
        q, k, v = (z.view(b, t, self.h, c // self.h).transpose(1, 2) for z in (q, k, v))
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch < 2.0
            att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
            att = att.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)
            y = att @ v
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.fc_proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(a.vocab, a.dim), nn.Embedding(a.seq, a.dim)
        self.blocks = nn.ModuleList([Block(a.dim, a.heads) for _ in range(a.layers)])
        self.ln = nn.LayerNorm(a.dim)

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for blk in self.blocks:
            x = blk(x)
        return F.linear(self.ln(x), self.wte.weight)


model = Gpt()
opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
data = torch.randint(0, a.vocab, (a.steps, a.batch, a.seq + 1))
times, cpu_times = [], []
for step in range(a.steps):
    t0, c0 = time.perf_counter(), time.process_time()
    logits = model(data[step, :, :-1])
    loss = F.cross_entropy(logits.reshape(-1, a.vocab), data[step, :, 1:].reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    loss.item()
    times.append(time.perf_counter() - t0)
    cpu_times.append(time.process_time() - c0)
timed = times[1:] or times
print(json.dumps({
    "baseline": "plain_pytorch_" + torch.__version__,
    "params": sum(p.numel() for p in model.parameters()),
    "tokens_per_s": round(a.batch * a.seq / (sum(timed) / len(timed)), 1),
    "median_step_s": round(statistics.median(timed), 4),
    "median_step_cpu_s": round(statistics.median(cpu_times[1:] or cpu_times), 4),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
}))
