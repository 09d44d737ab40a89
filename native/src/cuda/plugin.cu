// plugin.cu — the entry point of libnativemodels_cuda.so: the CudaPluginApi
// table (probe, device info, backend creation, build description).
#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <cublas_v2.h>  // CUBLAS_VER_MAJOR etc.

#include "cuda_backend.h"
#include "cuda_error.h"

#ifndef NM_CUDA_ARCH_LIST
#define NM_CUDA_ARCH_LIST "unknown"
#endif

namespace nm {
namespace {

nm_status probe(int32_t* device_count) {
    *device_count = 0;
    // The runtime loads the driver library itself; looking for it first gives
    // a clearer message on machines without the NVIDIA driver.
    static void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);  // kept open, never closed
    if (!driver) return cuda_fail(NM_ERR_BACKEND_UNAVAILABLE, "cuda: no CUDA driver found (libcuda.so.1)");
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) cudaGetLastError();
    if (err == cudaErrorInsufficientDriver) {
        int driver_version = 0;
        if (cudaDriverGetVersion(&driver_version) != cudaSuccess) {
            cudaGetLastError();
            driver_version = 0;
        }
        char supports[64] = "";
        if (driver_version > 0)
            std::snprintf(supports, sizeof supports, " (the driver supports CUDA %d.%d)", driver_version / 1000,
                          (driver_version % 1000) / 10);
        return cuda_fail(NM_ERR_BACKEND_UNAVAILABLE,
                         "cuda: the installed NVIDIA driver is older than the CUDA runtime %d.%d this backend was "
                         "built with%s",
                         CUDART_VERSION / 1000, (CUDART_VERSION % 1000) / 10, supports);
    }
    if (err == cudaErrorNoDevice || (err == cudaSuccess && count <= 0))
        return cuda_fail(NM_ERR_BACKEND_UNAVAILABLE, "cuda: no CUDA-capable GPU found");
    if (err != cudaSuccess)
        return cuda_fail(NM_ERR_BACKEND_UNAVAILABLE, "cuda: cudaGetDeviceCount failed: %s (%s)",
                         cudaGetErrorString(err), cudaGetErrorName(err));
    *device_count = count;
    return NM_OK;
}

nm_status device_info(int32_t device, nm_device_info* out) {
    std::memset(out, 0, sizeof *out);
    cudaDeviceProp prop;
    std::memset(&prop, 0, sizeof prop);
    CUDA_TRY(cudaGetDeviceProperties(&prop, device));
    std::snprintf(out->name, sizeof out->name, "%s", prop.name);
    out->total_memory_bytes = uint64_t(prop.totalGlobalMem);
    out->compute_capability_major = prop.major;
    out->compute_capability_minor = prop.minor;
    out->multiprocessor_count = prop.multiProcessorCount;
    out->runtime_version = CUDART_VERSION;
    int driver_version = 0;
    CUDA_TRY(cudaDriverGetVersion(&driver_version));
    out->driver_version = driver_version;
    // cudaMemGetInfo reports on the current device; restore the caller's afterwards.
    int previous = 0;
    CUDA_TRY(cudaGetDevice(&previous));
    CUDA_TRY(cudaSetDevice(device));
    size_t free_b = 0, total_b = 0;
    cudaError_t err = cudaMemGetInfo(&free_b, &total_b);
    cudaSetDevice(previous);
    if (err != cudaSuccess) return cuda_error(err, "cudaMemGetInfo");
    out->free_memory_bytes = uint64_t(free_b);
    return NM_OK;
}

nm_status create_backend(int32_t device, Backend** out) {
    *out = nullptr;
    CudaBackend* b = nullptr;
    NM_TRY(CudaBackend::create(device, &b));
    *out = b;
    return NM_OK;
}

// "CUDA 11.8 (nvcc 11.8), archs 80-real;86-real;89-real;90, cuBLAS 11.11.3"
const char* build_info() {
    static const std::string info = [] {
        char buf[512];
        std::snprintf(buf, sizeof buf, "CUDA %d.%d (nvcc %d.%d), archs %s, cuBLAS %d.%d.%d", CUDART_VERSION / 1000,
                      (CUDART_VERSION % 1000) / 10, __CUDACC_VER_MAJOR__, __CUDACC_VER_MINOR__, NM_CUDA_ARCH_LIST,
                      CUBLAS_VER_MAJOR, CUBLAS_VER_MINOR, CUBLAS_VER_PATCH);
        return std::string(buf);
    }();
    return info.c_str();
}

const CudaPluginApi kApi = {
    kCudaPluginAbi, &cuda_set_error_sink, &probe, &device_info, &create_backend, &build_info,
};

}  // namespace
}  // namespace nm

extern "C" NM_API const nm::CudaPluginApi* nm_cuda_plugin_api() { return &nm::kApi; }
