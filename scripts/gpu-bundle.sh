# gpu-bundle.sh — sourced by scripts/gpu-check.sh and bench/run-gpu-bench.sh.
# Unpacks the bundle `./build.sh bundle` makes (a folder or .tar.xz) given in
# $BUNDLE, defaulting to artifacts/gpu-bundle.tar.xz under $ROOT, and sets:
#   BUNDLE_DIR    the unpacked folder ("" without a bundle)
#   CMAKE_EXTRA   CMake arguments that let the build find the bundle's OpenBLAS and
#                 GoogleTest (appended last, so the machine's own copies win)
# and extends LD_LIBRARY_PATH with the bundle's libraries.
[ -z "${BUNDLE:-}" ] && [ -f "$ROOT/artifacts/gpu-bundle.tar.xz" ] && BUNDLE="$ROOT/artifacts/gpu-bundle.tar.xz"
BUNDLE_DIR=""
if [ -n "${BUNDLE:-}" ]; then
  if [ -d "$BUNDLE" ]; then
    BUNDLE_DIR="$BUNDLE"
  else
    BUNDLE_DIR="$(mktemp -d)/gpu-bundle"
    tar -C "$(dirname "$BUNDLE_DIR")" -xf "$BUNDLE" || { echo "cannot extract $BUNDLE"; exit 1; }
  fi
  BUNDLE_DIR="$(cd "$BUNDLE_DIR" && pwd)"
fi
CMAKE_EXTRA=()
if [ -n "$BUNDLE_DIR" ] && [ -d "$BUNDLE_DIR/deps/usr" ]; then
  CMAKE_EXTRA+=("-DCMAKE_PREFIX_PATH=$BUNDLE_DIR/deps/usr")
  export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$BUNDLE_DIR/deps/usr/lib/x86_64-linux-gnu"
fi
