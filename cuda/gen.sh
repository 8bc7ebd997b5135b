#!/usr/bin/env bash
# Regenerates kernels.ptx, rehash.ptx and stepper.ptx from their .cu sources.
# Needs nvcc (CUDA >= 11); the results are committed so that building with
# -tags cuda needs no nvcc. compute_80 PTX is JIT-compiled by the driver on
# sm_80 and newer GPUs (A100, H100, ...).
# Without nvcc, stepper.ptx alone is regenerated with clang (>= 14, no CUDA
# headers needed: stepper.cu maps its intrinsics to NVVM builtins under
# NTKLSH_CLANG_PTX); kernels.cu and rehash.cu need nvcc's headers and
# libdevice and are left as committed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if command -v nvcc >/dev/null; then
  for k in kernels rehash stepper; do
    nvcc -ptx -arch=compute_80 -O3 -o $k.ptx $k.cu
    echo "gen.sh: wrote $(pwd)/$k.ptx with $(nvcc --version | tail -1)"
  done
  exit 0
fi
clang=$(command -v clang || command -v clang-14 || true)
if [[ -z $clang ]]; then
  echo "gen.sh: neither nvcc nor clang found" >&2
  exit 1
fi
"$clang" -x cuda --cuda-device-only -nocudainc -nocudalib --cuda-gpu-arch=sm_80 \
  -Xclang -target-feature -Xclang +ptx70 -ffp-contract=off -O3 -S -DNTKLSH_CLANG_PTX \
  -o stepper.ptx stepper.cu
echo "gen.sh: no nvcc: wrote $(pwd)/stepper.ptx with $("$clang" --version | head -1); kernels.ptx and rehash.ptx left as committed"
