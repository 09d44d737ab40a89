// cuda_common.cuh — small device helpers shared by the kernel files:
// grid sizing for grid-stride loops, warp/block sums, activations.
//
// Conventions of every kernel in this directory:
//  - indices are int64_t and loops are grid-stride, so any tensor the API
//    accepts (up to 2^48 elements) is covered by a grid of bounded size;
//  - block sizes are multiples of 32 and at most 1024 (full-warp shuffles);
//  - values are loaded with nm::load_float and stored with nm::store_float
//    (core/half.h), arithmetic is float32.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "../core/half.h"

// A kernel's dynamic shared memory as an array of T: `extern __shared__ T
// name[]`. Under the CPU simulator of the native tests (NM_CUDA_SIM,
// tests/native/cuda_sim) it is the launch's buffer instead.
#if defined(NM_CUDA_SIM)
#define NM_DYNAMIC_SHARED(T, name) T* const name = ::sim::dynamic_shared<T>()
#else
#define NM_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

namespace nm {
namespace cu {

// Blocks for a grid-stride loop over n items: enough to fill the GPU, never
// more than needed, never zero, and far below the 2^31-1 limit of gridDim.x.
inline unsigned grid_for(int64_t n, int block) {
    int64_t g = (n + block - 1) / block;
    if (g < 1) g = 1;
    if (g > (int64_t(1) << 20)) g = int64_t(1) << 20;
    return unsigned(g);
}

// Blocks for "one block per row" kernels that loop over rows with a stride of gridDim.x.
inline unsigned grid_for_rows(int64_t rows) {
    if (rows < 1) return 1;
    return unsigned(rows > 65535 * 16 ? 65535 * 16 : rows);
}

// Threads per block for a row of `cols` elements: a power of two from 32 to 1024.
inline int block_for_cols(int64_t cols) {
    int b = 32;
    while (b < cols && b < 1024) b <<= 1;
    return b;
}

__device__ __forceinline__ int64_t global_thread() {
    return int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_stride() { return int64_t(gridDim.x) * blockDim.x; }

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum (or max) of v over the block; every thread gets the result. `scratch`
// is __shared__ float[33]. Safe to call repeatedly with the same scratch: the
// leading barrier keeps a call from overwriting slots the previous call's
// threads may still be reading.
template <bool kMax>
__device__ __forceinline__ float block_reduce(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int nwarps = (blockDim.x + 31) >> 5;
    v = kMax ? warp_max(v) : warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float w = lane < nwarps ? scratch[lane] : (kMax ? -INFINITY : 0.f);
        w = kMax ? warp_max(w) : warp_sum(w);
        if (lane == 0) scratch[32] = w;
    }
    __syncthreads();
    return scratch[32];
}
__device__ __forceinline__ float block_sum(float v, float* scratch) { return block_reduce<false>(v, scratch); }
__device__ __forceinline__ float block_max(float v, float* scratch) { return block_reduce<true>(v, scratch); }

// silu(x) = x * sigmoid(x) = x / (1 + e^-x); expf (not __expf) for accuracy.
__device__ __forceinline__ float silu(float x) { return x / (1.f + expf(-x)); }

}  // namespace cu
}  // namespace nm
