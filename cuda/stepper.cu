// stepper.cu — kernels of the device-resident training step (stepper.go):
// gathering the sampled rows of X and Y, the weighted loss and its output
// gradient, and the row dots of the lsh query's structured projections.
// GEMMs go to cuBLAS; bias + activation is rehash.cu's bias_act, the
// activation backward, the bias column sums and the SGD update (axpy) are
// kernels.cu's. Compiled to PTX by gen.sh; the PTX is committed as
// stepper.ptx and embedded.
//
// It also compiles with clang alone (no CUDA headers):
//   clang -x cuda --cuda-device-only -nocudainc -nocudalib --cuda-gpu-arch=sm_80 \
//     -O3 -S -DNTKLSH_CLANG_PTX -o stepper.ptx stepper.cu
// (gen.sh does this when nvcc is missing and clang is present), with the few
// intrinsics it uses mapped to NVVM builtins below.
//
// Conventions as in kernels.cu and rehash.cu: compact row-major float32
// matrices, every kernel parameter 8 bytes wide (pointers, long long,
// double), float64 accumulation for reductions, float32 elementwise
// operations written with _rn intrinsics (no FMA contraction: Go does not
// fuse on amd64).

#ifdef NTKLSH_CLANG_PTX
#include <__clang_cuda_builtin_vars.h>
#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __fadd_rn(a, b) __nvvm_add_rn_f((a), (b))
#define __fsub_rn(a, b) __nvvm_add_rn_f((a), -(b))
#define __fmul_rn(a, b) __nvvm_mul_rn_f((a), (b))
#define __syncthreads() __nvvm_barrier_sync(0)
__device__ __forceinline__ double st_shfl_down(double v, int off) {
    long long b = __builtin_bit_cast(long long, v);
    int lo = __nvvm_shfl_sync_down_i32(0xffffffffu, (int)b, off, 0x1f);
    int hi = __nvvm_shfl_sync_down_i32(0xffffffffu, (int)(b >> 32), off, 0x1f);
    return __builtin_bit_cast(double, ((long long)hi << 32) | (long long)(unsigned)lo);
}
#else
__device__ __forceinline__ double st_shfl_down(double v, int off) {
    return __shfl_down_sync(0xffffffffu, v, off);
}
#endif

__device__ __forceinline__ double st_warp_sum(double v) {
    for (int off = 16; off > 0; off >>= 1) v += st_shfl_down(v, off);
    return v;
}

// Sum over a block of 256 threads; the total is valid in thread 0.
__device__ __forceinline__ double st_block_sum(double v) {
    __shared__ double ws[8];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = st_warp_sum(v);
    if (lane == 0) ws[warp] = v;
    __syncthreads();
    v = 0.0;
    if (threadIdx.x == 0)
        for (int i = 0; i < 8; i++) v += ws[i];
    return v;
}

extern "C" {

// st_gather: dst[b*cols+c] = src[idx[b]*cols+c] for b < rows, c < cols
// (idx: int32 row indices, checked on the host).
__global__ void st_gather(long long rows, long long cols, const int* __restrict__ idx,
                          const float* __restrict__ src, float* __restrict__ dst) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * cols) return;
    long long b = i / cols, c = i - b * cols;
    dst[i] = src[(long long)idx[b] * cols + c];
}

// st_loss: for the b x out network output f and targets y, with per-row
// scales s[r] = w_r / B (double): dout[r,o] = (float)s[r] * (f[r,o] - y[r,o])
// (float32, as the engine's minibatchGrad) and
// loss[0] = sum_r s[r] * sum_o 0.5 (f - y)^2 (double). One block of 256
// threads (the minibatch is small).
__global__ void st_loss(long long b, long long out, const double* __restrict__ s,
                        const float* __restrict__ f, const float* __restrict__ y,
                        float* __restrict__ dout, double* __restrict__ loss) {
    double acc = 0.0;
    for (long long r = threadIdx.x; r < b; r += blockDim.x) {
        double l = 0.0, sr = s[r];
        float sf = (float)sr;
        for (long long o = 0; o < out; o++) {
            float d = __fsub_rn(f[r * out + o], y[r * out + o]);
            l += 0.5 * (double)d * (double)d;
            dout[r * out + o] = __fmul_rn(sf, d);
        }
        acc += sr * l;
    }
    acc = st_block_sum(acc);
    if (threadIdx.x == 0) loss[0] = acc;
}

// st_qdots: one block (256 threads) per row j < kl of the structured query
// projection of one layer: with T = Vh W^T (kl x w, from cuBLAS),
// s_j = sum_i u[j,i] (T[j,i] + vb[j] bias[i]) (double accumulation of the
// float32 products; T[j,i] + vb[j] bias[i] rounded in float32 as the
// engine's Axpy does), and out[j] = (float)s_j (first) or
// out[j] + (float)s_j.
__global__ void st_qdots(long long kl, long long w, const float* __restrict__ u,
                         const float* __restrict__ t, const float* __restrict__ vb,
                         const float* __restrict__ bias, float* __restrict__ out, long long first) {
    long long j = blockIdx.x;
    if (j >= kl) return;
    const float* ru = u + j * w;
    const float* rt = t + j * w;
    float vj = vb[j];
    double s = 0.0, s1 = 0.0;
    long long i = threadIdx.x;
    for (; i + blockDim.x < w; i += 2 * blockDim.x) {
        float t0 = __fadd_rn(rt[i], __fmul_rn(vj, bias[i]));
        float t1 = __fadd_rn(rt[i + blockDim.x], __fmul_rn(vj, bias[i + blockDim.x]));
        s += (double)ru[i] * (double)t0;
        s1 += (double)ru[i + blockDim.x] * (double)t1;
    }
    for (; i < w; i += blockDim.x) {
        float t0 = __fadd_rn(rt[i], __fmul_rn(vj, bias[i]));
        s += (double)ru[i] * (double)t0;
    }
    s = st_block_sum(s + s1);
    if (threadIdx.x == 0) out[j] = first ? (float)s : __fadd_rn(out[j], (float)s);
}

}  // extern "C"
