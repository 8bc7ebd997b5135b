#!/usr/bin/env bash
# Regenerates kernels.ptx from kernels.cu. Needs nvcc (CUDA >= 11); the
# result is committed so that building with -tags cuda needs no nvcc.
# compute_80 PTX is JIT-compiled by the driver on sm_80 and newer GPUs
# (A100, H100, ...).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
nvcc -ptx -arch=compute_80 -O3 -o kernels.ptx kernels.cu
echo "gen.sh: wrote $(pwd)/kernels.ptx with $(nvcc --version | tail -1)"
