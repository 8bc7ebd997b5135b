#!/usr/bin/env bash
# The device-resident rehash on a GPU machine, in one go: regenerate the PTX,
# vet, run every cuda test (the Rehasher against engine.Rehash included), then
# TestRehashBench (GPU vs CPU rehash throughput, stage split, cuBLAS alone)
# and the PyTorch vmap peer. Goes on past failures, logs to $OUT, prints a
# summary last. From the repository root:
#   bash cuda/rehash_devrun.sh          (Go, nvcc, a GPU and PyTorch needed)
# On the lent GPU machine: bash .gpu/run.sh 'OUT=$OUT bash cuda/rehash_devrun.sh'
# Environment: NTKLSH_REHASH_WIDTHS, NTKLSH_REHASH_N, NTKLSH_REHASH_CPU_N,
# NTKLSH_REHASH_BATCH, NTKLSH_REHASH_REPS (see rehash_bench_test.go),
# SKIP_TORCH=1, SKIP_BENCH=1.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-/tmp/cuda-out}
mkdir -p "$OUT"
summary=()
step() {
  local name=$1; shift
  local log="$OUT/all.log"
  case $name in bench*|torch) log="$OUT/$name.log" ;; esac
  echo "=== $name: $*" | tee -a "$log"
  local t0=$SECONDS from
  from=$(($(wc -l <"$log") + 1))
  "$@" >>"$log" 2>&1
  local rc=$?
  tail -n +"$from" "$log" | tail -n 5
  summary+=("$(printf '%-10s rc=%-3s %4ss  %s' "$name" "$rc" "$((SECONDS - t0))" "$*")")
  return 0
}
step gpu nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm,clocks.max.sm,power.limit,temperature.gpu,utilization.gpu --format=csv
step ptx bash cuda/gen.sh
cp cuda/rehash.ptx "$OUT/" 2>/dev/null  # (what comes back is limited in count: few files)
step ptxas nvcc -cubin -arch=sm_90 -O3 -Xptxas -v -o /tmp/rehash.cubin cuda/rehash.cu
source cuda/env.sh
step vet go vet ./cuda/...
step vet-cuda go vet -tags cuda ./cuda/...
step notag go test -count=1 ./cuda/...
step build go test -c -tags cuda -o /tmp/cuda.test ./cuda
step test bash -c 'cd cuda && /tmp/cuda.test -test.run . -test.v -test.count 1 -test.timeout 300s'
if [[ -z ${SKIP_BENCH:-} ]]; then
  step bench env NTKLSH_REHASH_BENCH=1 GOMAXPROCS=16 bash -c 'cd cuda && /tmp/cuda.test -test.run TestRehashBench -test.v -test.timeout 400s'
  # Width 1024 with a larger device batch (fewer launches per point).
  step bench2 env NTKLSH_REHASH_BENCH=1 GOMAXPROCS=16 NTKLSH_REHASH_WIDTHS=1024 NTKLSH_REHASH_BATCH=32768 bash -c 'cd cuda && /tmp/cuda.test -test.run TestRehashBench -test.v -test.timeout 200s'
fi
if [[ -z ${SKIP_TORCH:-} ]]; then
  step torch env PYTHONUNBUFFERED=1 timeout ${TORCH_TIMEOUT:-200} python3 cuda/torch_vmap_peer.py --widths ${NTKLSH_REHASH_WIDTHS:-1024,4096,16384}
fi
echo
echo "=== summary"
printf '%s\n' "${summary[@]}" | tee "$OUT/summary.log"
grep -hE '^(--- FAIL|FAIL|ok|PASS|panic)' "$OUT/all.log" 2>/dev/null | head -20
grep -h 'REHASHBENCH' "$OUT/bench.log" "$OUT/bench2.log" 2>/dev/null | grep -E 'table|gemm-fraction|stage=' | cut -c1-230
grep -h 'TORCHPEER' "$OUT/torch.log" 2>/dev/null
grep -hE 'FAIL|Error|error' "$OUT/bench.log" "$OUT/bench2.log" "$OUT/torch.log" 2>/dev/null | head -8
true
