#!/usr/bin/env bash
# The device-resident training step (Stepper) on a GPU machine, in one go:
# regenerate the PTX, build everything with -tags cuda, vet ./cuda with it,
# run the Stepper tests, TestStepBench (training iterations/s, GPU Stepper +
# Rehasher vs the best CPU backend), the PyTorch step peer, two CLI runs,
# then the rest of the cuda tests.
# Goes on past failures, logs to $OUT, prints a summary last. From the
# repository root on the lent GPU machine:
#   bash .gpu/run.sh 'OUT=$OUT bash cuda/stepper_devrun.sh'
# Environment: NTKLSH_STEP_WIDTHS, NTKLSH_STEP_BATCHES, NTKLSH_STEP_N,
# NTKLSH_STEP_RUN_MS, NTKLSH_STEP_CPU_REHASH_N (see stepper_bench_test.go),
# SKIP_BENCH=1, SKIP_OTHER=1 (skip the non-Stepper cuda tests), SKIP_TORCH=1
# (the PyTorch step peer, torch_step_peer.py), SKIP_E2E=1 (the CLI runs,
# ntklsh train --kernels cuda --device-step against the best CPU backend at
# width E2E_WIDTH, default 4096, E2E_ITERS (3000), E2E_LR (0.002; it diverges
# at width 16384), E2E_SAMPLERS (ntk-static,uniform)).
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
cp cuda/kernels.ptx cuda/rehash.ptx cuda/stepper.ptx "$OUT/" 2>/dev/null
step ptxas nvcc -cubin -arch=sm_90 -O3 -Xptxas -v -o /tmp/stepper.cubin cuda/stepper.cu
source cuda/env.sh
step build-cuda go build -tags cuda ./...
step vet-cuda go vet -tags cuda ./cuda/
step notag go test -count=1 ./cuda/...
step build go test -c -tags cuda -o /tmp/cuda.test ./cuda
step test bash -c 'cd cuda && /tmp/cuda.test -test.run Stepper -test.v -test.count 1 -test.timeout 150s'
if [[ -z ${SKIP_BENCH:-} ]]; then
  step bench env NTKLSH_STEP_BENCH=1 GOMAXPROCS=16 bash -c 'cd cuda && /tmp/cuda.test -test.run TestStepBench -test.v -test.timeout 250s'
fi
if [[ -z ${SKIP_TORCH:-} ]]; then
  step bench-torch timeout 150 env PYTHONUNBUFFERED=1 python3 cuda/torch_step_peer.py \
    --widths "${NTKLSH_STEP_WIDTHS:-64,256,1024,4096,16384}" --batches "${NTKLSH_STEP_BATCHES:-32,256}"
fi
if [[ -z ${SKIP_E2E:-} ]]; then
  # End to end through the CLI: the device step against the best CPU backend.
  step build-cli go build -tags cuda -o /tmp/ntklsh ./cmd/ntklsh
  e2e=(train --syn-n 200000 --syn-d 90 --syn-hidden 64 --hidden "${E2E_WIDTH:-4096}" --batch 32 --iters "${E2E_ITERS:-3000}"
    --lr "${E2E_LR:-0.002}" --sampler "${E2E_SAMPLERS:-ntk-static,uniform}" --rehash-every "$((${E2E_ITERS:-3000} / 3))"
    --eval-every "$((${E2E_ITERS:-3000} / 2))" --diag-subset 500 --quiet)
  cpu=avx512; grep -q avx512f /proc/cpuinfo || cpu=avx2
  step bench-e2e-gpu timeout 120 /tmp/ntklsh "${e2e[@]}" --kernels cuda --device-step
  step bench-e2e-cpu timeout 120 /tmp/ntklsh "${e2e[@]}" --kernels "$cpu"
fi
if [[ -z ${SKIP_OTHER:-} ]]; then
  step test-all bash -c 'cd cuda && /tmp/cuda.test -test.count 1 -test.timeout 150s'
fi

echo
echo "=== summary"
printf '%s\n' "${summary[@]}" | tee "$OUT/summary.log"
grep -hE '^(--- FAIL|FAIL|ok|PASS|panic)|stepper' "$OUT/all.log" 2>/dev/null | grep -v '^=== ' | head -30
grep -hE 'max (query )?error|device steps' "$OUT/all.log" 2>/dev/null | cut -c1-200 | head -30
grep -h 'STEPBENCH' "$OUT/bench.log" 2>/dev/null | cut -c1-230
grep -h 'TORCHSTEP' "$OUT/bench-torch.log" 2>/dev/null | cut -c1-230
tail -n 12 "$OUT"/bench-e2e-*.log 2>/dev/null
grep -hE 'FAIL|Error|error|panic' "$OUT/bench.log" 2>/dev/null | head -8
true
