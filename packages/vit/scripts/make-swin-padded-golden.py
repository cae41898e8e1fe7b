"""Writes golden/swin_padded_torchvision.json: torchvision's SwinTransformer (the architecture the OFQ
reference copied) in a configuration whose maps do NOT tile into windows, to pin down padding:
img 36, patch 2 -> 18x18 (padded to 21: 3x3 shifted windows), PatchMerging -> 9x9 (padded to 14: 2x2
shifted windows), odd PatchMerging 9 -> 10 -> 5x5 (padded to 7: one window, no shift).

    /usr/bin/python3 packages/vit/scripts/make-swin-padded-golden.py   (torchvision 0.14, CPU, float32)
"""
import json
import os
import struct

import torch
from torchvision.models.swin_transformer import SwinTransformer


def f32(v: float) -> float:
    return struct.unpack("f", struct.pack("f", v))[0]


def tensor(t: torch.Tensor) -> dict:
    t = t.detach().contiguous()
    if t.dtype in (torch.int64, torch.int32):
        return {"shape": list(t.shape), "dtype": "int32", "data": [int(v) for v in t.flatten().tolist()]}
    return {"shape": list(t.shape), "dtype": "float32", "data": [float(repr(f32(v))) for v in t.float().flatten().tolist()]}


def main() -> None:
    torch.manual_seed(3)
    cfg = dict(patch_size=[2, 2], embed_dim=8, depths=[2, 2, 2], num_heads=[1, 2, 2], window_size=[7, 7], stochastic_depth_prob=0.0, num_classes=5)
    model = SwinTransformer(**cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm.weight") or name == "features.0.2.weight":
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.05 * torch.randn_like(p))
            elif "relative_position_bias_table" in name:
                p.copy_(0.5 * torch.randn_like(p))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn_like(p) / fan_in ** 0.5)
    x = torch.randn(2, 3, 36, 36)
    feats = []
    hooks = [m.register_forward_hook(lambda _m, _i, o: feats.append(o)) for m in model.features]
    with torch.no_grad():
        logits = model(x)
    for h in hooks:
        h.remove()
    out = {
        "meta": {
            "generator": "packages/vit/scripts/make-swin-padded-golden.py",
            "torch": torch.__version__,
            "module": "torchvision.models.swin_transformer.SwinTransformer",
            "config": {**cfg, "img_size": 36, "norm": "LayerNorm(eps=1e-5)"},
            "description": "x [2,3,36,36]; eval logits; feature_outputs[i] = output of features[i], channels-last; state_dict in torchvision names (relative_position_index int32). Parameters re-drawn from seeded normals so every path matters.",
        },
        "state_dict": {k: tensor(v) for k, v in model.state_dict().items()},
        "x": tensor(x),
        "logits_eval": tensor(logits),
        "feature_outputs": [tensor(f) for f in feats],
    }
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "golden", "swin_padded_torchvision.json")
    with open(path, "w") as fh:
        json.dump(out, fh)
    print("wrote", os.path.normpath(path), [list(f.shape) for f in feats])


if __name__ == "__main__":
    main()
