#!/usr/bin/env python3
"""Times mamba_ssm's CUDA selective scan (selective_scan_fn) on the shapes of
selective_scan_bench, for the ratio to nm_selective_scan. Runs on the GPU
machine; see bench/README.md for building mamba_ssm there.

  python3 bench/selective_scan_vs_mamba_ssm.py [--quick] [--repeats R] [--ours ours.csv] [--md FILE]

Same byte count and timing rule as selective_scan_bench: warm-up, then R
calls each followed by torch.cuda.synchronize(), timed with CUDA events,
median. mamba_ssm's layout is (B, D, L) / (B, G, N, L), so inputs are made in
that layout directly (no transposes are timed). With --ours (the CSV written
by `selective_scan_bench --csv`), a column gives ours / theirs time.
"""
import argparse
import csv

import torch

try:
    from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
except ImportError as e:  # pragma: no cover - depends on the GPU machine
    raise SystemExit(f"cannot import mamba_ssm ({e}); build it as bench/README.md says")


def bytes_moved(B, L, D, N, es):
    tokens = B * L * D
    return 4 * tokens * es + 2 * B * L * N * es + D * N * 4 + 2 * D * es + B * D * N * 4


def time_ms(fn, repeats):
    for _ in range(2):
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
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--ours", help="CSV from selective_scan_bench --csv")
    ap.add_argument("--md", help="write the Markdown table here too")
    args = ap.parse_args()

    ours = {}
    if args.ours:
        with open(args.ours) as f:
            for r in csv.DictReader(f):
                if r["op"] == "prefill":
                    ours[(r["dtype"], int(r["B"]), int(r["L"]), int(r["D"]), int(r["N"]))] = float(r["ms"])

    N = 16
    batches = [1, 4] if args.quick else [1, 4, 16]
    dims = [1536] if args.quick else [1536, 2560, 5120]
    lengths = [512, 2048] if args.quick else [512, 2048, 16384]
    dev = torch.device("cuda")
    lines = ["| dtype | B | L | D | N | mamba_ssm ms | GB/s | ours ms | ours / mamba_ssm |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, dtype in (("bfloat16", torch.bfloat16), ("float32", torch.float32)):
        es = torch.tensor([], dtype=dtype).element_size()
        for B in batches:
            for D in dims:
                for L in lengths:
                    nbytes = bytes_moved(B, L, D, N, es)
                    if nbytes > 24e9:
                        continue
                    g = torch.Generator(device=dev).manual_seed(0)
                    r = lambda *s, lo=-1.0, hi=1.0: (torch.rand(*s, device=dev, generator=g) * (hi - lo) + lo)
                    u = r(B, D, L).to(dtype)
                    delta = r(B, D, L, lo=-3.0, hi=0.5).to(dtype)
                    z = r(B, D, L, lo=-2.0, hi=2.0).to(dtype)
                    A = r(D, N, lo=-2.0, hi=-0.2)
                    Bm = r(B, 1, N, L).to(dtype)
                    Cm = r(B, 1, N, L).to(dtype)
                    Dv = r(D)                     # mamba_ssm takes D and delta_bias in float32
                    bias = r(D, lo=-0.5, hi=0.5)
                    fn = lambda: selective_scan_fn(u, delta, A, Bm, Cm, Dv, z, bias, delta_softplus=True,
                                                   return_last_state=True)
                    ms = time_ms(fn, args.repeats)
                    gbps = nbytes / (ms * 1e6)
                    mine = ours.get((name, B, L, D, N))
                    ratio = f"{mine / ms:.2f}" if mine else ""
                    lines.append(f"| {name} | {B} | {L} | {D} | {N} | {ms:.4f} | {gbps:.1f} | "
                                 f"{mine if mine else ''} | {ratio} |")
                    print(lines[-1], flush=True)
                    del u, delta, z, Bm, Cm
                    torch.cuda.empty_cache()
    table = "\n".join(lines) + "\n"
    print(table)
    if args.md:
        with open(args.md, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
