#!/usr/bin/env python3
"""End-to-end prefill / decode throughput of Hugging Face transformers on the shapes of
`nativemodels-bench e2e` (random weights, no network), and optionally the ratio to our table.

    python3 bench/e2e_vs_transformers.py --arch mamba [--layers N] [--contexts 128,512,2048,8192,16384]
        [--decode-tokens 64] [--batch 1] [--dtype bfloat16] [--repeats 3] [--md out.md] [--ours results.md]

Shapes (must match bench/NativeModels.Bench/RandomCheckpoint.cs):
  mamba: Mamba-130m  -- hidden 768, 24 layers, state 16, conv 4, intermediate 1536 (expand 2), vocab 50280, tied
  llama: Llama-3.2-1B-like -- hidden 2048, 16 layers, 32 heads, 8 KV heads, head_dim 64, intermediate 8192,
         vocab 128256, rope_theta 500000 (no llama3 rope scaling), tied

What is timed (torch.cuda.synchronize around host wall-clock, median of --repeats after one warm-up):
  prefill = model.generate(prompt, max_new_tokens=1, min_new_tokens=1): prompt -> last-token logits -> greedy
            token, the same work as our prefill row.
  decode  = generate(prompt, max_new_tokens=N+1, min_new_tokens=N+1) minus the prefill time: N greedy decode steps
            with the cache (use_cache=True), like our N DecodeStep calls. decode tok/s = batch * N / that time.
Peak memory is torch.cuda.max_memory_allocated() over the context's runs (reset per context), weights included.

HF's Mamba uses the mamba_ssm / causal_conv1d CUDA kernels only when they are importable; otherwise it runs its
sequential PyTorch path, which is far slower. The table says which path ran ("fast path" column).

With --ours (the Markdown written by `nativemodels-bench e2e --out`), adds "ours / HF" columns: above 1 means
NativeModels is faster.
"""
import argparse
import inspect
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", choices=["mamba", "llama"], required=True)
    p.add_argument("--contexts", default="128,512,2048,8192,16384")
    p.add_argument("--decode-tokens", type=int, default=64)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--layers", type=int, default=None, help="shrink the model (same as nativemodels-bench --layers)")
    p.add_argument("--dtype", choices=["bfloat16", "float16", "float32"], default="bfloat16")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--attn", default="sdpa", help="llama attn_implementation (sdpa, eager, flash_attention_2)")
    p.add_argument("--md", default=None, help="also write the table here")
    p.add_argument("--ours", default=None, help="our results.md (nativemodels-bench e2e --out) for ratio columns")
    return p.parse_args()


def make_config(arch, layers):
    import transformers

    if arch == "mamba":
        cfg = transformers.MambaConfig(
            vocab_size=50280, hidden_size=768, state_size=16, num_hidden_layers=layers or 24, conv_kernel=4,
            expand=2, time_step_rank="auto", use_bias=False, use_conv_bias=True, residual_in_fp32=True,
            tie_word_embeddings=True, pad_token_id=0, bos_token_id=0, eos_token_id=0, layer_norm_epsilon=1e-5)
        return cfg, transformers.MambaForCausalLM
    kwargs = dict(
        vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=layers or 16,
        num_attention_heads=32, num_key_value_heads=8, head_dim=64, hidden_act="silu",
        max_position_embeddings=131072, rms_norm_eps=1e-5, attention_bias=False, mlp_bias=False,
        tie_word_embeddings=True, bos_token_id=128000, eos_token_id=128001, pad_token_id=128001)
    # transformers 5 names the rope settings rope_parameters; 4.x takes rope_theta / rope_scaling.
    if "rope_parameters" in inspect.signature(transformers.LlamaConfig.__init__).parameters:
        kwargs["rope_parameters"] = {"rope_type": "default", "rope_theta": 500000.0}
    else:
        kwargs["rope_theta"] = 500000.0
        kwargs["rope_scaling"] = None
    cfg = transformers.LlamaConfig(**kwargs)
    return cfg, transformers.LlamaForCausalLM


def mamba_fast_path():
    try:
        from transformers.models.mamba import modeling_mamba as mm
    except Exception:  # noqa: BLE001
        return "unknown"
    flag = getattr(mm, "is_fast_path_available", None)
    if isinstance(flag, bool):
        return "yes" if flag else "no (sequential PyTorch)"
    try:
        import causal_conv1d  # noqa: F401
        import mamba_ssm  # noqa: F401
        return "yes"
    except Exception:  # noqa: BLE001
        return "no (sequential PyTorch)"


def build_model(args, torch_dtype):
    import torch

    cfg, cls = make_config(args.arch, args.layers)
    if args.arch == "llama":
        cfg._attn_implementation = args.attn
    torch.manual_seed(args.seed)
    with torch.device("cuda"):
        model = cls(cfg)
    model = model.to(dtype=torch_dtype).eval()
    model.generation_config.do_sample = False
    model.generation_config.num_beams = 1
    model.generation_config.use_cache = True
    return cfg, model


def timed(fn, repeats):
    import torch

    fn()  # warm-up
    torch.cuda.synchronize()
    times = []
    for _ in range(max(1, repeats)):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(args):
    import torch
    import transformers

    if not torch.cuda.is_available():
        sys.exit("e2e_vs_transformers.py: needs a CUDA build of PyTorch and a GPU")
    torch_dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[args.dtype]
    contexts = sorted({int(c) for c in args.contexts.split(",") if c.strip()})
    cfg, model = build_model(args, torch_dtype)
    layers = cfg.num_hidden_layers
    weights = torch.cuda.memory_allocated()
    fast = mamba_fast_path() if args.arch == "mamba" else f"attn={args.attn}"
    gpu = torch.cuda.get_device_name(0)
    print(f"# transformers {transformers.__version__}, torch {torch.__version__}, {gpu}; "
          f"{args.arch} {layers} layers, {args.dtype}, batch {args.batch}; weights {weights / 2**20:.1f} MiB; "
          f"fast path: {fast}", file=sys.stderr)

    gen = torch.Generator(device="cpu").manual_seed(args.seed)
    rows = []
    for ctx in contexts:
        ids = torch.randint(0, cfg.vocab_size, (args.batch, ctx), generator=gen).to("cuda")
        mask = torch.ones_like(ids)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()

        def generate(n):
            with torch.inference_mode():
                out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n, min_new_tokens=n,
                                     do_sample=False, num_beams=1, use_cache=True)
            assert out.shape[1] == ctx + n, f"generate returned {out.shape[1] - ctx} new tokens, expected {n}"
            return out

        try:
            t_prefill = timed(lambda: generate(1), args.repeats)
            t_full = timed(lambda: generate(args.decode_tokens + 1), args.repeats)
        except torch.cuda.OutOfMemoryError:
            print(f"# context {ctx}: out of memory", file=sys.stderr)
            rows.append(dict(context=ctx, oom=True))
            continue
        t_decode = max(t_full - t_prefill, 1e-9)
        row = dict(context=ctx, oom=False,
                   prefill_tps=args.batch * ctx / t_prefill, prefill_ms=t_prefill * 1e3,
                   decode_tps=args.batch * args.decode_tokens / t_decode,
                   decode_ms=t_decode * 1e3 / args.decode_tokens,
                   peak_mib=torch.cuda.max_memory_allocated() / 2**20)
        print(f"# context {ctx}: prefill {row['prefill_ms']:.1f} ms, decode {row['decode_ms']:.2f} ms/step",
              file=sys.stderr)
        rows.append(row)

    ours = read_ours(args.ours, args.arch, args.batch) if args.ours else {}
    head = (f"transformers {transformers.__version__} (torch {torch.__version__}) — {args.arch}, {layers} layers, "
            f"{args.dtype}, batch {args.batch}, {args.decode_tokens} decode steps, {gpu}; fast path: {fast}")
    cols = ["arch", "dtype", "layers", "batch", "context", "HF prefill tok/s", "HF prefill ms", "HF decode tok/s",
            "HF decode ms/step", "HF peak MiB"]
    if ours:
        cols += ["ours prefill tok/s", "ours decode tok/s", "prefill ours / HF", "decode ours / HF"]
    lines = [head, "", "| " + " | ".join(cols) + " |", "|" + "|".join([" --- "] * 2 + [" ---: "] * (len(cols) - 2)) + "|"]
    for r in rows:
        base = [args.arch, args.dtype, str(layers), str(args.batch), str(r["context"])]
        if r["oom"]:
            cells = base + ["OOM"] * (len(cols) - len(base))
        else:
            cells = base + [f"{r['prefill_tps']:.1f}", f"{r['prefill_ms']:.2f}", f"{r['decode_tps']:.1f}",
                            f"{r['decode_ms']:.3f}", f"{r['peak_mib']:.1f}"]
            if ours:
                o = ours.get(r["context"])
                if o is None:
                    cells += ["-"] * 4
                else:
                    cells += [f"{o[0]:.1f}", f"{o[1]:.1f}", f"{o[0] / r['prefill_tps']:.2f}",
                              f"{o[1] / r['decode_tps']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "prefill: generate(max_new_tokens=1); decode: generate(N+1) - generate(1), per step; "
              "median of repeats after a warm-up, synchronised; ratios above 1: NativeModels is faster."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.md:
        with open(args.md, "w", encoding="utf-8") as f:
            f.write(text)


def read_ours(path, arch, batch):
    """{context: (prefill tok/s, decode tok/s)} from the table nativemodels-bench e2e writes."""
    result = {}
    header = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("|"):
                header = None if not line else header
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            if "context" in cells and "prefill tok/s" in cells:
                header = cells
                continue
            if header is None or set(cells[0]) <= set("-: "):
                continue
            row = dict(zip(header, cells))
            try:
                if row.get("arch") != arch or int(row.get("batch", batch)) != batch:
                    continue
                result[int(row["context"])] = (float(row["prefill tok/s"]), float(row["decode tok/s"]))
            except (KeyError, ValueError):
                continue
    if not result:
        print(f"# {path}: no {arch} rows with batch {batch} found", file=sys.stderr)
    return result


if __name__ == "__main__":
    run(parse_args())
