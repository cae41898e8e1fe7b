"""A PyTorch counterpart of @ofq/vit's W2A2-QKR Swin-T for the step benchmark (swin_step.py imports it):
torchvision's swin_t with every module quantized the way docs/algorithm.md §4.4 and §5 describe the
reference (OFQ Swin): StatsQ weights (scale 2·mean|w| per output row, detached, straight-through),
LSQ activations with learnable shifts (round and step-gradient scale as straight-through detach
tricks), QKR in every window attention (merged per-head W_qk = Wq_hᵀ·Wk_h quantized, qkx = W_qk·x̂ᵀ
quantized, logits x̂·qkx + relative position bias + mask), quantized softmax and values, 8-bit patch
conv and head. It reproduces the reference's operations and tensor sizes for timing, not its exact
granularities of every step (those do not change the cost): it is not a golden reference.
"""
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.swin_transformer import PatchMerging, ShiftedWindowAttention


def _grad_scale(x, g):
    return (x - x * g).detach() + x * g


def _round_pass(x):
    return (x.round() - x).detach() + x


class LSQ(nn.Module):
    """Fake-quantizes x with a learnable step of shape `step_shape` (broadcast on x)."""

    def __init__(self, bits, step_shape, unsigned=False):
        super().__init__()
        self.qn, self.qp = (0, 2**bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        self.s = nn.Parameter(torch.full(step_shape, 0.05))

    def forward(self, x):
        g = 1.0 / (self.qp * x.numel() / self.s.numel()) ** 0.5
        s = _grad_scale(self.s, g).clamp(min=1e-5)
        return _round_pass((x / s).clamp(self.qn, self.qp)) * s


class ShiftedLSQ(nn.Module):
    def __init__(self, bits, channels, step_shape, unsigned=False):
        super().__init__()
        self.before = nn.Parameter(torch.zeros(channels))
        self.after = nn.Parameter(torch.zeros(channels))
        self.q = LSQ(bits, step_shape, unsigned)

    def forward(self, x):
        return self.q(x + self.before) + self.after


def statsq(w, bits):
    """StatsQ, one scale per row of a PyTorch weight (dim 0), straight-through to w."""
    n = 2 ** (bits - 1)
    s = (2 * w.abs().mean(dim=tuple(range(1, w.dim())), keepdim=True)).detach().clamp(min=1e-8)
    q = (torch.round((w / s).clamp(-1, 1 - 1e-6) * n - 0.5) + 0.5) / n * s
    return w + (q - w).detach()


class QLinear(nn.Module):
    def __init__(self, lin, bits, step_shape, unsigned=False, weight_bits=None, lsq_weight=False):
        super().__init__()
        self.weight = lin.weight
        self.bias = lin.bias if lin.bias is not None else nn.Parameter(torch.zeros(lin.out_features))
        self.act = ShiftedLSQ(bits, lin.in_features, step_shape, unsigned)
        self.weight_bits = weight_bits or bits
        self.wq = LSQ(self.weight_bits, (lin.out_features, 1)) if lsq_weight else None

    def forward(self, x):
        w = self.wq(self.weight) if self.wq is not None else statsq(self.weight, self.weight_bits)
        return F.linear(self.act(x), w, self.bias)


class QKRWindowAttention(nn.Module):
    """Replaces torchvision's ShiftedWindowAttention (same window partition, shift and mask)."""

    def __init__(self, fp: ShiftedWindowAttention, bits):
        super().__init__()
        c = fp.qkv.in_features
        self.fp, self.bits, self.heads, self.c = fp, bits, fp.num_heads, c
        n = fp.window_size[0] * fp.window_size[1]
        self.x_act = ShiftedLSQ(bits, c, (n, 1))
        self.qkx_act = ShiftedLSQ(bits, self.heads * c, (n * self.heads, 1))
        self.v_act = ShiftedLSQ(bits, c, (c,))
        self.softmax_act = LSQ(bits, (n, 1), unsigned=True)
        self.proj = QLinear(fp.proj, bits, (n, 1))

    def forward(self, x):
        fp, h, c = self.fp, self.heads, self.c
        ws, shift = fp.window_size, list(fp.shift_size)
        b, hh, ww, _ = x.shape
        if ws[0] >= hh:
            shift = [0, 0]
        if sum(shift) > 0:
            x = torch.roll(x, shifts=(-shift[0], -shift[1]), dims=(1, 2))
        nw = (hh // ws[0]) * (ww // ws[1])
        x = x.view(b, hh // ws[0], ws[0], ww // ws[1], ws[1], c).permute(0, 1, 3, 2, 4, 5).reshape(b * nw, ws[0] * ws[1], c)
        n = x.size(1)
        xq = self.x_act(x)
        wq, wk, wv = fp.qkv.weight.split(c, dim=0)  # [C_out, C_in] each
        d = c // h
        wqk = torch.einsum("hdi,hdj->hij", wq.view(h, d, c), wk.view(h, d, c)).reshape(h * c, c)  # (H·C, C) rows h·C+i
        wqk = statsq(wqk, self.bits)
        # keys mapped back to input space; the qkx LSQ runs per (token, head) on [B·nW, N·H, C]
        qa = self.qkx_act
        qkx = F.linear(xq, wqk) + qa.before
        qkx = (qa.q(qkx.view(b * nw, n * h, c)).view(b * nw, n, h * c) + qa.after).view(b * nw, n, h, c)
        attn = torch.einsum("bmc,blhc->bhml", xq, qkx) * d**-0.5
        attn = attn + fp.get_relative_position_bias()
        if sum(shift) > 0:
            mask = x.new_zeros((hh, ww))
            sl = ((0, -ws[0]), (-ws[0], -shift[0]), (-shift[0], None))
            count = 0
            for r in sl:
                for s_ in sl:
                    mask[r[0]:r[1], s_[0]:s_[1]] = count
                    count += 1
            mask = mask.view(hh // ws[0], ws[0], ww // ws[1], ws[1]).permute(0, 2, 1, 3).reshape(nw, n)
            mask = mask.unsqueeze(1) - mask.unsqueeze(2)
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
            attn = (attn.view(b, nw, h, n, n) + mask.unsqueeze(1).unsqueeze(0)).view(-1, h, n, n)
        probs = self.softmax_act(F.softmax(attn, dim=-1))
        v = self.v_act(F.linear(xq, statsq(wv, self.bits), fp.qkv.bias[2 * c:]))
        out = (probs @ v.view(b * nw, n, h, d).transpose(1, 2)).transpose(1, 2).reshape(b * nw, n, c)
        out = self.proj(out)
        out = out.view(b, hh // ws[0], ww // ws[1], ws[0], ws[1], c).permute(0, 1, 3, 2, 4, 5).reshape(b, hh, ww, c)
        if sum(shift) > 0:
            out = torch.roll(out, shifts=(shift[0], shift[1]), dims=(1, 2))
        return out


class QConv8(nn.Module):
    def __init__(self, conv):
        super().__init__()
        self.conv = conv
        self.act = LSQ(8, (1, conv.in_channels, 1, 1))
        self.wq = LSQ(8, (conv.out_channels, 1, 1, 1))

    def forward(self, x):
        return F.conv2d(self.act(x), self.wq(self.conv.weight), self.conv.bias, self.conv.stride)


def quantized_swin_t(bits=2, num_classes=1000, img=224):
    """torchvision swin_t with the OFQ W{bits}A{bits} QKR modules in place."""
    m = torchvision.models.swin_t(num_classes=num_classes)
    m.features[0][0] = QConv8(m.features[0][0])
    width = img // 4
    for i in range(1, 8):
        stage = m.features[i]
        if isinstance(stage, PatchMerging):
            stage.reduction = QLinear(stage.reduction, bits, ((width + 1) // 2, 1))
            width = (width + 1) // 2
            continue
        for blk in stage:
            blk.attn = QKRWindowAttention(blk.attn, bits)
            blk.mlp[0] = QLinear(blk.mlp[0], bits, (width, 1))
            blk.mlp[3] = QLinear(blk.mlp[3], bits, (width, 1), unsigned=True)
    m.head = QLinear(m.head, 8, (1,), weight_bits=8, lsq_weight=True)
    return m
