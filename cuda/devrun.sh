#!/usr/bin/env bash
# Everything the CUDA backend needs checked on a GPU machine, in one go:
# regenerate kernels.ptx, vet, run the tests, check the no-GPU behaviour and
# run the benchmarks. Goes on past failures and prints a summary. Logs and
# the PTX go to $OUT (default /tmp/cuda-out). From the repository root:
#   bash cuda/devrun.sh            (Go, nvcc and a GPU needed)
# On the lent GPU machine: bash .gpu/run.sh 'bash cuda/devrun.sh'
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-/tmp/cuda-out}
mkdir -p "$OUT"
BENCHTIME=${BENCHTIME:-2s}
summary=()
# step NAME CMD...: runs CMD, logs to $OUT/NAME.log for the test and bench
# steps and to $OUT/other.log for the rest (what comes back is limited).
step() {
  local name=$1; shift
  local log="$OUT/other.log"
  case $name in test|bench*) log="$OUT/$name.log" ;; esac
  echo "=== $name: $*" | tee -a "$log"
  local t0=$SECONDS
  "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  summary+=("$(printf '%-10s rc=%-3s %4ss  %s' "$name" "$rc" "$((SECONDS - t0))" "$*")")
  return 0
}
step gpu nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm,power.limit,temperature.gpu,utilization.gpu --format=csv
step ptx bash cuda/gen.sh
cp cuda/kernels.ptx "$OUT/kernels.ptx" 2>/dev/null
step ptxas nvcc -cubin -arch=sm_90 -O3 -Xptxas -v -o /tmp/kernels.cubin cuda/kernels.cu
source cuda/env.sh
step vet-notag go vet ./cuda/...
step vet-cuda go vet -tags cuda ./cuda/...
step test bash cuda/test.sh -count=1 -v
step build go test -c -tags cuda -o /tmp/cuda.test ./cuda
step nogpu env CUDA_VISIBLE_DEVICES= bash -c 'cd cuda && /tmp/cuda.test -test.run TestRegistered -test.v'
step bench bash -c "cd cuda && /tmp/cuda.test -test.run '^\$' -test.bench '${BENCH:-.}' -test.benchtime $BENCHTIME"
# The GPU-side numbers once more, to see their spread.
step bench2 bash -c "cd cuda && /tmp/cuda.test -test.run '^\$' -test.bench '${BENCH2:-Sgemm/.*/cuda-device\$|Kernels}' -test.benchtime $BENCHTIME"
echo
echo "=== summary"
printf '%s\n' "${summary[@]}" | tee "$OUT/summary.log"
grep -hE '^(--- FAIL|FAIL|ok|PASS)' "$OUT/test.log" | head -20
grep -hE 'GFLOP/s|GB/s' "$OUT"/bench*.log | awk '{printf "%-60s %12s %s %12s %s\n", $1, $3, $4, $5, $6}'
