"""DeiT-Tiny (distilled, 224², patch 16) forward+backward timing in PyTorch, for bench/step.ts.

FP: timm's architecture written out (no timm needed). W2A2-QKR: the OFQ block structure of
docs/algorithm.md §4.2/§5 (StatsQ weights with a straight-through round, per-token / per-channel LSQ
activations with learnable steps and biases, the QKR product W_qk = Wq^T·Wk per head), enough
to time the same amount of work as the reference; it is not a numerics reference.

Prints one JSON line: {"stepMs": [...], "peakRssMiB": ...}.
"""
import argparse, json, math, os, resource, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def round_ste(x):
    return (x.round() - x).detach() + x


def statsq(w, bits):
    n = 2 ** (bits - 1)
    s = (2 * w.abs().mean(dim=1, keepdim=True)).clamp_min(1e-8).detach()
    v = (w / s).clamp(-1, 1 - 1e-6) * n - 0.5
    return s * (round_ste(v) + 0.5) / n


class Lsq(nn.Module):
    """LSQ over the last-but-one axis (per token) or the last axis (per channel)."""

    def __init__(self, size, bits, per_channel=False, unsigned=False):
        super().__init__()
        self.qn, self.qp = (0, 2 ** bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        self.per_channel = per_channel
        self.step = nn.Parameter(torch.full((size,), 0.1))

    def forward(self, x):
        s = self.step if self.per_channel else self.step[:, None]
        g = 1.0 / math.sqrt(x.numel() / s.numel() * self.qp)
        s = (s - s * g).detach() + s * g
        return round_ste((x / s).clamp(self.qn, self.qp)) * s


class QLinear(nn.Linear):
    def __init__(self, cin, cout, bits, tokens, unsigned=False):
        super().__init__(cin, cout)
        self.bits = bits
        self.b1 = nn.Parameter(torch.zeros(cin))
        self.b2 = nn.Parameter(torch.zeros(cin))
        self.q = Lsq(tokens, bits, unsigned=unsigned)

    def forward(self, x):
        return F.linear(self.b2 + self.q(x + self.b1), statsq(self.weight, self.bits), self.bias)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.h, self.d = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.h, self.d).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-2, -1)) * self.d ** -0.5
        return self.proj((a.softmax(-1) @ v).transpose(1, 2).reshape(B, N, C))


class QKRAttention(nn.Module):
    def __init__(self, dim, heads, bits, tokens):
        super().__init__()
        self.h, self.d, self.bits = heads, dim // heads, bits
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(dim, dim, bias=False)
        self.v = nn.Linear(dim, dim)
        self.xb1, self.xb2 = nn.Parameter(torch.zeros(dim)), nn.Parameter(torch.zeros(dim))
        self.xq = Lsq(tokens, bits)
        self.vb1, self.vb2 = nn.Parameter(torch.zeros(dim)), nn.Parameter(torch.zeros(dim))
        self.vq = Lsq(dim, bits, per_channel=True)
        self.kb1, self.kb2 = nn.Parameter(torch.zeros(heads * dim)), nn.Parameter(torch.zeros(heads * dim))
        self.kq = Lsq(tokens * heads, bits)
        self.pq = Lsq(tokens, bits, unsigned=True)
        self.proj = QLinear(dim, dim, bits, tokens)

    def forward(self, x):
        B, N, C = x.shape
        H, d = self.h, self.d
        xh = self.xb2 + self.xq(x + self.xb1)
        v = self.vb2 + self.vq(F.linear(xh, statsq(self.v.weight, self.bits), self.v.bias) + self.vb1)
        v = v.reshape(B, N, H, d).transpose(1, 2)
        wq = self.q.weight.reshape(H, d, C)
        wk = self.k.weight.reshape(H, d, C)
        wqk = statsq((wq.transpose(1, 2) @ wk).reshape(H * C, C), self.bits).reshape(H, C, C)
        qkx = torch.einsum('hij,bmj->bhim', wqk, xh)  # (B, H, C, N)
        qkx = qkx.permute(0, 3, 1, 2).reshape(B, N, H * C) + self.kb1
        qkx = self.kq(qkx.reshape(B, N * H, C)).reshape(B, N, H * C) + self.kb2
        qkx = qkx.reshape(B, N, H, C).permute(0, 2, 3, 1)
        a = (xh.unsqueeze(1) @ qkx) * d ** -0.5  # (B, H, N, N)
        p = a.softmax(-1)
        p = self.pq(p)  # per query token (axis -2), shared over heads
        return self.proj((p @ v).transpose(1, 2).reshape(B, N, C))


class Block(nn.Module):
    def __init__(self, dim, heads, quant, tokens, bits=2):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        if quant:
            self.attn = QKRAttention(dim, heads, bits, tokens)
            self.fc1 = QLinear(dim, 4 * dim, bits, tokens)
            self.fc2 = QLinear(4 * dim, dim, bits, tokens, unsigned=True)
        else:
            self.attn = Attention(dim, heads)
            self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x):
        x = x + self.attn(self.n1(x))
        return x + self.fc2(F.gelu(self.fc1(self.n2(x))))


class DeiT(nn.Module):
    def __init__(self, quant, dim=192, depth=12, heads=3, classes=1000):
        super().__init__()
        tokens = 14 * 14 + 2
        self.patch = nn.Conv2d(3, dim, 16, 16)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.dist = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, tokens, dim))
        self.blocks = nn.ModuleList([Block(dim, heads, quant, tokens) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head, self.head_dist = nn.Linear(dim, classes), nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        B = x.shape[0]
        x = torch.cat([self.cls.expand(B, -1, -1), self.dist.expand(B, -1, -1), x], 1) + self.pos
        for b in self.blocks:
            x = b(x)
        x = self.norm(x)
        return self.head(x[:, 0]), self.head_dist(x[:, 1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--model', default='fp', choices=['fp', 'w2a2-qkr'])
    ap.add_argument('--steps', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', os.cpu_count())))
    torch.manual_seed(0)
    model = DeiT(args.model != 'fp')
    x = torch.randn(args.batch, 3, 224, 224)
    y = torch.arange(args.batch) % 1000

    def step():
        model.zero_grad(set_to_none=True)
        c, d = model(x)
        ((F.cross_entropy(c, y) + F.cross_entropy(d, y)) / 2).backward()

    step()
    times, cpu = [], []
    for _ in range(args.steps):
        c0, t0 = time.process_time(), time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    print(json.dumps({'stepMs': times, 'cpuMs': cpu, 'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      'threads': torch.get_num_threads(), 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
