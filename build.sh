#!/usr/bin/env bash
# build.sh — builds NativeModels (native + managed) and runs its tests.
#
#   ./build.sh            install what is missing, build native and managed code and
#                         the packages, then run `nativemodels info`
#   ./build.sh test       the same, then every test: CTest (native), xunit (managed),
#                         the packaged sample, and the NativeAOT publish check; ends
#                         with one line "N passed, N failed, N skipped"
#   ./build.sh pack       build and write the NuGet packages to artifacts/packages
#   ./build.sh bundle     build and write artifacts/gpu-bundle.tar.xz: a .NET runtime, the
#                         test assemblies and the bench app, for scripts/gpu-check.sh and
#                         bench/run-gpu-bench.sh on a GPU machine
#
# Environment: NM_REQUIRE_CUDA=1 fails the build when the CUDA backend cannot be
# compiled (CI sets it); NM_BUILD_DIR (default build/native); CONFIGURATION (Release);
# NM_SKIP_DEPS=1 skips the package installation step.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
MODE="${1:-build}"
CONFIGURATION="${CONFIGURATION:-Release}"
BUILD_DIR="${NM_BUILD_DIR:-$ROOT/build/native}"
ARTIFACTS="$ROOT/artifacts"
RESULTS="$ARTIFACTS/test-results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

case "$MODE" in build|test|pack|bundle) ;; *) die "unknown command '$MODE' (expected: build, test, pack, bundle)";; esac

# ---------------------------------------------------------------- dependencies
install_deps() {
  [ "${NM_SKIP_DEPS:-0}" = 1 ] && return 0
  log "dependencies"
  if [ "$(id -u)" -eq 0 ] || (command -v sudo >/dev/null && sudo -n true 2>/dev/null); then
    bash "$ROOT/scripts/install-deps-debian.sh" || die "installing Debian packages failed"
  else
    echo "not root: skipping package installation. Without nvidia-cuda-toolkit the CUDA backend is"
    echo "not built (CPU only). Packages needed: cmake g++ libopenblas-dev libgtest-dev pkg-config"
    echo "[nvidia-cuda-toolkit clang-14] — run scripts/install-deps-debian.sh as root to install them."
  fi
  command -v dotnet >/dev/null || die "the .NET 10 SDK (dotnet) is not on PATH"
  command -v cmake >/dev/null || die "cmake is not installed"
}

# ---------------------------------------------------------------------- native
build_native() {
  log "native (CMake, $CONFIGURATION) in $BUILD_DIR"
  local require=OFF
  [ "${NM_REQUIRE_CUDA:-0}" = 1 ] && require=ON
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$CONFIGURATION" -DNM_REQUIRE_CUDA="$require" \
    ${NM_CMAKE_ARGS:-} >"$BUILD_DIR.configure.log" 2>&1 \
    || { mkdir -p "$(dirname "$BUILD_DIR")"; cat "$BUILD_DIR.configure.log"; die "CMake configure failed"; }
  grep -E "NativeModels:" "$BUILD_DIR.configure.log" || true
  cmake --build "$BUILD_DIR" -j"$(nproc)" || die "native build failed"
  if [ ! -f "$BUILD_DIR/lib/libnativemodels_cuda.so" ]; then
    echo "note: CUDA backend not built — this build runs on the CPU only (see the configure log above)"
  fi
}

# --------------------------------------------------------------------- managed
build_managed() {
  log "managed (dotnet build, $CONFIGURATION)"
  dotnet build "$ROOT/NativeModels.sln" -c "$CONFIGURATION" -p:NativeLibDir="$BUILD_DIR/lib/" -nologo -v:q \
    || die "managed build failed"
}

pack() {
  log "packages -> $ARTIFACTS/packages"
  rm -rf "$ARTIFACTS/packages"
  dotnet pack "$ROOT/NativeModels.sln" -c "$CONFIGURATION" -o "$ARTIFACTS/packages" \
    -p:NativeLibDir="$BUILD_DIR/lib/" -nologo -v:q || die "dotnet pack failed"
  ls -1 "$ARTIFACTS/packages"
}

run_info() {
  log "nativemodels info"
  NATIVEMODELS_LIBRARY_PATH="$BUILD_DIR/lib" dotnet run --project "$ROOT/managed/NativeModels.Cli" \
    -c "$CONFIGURATION" --no-build -- info
}

# ----------------------------------------------------------------------- tests
PASSED=0 FAILED=0 SKIPPED=0
FAILURES=()

count() {  # count <suite> <passed> <failed> <skipped>
  PASSED=$((PASSED + $2)); FAILED=$((FAILED + $3)); SKIPPED=$((SKIPPED + $4))
  printf '%-28s %4d passed, %4d failed, %4d skipped\n' "$1:" "$2" "$3" "$4"
  [ "$3" -gt 0 ] && FAILURES+=("$1")
  return 0
}

# Sums an attribute over the <testsuite> elements of a JUnit XML file.
junit_sum() {
  tr '\n\t' '  ' <"$1" | grep -o "<testsuite [^>]*" | grep -o " $2=\"[0-9]*\"" | grep -o '[0-9]*' | awk '{s+=$1} END {print s+0}'
}

test_native() {
  log "native tests (CTest)"
  local xml="$RESULTS/ctest.xml"
  (cd "$BUILD_DIR" && ctest --output-on-failure --timeout 600 -j"$(nproc)" --output-junit "$xml")
  if [ ! -f "$xml" ]; then count "native (ctest)" 0 1 0; return; fi
  local total failed skipped
  total=$(junit_sum "$xml" tests); failed=$(junit_sum "$xml" failures)
  skipped=$(( $(junit_sum "$xml" skipped) + $(junit_sum "$xml" disabled) ))
  count "native (ctest)" $((total - failed - skipped)) "$failed" "$skipped"
}

test_managed() {
  log "managed tests (xunit)"
  local trx_dir="$RESULTS/xunit"
  rm -rf "$trx_dir"
  NATIVEMODELS_LIBRARY_PATH="$BUILD_DIR/lib" dotnet test "$ROOT/NativeModels.sln" -c "$CONFIGURATION" --no-build \
    --logger "trx" --results-directory "$trx_dir" -nologo
  local files=("$trx_dir"/*.trx)
  if [ ! -f "${files[0]}" ]; then count "managed (xunit)" 0 1 0; return; fi
  local passed=0 failed=0 skipped=0 f c
  for f in "${files[@]}"; do
    c=$(grep -o "<Counters [^>]*" "$f")
    passed=$((passed + $(grep -o ' passed="[0-9]*"' <<<"$c" | grep -o '[0-9]*')))
    failed=$((failed + $(grep -o ' failed="[0-9]*"' <<<"$c" | grep -o '[0-9]*') + $(grep -o ' error="[0-9]*"' <<<"$c" | grep -o '[0-9]*')))
    # trx counts a skipped test in total but not in executed
    skipped=$((skipped + $(grep -o ' total="[0-9]*"' <<<"$c" | grep -o '[0-9]*') - $(grep -o ' executed="[0-9]*"' <<<"$c" | grep -o '[0-9]*')))
  done
  count "managed (xunit)" "$passed" "$failed" "$skipped"
}

# The sample restores the packed NuGet packages from a local folder, like a user.
test_sample() {
  log "sample consuming the packages (samples/HelloOps)"
  local pkgcache="$ARTIFACTS/sample-packages"
  rm -rf "$pkgcache" "$ROOT/samples/HelloOps/bin" "$ROOT/samples/HelloOps/obj"
  if NUGET_PACKAGES="$pkgcache" dotnet run --project "$ROOT/samples/HelloOps" -c "$CONFIGURATION"; then
    count "sample (packages)" 1 0 0
  else
    count "sample (packages)" 0 1 0
  fi
}

# The CLI must publish with NativeAOT without a single trim/AOT warning.
test_aot() {
  log "NativeAOT publish of the CLI"
  local out="$ARTIFACTS/aot" logf="$RESULTS/aot-publish.log"
  rm -rf "$out"
  if dotnet publish "$ROOT/managed/NativeModels.Cli" -c "$CONFIGURATION" -r linux-x64 -p:PublishAot=true \
       -o "$out" -nologo >"$logf" 2>&1; then
    local warnings
    warnings=$(grep -cE "warning (IL[0-9]+|SYSLIB)" "$logf" || true)
    if [ "$warnings" -ne 0 ]; then
      grep -E "warning (IL[0-9]+|SYSLIB)" "$logf" | sort -u | head -20
      count "aot publish (warnings)" 0 1 0
    elif NATIVEMODELS_LIBRARY_PATH="$BUILD_DIR/lib" "$out/nativemodels" info >"$RESULTS/aot-info.txt" 2>&1; then
      count "aot publish + run" 1 0 0
    else
      cat "$RESULTS/aot-info.txt"
      count "aot publish + run" 0 1 0
    fi
  else
    tail -30 "$logf"
    count "aot publish" 0 1 0
  fi
}

# A .NET runtime plus the test assemblies, so scripts/gpu-check.sh can run the
# managed suite on a GPU machine that has no .NET SDK.
bundle() {
  log "GPU bundle -> $ARTIFACTS/gpu-bundle.tar.xz"
  local stage="$ARTIFACTS/gpu-bundle"
  rm -rf "$stage"; mkdir -p "$stage/tests"
  dotnet publish "$ROOT/tests/NativeModels.Tests" -c "$CONFIGURATION" -o "$stage/tests" \
    -p:NativeLibDir="$BUILD_DIR/lib/" -nologo -v:q || die "publishing the tests failed"
  rm -f "$stage"/tests/libnativemodels*.so  # gpu-check builds the native code for its own GPU
  # The benchmark app (framework-dependent) for bench/run-gpu-bench.sh.
  dotnet publish "$ROOT/bench/NativeModels.Bench" -c "$CONFIGURATION" -o "$stage/bench" -nologo -v:q \
    || die "publishing the bench app failed"
  local dotnet_root; dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  mkdir -p "$stage/dotnet/shared"
  cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$stage/dotnet/"
  cp -a "$dotnet_root/shared/Microsoft.NETCore.App" "$stage/dotnet/shared/"
  # OpenBLAS and GoogleTest as Debian 12 has them, for a GPU machine without them.
  local lib=/usr/lib/x86_64-linux-gnu deps="$stage/deps/usr"
  mkdir -p "$deps/include" "$deps/lib/x86_64-linux-gnu/cmake"
  cp -a /usr/include/gtest "$deps/include/" 2>/dev/null
  cp -a "$lib"/libgtest*.a "$lib"/libgmock*.a "$deps/lib/x86_64-linux-gnu/" 2>/dev/null
  cp -a /usr/include/gmock "$deps/include/" 2>/dev/null
  cp -a "$lib/cmake/GTest" "$deps/lib/x86_64-linux-gnu/cmake/" 2>/dev/null
  cp -aL /usr/include/x86_64-linux-gnu/cblas.h /usr/include/x86_64-linux-gnu/openblas_config.h "$deps/include/" 2>/dev/null
  cp -L "$lib/libopenblas.so.0" "$deps/lib/x86_64-linux-gnu/" 2>/dev/null \
    && ln -sf libopenblas.so.0 "$deps/lib/x86_64-linux-gnu/libopenblas.so"
  cp -L "$lib/libgfortran.so.5" "$lib/libquadmath.so.0" "$deps/lib/x86_64-linux-gnu/" 2>/dev/null
  XZ_OPT="-6 -T0" tar -C "$ARTIFACTS" -cJf "$ARTIFACTS/gpu-bundle.tar.xz" gpu-bundle
  du -h "$ARTIFACTS/gpu-bundle.tar.xz"
}

# ------------------------------------------------------------------------ main
mkdir -p "$ARTIFACTS" "$RESULTS" "$(dirname "$BUILD_DIR")"
install_deps
build_native
build_managed
case "$MODE" in
  build) pack; run_info ;;
  pack) pack ;;
  bundle) bundle ;;
  test)
    pack
    test_native
    test_managed
    test_sample
    test_aot
    echo
    [ ${#FAILURES[@]} -gt 0 ] && echo "failing suites: ${FAILURES[*]}"
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
    [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
    exit $?
    ;;
esac
