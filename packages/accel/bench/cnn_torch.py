"""The tfjs MNIST-tutorial convnet in PyTorch, one Adam training step at a time, for bench/conv-step.ts.

conv(8, 5x5, relu) - maxpool 2 - conv(16, 5x5, relu) - maxpool 2 - flatten - dense(10), softmax
cross-entropy, Adam(1e-3), 28x28x1 inputs (NCHW here; the tfjs side is NHWC, the arithmetic is the same).

Server mode (what conv-step.ts uses, so that rows interleave in one run): reads lines
`step N` on stdin, runs N timed steps, answers one JSON line {"wall_ms": [...], "cpu_ms": [...]}.
`quit` ends. Standalone: `python3 cnn_torch.py --steps 20` prints the same JSON once.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5)
        self.conv2 = nn.Conv2d(8, 16, 5)
        self.head = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2, 2)
        return self.head(torch.flatten(x, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=0, help="standalone: timed steps (0: server mode on stdin)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ConvNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    def timed(n):
        wall, cpu = [], []
        for _ in range(n):
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            wall.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
        return {"wall_ms": wall, "cpu_ms": cpu, "torch": torch.__version__, "threads": torch.get_num_threads()}

    for _ in range(3):
        step()  # warm-up
    if a.steps:
        print(json.dumps(timed(a.steps)), flush=True)
        return
    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if not cmd or cmd[0] == "quit":
            break
        print(json.dumps(timed(int(cmd[1]))), flush=True)


if __name__ == "__main__":
    main()
