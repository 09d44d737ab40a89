// gemm_cpu.cpp — matrix multiply of the CPU backend on OpenBLAS.
//
//   c[b] = alpha * op(a[b]) @ op(b[b]) + beta * c[b]  (+ bias[n] on every row)
//
// One row-major cblas_sgemm per batch item (stride 0 broadcasts a 2-D operand).
// float16/bfloat16 a and b are first widened into float32 scratch copies; a c
// that is not float32 is computed in a float32 scratch matrix (loaded first
// when beta != 0) and rounded once at the end, after the bias is added.
#include <cblas.h>

#include <climits>
#include <vector>

#include "cpu_backend.h"
#include "cpu_common.h"
#include "../core/error.h"

namespace nm {
namespace {

// The float32 data of t: t's own memory, or `scratch` filled with the conversion.
const float* as_f32(const TensorView& t, std::vector<float>& scratch) {
    if (t.dtype == NM_DTYPE_F32) return static_cast<const float*>(t.data);
    const int64_t n = t.numel();
    scratch.resize(size_t(n));
    float* dst = scratch.data();
#pragma omp parallel for schedule(static) if (n >= cpu::kParallelMinElements)
    for (int64_t i = 0; i < n; ++i) dst[i] = load_float(t.data, t.dtype, i);
    return dst;
}

}  // namespace

nm_status CpuBackend::gemm(const GemmArgs& g) {
    // cblas takes int dimensions; larger ones would silently wrap.
    if (g.m > INT_MAX || g.n > INT_MAX || g.k > INT_MAX)
        return set_error(NM_ERR_SHAPE, "cpu: gemm dims m=%lld n=%lld k=%lld exceed the BLAS int range",
                         (long long)g.m, (long long)g.n, (long long)g.k);
    const int m = int(g.m), n = int(g.n), k = int(g.k);
    const int lda = g.trans_a ? m : k, ldb = g.trans_b ? k : n;

    std::vector<float> a_scratch, b_scratch, c_scratch;
    const float* a = as_f32(g.a, a_scratch);
    const float* b = as_f32(g.b, b_scratch);
    const bool c_is_f32 = g.c.dtype == NM_DTYPE_F32;
    const int64_t mn = g.m * g.n;
    if (!c_is_f32) c_scratch.resize(size_t(mn));

    for (int64_t item = 0; item < g.batch; ++item) {
        const int64_t c_off = item * g.stride_c;
        float* c = c_is_f32 ? static_cast<float*>(g.c.data) + c_off : c_scratch.data();
        if (!c_is_f32 && g.beta != 0.f)
            for (int64_t i = 0; i < mn; ++i) c[i] = load_float(g.c.data, g.c.dtype, c_off + i);

        cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans, g.trans_b ? CblasTrans : CblasNoTrans,
                    m, n, k, g.alpha, a + item * g.stride_a, lda, b + item * g.stride_b, ldb, g.beta, c, n);

        if (g.bias.present()) {
#pragma omp parallel for schedule(static) if (mn >= cpu::kParallelMinElements)
            for (int64_t r = 0; r < g.m; ++r)
                for (int64_t j = 0; j < g.n; ++j) c[r * g.n + j] += load_float(g.bias.data, g.bias.dtype, j);
        }
        if (!c_is_f32) {
#pragma omp parallel for schedule(static) if (mn >= cpu::kParallelMinElements)
            for (int64_t i = 0; i < mn; ++i) store_float(g.c.data, g.c.dtype, c_off + i, c[i]);
        }
    }
    return NM_OK;
}

}  // namespace nm
