# Source this file (bash) before building with -tags cuda:
#   source cuda/env.sh && go test -tags cuda ./cuda/...
# It sets the cgo flags gorgonia.org/cu needs, including the CUDA 13
# compatibility header (cuda13_compat.h, by absolute path), and the library
# path so that the test binaries find libcuda and libcublas at run time.
# CUDA_HOME defaults to /usr/local/cuda.
_ntklsh_cuda_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export CUDA_HOME
export CGO_ENABLED=1
export CGO_CFLAGS="${CGO_CFLAGS:-} -I$CUDA_HOME/include -include $_ntklsh_cuda_dir/cuda13_compat.h"
# Link against the driver's libcuda where the machine has one
# (/usr/local/nvidia/lib64 in NVIDIA containers), else the CUDA stub (link
# only: at run time libcuda.so.1 must come from the driver).
_ntklsh_ld="-L$CUDA_HOME/lib64"
[[ -d /usr/local/nvidia/lib64 ]] && _ntklsh_ld="-L/usr/local/nvidia/lib64 $_ntklsh_ld"
[[ -d $CUDA_HOME/lib64/stubs ]] && _ntklsh_ld="$_ntklsh_ld -L$CUDA_HOME/lib64/stubs"
export CGO_LDFLAGS="${CGO_LDFLAGS:-} $_ntklsh_ld"
_ntklsh_rt="$CUDA_HOME/lib64"
[[ -d /usr/local/nvidia/lib64 ]] && _ntklsh_rt="/usr/local/nvidia/lib64:$_ntklsh_rt"
export LD_LIBRARY_PATH="$_ntklsh_rt${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset _ntklsh_ld _ntklsh_rt _ntklsh_cuda_dir
