// cuda_backend.cu — CudaBackend's resources: stream, cuBLAS handle, memory,
// copies, workspace. Operators are in the kernel files (see cuda_backend.h).
#include "cuda_backend.h"

#include <new>

#include "cuda_error.h"

namespace nm {

nm_status CudaBackend::create(int32_t device, CudaBackend** out) {
    *out = nullptr;
    CUDA_TRY(cudaSetDevice(device));
    cudaStream_t stream = nullptr;
    CUDA_TRY(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    CudaBackend* b = new (std::nothrow) CudaBackend(device);
    if (!b) {
        cudaStreamDestroy(stream);
        return cuda_fail(NM_ERR_OUT_OF_MEMORY, "cuda: out of host memory creating the backend");
    }
    b->stream_ = stream;
    *out = b;
    return NM_OK;
}

CudaBackend::~CudaBackend() {
    // Errors are ignored here: there is no one to report them to, and the
    // API layer has already synchronised (and reported) before destroying.
    cudaSetDevice(device_);
    if (stream_) cudaStreamSynchronize(stream_);
    if (workspace_) cudaFree(workspace_);
    if (cublas_) cublasDestroy(cublas_);
    if (stream_) cudaStreamDestroy(stream_);
    cudaGetLastError();
}

nm_status CudaBackend::activate() {
    CUDA_TRY(cudaSetDevice(device_));
    return NM_OK;
}

nm_status CudaBackend::alloc(size_t bytes, void** out) {
    *out = nullptr;
    NM_TRY(activate());
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, bytes);
    if (err != cudaSuccess) {
        cudaGetLastError();
        if (err == cudaErrorMemoryAllocation) {
            size_t free_b = 0, total_b = 0;
            if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
                cudaGetLastError();
                free_b = total_b = 0;
            }
            return cuda_fail(NM_ERR_OUT_OF_MEMORY,
                             "cuda: cudaMalloc of %zu bytes on device %d failed: out of memory "
                             "(cudaErrorMemoryAllocation; %zu of %zu bytes free)",
                             bytes, int(device_), free_b, total_b);
        }
        return cuda_fail(NM_ERR_CUDA, "cuda: cudaMalloc of %zu bytes on device %d failed: %s (%s)", bytes,
                         int(device_), cudaGetErrorString(err), cudaGetErrorName(err));
    }
    *out = p;
    return NM_OK;
}

void CudaBackend::release(void* ptr) {
    if (!ptr) return;
    if (cudaSetDevice(device_) != cudaSuccess) {
        cudaGetLastError();
        return;
    }
    // Work still queued on our stream may use ptr. cudaFree synchronises too,
    // but waiting on our own stream first makes the ordering explicit.
    cudaStreamSynchronize(stream_);
    cudaFree(ptr);
    cudaGetLastError();  // nothing to report to from a void method; the next call will see sticky errors
}

// Whether host memory is page-locked (or managed): then cudaMemcpyAsync reads
// it truly asynchronously. Pageable memory is staged before cudaMemcpyAsync
// returns. Unknown answers count as page-locked (the safe side).
static bool host_memory_is_async(const void* p) {
    cudaPointerAttributes attr{};
    if (cudaPointerGetAttributes(&attr, p) != cudaSuccess) {
        cudaGetLastError();
        return true;
    }
    return attr.type != cudaMemoryTypeUnregistered;
}

nm_status CudaBackend::copy_from_host(void* dst, const void* host_src, size_t bytes) {
    if (bytes == 0) return NM_OK;
    CUDA_TRY(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, stream_));
    // The ABI lets the caller reuse host buffers as soon as the call returns.
    // From pageable memory the runtime has already copied them to a staging
    // buffer; from page-locked memory the DMA may still be reading, so wait.
    if (host_memory_is_async(host_src)) CUDA_TRY(cudaStreamSynchronize(stream_));
    return NM_OK;
}

nm_status CudaBackend::upload(void* dst, const void* host_src, size_t bytes) {
    NM_TRY(activate());
    return copy_from_host(dst, host_src, bytes);
}

nm_status CudaBackend::download(void* host_dst, const void* src, size_t bytes) {
    NM_TRY(activate());
    if (bytes == 0) return NM_OK;
    // Asynchronous into page-locked memory; into pageable memory the runtime
    // returns once the copy is done. Either way nm_context_synchronize covers it.
    CUDA_TRY(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
    return NM_OK;
}

nm_status CudaBackend::copy(void* dst, const void* src, size_t bytes) {
    NM_TRY(activate());
    if (bytes == 0 || dst == src) return NM_OK;
    CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
    return NM_OK;
}

nm_status CudaBackend::zero(void* dst, size_t bytes) {
    NM_TRY(activate());
    if (bytes == 0) return NM_OK;
    CUDA_TRY(cudaMemsetAsync(dst, 0, bytes, stream_));
    return NM_OK;
}

nm_status CudaBackend::synchronize() {
    NM_TRY(activate());
    CUDA_TRY(cudaStreamSynchronize(stream_));
    // A launch error not yet reported (there should be none: launches are checked).
    CUDA_TRY(cudaGetLastError());
    return NM_OK;
}

nm_status CudaBackend::workspace(size_t bytes, void** out) {
    *out = nullptr;
    if (bytes > workspace_bytes_) {
        size_t want = workspace_bytes_ * 2;
        if (want < bytes) want = bytes;
        if (want < (size_t(1) << 20)) want = size_t(1) << 20;
        // Earlier work on the stream may still read the old buffer.
        CUDA_TRY(cudaStreamSynchronize(stream_));
        if (workspace_) {
            cudaFree(workspace_);
            workspace_ = nullptr;
            workspace_bytes_ = 0;
        }
        void* p = nullptr;
        cudaError_t err = cudaMalloc(&p, want);
        if (err != cudaSuccess) {
            cudaGetLastError();
            return cuda_fail(err == cudaErrorMemoryAllocation ? NM_ERR_OUT_OF_MEMORY : NM_ERR_CUDA,
                             "cuda: cudaMalloc of %zu bytes of workspace on device %d failed: %s (%s)", want,
                             int(device_), cudaGetErrorString(err), cudaGetErrorName(err));
        }
        workspace_ = p;
        workspace_bytes_ = want;
    }
    *out = workspace_;
    return NM_OK;
}

nm_status CudaBackend::cublas(cublasHandle_t* out) {
    if (!cublas_) {
        cublasHandle_t h = nullptr;
        CUBLAS_TRY(cublasCreate(&h));
        cublasStatus_t st = cublasSetStream(h, stream_);
        if (st != CUBLAS_STATUS_SUCCESS) {
            cublasDestroy(h);
            return cublas_error(st, "cublasSetStream");
        }
        cublas_ = h;
    }
    *out = cublas_;
    return NM_OK;
}

}  // namespace nm
