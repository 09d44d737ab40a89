// gemm.cu — c = alpha * op(a) @ op(b) + beta * c (+ bias), with cuBLAS.
//
// cuBLAS is column-major; our matrices are row-major. A row-major [R, C]
// matrix is the column-major [C, R] matrix with the same bytes, i.e. its
// transpose. So instead of C = op(A) op(B) we ask cuBLAS for
//     C^T = op(B)^T op(A)^T        (an N x M column-major result, ldc = N)
// passing b as cuBLAS's first operand and a as its second:
//  - b stored [K, N] (trans_b = 0) is column-major N x K, lda = N, no transpose;
//    b stored [N, K] (trans_b = 1) is column-major K x N, lda = K, transpose.
//  - a stored [M, K] (trans_a = 0) is column-major K x M, ldb = K, no transpose;
//    a stored [K, M] (trans_a = 1) is column-major M x K, ldb = M, transpose.
// One cublasGemmStridedBatchedEx call covers the batch (stride 0 broadcasts a
// 2-D operand); inputs are float32/float16/bfloat16, c is the inputs' dtype or
// float32, accumulation is float32 (CUBLAS_COMPUTE_32F: true fp32 for float32
// inputs, no TF32). With beta != 0 cuBLAS reads the existing c; with beta == 0
// it does not. The bias is added afterwards by a small elementwise kernel.
// cuBLAS takes int sizes: M is split into chunks when it exceeds INT_MAX (only
// possible for the non-transposed a), the batch into chunks of 65535.
#include <climits>

#include "cuda_backend.h"
#include "cuda_common.cuh"
#include "cuda_error.h"

namespace nm {
namespace {

cudaDataType_t cuda_type(nm_dtype d) {
    switch (d) {
        case NM_DTYPE_F16: return CUDA_R_16F;
        case NM_DTYPE_BF16: return CUDA_R_16BF;
        default: return CUDA_R_32F;
    }
}

size_t elem_size(nm_dtype d) { return d == NM_DTYPE_F16 || d == NM_DTYPE_BF16 ? 2 : 4; }

// c[i] += bias[i % n] over `total` elements of c.
__global__ void add_bias_kernel(void* c, nm_dtype ct, const void* bias, nm_dtype bt, int64_t total, int64_t n) {
    for (int64_t i = cu::global_thread(); i < total; i += cu::grid_stride()) {
        float v = load_float(c, ct, i) + load_float(bias, bt, i % n);
        store_float(c, ct, i, v);
    }
}

}  // namespace

nm_status CudaBackend::gemm(const GemmArgs& g) {
    NM_TRY(activate());
    const int64_t M = g.m, N = g.n, K = g.k, batch = g.batch;
    if (M <= 0 || N <= 0 || batch <= 0) return NM_OK;
    const int64_t lda = g.trans_b ? K : N;  // cuBLAS's A is our b
    const int64_t ldb = g.trans_a ? M : K;  // cuBLAS's B is our a
    const int64_t ldc = N;
    if (K > INT_MAX || N > INT_MAX || lda > INT_MAX || ldb > INT_MAX || (g.trans_a && M > INT_MAX))
        return cuda_fail(NM_ERR_SHAPE,
                         "gemm: m=%lld, n=%lld, k=%lld exceed the int range cuBLAS accepts", (long long)M,
                         (long long)N, (long long)K);

    cublasHandle_t h = nullptr;
    NM_TRY(cublas(&h));
    const cublasOperation_t op_first = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_second = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cudaDataType_t ab_type = cuda_type(g.a.dtype);
    const cudaDataType_t c_type = cuda_type(g.c.dtype);
    const size_t ab_size = elem_size(g.a.dtype), c_size = elem_size(g.c.dtype);
    const float alpha = g.alpha, beta = g.beta;

    const int64_t m_chunk = INT_MAX;  // !trans_a only; trans_a has M <= INT_MAX (checked)
    const int64_t batch_chunk = 65535;
    for (int64_t b0 = 0; b0 < batch; b0 += batch_chunk) {
        const int64_t nb = batch - b0 < batch_chunk ? batch - b0 : batch_chunk;
        for (int64_t m0 = 0; m0 < M; m0 += m_chunk) {
            const int64_t mc = M - m0 < m_chunk ? M - m0 : m_chunk;
            // Rows m0.. of a (non-transposed: m0 * K elements in) and of c (m0 * N).
            const char* a_ptr = static_cast<const char*>(g.a.data) + (b0 * g.stride_a + m0 * K) * int64_t(ab_size);
            const char* b_ptr = static_cast<const char*>(g.b.data) + (b0 * g.stride_b) * int64_t(ab_size);
            char* c_ptr = static_cast<char*>(g.c.data) + (b0 * g.stride_c + m0 * N) * int64_t(c_size);
            CUBLAS_TRY(cublasGemmStridedBatchedEx(
                h, op_first, op_second, int(N), int(mc), int(K), &alpha,
                b_ptr, ab_type, int(lda), (long long)g.stride_b,
                a_ptr, ab_type, int(ldb), (long long)g.stride_a, &beta,
                c_ptr, c_type, int(ldc), (long long)g.stride_c,
                int(nb), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        }
    }

    if (g.bias.present()) {
        const int64_t total = batch * M * N;
        const int block = 256;
        add_bias_kernel<<<cu::grid_for(total, block), block, 0, stream_>>>(g.c.data, g.c.dtype, g.bias.data,
                                                                          g.bias.dtype, total, N);
        CUDA_CHECK_LAUNCH("gemm bias kernel");
    }
    return NM_OK;
}

}  // namespace nm
