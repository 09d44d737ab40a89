// cuda_error.h — how the CUDA plugin reports failures.
//
// The plugin cannot call nm::set_error (that lives in the main library), so
// the main library hands it a sink through CudaPluginApi::set_error_sink.
// cuda_fail() formats a message, passes it to the sink and returns the status.
// CUDA_TRY / CUBLAS_TRY turn a failed runtime or cuBLAS call into a message
// such as "cuda: cudaMalloc failed: out of memory (cudaErrorMemoryAllocation)".
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "../core/backend.h"

namespace nm {

void cuda_set_error_sink(ErrorSink sink);

// Formats a printf-style message, hands it to the sink, returns `status`.
nm_status cuda_fail(nm_status status, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

// "cuda: <what> failed: <string> (<name>)". cudaErrorMemoryAllocation gives
// NM_ERR_OUT_OF_MEMORY, anything else NM_ERR_CUDA. Clears the (non-sticky)
// last-error state of the runtime so later calls do not see it again.
nm_status cuda_error(cudaError_t err, const char* what);
// "cublas: <what> failed: <string> (<name>)"; CUBLAS_STATUS_ALLOC_FAILED gives
// NM_ERR_OUT_OF_MEMORY, anything else NM_ERR_CUDA.
nm_status cublas_error(cublasStatus_t st, const char* what);

// The function name of a stringified call: "cudaMalloc(&p, n)" -> "cudaMalloc".
// Writes into buf (size n) and returns it.
const char* call_name(const char* expr, char* buf, size_t n);

}  // namespace nm

// Same as NM_TRY in core/error.h (which the plugin does not include: its
// set_error lives in the main library and is not exported to the plugin).
#ifndef NM_TRY
#define NM_TRY(expr)                                        \
    do {                                                    \
        nm_status nm_try_status_ = (expr);                  \
        if (nm_try_status_ != NM_OK) return nm_try_status_; \
    } while (0)
#endif

#define CUDA_TRY(call)                                                   \
    do {                                                                 \
        cudaError_t nm_cuda_err_ = (call);                               \
        if (nm_cuda_err_ != cudaSuccess) {                               \
            char nm_name_[64];                                           \
            return ::nm::cuda_error(nm_cuda_err_,                        \
                                    ::nm::call_name(#call, nm_name_, sizeof nm_name_)); \
        }                                                                \
    } while (0)

#define CUBLAS_TRY(call)                                                 \
    do {                                                                 \
        cublasStatus_t nm_cublas_st_ = (call);                           \
        if (nm_cublas_st_ != CUBLAS_STATUS_SUCCESS) {                    \
            char nm_name_[64];                                           \
            return ::nm::cublas_error(nm_cublas_st_,                     \
                                      ::nm::call_name(#call, nm_name_, sizeof nm_name_)); \
        }                                                                \
    } while (0)

// After a kernel launch: reports a launch failure (bad configuration, too many
// resources, or a sticky error from earlier work) naming the kernel.
#define CUDA_CHECK_LAUNCH(kernel_name)                                   \
    do {                                                                 \
        cudaError_t nm_cuda_err_ = cudaGetLastError();                   \
        if (nm_cuda_err_ != cudaSuccess)                                 \
            return ::nm::cuda_error(nm_cuda_err_, "launch of " kernel_name); \
    } while (0)
