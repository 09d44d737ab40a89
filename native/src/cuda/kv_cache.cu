// kv_cache.cu — nm_kv_cache_append: row i of k and v ([count, Hkv, Dh]) goes
// to cache[slots[i], positions[i]] of the [slots, capacity, Hkv, Dh] caches.
// Slots and positions are copied to the workspace; one grid-stride loop moves
// rows in 16-, 4- or 2-byte units (the widest that divides the row size).
// Two rows naming the same destination race: which one lands is unspecified.
#include "cuda_backend.h"
#include "cuda_common.cuh"
#include "cuda_error.h"

namespace nm {
namespace {

template <class U>
__global__ void kv_append_kernel(U* __restrict__ k_cache, U* __restrict__ v_cache, const U* __restrict__ k,
                                 const U* __restrict__ v, const int32_t* __restrict__ slots,
                                 const int32_t* __restrict__ positions, int64_t capacity, int64_t units_per_row,
                                 int64_t n) {
    for (int64_t idx = cu::global_thread(); idx < n; idx += cu::grid_stride()) {
        const int64_t i = idx / units_per_row, u = idx - i * units_per_row;
        const int64_t dst = (int64_t(slots[i]) * capacity + positions[i]) * units_per_row + u;
        k_cache[dst] = k[idx];
        v_cache[dst] = v[idx];
    }
}

template <class U>
nm_status launch(const KvCacheAppendArgs& a, const int32_t* slots, const int32_t* positions, int64_t row_bytes,
                 cudaStream_t stream) {
    const int64_t units = row_bytes / int64_t(sizeof(U)), n = a.count * units;
    kv_append_kernel<U><<<cu::grid_for(n, 256), 256, 0, stream>>>(
        static_cast<U*>(a.k_cache.data), static_cast<U*>(a.v_cache.data), static_cast<const U*>(a.k.data),
        static_cast<const U*>(a.v.data), slots, positions, a.capacity, units, n);
    CUDA_CHECK_LAUNCH("kv cache append kernel");
    return NM_OK;
}

}  // namespace

nm_status CudaBackend::kv_cache_append(const KvCacheAppendArgs& a) {
    NM_TRY(activate());
    if (a.count == 0) return NM_OK;
    const size_t idx_bytes = size_t(a.count) * sizeof(int32_t);
    const size_t pos_offset = (idx_bytes + 255) / 256 * 256;
    void* ws = nullptr;
    NM_TRY(workspace(pos_offset + idx_bytes, &ws));
    char* base = static_cast<char*>(ws);
    NM_TRY(copy_from_host(base, a.slots, idx_bytes));
    NM_TRY(copy_from_host(base + pos_offset, a.positions, idx_bytes));
    const int32_t* slots = reinterpret_cast<const int32_t*>(base);
    const int32_t* positions = reinterpret_cast<const int32_t*>(base + pos_offset);
    const int64_t row_bytes = a.heads_kv * a.head_dim * (a.k.dtype == NM_DTYPE_F32 ? 4 : 2);  // float dtypes only
    if (row_bytes % 16 == 0) return launch<uint4>(a, slots, positions, row_bytes, stream_);
    if (row_bytes % 4 == 0) return launch<uint32_t>(a, slots, positions, row_bytes, stream_);
    return launch<uint16_t>(a, slots, positions, row_bytes, stream_);
}

}  // namespace nm
