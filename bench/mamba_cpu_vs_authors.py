#!/usr/bin/env python3
"""Times the Mamba authors' model on the CPU, for comparison with `nativemodels-bench e2e --backend cpu`.

Usage: /usr/bin/python3 bench/mamba_cpu_vs_authors.py MAMBA_CHECKOUT EINOPS_CHECKOUT [--contexts 128,512]
           [--decode-tokens 16] [--threads N] [--ours OURS.md] [--md OUT.md]

The model is `MambaLMHeadModel` of state-spaces/mamba with the Mamba-130m shape of our e2e bench (hidden 768,
24 layers, state 16, conv 4, expand 2, vocab 50280, tied), random weights, float32, run through the package's
pure-PyTorch path exactly as tests/fixtures/mamba-authors/make_goldens.py sets it up (no Triton or CUDA on a CPU:
`selective_scan_ref` for prefill, `Mamba.step` for decoding). That is what both the authors' code and Hugging Face's
`MambaForCausalLM` (its `slow_forward`) run on a CPU.

Measured like the e2e bench: prefill = wall time of prompt -> last-token logits -> greedy token (median of
--repeats after a warm-up); decode = wall time per step of `forward(token, inference_params)` + argmax, right after
that prefill. With --ours (the markdown table of `nativemodels-bench e2e --arch mamba --backend cpu`) the table gains
the ratios ours / authors (above 1: NativeModels is faster).
"""

import argparse
import importlib.util
import pathlib
import statistics
import time

import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_golden_helpers():
    path = ROOT / "tests" / "fixtures" / "mamba-authors" / "make_goldens.py"
    spec = importlib.util.spec_from_file_location("mamba_authors_goldens", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ours_table(path):
    """context -> (prefill tok/s, decode tok/s) from the e2e bench's markdown table."""
    rows = {}
    for line in pathlib.Path(path).read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 9 and cells[0] == "mamba" and cells[5].isdigit():
            rows[int(cells[5])] = (float(cells[6]), float(cells[8]))
    return rows


@torch.no_grad()
def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mamba_checkout")
    parser.add_argument("einops_checkout")
    parser.add_argument("--contexts", default="128,512")
    parser.add_argument("--decode-tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--ours")
    parser.add_argument("--md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    helpers = load_golden_helpers()
    model_cls, config_cls = helpers.import_authors_model(pathlib.Path(args.mamba_checkout).resolve(),
                                                        pathlib.Path(args.einops_checkout).resolve())
    from mamba_ssm.utils.generation import InferenceParams

    torch.manual_seed(1234)
    config = config_cls(d_model=768, d_intermediate=0, n_layer=24, vocab_size=50280,
                        ssm_cfg={"layer": "Mamba1", "d_state": 16, "d_conv": 4, "expand": 2, "use_fast_path": False},
                        rms_norm=True, residual_in_fp32=True, fused_add_norm=False, pad_vocab_size_multiple=1,
                        tie_embeddings=True)
    model = model_cls(config).eval()

    def run(context):
        ids = torch.randint(0, 50280, (1, context))
        params = InferenceParams(max_seqlen=context + args.decode_tokens + 1, max_batch_size=1)
        start = time.perf_counter()
        logits = model(ids, inference_params=params, num_last_tokens=1).logits
        token = logits[:, -1].argmax(-1, keepdim=True)
        prefill = time.perf_counter() - start
        params.seqlen_offset += context
        start = time.perf_counter()
        for _ in range(args.decode_tokens):
            logits = model(token, inference_params=params).logits
            token = logits[:, -1].argmax(-1, keepdim=True)
            params.seqlen_offset += 1
        return prefill, (time.perf_counter() - start) / args.decode_tokens

    run(16)  # warm-up
    ours = ours_table(args.ours) if args.ours else {}
    lines = [
        f"Mamba authors' MambaLMHeadModel (pure-PyTorch path), Mamba-130m shape, float32, CPU, torch {torch.__version__}, "
        f"{args.threads} threads, {args.decode_tokens} decode steps",
        "",
        "| context | prefill tok/s | decode tok/s | decode ms/step | ours prefill / authors | ours decode / authors |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for context in [int(c) for c in args.contexts.split(",")]:
        runs = [run(context) for _ in range(args.repeats)]
        prefill = statistics.median(r[0] for r in runs)
        decode = statistics.median(r[1] for r in runs)
        prefill_tps, decode_tps = context / prefill, 1 / decode
        ratio_p = ratio_d = "—"
        if context in ours:
            ratio_p = f"{ours[context][0] / prefill_tps:.1f}"
            ratio_d = f"{ours[context][1] / decode_tps:.1f}"
        lines.append(f"| {context} | {prefill_tps:.1f} | {decode_tps:.1f} | {decode * 1000:.1f} | {ratio_p} | {ratio_d} |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.md:
        pathlib.Path(args.md).write_text(text)


if __name__ == "__main__":
    main()
