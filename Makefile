# Common tasks. CI runs .ci/run; the CUDA targets need the GPU machine (see README).
.PHONY: test ci run bench

test:
	go test ./...

ci:
	bash .ci/run

run:
	go run ./cmd/ntklsh train

bench:
	go test -run XXX -bench . -benchmem ./...

# CUDA backend (package ./cuda, build tag cuda). Needs CUDA headers, cuBLAS and an
# NVIDIA GPU; the build without -tags cuda needs none of it. See README "CUDA".
.PHONY: test-cuda bench-cuda ptx-cuda

test-cuda:
	bash cuda/test.sh -count=1 -v

bench-cuda:
	bash cuda/test.sh -run '^$$' -bench . -benchtime 2s

ptx-cuda:
	bash cuda/gen.sh

# Regenerate docs/results and the tables of docs/RESULTS.md (about 10 minutes on 2 cores).
.PHONY: results
results:
	bash docs/results.sh
