"""PyTorch counterpart of swin-step.ts: one forward + backward step (no optimizer update) of
torchvision's swin_t at 224², cross-entropy on random labels, train mode, float32; with
BENCH_CHILD=torch-w2a2-qkr the same model with the OFQ W2A2-QKR modules (swin_w2a2_qkr.py).

    /usr/bin/python3 bench/swin_step.py            (env: BENCH_BATCH=8, BENCH_STEPS=1, BENCH_THREADS=2)

Prints one line `RESULT {json}` (median step time after a one-micro-batch warm-up, peak RSS).
"""
import json
import os
import resource
import statistics
import time

import torch
import torchvision

BATCH = int(os.environ.get("BENCH_BATCH", "8"))
MICRO = int(os.environ.get("BENCH_MICRO", str(BATCH)))
STEPS = int(os.environ.get("BENCH_STEPS", "1"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))


def main() -> None:
    torch.set_num_threads(THREADS)
    torch.manual_seed(1)
    variant = os.environ.get("BENCH_CHILD", "torch-fp")
    if variant == "torch-w2a2-qkr":
        from swin_w2a2_qkr import quantized_swin_t
        model = quantized_swin_t(bits=2)
    else:
        model = torchvision.models.swin_t(num_classes=1000)
    model.train()
    chunks = BATCH // MICRO
    xs = [torch.randn(MICRO, 3, 224, 224) for _ in range(chunks)]
    ys = [torch.randint(0, 1000, (MICRO,)) for _ in range(chunks)]
    loss_fn = torch.nn.CrossEntropyLoss()

    def step() -> float:
        t0 = time.perf_counter()
        model.zero_grad(set_to_none=True)
        for x, y in zip(xs, ys):
            loss_fn(model(x), y).backward()
        return (time.perf_counter() - t0) * 1000

    loss_fn(model(xs[0]), ys[0]).backward()  # warm-up: one micro-batch
    ms = [step() for _ in range(STEPS)]
    print("RESULT " + json.dumps({
        "variant": variant, "backend": f"torch {torch.__version__} ({torch.get_num_threads()} threads)",
        "batch": BATCH, "microBatch": MICRO, "stepMs": ms, "medianMs": statistics.median(ms),
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
