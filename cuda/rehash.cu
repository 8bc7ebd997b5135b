// rehash.cu — kernels of the device-resident rehash (rehash.go): the
// elementwise and per-example parts of the Jacobian batch (bias + activation,
// per-example |δ_l|², |h_{l−1}|², δ_l·z_l), the layer-structured projection
// product, and the code finishing of engine.Hasher (Simple-LSH transform and
// sign packing). GEMMs go to cuBLAS. Compiled to PTX by gen.sh; the PTX is
// committed as rehash.ptx and embedded.
//
// Conventions as in kernels.cu: compact row-major float32 matrices, every
// kernel parameter 8 bytes wide (pointers, long long, double), float64
// accumulation for reductions. Where the result must equal the Go engine's
// float64 arithmetic bit for bit (finish_codes), the operations are written
// with explicit _rn intrinsics so that nvcc does not contract them into FMAs
// (Go does not fuse on amd64 at the default GOAMD64=v1).

__device__ __forceinline__ double warp_sum(double v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    return v;
}

extern "C" {

// bias_act: z[i*n+j] += bias[j] over the m x n matrix z; then, for a hidden
// layer (kind 0: relu, 1: tanh), h[i*n+j] = sigma(z[i*n+j]). kind < 0 (the
// output layer) writes no h.
__global__ void bias_act(long long m, long long n, const float* __restrict__ bias,
                         float* __restrict__ z, float* __restrict__ h, long long kind) {
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= m * n) return;
    long long j = idx % n;
    float v = __fadd_rn(z[idx], bias[j]);
    z[idx] = v;
    if (kind == 0) h[idx] = fmaxf(v, 0.0f);
    else if (kind == 1) h[idx] = tanhf(v);
}

// fill_f32: p[i] = v for i < n.
__global__ void fill_f32(long long n, double v, float* __restrict__ p) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) p[i] = (float)v;
}

// out_prep: for each row i of the n x out network output f and targets y:
// f0[i] = sum_o f[i,o], ysum[i] = sum_o y[i,o] (double, in order of o, as the
// engine does), and, when resid is not null, resid[i,o] = f[i,o] - y[i,o]
// (float32, the loss gradient of 1/2|f - y|^2).
__global__ void out_prep(long long n, long long out, const float* __restrict__ f,
                         const float* __restrict__ y, double* __restrict__ f0,
                         double* __restrict__ ysum, float* __restrict__ resid) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    double fs = 0.0, ys = 0.0;
    for (long long o = 0; o < out; o++) {
        float fv = f[i * out + o], yv = y[i * out + o];
        fs += (double)fv;
        ys += (double)yv;
        if (resid) resid[i * out + o] = __fsub_rn(fv, yv);
    }
    f0[i] = fs;
    ysum[i] = ys;
}

// Sums three values over the threads of a row group (256/rpb threads, rpb in
// {1, 8}); the totals are valid in the group's first thread. Every thread of
// the block must call it (it may hold a barrier).
__device__ __forceinline__ void row_group_sum3(double& a, double& b, double& c, long long rpb) {
    __shared__ double ws[3][8];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int wpr = 8 / (int)rpb;  // warps per row
    a = warp_sum(a);
    b = warp_sum(b);
    c = warp_sum(c);
    if (wpr == 1) return;  // uniform: rpb is a kernel argument
    if (lane == 0) {
        ws[0][warp] = a;
        ws[1][warp] = b;
        ws[2][warp] = c;
    }
    __syncthreads();
    if (lane == 0 && warp % wpr == 0) {
        a = 0.0;
        b = 0.0;
        c = 0.0;
        for (int i = 0; i < wpr; i++) {
            a += ws[0][warp + i];
            b += ws[1][warp + i];
            c += ws[2][warp + i];
        }
    }
}

// row_stats: for each row i < m of delta d (m x w), pre-activation z (m x w)
// and layer input h (m x in): sq[i] = |d_i|^2 (|h_i|^2 + 1) (the squared
// norm of the layer's block of the per-example gradient) and
// dz[i] = d_i . z_i (its inner product with the layer's parameters), all in
// double. Blocks of 256 threads handle rpb rows each (1 or 8).
__global__ void row_stats(const float* __restrict__ d, const float* __restrict__ z, long long w,
                          const float* __restrict__ h, long long in, long long m,
                          double* __restrict__ sq, double* __restrict__ dz, long long rpb) {
    int tpr = 256 / (int)rpb;
    long long row = (long long)blockIdx.x * rpb + threadIdx.x / tpr;
    int t = threadIdx.x % tpr;
    double sdd = 0.0, sdz = 0.0, shh = 0.0;
    if (row < m) {
        const float* rd = d + row * w;
        const float* rz = z + row * w;
        const float* rh = h + row * in;
        double sdd1 = 0.0, sdz1 = 0.0;
        long long j = t;
        for (; j + tpr < w; j += 2 * tpr) {  // four loads in flight
            float d0 = rd[j], d1 = rd[j + tpr], z0 = rz[j], z1 = rz[j + tpr];
            sdd += (double)d0 * d0;
            sdd1 += (double)d1 * d1;
            sdz += (double)d0 * z0;
            sdz1 += (double)d1 * z1;
        }
        for (; j < w; j += tpr) {
            double dv = rd[j];
            sdd += dv * dv;
            sdz += dv * (double)rz[j];
        }
        sdd += sdd1;
        sdz += sdz1;
        for (j = t; j < in; j += tpr) {
            double hv = rh[j];
            shh += hv * hv;
        }
    }
    row_group_sum3(sdd, sdz, shh, rpb);
    if (row < m && t == 0) {
        sq[row] = sdd * (shh + 1.0);
        dz[row] = sdz;
    }
}

// point_finish: per example i < n, from the per-layer rows (layer l at
// offset l*cap) of row_stats: anorm = sqrt(sum_l sq), b = f0 - sum_l dz,
// gn = anorm*|f0 - ysum| for one output or sqrt(sum_l sqloss) (the loss
// backward) for several, and with lastonly the output layer's
// ahash = sqrt(sq_L), bhash = f0 - dz_L. Sums run over l in order, as the
// engine's do.
__global__ void point_finish(long long n, long long layers, long long cap,
                             const double* __restrict__ sq, const double* __restrict__ dz,
                             const double* __restrict__ sqloss, long long out, long long lastonly,
                             const double* __restrict__ f0, const double* __restrict__ ysum,
                             double* __restrict__ anorm, double* __restrict__ b,
                             double* __restrict__ gn, double* __restrict__ ahash,
                             double* __restrict__ bhash) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    double s = 0.0, ds = 0.0, sl = 0.0;
    for (long long l = 0; l < layers; l++) {
        s += sq[l * cap + i];
        ds += dz[l * cap + i];
        if (out > 1) sl += sqloss[l * cap + i];
    }
    double an = sqrt(s), f = f0[i];
    anorm[i] = an;
    b[i] = f - ds;
    gn[i] = out == 1 ? an * fabs(f - ysum[i]) : sqrt(sl);
    if (lastonly) {
        long long L = layers - 1;
        ahash[i] = sqrt(sq[L * cap + i]);
        bhash[i] = f - dz[L * cap + i];
    }
}

// proj_acc: out[i*kl+j] (first: =, else +=) pd[i*kl+j] * (ph[i*kl+j] + vb[j])
// for the n x kl projections: (u_j . delta)(v_j . h + vb_j).
__global__ void proj_acc(long long n, long long kl, const float* __restrict__ pd,
                         const float* __restrict__ ph, const float* __restrict__ vb,
                         float* __restrict__ out, long long first) {
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n * kl) return;
    long long j = idx % kl;
    float v = __fmul_rn(pd[idx], __fadd_rn(ph[idx], vb[j]));
    out[idx] = first ? v : __fadd_rn(out[idx], v);
}

// finish_codes: code t of point i (one thread each, i < n, t < l) from the
// raw projections proj (n x k*l, R a_i) and the point's linearization, as
// engine.Hasher.dataVector and codesFromProjections compute it:
//   paper:     sa = 1,     beta = ysum - bhash
//   recentred: sa = alpha, beta = f0 - ysum
//   norm2 = an^2 (sa^2 ah^2 + beta^2)
//   MIPS:  v_j = float32(an/M (sa p_j + c_j beta) + e_j sqrt(max(0, 1 - norm2/M^2)))
//   else:  v_j = float32(an (sa p_j + c_j beta))
// and bit j of the code is set when v_j > 0. Unfused double arithmetic, in
// Go's evaluation order, so the bits equal the host's.
__global__ void finish_codes(long long n, long long k, long long l, const float* __restrict__ proj,
                             const double* __restrict__ anorm, const double* __restrict__ ahash,
                             const double* __restrict__ bhash, const double* __restrict__ f0,
                             const double* __restrict__ ysum, const float* __restrict__ c,
                             const float* __restrict__ e, double M, long long recentred,
                             double alpha, long long mips, unsigned int* __restrict__ codes) {
    long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n * l) return;
    long long i = idx / l, t = idx - i * l;
    double an = anorm[i], ah = ahash[i], sa, beta;
    if (recentred) {
        sa = alpha;
        beta = __dsub_rn(f0[i], ysum[i]);
    } else {
        sa = 1.0;
        beta = __dsub_rn(ysum[i], bhash[i]);
    }
    double norm2 = __dmul_rn(__dmul_rn(an, an),
                             __dadd_rn(__dmul_rn(__dmul_rn(__dmul_rn(sa, sa), ah), ah), __dmul_rn(beta, beta)));
    double extra = 0.0, scale = an;
    if (mips) {
        extra = __dsqrt_rn(fmax(0.0, __dsub_rn(1.0, __ddiv_rn(norm2, __dmul_rn(M, M)))));
        scale = __ddiv_rn(an, M);
    }
    const float* p = proj + i * (k * l) + t * k;
    unsigned int code = 0;
    for (long long j = 0; j < k; j++) {
        long long jj = t * k + j;
        double v = __dadd_rn(__dmul_rn(sa, (double)p[j]), __dmul_rn((double)c[jj], beta));
        float f = mips ? (float)__dadd_rn(__dmul_rn(scale, v), __dmul_rn((double)e[jj], extra))
                       : (float)__dmul_rn(an, v);
        if (f > 0.0f) code |= 1u << j;
    }
    codes[idx] = code;
}

}  // extern "C"
