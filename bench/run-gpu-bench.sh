#!/usr/bin/env bash
# run-gpu-bench.sh — every benchmark on a GPU machine, all tables into one folder.
#
#   bench/run-gpu-bench.sh RESULTS_DIR [BUNDLE]
#
# Needs: an NVIDIA GPU with its driver, nvcc, cmake, a C++ compiler; for the comparisons a CUDA build
# of PyTorch with transformers (5.x) — and mamba_ssm for the selective-scan comparison (bench/README.md).
# No .NET SDK: BUNDLE (a folder or .tar.gz made by `./build.sh bundle`, default
# artifacts/gpu-bundle.tar.xz) brings a .NET runtime and the published bench app (bench/), plus
# OpenBLAS for machines without it. No network is used.
#
# Steps (each one's log is in RESULTS_DIR; a failing step is reported and the others still run):
#   1. native build for this GPU with -DNM_BUILD_BENCH=ON (build/gpu-bench, NM_BUILD_DIR overrides)
#   2. kernel benchmarks: selective_scan_bench, attention_bench (via `nativemodels-bench kernels`),
#      then selective_scan_vs_mamba_ssm.py and attention_vs_sdpa.py when their Python packages import
#   3. nativemodels-bench e2e for mamba and llama (bfloat16, CUDA), then e2e_vs_transformers.py --ours
#   4. RESULTS_DIR/summary.md: the machine and every table
#
# Environment: NM_CUDA_ARCHITECTURES (default native), NM_E2E_CONTEXTS (default 128,512,2048,8192,16384),
# NM_E2E_DECODE (default 64), NM_E2E_BATCH (default 1), NM_KERNELS_QUICK=1 (--quick kernel runs),
# PYTHON (default python3).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS="${1:?usage: bench/run-gpu-bench.sh RESULTS_DIR [BUNDLE]}"
BUNDLE="${2:-}"
BUILD_DIR="${NM_BUILD_DIR:-$ROOT/build/gpu-bench}"
CONTEXTS="${NM_E2E_CONTEXTS:-128,512,2048,8192,16384}"
DECODE="${NM_E2E_DECODE:-64}"
BATCH="${NM_E2E_BATCH:-1}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$RESULTS"
RESULTS="$(cd "$RESULTS" && pwd)"
SUMMARY="$RESULTS/summary.md"

log() { printf '\n==> %s\n' "$*"; }
STEPS=()
step() {  # step <name> <status> [note]
  STEPS+=("| $1 | $2 | ${3:-} |")
  printf '%-40s %s %s\n' "$1:" "$2" "${3:-}"
}

# ------------------------------------------------------------------ the bundle
source "$ROOT/scripts/gpu-bundle.sh"
BENCH_DLL=""
if [ -n "$BUNDLE_DIR" ] && [ -f "$BUNDLE_DIR/bench/nativemodels-bench.dll" ] && [ -x "$BUNDLE_DIR/dotnet/dotnet" ]; then
  export DOTNET_ROOT="$BUNDLE_DIR/dotnet" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  BENCH_DLL="$BUNDLE_DIR/bench/nativemodels-bench.dll"
fi
bench() { "$DOTNET_ROOT/dotnet" exec "$BENCH_DLL" "$@"; }

# ------------------------------------------------------------------- machine
log "machine"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
  echo "nvcc: $(nvcc --version 2>/dev/null | grep -oE 'release [0-9.]+' | head -1)"
  echo "CPU: $(nproc) cores"
  "$PYTHON" -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "| transformers", transformers.__version__)' 2>/dev/null \
    || echo "python: torch/transformers not importable"
} | tee "$RESULTS/machine.txt"

# ---------------------------------------------------------------- native build
log "native build (-DNM_BUILD_BENCH=ON) in $BUILD_DIR"
BUILT=0
if cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DNM_REQUIRE_CUDA=ON -DNM_BUILD_BENCH=ON \
     -DNM_CUDA_ARCHITECTURES="${NM_CUDA_ARCHITECTURES:-native}" "${CMAKE_EXTRA[@]}" >"$RESULTS/configure.log" 2>&1 \
   && cmake --build "$BUILD_DIR" -j"$(nproc)" --target nativemodels nativemodels_cuda selective_scan_bench attention_bench \
        >"$RESULTS/build.log" 2>&1; then
  BUILT=1; step "native build" ok "archs ${NM_CUDA_ARCHITECTURES:-native}"
else
  tail -30 "$RESULTS/configure.log" "$RESULTS/build.log" 2>/dev/null
  step "native build" FAILED "configure.log / build.log"
fi
export NATIVEMODELS_LIBRARY_PATH="$BUILD_DIR/lib"

# ------------------------------------------------------------ kernel benchmarks
if [ "$BUILT" = 1 ]; then
  log "kernel benchmarks"
  mkdir -p "$RESULTS/kernels"
  QUICK=(); [ "${NM_KERNELS_QUICK:-0}" = 1 ] && QUICK=(--quick)
  if [ -n "$BENCH_DLL" ]; then
    bench kernels --bin-dir "$BUILD_DIR/bin" --out-dir "$RESULTS/kernels" "${QUICK[@]}" >"$RESULTS/kernels.log" 2>&1
    rc=$?
  else  # no bundle: run the programs directly
    rc=0
    "$BUILD_DIR/bin/selective_scan_bench" --md "$RESULTS/kernels/ssm.md" --csv "$RESULTS/kernels/ssm.csv" "${QUICK[@]}" \
      >"$RESULTS/kernels.log" 2>&1 || rc=1
    "$BUILD_DIR/bin/attention_bench" --md "$RESULTS/kernels/attn.md" --csv "$RESULTS/kernels/attn.csv" "${QUICK[@]}" \
      >>"$RESULTS/kernels.log" 2>&1 || rc=1
  fi
  [ "$rc" = 0 ] && step "kernel benchmarks" ok || step "kernel benchmarks" FAILED "kernels.log"

  if [ -f "$RESULTS/kernels/ssm.csv" ] && "$PYTHON" -c 'import mamba_ssm' 2>/dev/null; then
    "$PYTHON" "$ROOT/bench/selective_scan_vs_mamba_ssm.py" --ours "$RESULTS/kernels/ssm.csv" \
      --md "$RESULTS/kernels/ssm_vs_mamba_ssm.md" >"$RESULTS/ssm_vs_mamba_ssm.log" 2>&1 \
      && step "selective scan vs mamba_ssm" ok || step "selective scan vs mamba_ssm" FAILED "ssm_vs_mamba_ssm.log"
  else
    step "selective scan vs mamba_ssm" skipped "mamba_ssm not importable or no ssm.csv"
  fi
  if [ -f "$RESULTS/kernels/attn.csv" ] && "$PYTHON" -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
    "$PYTHON" "$ROOT/bench/attention_vs_sdpa.py" --ours "$RESULTS/kernels/attn.csv" \
      --md "$RESULTS/kernels/attn_vs_sdpa.md" >"$RESULTS/attn_vs_sdpa.log" 2>&1 \
      && step "attention vs SDPA" ok || step "attention vs SDPA" FAILED "attn_vs_sdpa.log"
  else
    step "attention vs SDPA" skipped "no CUDA PyTorch or no attn.csv"
  fi
fi

# ------------------------------------------------------------------ end to end
log "end to end (contexts $CONTEXTS, $DECODE decode steps, batch $BATCH)"
HAVE_HF=0
"$PYTHON" -c 'import torch, transformers; assert torch.cuda.is_available()' 2>/dev/null && HAVE_HF=1
for arch in mamba llama; do
  ours="$RESULTS/e2e-$arch-bfloat16.md"
  if [ "$BUILT" = 1 ] && [ -n "$BENCH_DLL" ]; then
    bench e2e --arch "$arch" --backend cuda --dtype bfloat16 --contexts "$CONTEXTS" --decode-tokens "$DECODE" \
      --batch "$BATCH" --out "$ours" >"$RESULTS/e2e-$arch.log" 2>&1
    rc=$?
    case "$rc" in
      0) step "e2e $arch (NativeModels)" ok ;;
      3) step "e2e $arch (NativeModels)" skipped "architecture not in this build (e2e-$arch.log)" ;;
      *) step "e2e $arch (NativeModels)" FAILED "e2e-$arch.log" ;;
    esac
  else
    step "e2e $arch (NativeModels)" skipped "no native build or no bench app in the bundle"
  fi
  if [ "$HAVE_HF" = 1 ]; then
    OURS_ARG=(); [ -f "$ours" ] && OURS_ARG=(--ours "$ours")
    "$PYTHON" "$ROOT/bench/e2e_vs_transformers.py" --arch "$arch" --dtype bfloat16 --contexts "$CONTEXTS" \
      --decode-tokens "$DECODE" --batch "$BATCH" "${OURS_ARG[@]}" --md "$RESULTS/e2e-$arch-vs-transformers.md" \
      >"$RESULTS/e2e-$arch-vs-transformers.log" 2>&1 \
      && step "e2e $arch (transformers)" ok || step "e2e $arch (transformers)" FAILED "e2e-$arch-vs-transformers.log"
  else
    step "e2e $arch (transformers)" skipped "torch with CUDA / transformers not importable"
  fi
done

# --------------------------------------------------------------------- summary
{
  echo "# GPU benchmark results"
  echo
  sed 's/^/    /' "$RESULTS/machine.txt"
  echo
  echo "| step | status | note |"
  echo "| --- | --- | --- |"
  printf '%s\n' "${STEPS[@]}"
  for f in kernels/ssm.md kernels/ssm_vs_mamba_ssm.md kernels/attn.md kernels/attn_vs_sdpa.md \
           e2e-mamba-bfloat16.md e2e-mamba-vs-transformers.md e2e-llama-bfloat16.md e2e-llama-vs-transformers.md; do
    [ -f "$RESULTS/$f" ] || continue
    echo; echo "## $f"; echo
    cat "$RESULTS/$f"
  done
} >"$SUMMARY"
log "summary: $SUMMARY"
printf '%s\n' "${STEPS[@]}"
