// gemm_api.cpp — nm_gemm: argument checks and shape resolution for the GEMM.
//
// Two layouts (see nativemodels.h):
//  - "linear": b 2-D and trans_a == 0. a is [..., K] with every leading dim
//    flattened into M rows, c is [..., N] with a's leading dims.
//  - batched: a and b are 3-D [batch, ., .] or 2-D (broadcast over the batch
//    through a batch stride of 0); c is [batch, M, N], or [M, N] when both are 2-D.
#include "validate.h"

using namespace nm;

namespace {

// c is written while a, b and bias are read, so none of them may be c.
nm_status check_not_c(const nm_tensor* c, const nm_tensor* t, const char* name) {
    if (t && t == c)
        return set_error(NM_ERR_INVALID_ARGUMENT, "c: must not be the same tensor as %s (gemm does not work in place)",
                         name);
    return NM_OK;
}

// Fills m, n, k, batch and strides for the linear layout (a [..., K] @ b).
nm_status resolve_linear(GemmArgs* g) {
    const TensorView &a = g->a, &b = g->b, &c = g->c;
    const int64_t k = a.shape[a.ndim - 1];
    const int64_t b_k = g->trans_b ? b.shape[1] : b.shape[0];
    const int64_t n = g->trans_b ? b.shape[0] : b.shape[1];
    if (b_k != k)
        return set_error(NM_ERR_SHAPE, "b: shape %s does not fit a shape %s: expected K = %lld %s",
                         shape_string(b).c_str(), shape_string(a).c_str(), (long long)k,
                         g->trans_b ? "columns (b is [N, K] with trans_b)" : "rows (b is [K, N])");
    int64_t want[NM_MAX_DIMS];
    for (int i = 0; i < a.ndim - 1; ++i) want[i] = a.shape[i];
    want[a.ndim - 1] = n;
    NM_TRY(check_shape(c, "c", a.ndim, want, "(a's leading dims, N)"));
    g->batch = 1;
    g->k = k;
    g->n = n;
    g->m = a.numel() / k;
    return NM_OK;
}

// Fills m, n, k, batch and strides for the batched layout.
nm_status resolve_batched(GemmArgs* g) {
    const TensorView &a = g->a, &b = g->b, &c = g->c;
    NM_TRY(check_rank(a, "a", 2, 3));
    NM_TRY(check_rank(b, "b", 2, 3));
    const bool a3 = a.ndim == 3, b3 = b.ndim == 3;
    if (a3 && b3 && a.shape[0] != b.shape[0])
        return set_error(NM_ERR_SHAPE, "b: batch %lld (shape %s) does not match a's batch %lld (shape %s)",
                         (long long)b.shape[0], shape_string(b).c_str(), (long long)a.shape[0],
                         shape_string(a).c_str());
    const int64_t* as = a.shape + (a3 ? 1 : 0);
    const int64_t* bs = b.shape + (b3 ? 1 : 0);
    const int64_t m = g->trans_a ? as[1] : as[0], k = g->trans_a ? as[0] : as[1];
    const int64_t b_k = g->trans_b ? bs[1] : bs[0], n = g->trans_b ? bs[0] : bs[1];
    if (b_k != k)
        return set_error(
            NM_ERR_SHAPE,
            "b: shape %s does not fit a shape %s: op(a) is [%lld, %lld], so op(b) needs %lld rows, has %lld",
            shape_string(b).c_str(), shape_string(a).c_str(), (long long)m, (long long)k, (long long)k, (long long)b_k);
    const int64_t batch = a3 ? a.shape[0] : b3 ? b.shape[0] : 1;
    if (a3 || b3) {
        const int64_t want[3] = {batch, m, n};
        NM_TRY(check_shape(c, "c", 3, want, "[batch, M, N]"));
    } else {
        const int64_t want[2] = {m, n};
        NM_TRY(check_shape(c, "c", 2, want, "[M, N]"));
    }
    g->batch = batch;
    g->m = m;
    g->n = n;
    g->k = k;
    g->stride_a = a3 ? m * k : 0;
    g->stride_b = b3 ? k * n : 0;
    g->stride_c = m * n;
    return NM_OK;
}

}  // namespace

extern "C" {

NM_API nm_status nm_gemm(nm_context* ctx, const nm_tensor* a, const nm_tensor* b, const nm_tensor* bias, nm_tensor* c,
                         int32_t trans_a, int32_t trans_b, float alpha, float beta) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        GemmArgs g;
        NM_TRY(require(ctx, a, "a", &g.a));
        NM_TRY(require(ctx, b, "b", &g.b));
        NM_TRY(optional(ctx, bias, "bias", &g.bias));
        NM_TRY(require(ctx, c, "c", &g.c));
        NM_TRY(check_not_c(c, a, "a"));
        NM_TRY(check_not_c(c, b, "b"));
        NM_TRY(check_not_c(c, bias, "bias"));

        NM_TRY(check_float(g.a, "a"));
        NM_TRY(check_same_dtype(g.a, "a", g.b, "b"));
        if (g.c.dtype != g.a.dtype && g.c.dtype != NM_DTYPE_F32)
            return set_error(NM_ERR_DTYPE, "c: expected %s (the dtype of a) or float32, got %s",
                             nm_dtype_name(g.a.dtype), nm_dtype_name(g.c.dtype));
        if (g.bias.present()) NM_TRY(check_float(g.bias, "bias"));
        NM_TRY(check_finite(alpha, "alpha"));
        NM_TRY(check_finite(beta, "beta"));

        g.trans_a = trans_a != 0;
        g.trans_b = trans_b != 0;
        g.alpha = alpha;
        g.beta = beta;
        if (g.b.ndim == 2 && !g.trans_a) NM_TRY(resolve_linear(&g));
        else NM_TRY(resolve_batched(&g));
        if (g.bias.present()) {
            const int64_t want[1] = {g.n};
            NM_TRY(check_shape(g.bias, "bias", 1, want, "[N]"));
        }
        return ctx->backend->gemm(g);
    });
}

}  // extern "C"
