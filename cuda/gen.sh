#!/usr/bin/env bash
# Regenerates kernels.ptx from kernels.cu and rehash.ptx from rehash.cu.
# Needs nvcc (CUDA >= 11); the results are committed so that building with
# -tags cuda needs no nvcc. compute_80 PTX is JIT-compiled by the driver on
# sm_80 and newer GPUs (A100, H100, ...).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
for k in kernels rehash; do
  nvcc -ptx -arch=compute_80 -O3 -o $k.ptx $k.cu
  echo "gen.sh: wrote $(pwd)/$k.ptx with $(nvcc --version | tail -1)"
done
