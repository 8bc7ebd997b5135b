/*
 * cuda13_compat.h — lets gorgonia.org/cu v0.9.6 compile against CUDA 13 headers.
 *
 * CUDA 13's cuda.h maps five driver entry points to new signatures through
 * macros: cuCtxCreate (-> _v4, takes CUctxCreateParams*), cuMemAdvise and
 * cuMemPrefetchAsync (-> _v2, take a CUmemLocation), cuGraphAddDependencies
 * and cuGraphGetEdges (-> _v2, take edge data). gorgonia.org/cu calls the old
 * forms. The driver still exports the old symbols, so for CUDA >= 13 this
 * header removes the macros, maps cuCtxCreate to cuCtxCreate_v2 and declares
 * the five old prototypes. With CUDA < 13 it only includes cuda.h.
 *
 * It is force-included into every cgo compilation through CGO_CFLAGS
 * ("-include <abs path>/cuda13_compat.h", see env.sh). CGO_CFLAGS also reaches
 * runtime/cgo, net and assembler files, hence _GNU_SOURCE first (runtime/cgo
 * needs it before any libc header) and the __ASSEMBLER__ guard.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#ifndef __ASSEMBLER__
#ifndef NTKLSH_CUDA13_COMPAT_H
#define NTKLSH_CUDA13_COMPAT_H

#include <stddef.h>
#include <cuda.h>

#if defined(CUDA_VERSION) && CUDA_VERSION >= 13000
#undef cuCtxCreate
#undef cuMemAdvise
#undef cuMemPrefetchAsync
#undef cuGraphAddDependencies
#undef cuGraphGetEdges
#define cuCtxCreate cuCtxCreate_v2

#ifdef __cplusplus
extern "C" {
#endif
CUresult CUDAAPI cuCtxCreate_v2(CUcontext *pctx, unsigned int flags, CUdevice dev);
CUresult CUDAAPI cuMemAdvise(CUdeviceptr devPtr, size_t count, CUmem_advise advice, CUdevice device);
CUresult CUDAAPI cuMemPrefetchAsync(CUdeviceptr devPtr, size_t count, CUdevice dstDevice, CUstream hStream);
CUresult CUDAAPI cuGraphAddDependencies(CUgraph hGraph, const CUgraphNode *from, const CUgraphNode *to, size_t numDependencies);
CUresult CUDAAPI cuGraphGetEdges(CUgraph hGraph, CUgraphNode *from, CUgraphNode *to, size_t *numEdges);
#ifdef __cplusplus
}
#endif
#endif /* CUDA_VERSION >= 13000 */

#endif /* NTKLSH_CUDA13_COMPAT_H */
#endif /* __ASSEMBLER__ */
