#!/usr/bin/env bash
# Regenerates every table, CSV and plot of docs/RESULTS.md.
#   bash docs/results.sh            # paper scale: ablation, kl, convergence, then the benchmarks (about 10 minutes on 2 cores)
#   bash docs/results.sh large      # also the whole --scale large preset: ablation (N = 50 000), kl (N = 20 000) and
#                                   # convergence on two 100k-point teacher sets and 120k points of the Levitus ocean
#                                   # atlas, width 1024, 3 seeds (35 minutes in all on 2 cores, benchmarks included)
# Run it on an otherwise idle machine: the convergence plots' time axes are wall-clock measurements.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o /tmp/ntklsh-results ./cmd/ntklsh
/tmp/ntklsh-results experiment all --scale paper --out docs/results
case "${1:-}" in
large | full-large)
	[ -f data/levitus.csv ] || bash docs/datasets/levitus.sh data/levitus.csv
	/tmp/ntklsh-results experiment all --scale large --out docs/results --data data/levitus.csv --max-rows 150000
	;;
esac
{
	go test -run XXX -bench 'Rehash' -count 3 ./bench/
	go test -run XXX -bench 'Draws$|Train$' -count 3 ./bench/
	go test -run XXX -bench 'TrainLSHWide' -benchtime 1250x -count 3 ./bench/
	go test -run XXX -bench 'TrainWidth1024' -benchtime 2000x -count 3 ./bench/
} | tee docs/results/bench.txt
