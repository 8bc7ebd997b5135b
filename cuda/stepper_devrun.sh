#!/usr/bin/env bash
# The device-resident training step (Stepper) on a GPU machine, in one go:
# regenerate the PTX, vet (with and without -tags cuda), build everything with
# -tags cuda, run the Stepper tests, the rest of the cuda tests, then
# TestStepBench (training iterations/s, GPU Stepper + Rehasher vs CPU avx2).
# Goes on past failures, logs to $OUT, prints a summary last. From the
# repository root on the lent GPU machine:
#   bash .gpu/run.sh 'OUT=$OUT bash cuda/stepper_devrun.sh'
# Environment: NTKLSH_STEP_WIDTHS, NTKLSH_STEP_BATCHES, NTKLSH_STEP_N,
# NTKLSH_STEP_RUN_MS, NTKLSH_STEP_CPU_REHASH_N (see stepper_bench_test.go),
# SKIP_BENCH=1, SKIP_OTHER=1 (skip the non-Stepper cuda tests).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-/tmp/cuda-out}
mkdir -p "$OUT"
summary=()
step() {
  local name=$1; shift
  local log="$OUT/all.log"
  case $name in bench*) log="$OUT/$name.log" ;; esac
  echo "=== $name: $*" | tee -a "$log"
  local t0=$SECONDS from
  from=$(($(wc -l <"$log") + 1))
  "$@" >>"$log" 2>&1
  local rc=$?
  tail -n +"$from" "$log" | tail -n 5
  summary+=("$(printf '%-10s rc=%-3s %4ss  %s' "$name" "$rc" "$((SECONDS - t0))" "$*")")
  return 0
}
step gpu nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
step ptx bash cuda/gen.sh
cp cuda/stepper.ptx "$OUT/" 2>/dev/null
step ptxas nvcc -cubin -arch=sm_90 -O3 -Xptxas -v -o /tmp/stepper.cubin cuda/stepper.cu
source cuda/env.sh
step vet go vet ./cuda/... ./cmd/...
step vet-cuda go vet -tags cuda ./cuda/... ./cmd/...
step build-cuda go build -tags cuda ./...
step notag go test -count=1 ./cuda/...
step build go test -c -tags cuda -o /tmp/cuda.test ./cuda
step test bash -c 'cd cuda && /tmp/cuda.test -test.run Stepper -test.v -test.count 1 -test.timeout 200s'
if [[ -z ${SKIP_OTHER:-} ]]; then
  step test-all bash -c 'cd cuda && /tmp/cuda.test -test.count 1 -test.timeout 200s'
fi
if [[ -z ${SKIP_BENCH:-} ]]; then
  step bench env NTKLSH_STEP_BENCH=1 GOMAXPROCS=16 bash -c 'cd cuda && /tmp/cuda.test -test.run TestStepBench -test.v -test.timeout 250s'
fi
echo
echo "=== summary"
printf '%s\n' "${summary[@]}" | tee "$OUT/summary.log"
grep -hE '^(--- FAIL|FAIL|ok|PASS|panic)|stepper' "$OUT/all.log" 2>/dev/null | grep -v '^=== ' | head -30
grep -hE 'max (query )?error|device steps' "$OUT/all.log" 2>/dev/null | cut -c1-200 | head -30
grep -h 'STEPBENCH' "$OUT/bench.log" 2>/dev/null | cut -c1-230
grep -hE 'FAIL|Error|error|panic' "$OUT/bench.log" 2>/dev/null | head -8
true
