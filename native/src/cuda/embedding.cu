// embedding.cu — out[i, :] = weight[ids[i], :].
//
// The host ids are copied into the workspace first (stream-ordered). One block
// per output row (grid-stride over rows); its threads copy the H columns.
// Same dtype: a plain element copy (bit-exact). Otherwise each value goes
// through float32 (load_float / store_float, round to nearest even).
#include "cuda_backend.h"
#include "cuda_common.cuh"
#include "cuda_error.h"

namespace nm {
namespace {

template <class T>
__global__ void embedding_copy_kernel(const T* __restrict__ weight, const int32_t* __restrict__ ids, int64_t count,
                                      int64_t hidden, T* __restrict__ out) {
    for (int64_t r = blockIdx.x; r < count; r += gridDim.x) {
        const T* src = weight + int64_t(ids[r]) * hidden;
        T* dst = out + r * hidden;
        for (int64_t j = threadIdx.x; j < hidden; j += blockDim.x) dst[j] = src[j];
    }
}

__global__ void embedding_convert_kernel(const void* __restrict__ weight, nm_dtype wt,
                                         const int32_t* __restrict__ ids, int64_t count, int64_t hidden,
                                         void* __restrict__ out, nm_dtype ot) {
    for (int64_t r = blockIdx.x; r < count; r += gridDim.x) {
        const int64_t src = int64_t(ids[r]) * hidden;
        const int64_t dst = r * hidden;
        for (int64_t j = threadIdx.x; j < hidden; j += blockDim.x)
            store_float(out, ot, dst + j, load_float(weight, wt, src + j));
    }
}

}  // namespace

nm_status CudaBackend::embedding(const EmbeddingArgs& args) {
    NM_TRY(activate());
    const int64_t count = args.count, hidden = args.hidden;
    if (count <= 0 || hidden <= 0) return NM_OK;
    void* ws = nullptr;
    NM_TRY(workspace(size_t(count) * sizeof(int32_t), &ws));
    const int32_t* ids = static_cast<const int32_t*>(ws);
    NM_TRY(copy_from_host(ws, args.ids, size_t(count) * sizeof(int32_t)));

    const int block = cu::block_for_cols(hidden) > 256 ? 256 : cu::block_for_cols(hidden);
    const unsigned grid = cu::grid_for_rows(count);
    const nm_dtype wt = args.weight.dtype, ot = args.out.dtype;
    if (wt == ot && wt == NM_DTYPE_F32) {
        embedding_copy_kernel<<<grid, block, 0, stream_>>>(static_cast<const uint32_t*>(args.weight.data), ids,
                                                           count, hidden, static_cast<uint32_t*>(args.out.data));
    } else if (wt == ot) {
        embedding_copy_kernel<<<grid, block, 0, stream_>>>(static_cast<const uint16_t*>(args.weight.data), ids,
                                                           count, hidden, static_cast<uint16_t*>(args.out.data));
    } else {
        embedding_convert_kernel<<<grid, block, 0, stream_>>>(args.weight.data, wt, ids, count, hidden,
                                                              args.out.data, ot);
    }
    CUDA_CHECK_LAUNCH("embedding kernel");
    return NM_OK;
}

}  // namespace nm
