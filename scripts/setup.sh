#!/usr/bin/env bash
# Installs what the project needs on Debian 12 with Swift 6.3, and nothing twice:
#   - system libraries: OpenBLAS (numeric core), SentencePiece (tokenization), zlib (.gz corpora),
#     pkg-config; curl (downloads); Open MPI (openmpi-bin: mpirun and its library, which `hat`
#     loads at run time for data-parallel jobs; the build does not need it); on x86-64 qemu-user and
#     an aarch64 C library (scripts/check_kernels.sh runs the C kernels built for ARM)
#   - .venv-oracle/: the Python test oracles (PyTorch CPU, numpy, safetensors, sacreBLEU,
#     onnx, onnxruntime, sentencepiece, sacremoses, subword-nmt). Tests only: the `hat` binary never runs Python.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
packages=(libopenblas-dev libsentencepiece-dev zlib1g-dev pkg-config curl openmpi-bin)
# On x86-64, what scripts/check_kernels.sh (run by scripts/test.sh) needs to run the C kernels
# cross-compiled for aarch64: a cross C library and qemu-user. Tests only.
if [ "$(uname -m)" = x86_64 ]; then packages+=(qemu-user libc6-dev-arm64-cross libgcc-12-dev-arm64-cross); fi
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "${HAT_SKIP_ORACLE:-0}" = "1" ]; then exit 0; fi

venv=.venv-oracle
stamp="$venv/.hat-oracle-v1"
if [ ! -f "$stamp" ]; then
  echo "setup: creating the oracle Python environment in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >/dev/null
  # The CPU build of PyTorch that ships on these machines, else PyPI's CPU wheel.
  wheel=$(find / -name 'torch-*cpu*.whl' -not -path '*/proc/*' 2>/dev/null | head -n1 || true)
  if [ -n "$wheel" ]; then
    "$venv/bin/pip" install -q "$wheel"
  else
    "$venv/bin/pip" install -q torch --index-url https://download.pytorch.org/whl/cpu || "$venv/bin/pip" install -q torch
  fi
  "$venv/bin/pip" install -q numpy safetensors sacrebleu onnx onnxruntime sentencepiece scipy
  touch "$stamp"
fi
# Added after the first environments were made: the SentencePiece oracle of the data tests.
"$venv/bin/python" -c "import sentencepiece" 2>/dev/null || "$venv/bin/pip" install -q sentencepiece
# ... and scipy, the rank-correlation oracle of the latency tests.
"$venv/bin/python" -c "import scipy" 2>/dev/null || "$venv/bin/pip" install -q scipy
# ... and sacremoses and subword-nmt, the Moses and BPE oracles of the text-pipeline tests (pinned:
# Sources/Datasets/MosesTables.swift is generated from sacremoses 0.2.0).
"$venv/bin/python" -c "import sacremoses" 2>/dev/null || "$venv/bin/pip" install -q "sacremoses==0.2.0"
"$venv/bin/python" -c "import subword_nmt" 2>/dev/null || "$venv/bin/pip" install -q "subword-nmt==0.3.8"
