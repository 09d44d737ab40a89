// cuda_error.cu — the plugin's error sink and message formatting (see cuda_error.h).
#include "cuda_error.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace nm {
namespace {
// Set once by the main library right after loading the plugin (before any
// other call), so a plain pointer is enough.
ErrorSink g_sink = nullptr;
}  // namespace

void cuda_set_error_sink(ErrorSink sink) { g_sink = sink; }

nm_status cuda_fail(nm_status status, const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (g_sink) g_sink(status, buf);
    return status;
}

nm_status cuda_error(cudaError_t err, const char* what) {
    cudaGetLastError();  // reset the non-sticky error state
    nm_status status = err == cudaErrorMemoryAllocation ? NM_ERR_OUT_OF_MEMORY : NM_ERR_CUDA;
    return cuda_fail(status, "cuda: %s failed: %s (%s)", what, cudaGetErrorString(err), cudaGetErrorName(err));
}

nm_status cublas_error(cublasStatus_t st, const char* what) {
    nm_status status = st == CUBLAS_STATUS_ALLOC_FAILED ? NM_ERR_OUT_OF_MEMORY : NM_ERR_CUDA;
    return cuda_fail(status, "cublas: %s failed: %s (%s)", what, cublasGetStatusString(st), cublasGetStatusName(st));
}

const char* call_name(const char* expr, char* buf, size_t n) {
    size_t i = 0;
    while (expr[i] && expr[i] != '(' && i + 1 < n) {
        buf[i] = expr[i];
        ++i;
    }
    buf[i] = '\0';
    return buf;
}

}  // namespace nm
