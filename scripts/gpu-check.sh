#!/usr/bin/env bash
# gpu-check.sh — builds the native code for this machine's GPU, runs the native
# (CTest) and managed (xunit) suites with the CUDA backend, and writes a report.
#
#   scripts/gpu-check.sh REPORT_DIR [BUNDLE]
#
# Needs: Linux, an NVIDIA GPU with its driver, nvcc, cmake, a C++ compiler.
# BUNDLE (a folder or .tar.gz made by `./build.sh bundle`, default
# artifacts/gpu-bundle.tar.xz if present) brings what such a machine may lack:
# a .NET runtime with the compiled test assemblies (no .NET SDK needed), and
# OpenBLAS/GoogleTest built for Debian 12 (used only where the machine has none).
# Writes REPORT_DIR/gpu-report.md and logs; ends with "N passed, N failed, N skipped".
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPORT_DIR="${1:?usage: scripts/gpu-check.sh REPORT_DIR [BUNDLE]}"
BUNDLE="${2:-}"
BUILD_DIR="${NM_BUILD_DIR:-$ROOT/build/gpu-check}"
mkdir -p "$REPORT_DIR"
REPORT_DIR="$(cd "$REPORT_DIR" && pwd)"
REPORT="$REPORT_DIR/gpu-report.md"

log() { printf '\n==> %s\n' "$*"; }
PASSED=0 FAILED=0 SKIPPED=0
ROWS=()
count() {  # count <suite> <passed> <failed> <skipped> [note]
  PASSED=$((PASSED + $2)); FAILED=$((FAILED + $3)); SKIPPED=$((SKIPPED + $4))
  ROWS+=("| $1 | $2 | $3 | $4 | ${5:-} |")
  printf '%-24s %4d passed, %4d failed, %4d skipped %s\n' "$1:" "$2" "$3" "$4" "${5:-}"
}
junit_sum() {  # sums attribute $2 over <testsuite> (or <assembly>) elements of file $1
  tr '\n\t' '  ' <"$1" | grep -oE "<(testsuite|assembly) [^>]*" | grep -oE " $2=\"[0-9]+\"" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}'
}

# ------------------------------------------------------------------ the bundle
source "$ROOT/scripts/gpu-bundle.sh"

# ------------------------------------------------------------------- the GPU
log "machine"
GPU_NAME="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"
DRIVER="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)"
NVCC_VERSION="$(nvcc --version 2>/dev/null | grep -oE 'release [0-9.]+' | head -1)"
echo "GPU: ${GPU_NAME:-none found}; driver: ${DRIVER:-?}; nvcc: ${NVCC_VERSION:-not found}"

# ---------------------------------------------------------------- native build
log "native build for this GPU in $BUILD_DIR"
ARCH="${NM_CUDA_ARCHITECTURES:-native}"
if cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DNM_REQUIRE_CUDA=ON \
     -DNM_CUDA_ARCHITECTURES="$ARCH" "${CMAKE_EXTRA[@]}" >"$REPORT_DIR/configure.log" 2>&1 \
   && cmake --build "$BUILD_DIR" -j"$(nproc)" >"$REPORT_DIR/build.log" 2>&1; then
  count "native build" 1 0 0 "archs: $ARCH"
  BUILT=1
else
  tail -40 "$REPORT_DIR/configure.log" "$REPORT_DIR/build.log" 2>/dev/null
  count "native build" 0 1 0 "see configure.log / build.log"
  BUILT=0
fi

# ---------------------------------------------------------------- native tests
if [ "$BUILT" = 1 ]; then
  log "native tests (CTest)"
  XML="$REPORT_DIR/ctest.xml"
  (cd "$BUILD_DIR" && ctest --timeout 900 -j4 --output-on-failure --output-junit "$XML") >"$REPORT_DIR/ctest.log" 2>&1
  tail -25 "$REPORT_DIR/ctest.log"
  if [ -f "$XML" ]; then
    t=$(junit_sum "$XML" tests); f=$(junit_sum "$XML" failures)
    s=$(( $(junit_sum "$XML" skipped) + $(junit_sum "$XML" disabled) ))
    count "native (ctest)" $((t - f - s)) "$f" "$s"
    # With a GPU in the machine, skipped CUDA tests mean the backend did not come up: that is a failure.
    if [ -n "$GPU_NAME" ] && grep -qE "CudaPlugin\.ProbeCountsDevices.*Skipped" "$REPORT_DIR/ctest.log"; then
      count "CUDA backend usable" 0 1 0 "a GPU is present but the CUDA tests were skipped; see ctest.log"
    elif [ -n "$GPU_NAME" ]; then
      count "CUDA backend usable" 1 0 0
    fi
  else
    count "native (ctest)" 0 1 0 "ctest wrote no results"
  fi
fi

# --------------------------------------------------------------- managed tests
TESTS_DLL="$BUNDLE_DIR/tests/NativeModels.Tests.dll"
if [ "$BUILT" = 1 ] && [ -n "$BUNDLE_DIR" ] && [ -f "$TESTS_DLL" ]; then
  log "managed tests (xunit) with the CUDA backend"
  export DOTNET_ROOT="$BUNDLE_DIR/dotnet" DOTNET_CLI_TELEMETRY_OPTOUT=1
  RESULT_XML="$REPORT_DIR/xunit.xml"
  NATIVEMODELS_LIBRARY_PATH="$BUILD_DIR/lib" NATIVEMODELS__BACKEND=cuda \
    "$DOTNET_ROOT/dotnet" exec "$TESTS_DLL" -xml "$RESULT_XML" >"$REPORT_DIR/xunit.log" 2>&1
  tail -15 "$REPORT_DIR/xunit.log"
  if [ -f "$RESULT_XML" ]; then
    t=$(junit_sum "$RESULT_XML" total); f=$(( $(junit_sum "$RESULT_XML" failed) + $(junit_sum "$RESULT_XML" errors) ))
    s=$(junit_sum "$RESULT_XML" skipped)
    count "managed (xunit)" $((t - f - s)) "$f" "$s"
  else
    count "managed (xunit)" 0 1 0 "the test run wrote no results"
  fi
else
  echo "managed tests not run: no bundle with test assemblies (make one with ./build.sh bundle)"
  ROWS+=("| managed (xunit) | – | – | – | not run: no bundle |")
fi

# ---------------------------------------------------------------------- report
{
  echo "# NativeModels GPU check"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- GPU: ${GPU_NAME:-none found}, driver ${DRIVER:-?}"
  echo "- CUDA compiler: ${NVCC_VERSION:-not found}"
  echo
  echo "| suite | passed | failed | skipped | note |"
  echo "| --- | --- | --- | --- | --- |"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "**$PASSED passed, $FAILED failed, $SKIPPED skipped**"
  if [ -f "$REPORT_DIR/ctest.log" ]; then
    echo; echo "## Native failures and skips"; echo '```'
    grep -E "\*\*\*Failed|\*\*\*Exception|Not Run|Skipped|Timeout" "$REPORT_DIR/ctest.log" | head -60
    echo '```'
  fi
} >"$REPORT"
echo
echo "report: $REPORT"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
