// cpu_backend.cpp — memory management of the CPU backend.
#include "cpu_backend.h"

#include <cstdlib>
#include <cstring>

#include "../core/context.h"
#include "../core/error.h"

namespace nm {

nm_status CpuBackend::alloc(size_t bytes, void** out) {
    // 64-byte alignment for vector loads; aligned_alloc needs a multiple of it.
    size_t rounded = (bytes + 63) & ~size_t(63);
    void* p = std::aligned_alloc(64, rounded ? rounded : 64);
    if (!p) return set_error(NM_ERR_OUT_OF_MEMORY, "cpu: cannot allocate %zu bytes", bytes);
    *out = p;
    return NM_OK;
}

void CpuBackend::release(void* ptr) { std::free(ptr); }

nm_status CpuBackend::upload(void* dst, const void* host_src, size_t bytes) {
    std::memcpy(dst, host_src, bytes);
    return NM_OK;
}

nm_status CpuBackend::download(void* host_dst, const void* src, size_t bytes) {
    std::memcpy(host_dst, src, bytes);
    return NM_OK;
}

nm_status CpuBackend::copy(void* dst, const void* src, size_t bytes) {
    std::memmove(dst, src, bytes);
    return NM_OK;
}

nm_status CpuBackend::zero(void* dst, size_t bytes) {
    std::memset(dst, 0, bytes);
    return NM_OK;
}

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace nm
