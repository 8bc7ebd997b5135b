#!/usr/bin/env bash
# Regenerates every table, CSV and plot of docs/RESULTS.md.
#   bash docs/results.sh            # paper scale (about 10 minutes on 2 cores)
#   bash docs/results.sh large      # also the large-scale convergence runs of RESULTS.md: two 100k-point teacher
#                                   # sets and 120k points of the Levitus ocean atlas, width 1024, 3 seeds (about 40 minutes on 2 cores)
#   bash docs/results.sh full-large # the whole --scale large preset: also the ablation and KL at large scale (hours on 2 cores)
# Run it on an otherwise idle machine: the convergence plots' time axes are wall-clock measurements.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o /tmp/ntklsh-results ./cmd/ntklsh
/tmp/ntklsh-results experiment all --scale paper --out docs/results
case "${1:-}" in
large)
	[ -f data/levitus.csv ] || bash docs/datasets/levitus.sh data/levitus.csv
	/tmp/ntklsh-results experiment convergence --scale large --out docs/results \
		--best docs/results/paper/ablation_best.json --teachers 3,0 --data data/levitus.csv --max-rows 150000
	;;
full-large)
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
