"""Speed of the architectures: training windows/s (PyTorch) and inference ms/window (onnxruntime).

    python -m csi_edge.tools.train.speed [--arch compact efficientnetv2s] [--seconds 20] [--threads 2]

Training: full steps (forward, joint loss, backward, AdamW) on random batches of 32 windows of
1 x 52 x 351, torch threads as given, for --seconds each. Inference: the exported ONNX model in
onnxruntime with ONE intra-op thread, batch 1, median over repeated runs after a warm-up.
Prints one JSON object; the numbers depend on the load of the machine (reported with them).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def train_rate(arch: str, seconds: float, threads: int, batch: int = 32) -> dict:
    import torch

    from csi_edge.tools.train.loop import joint_loss
    from csi_edge.tools.train.nets import build_net

    torch.manual_seed(0)
    torch.set_num_threads(threads)
    net = build_net(arch, 4).train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 52, 351)
    y = torch.randint(0, 4, (batch,))
    pos = torch.randn(batch, 3)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n == 0:
        logits, p = net(x)
        loss = joint_loss(logits, p, y, pos, 0.4)
        opt.zero_grad()
        loss.backward()
        opt.step()
        n += batch
    elapsed = time.perf_counter() - t0
    return {"params": sum(p.numel() for p in net.parameters()), "train_windows_per_s": round(n / elapsed, 1), "train_windows": n}


def ort_latency(arch: str, repeats: int = 200) -> dict:
    import torch

    from csi_edge.model.card import FeatureSpec, ModelCard, standard_heads
    from csi_edge.tools.train.evaluate import ort_session
    from csi_edge.tools.train.export import export_onnx
    from csi_edge.tools.train.nets import JointModel, build_net

    card = ModelCard("speed", "speed.onnx", "", 351, 10, standard_heads(("a", "b", "c", "d")), FeatureSpec())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speed.onnx"
        torch.manual_seed(0)
        export_onnx(JointModel(build_net(arch, 4)).eval(), card, path)
        size = path.stat().st_size
        session = ort_session(path, threads=1)
        x = np.random.default_rng(0).random((1, 1, 52, 351), dtype=np.float32)
        for _ in range(10):
            session.run(None, {"csi": x})
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            session.run(None, {"csi": x})
            times.append(time.perf_counter() - t)
    return {"onnx_bytes": size, "ort_ms_per_window_1thread": round(1e3 * float(np.median(times)), 3)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", nargs="+", default=["compact", "efficientnetv2s"])
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    out = {"cpus": os.cpu_count(), "load_average": [round(v, 2) for v in os.getloadavg()], "torch_threads": args.threads}
    for arch in args.arch:
        out[arch] = {**train_rate(arch, args.seconds, args.threads), **ort_latency(arch, 200 if arch == "compact" else 30)}
    out["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
