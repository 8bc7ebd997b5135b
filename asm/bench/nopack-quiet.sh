#!/usr/bin/env bash
# The Sgemm paths that do not pack (asm/nopack.go) against the packed path
# and numpy + OpenBLAS, at the engine's shapes and the dense SRP hashing,
# single thread, in interleaved rounds. Raw output into the folder $1:
#   engine.txt  BenchmarkSgemmEngine train-*/rehash-*: impl=avx512 (the
#               shape rule), avx512-packed (forced), avx512-nopack (forced
#               dot for NT, ldb for NN), avx2
#   srp.txt     BenchmarkSRP, the same impls
#   numpy.txt   peer_numpy.py engine (OpenBLAS forced to its SkylakeX core)
#   *.benchstat.txt  benchstat of the rounds (wall and cpu-ns/op)
# Usage: asm/bench/nopack-quiet.sh OUTDIR [ROUNDS (default 6)]
set -euo pipefail
out=$(mkdir -p "$1" && cd "$1" && pwd)
rounds=${2:-6}
cd "$(dirname "$0")/../.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/asm.test" ./asm
{ uname -a; grep -m1 'model name' /proc/cpuinfo; grep -m1 '^model\s' /proc/cpuinfo; go version; git rev-parse HEAD; } > "$out/machine.txt"
for i in $(seq 1 "$rounds"); do
	echo "round $i $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/rounds.txt"
	(cd asm && "$bin/asm.test" -test.run XXX -test.bench 'SgemmEngine/^(train|rehash)-/./impl=avx' \
		-test.count 1 -test.benchtime 300x) >> "$out/engine.txt"
	(cd asm && "$bin/asm.test" -test.run XXX -test.bench 'SRP/./././impl=avx' \
		-test.count 1 -test.benchtime 3x) >> "$out/srp.txt"
	OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 /usr/bin/python3 asm/bench/peer_numpy.py engine >> "$out/numpy.txt"
done
bs=${BENCHSTAT:-$HOME/go/bin/benchstat}
for f in engine srp; do
	"$bs" -col /impl "$out/$f.txt" > "$out/$f.benchstat.txt" 2>&1 || true
done
echo "raw output and benchstat tables in $out"
