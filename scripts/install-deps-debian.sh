#!/usr/bin/env bash
# Installs the Debian 12 packages NativeModels builds with. Needs root (or sudo).
#   - enables the 'contrib non-free' components, which carry nvidia-cuda-toolkit (CUDA 11.8)
#   - nvcc 11.8 accepts host compilers up to g++-11 / clang-14, so clang-14 is installed too
# Usage: scripts/install-deps-debian.sh [--no-cuda]
set -euo pipefail

want_cuda=1
[ "${1:-}" = "--no-cuda" ] && want_cuda=0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else
    echo "install-deps: not root and no passwordless sudo; install these yourself:" >&2
    echo "  cmake g++ libopenblas-dev libgtest-dev pkg-config [nvidia-cuda-toolkit clang-14]" >&2
    exit 3
  fi
fi

enable_nonfree() {
  local f=/etc/apt/sources.list.d/debian.sources
  if [ -f "$f" ] && ! grep -q 'non-free' "$f"; then
    $SUDO sed -i -E 's/^Components: main$/Components: main contrib non-free non-free-firmware/' "$f"
  fi
  if [ -f /etc/apt/sources.list ] && grep -qE '^deb .*bookworm main$' /etc/apt/sources.list; then
    $SUDO sed -i -E 's/^(deb .*bookworm(-updates)?) main$/\1 main contrib non-free non-free-firmware/' /etc/apt/sources.list
  fi
}

pkgs=(cmake g++ make libopenblas-dev libgtest-dev pkg-config python3)
if [ "$want_cuda" = 1 ]; then
  enable_nonfree
  pkgs+=(nvidia-cuda-toolkit clang-14)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "install-deps: all packages present"; exit 0; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
