#!/usr/bin/env bash
# Runs the CUDA backend's tests (needs CUDA headers, cuBLAS and an NVIDIA GPU):
#   bash cuda/test.sh                      # tests
#   bash cuda/test.sh -run XXX -bench .    # benchmarks
# Extra arguments go to `go test`.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/env.sh"
cd "$here/.."
exec go test -tags cuda ./cuda/... "$@"
