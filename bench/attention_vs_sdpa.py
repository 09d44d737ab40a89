#!/usr/bin/env python3
"""attention_vs_sdpa.py — PyTorch scaled_dot_product_attention (flash and cuDNN
backends) on the prefill shapes of attention_bench, with the ratio to ours.

    python3 bench/attention_vs_sdpa.py [--ours attention.csv | --bench build/bench/bin/attention_bench]
                                        [--repeats 20] [--md FILE] [--quick]

Shapes (as attention_bench): bfloat16, head_dim 64 and 128, heads = 2048 / head_dim,
batch * L = 16384, causal and not. SDPA runs in its (B, H, L, Dh) layout on padded,
equal-length batches, which is exactly our varlen input with equal lengths.
FLOPs = 4 * L^2 * Dh * heads * batch, halved when causal. Timed with CUDA events,
median of --repeats after 3 warm-up calls. With --ours (a CSV written by
attention_bench --csv) or --bench (runs it), adds ours' TFLOP/s and
ratio = ours / SDPA (above 1: ours is faster).
"""
import argparse
import csv
import statistics
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel


def time_ms(fn, repeats):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def load_ours(path):
    ours = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            if row["kind"] == "prefill":
                ours[(int(row["head_dim"]), int(row["length"]), int(row["causal"]))] = float(row["tflops"])
    return ours


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ours", help="CSV from attention_bench --csv")
    ap.add_argument("--bench", help="path of attention_bench: run it and read its CSV")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--md")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()

    ours = {}
    if args.bench:
        with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
            cmd = [args.bench, "--csv", tmp.name] + (["--quick"] if args.quick else [])
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            ours = load_ours(tmp.name)
    elif args.ours:
        ours = load_ours(args.ours)

    lengths = [512, 2048] if args.quick else [512, 1024, 2048, 4096, 8192, 16384]
    backends = [("flash", SDPBackend.FLASH_ATTENTION)]
    if hasattr(SDPBackend, "CUDNN_ATTENTION"):
        backends.append(("cudnn", SDPBackend.CUDNN_ATTENTION))
    tokens = 16384
    lines = ["| Dh | L | batch | causal | backend | ms | TFLOP/s | ours TFLOP/s | ours / SDPA |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for d in (64, 128):
        heads = 2048 // d
        for L in lengths:
            B = tokens // L
            q, k, v = (torch.randn(B, heads, L, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
            for causal in (0, 1):
                flops = 4.0 * L * L * d * heads * B / (2 if causal else 1)
                mine = ours.get((d, L, causal))
                for name, backend in backends:
                    try:
                        with sdpa_kernel(backend):
                            ms = time_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=bool(causal)),
                                         args.repeats)
                    except RuntimeError as e:  # backend unavailable for this shape/GPU
                        lines.append(f"| {d} | {L} | {B} | {causal} | {name} | n/a | n/a | | {str(e)[:40]} |")
                        continue
                    tflops = flops / (ms * 1e9)
                    ratio = f"{mine / tflops:.2f}" if mine else ""
                    lines.append(f"| {d} | {L} | {B} | {causal} | {name} | {ms:.3f} | {tflops:.1f} | "
                                 f"{mine if mine else ''} | {ratio} |")
                    print(lines[-1], file=sys.stderr)
    table = "\n".join(lines) + "\n"
    print(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}\n\n{table}")
    if args.md:
        with open(args.md, "w") as f:
            f.write(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}\n\n{table}")


if __name__ == "__main__":
    main()
