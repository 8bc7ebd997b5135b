#!/usr/bin/env bash
# Regenerates every table, CSV and plot of docs/RESULTS.md.
#   bash docs/results.sh            # paper scale (about 10 minutes on 2 cores)
#   bash docs/results.sh large      # also the reduced large-scale runs of RESULTS.md (about 25 minutes on 2 cores)
#   bash docs/results.sh full-large # the full --scale large preset (hours on 2 cores)
# Run it on an otherwise idle machine: the convergence plots' time axes are wall-clock measurements.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o /tmp/ntklsh-results ./cmd/ntklsh
/tmp/ntklsh-results experiment all --scale paper --out docs/results
case "${1:-}" in
large)
	/tmp/ntklsh-results experiment convergence --scale large --out docs/results \
		--best docs/results/paper/ablation_best.json --teachers 3 --seeds 1 --iters 1500 --expensive-iters 20 \
		--methods uniform,lsh-epoch,lsh-best,ntk-static,upper-bound,uniform+ks,true
	;;
full-large)
	/tmp/ntklsh-results experiment all --scale large --out docs/results
	;;
esac
go test -run XXX -bench 'Rehash/.*/hash|Draws|Train/.*/N=1e4' -benchtime 2s ./bench/ | tee docs/results/bench.txt
