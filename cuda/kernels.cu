// kernels.cu — custom CUDA kernels of the ntklsh CUDA backend (everything
// beyond GEMM, which goes to cuBLAS). Compiled to PTX by gen.sh; the PTX is
// committed as kernels.ptx and embedded in the Go package.
//
// Conventions: row-major float32 matrices with a leading dimension, as in
// package kernels. gorgonia.org/cu's Function.Launch copies every kernel
// argument as 8 bytes, so every parameter here is 8 bytes wide: pointers,
// long long for sizes and double for scalars.

__device__ __forceinline__ double warp_sum(double v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    return v;
}

extern "C" {

// sign_pack: bit j of codes[i*l+t] is set when p[i*ldp + t*k + j] > 0
// (1 <= k <= 32). A row of len = k*l signs is a string of 32-bit words;
// code t covers bits [t*k, t*k+k), so it lies in the word holding its last
// bit and the one before, and the codes ending in word w are
// t in [floor(32w/k), floor(32(w+1)/k)) (at most 32). Each warp handles
// SP_WORDS consecutive words of one row: it loads those words' elements
// plus the previous word's (coalesced, all loads issued before use), turns
// each word into sign bits with a ballot and writes the codes ending in it,
// one per lane.
#define SP_WORDS 4
__global__ void sign_pack(const float* __restrict__ p, long long ldp,
                          unsigned int* __restrict__ codes,
                          long long m, long long k, long long l) {
    long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x & 31;
    long long len = k * l, words = (len + 31) / 32;
    long long chunks = (words + SP_WORDS - 1) / SP_WORDS;
    long long row = warp / chunks, w0 = (warp - row * chunks) * SP_WORDS;
    if (row >= m) return;  // uniform across the warp
    const float* r = p + row * ldp;
    unsigned int* out = codes + row * l;
    float v[SP_WORDS + 1];
#pragma unroll
    for (int u = 0; u <= SP_WORDS; u++) {
        long long e = (w0 - 1 + u) * 32 + lane;
        v[u] = (e >= 0 && e < len) ? r[e] : 0.0f;
    }
    unsigned long long mask = k == 32 ? 0xffffffffull : (1ull << k) - 1;
    unsigned int prev = __ballot_sync(0xffffffffu, v[0] > 0.0f);
#pragma unroll
    for (int u = 1; u <= SP_WORDS; u++) {
        long long w = w0 - 1 + u;
        if (w >= words) break;  // uniform
        unsigned int cur = __ballot_sync(0xffffffffu, v[u] > 0.0f);
        long long t = (w * 32) / k + lane;
        long long t1 = min((w * 32 + 32) / k, l);
        if (t < t1) {
            unsigned long long both = ((unsigned long long)cur << 32) | prev;
            int shift = (int)(t * k - (w - 1) * 32);  // in [1, 64-k]
            out[t] = (unsigned int)((both >> shift) & mask);
        }
        prev = cur;
    }
}

// Row reductions: each block of 256 threads handles rpb rows (rpb in
// {1, 2, 4, 8}), 256/rpb threads per row, so long rows get a whole block
// and short ones a warp. Returns the row's sum in the group's first thread.
__device__ __forceinline__ double row_group_sum(double s, long long rpb) {
    __shared__ double warp_sums[8];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int wpr = 8 / (int)rpb;  // warps per row
    s = warp_sum(s);
    if (wpr == 1) return s;
    if (lane == 0) warp_sums[warp] = s;
    __syncthreads();
    s = 0.0;
    if (lane == 0 && warp % wpr == 0)
        for (int i = 0; i < wpr; i++) s += warp_sums[warp + i];
    return s;
}

// row_sumsq: out[i] = scale * sum_j a[i*lda+j]^2, accumulated in double.
__global__ void row_sumsq(const float* __restrict__ a, long long lda,
                          long long m, long long n, double scale,
                          double* __restrict__ out, long long rpb) {
    int tpr = 256 / (int)rpb;
    long long row = (long long)blockIdx.x * rpb + threadIdx.x / tpr;
    int t = threadIdx.x % tpr;
    double s = 0.0;
    if (row < m) {
        const float* r = a + row * lda;
        double s1 = 0.0, s2 = 0.0, s3 = 0.0;
        long long j = t;
        for (; j + 3 * tpr < n; j += 4 * tpr) {  // four loads in flight
            double v0 = r[j], v1 = r[j + tpr], v2 = r[j + 2 * tpr], v3 = r[j + 3 * tpr];
            s += v0 * v0;
            s1 += v1 * v1;
            s2 += v2 * v2;
            s3 += v3 * v3;
        }
        for (; j < n; j += tpr) {
            double v = (double)r[j];
            s += v * v;
        }
        s = (s + s1) + (s2 + s3);
    }
    s = row_group_sum(s, rpb);  // every thread reaches the barrier inside
    if (row < m && t == 0) out[row] = scale * s;
}

// row_dots: out[i] = sum_j a[i*lda+j]*b[i*ldb+j], accumulated in double.
__global__ void row_dots(const float* __restrict__ a, long long lda,
                         const float* __restrict__ b, long long ldb,
                         long long m, long long n, double* __restrict__ out,
                         long long rpb) {
    int tpr = 256 / (int)rpb;
    long long row = (long long)blockIdx.x * rpb + threadIdx.x / tpr;
    int t = threadIdx.x % tpr;
    double s = 0.0;
    if (row < m) {
        const float* ra = a + row * lda;
        const float* rb = b + row * ldb;
        double s1 = 0.0, s2 = 0.0, s3 = 0.0;
        long long j = t;
        for (; j + 3 * tpr < n; j += 4 * tpr) {  // eight loads in flight
            float a0 = ra[j], a1 = ra[j + tpr], a2 = ra[j + 2 * tpr], a3 = ra[j + 3 * tpr];
            float b0 = rb[j], b1 = rb[j + tpr], b2 = rb[j + 2 * tpr], b3 = rb[j + 3 * tpr];
            s += (double)a0 * b0;
            s1 += (double)a1 * b1;
            s2 += (double)a2 * b2;
            s3 += (double)a3 * b3;
        }
        for (; j < n; j += tpr) s += (double)ra[j] * (double)rb[j];
        s = (s + s1) + (s2 + s3);
    }
    s = row_group_sum(s, rpb);
    if (row < m && t == 0) out[row] = s;
}

// dot_partial: partials[blockIdx.x] = this block's share of sum x[i]*y[i]
// (grid-stride, double accumulation). The host adds the partials, so the
// result does not depend on scheduling. Needs blockDim.x == 256.
__global__ void dot_partial(const float* __restrict__ x, const float* __restrict__ y,
                            long long n, double* __restrict__ partials) {
    __shared__ double warp_sums[8];
    double s = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    long long stride = (long long)gridDim.x * blockDim.x;
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    for (; i + 3 * stride < n; i += 4 * stride) {  // eight loads in flight
        float x0 = x[i], x1 = x[i + stride], x2 = x[i + 2 * stride], x3 = x[i + 3 * stride];
        float y0 = y[i], y1 = y[i + stride], y2 = y[i + 2 * stride], y3 = y[i + 3 * stride];
        s += (double)x0 * y0;
        s1 += (double)x1 * y1;
        s2 += (double)x2 * y2;
        s3 += (double)x3 * y3;
    }
    for (; i < n; i += stride) s += (double)x[i] * (double)y[i];
    s = (s + s1) + (s2 + s3);
    s = warp_sum(s);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) warp_sums[warp] = s;
    __syncthreads();
    if (warp == 0) {
        s = lane < (int)(blockDim.x >> 5) ? warp_sums[lane] : 0.0;
        s = warp_sum(s);
        if (lane == 0) partials[blockIdx.x] = s;
    }
}

// axpy: y[i] += alpha*x[i]. Multiply and add are rounded separately (no
// FMA), as Go does on amd64, so results match kernels.Generic there.
__global__ void axpy(long long n, double alpha, const float* __restrict__ x,
                     float* __restrict__ y) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    y[i] = __fadd_rn(y[i], __fmul_rn((float)alpha, x[i]));
}

// act_forward: h = sigma(z) over n elements. kind 0: relu (max(z, 0)),
// kind 1: tanh.
__global__ void act_forward(long long kind, long long n, const float* __restrict__ z,
                            float* __restrict__ h) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = z[i];
    h[i] = kind == 0 ? fmaxf(v, 0.0f) : tanhf(v);
}

// act_backward: out = g * sigma'(z) over n elements, z the pre-activation.
// relu' = [z > 0] (0 at z == 0), tanh' = 1 - tanh(z)^2. out may alias g.
__global__ void act_backward(long long kind, long long n, const float* z,
                             const float* g, float* out) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float v = z[i], gi = g[i];
    if (kind == 0) {
        out[i] = v > 0.0f ? gi : 0.0f;
    } else {
        float t = tanhf(v);
        out[i] = gi * (1.0f - t * t);
    }
}

// bias_add: a[i*lda+j] += bias[j] for an m x n matrix. 2-D grid:
// x over columns, y over rows (grid-stride over rows).
__global__ void bias_add(long long m, long long n, const float* __restrict__ bias,
                         float* __restrict__ a, long long lda) {
    long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n) return;
    float bj = bias[j];
    for (long long i = (long long)blockIdx.y * blockDim.y + threadIdx.y; i < m;
         i += (long long)gridDim.y * blockDim.y)
        a[i * lda + j] += bj;
}

// col_sums_partial: block (32, 8) at grid (x, c) sums rows
// [c*rows, (c+1)*rows) of columns 32x..32x+31 into partial[c*n + j]
// (double). col_sums_final adds the chunks in order: the result does not
// depend on scheduling.
__global__ void col_sums_partial(long long m, long long n, const float* __restrict__ a,
                                 long long lda, long long rows,
                                 double* __restrict__ partial) {
    __shared__ double sm[8][33];
    long long j = (long long)blockIdx.x * 32 + threadIdx.x;
    long long r0 = (long long)blockIdx.y * rows, r1 = min(m, r0 + rows);
    double s = 0.0;
    if (j < n)
        for (long long i = r0 + threadIdx.y; i < r1; i += 8) s += (double)a[i * lda + j];
    sm[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && j < n) {
        double t = 0.0;
        for (int y = 0; y < 8; y++) t += sm[y][threadIdx.x];
        partial[blockIdx.y * n + j] = t;
    }
}

// col_sums_final: out[j] = (float) sum_c partial[c*n + j].
__global__ void col_sums_final(long long n, long long chunks, const double* __restrict__ partial,
                               float* __restrict__ out) {
    long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n) return;
    double s = 0.0;
    for (long long c = 0; c < chunks; c++) s += partial[c * n + j];
    out[j] = (float)s;
}

// scale_mat: c[i*ldc+j] *= beta for an m x n matrix; with beta == 0 it
// writes zeros without reading c (NaN does not propagate).
__global__ void scale_mat(long long m, long long n, double beta, float* __restrict__ c,
                          long long ldc) {
    long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n) return;
    for (long long i = (long long)blockIdx.y * blockDim.y + threadIdx.y; i < m;
         i += (long long)gridDim.y * blockDim.y) {
        float* p = c + i * ldc + j;
        *p = beta == 0.0 ? 0.0f : *p * (float)beta;
    }
}

}  // extern "C"
