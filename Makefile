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
