// kv_cache_cpu.cpp — nm_kv_cache_append on the CPU: row i of k and v
// ([count, Hkv, Dh]) is copied to cache[slots[i], positions[i]] of the
// [slots, capacity, Hkv, Dh] caches. Same dtype on both sides, so rows are
// plain byte copies. Rows are copied in order, so when two rows name the same
// destination the later one wins (the CUDA backend does not promise that).
#include <cstring>

#include "cpu_backend.h"

namespace nm {

nm_status CpuBackend::kv_cache_append(const KvCacheAppendArgs& a) {
    const size_t row_bytes = size_t(a.heads_kv * a.head_dim) * nm_dtype_size(a.k.dtype);
    char* kc = static_cast<char*>(a.k_cache.data);
    char* vc = static_cast<char*>(a.v_cache.data);
    const char* k = static_cast<const char*>(a.k.data);
    const char* v = static_cast<const char*>(a.v.data);
    for (int64_t i = 0; i < a.count; ++i) {
        const size_t dst = size_t(int64_t(a.slots[i]) * a.capacity + a.positions[i]) * row_bytes;
        std::memcpy(kc + dst, k + size_t(i) * row_bytes, row_bytes);
        std::memcpy(vc + dst, v + size_t(i) * row_bytes, row_bytes);
    }
    return NM_OK;
}

}  // namespace nm
