// attention.cu — varlen prefill attention and split-KV decode attention:
// the CUDA runtime side. The kernels and every launch decision (kernel,
// grid, block, shared memory, parameters) are in attention_kernels.cuh,
// which also documents the design.
//
// cu_seqlens, slots and cache_lens are host arrays copied to the workspace.
#include <algorithm>
#include <vector>

#include "attention_kernels.cuh"
#include "cuda_backend.h"
#include "cuda_error.h"

namespace nm {

// Device properties the dispatch needs, queried per call (cheap).
static nm_status device_limits(int32_t device, int* cc_major, int* sms, int* max_smem) {
    CUDA_TRY(cudaDeviceGetAttribute(cc_major, cudaDevAttrComputeCapabilityMajor, device));
    CUDA_TRY(cudaDeviceGetAttribute(sms, cudaDevAttrMultiProcessorCount, device));
    CUDA_TRY(cudaDeviceGetAttribute(max_smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    return NM_OK;
}

template <bool kDecode>
static nm_status launch_tile(const TileLaunch& l, const TileParams& tp, int max_smem, cudaStream_t stream) {
    if (l.smem > size_t(max_smem))
        return cuda_fail(NM_ERR_INVALID_ARGUMENT,
                         "cuda: attention with head_dim %lld needs %zu bytes of shared memory per block; the device "
                         "allows %d",
                         (long long)tp.head_dim, l.smem, max_smem);
    CUDA_TRY(cudaFuncSetAttribute(l.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(l.smem)));
    l.kernel<<<l.grid, l.block, l.smem, stream>>>(tp);
    if (kDecode) CUDA_CHECK_LAUNCH("attention decode kernel");
    else CUDA_CHECK_LAUNCH("attention tile kernel");
    return NM_OK;
}

nm_status CudaBackend::attention(const AttentionArgs& a) {
    NM_TRY(activate());
    if (a.total_q == 0) return NM_OK;
    int cc_major = 0, sms = 0, max_smem = 0;
    NM_TRY(device_limits(device_, &cc_major, &sms, &max_smem));

    const AttentionOffsets off = attention_offsets(a);
    void* ws = nullptr;
    NM_TRY(workspace(off.cu.size() * sizeof(int32_t), &ws));
    NM_TRY(copy_from_host(ws, off.cu.data(), off.cu.size() * sizeof(int32_t)));
    const int32_t* cu_q = static_cast<const int32_t*>(ws);
    const int32_t* cu_k = cu_q + a.batch + 1;
    if (off.max_lq == 0) return NM_OK;

    if (use_flash(a, cc_major)) {
        const FlashParams fp = flash_params(a, cu_q, cu_k);
        const FlashLaunch l = flash_launch(a.q.dtype, a.head_dim, fp, off.max_lq);
        CUDA_TRY(cudaFuncSetAttribute(l.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(l.smem)));
        l.kernel<<<l.grid, l.block, l.smem, stream_>>>(fp);
        CUDA_CHECK_LAUNCH("attention flash kernel");
        return NM_OK;
    }
    return launch_tile<false>(tile_prefill_launch(a, off.max_lq), tile_prefill_params(a, cu_q, cu_k), max_smem,
                              stream_);
}

nm_status CudaBackend::attention_decode(const AttentionDecodeArgs& a) {
    NM_TRY(activate());
    int cc_major = 0, sms = 0, max_smem = 0;
    NM_TRY(device_limits(device_, &cc_major, &sms, &max_smem));
    const DecodePlan pl = decode_plan(a, sms);
    void* ws = nullptr;
    NM_TRY(workspace(pl.workspace_bytes, &ws));
    char* base = static_cast<char*>(ws);
    NM_TRY(copy_from_host(base, a.slots, size_t(a.batch) * sizeof(int32_t)));
    NM_TRY(copy_from_host(base + size_t(a.batch) * sizeof(int32_t), a.cache_lens, size_t(a.batch) * sizeof(int32_t)));

    const TileParams tp = decode_params(a, pl, base);
    NM_TRY(launch_tile<true>(decode_launch(a, pl), tp, max_smem, stream_));
    if (pl.splits > 1) {
        const CombineLaunch c = combine_launch(pl);
        c.kernel<<<c.grid, c.block, 0, stream_>>>(tp.part_o, tp.part_lse, a.out.data, a.out.dtype, pl.rows_total,
                                                  a.head_dim, int(pl.splits));
        CUDA_CHECK_LAUNCH("attention decode combine kernel");
    }
    return NM_OK;
}

}  // namespace nm
