// norm_api.cpp — nm_rmsnorm, nm_rmsnorm_gated, nm_l2norm: row normalisations
// over the last dim. All work in place (out may be x; for the gated norm also z).
#include <cmath>

#include "validate.h"

using namespace nm;

namespace {

// eps is added under a square root: it must be a finite, non-negative number.
nm_status check_eps(float eps) {
    if (!std::isfinite(eps) || eps < 0.f)
        return set_error(NM_ERR_INVALID_ARGUMENT, "eps: must be finite and >= 0, got %g", eps);
    return NM_OK;
}

// weight, when given: a float [H] vector for x's last dim H, not aliasing out.
nm_status check_weight(const TensorView& w, const TensorView& x, const nm_tensor* weight, const nm_tensor* out) {
    if (!w.present()) return NM_OK;
    if (weight == out) return set_error(NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as weight");
    NM_TRY(check_float(w, "weight"));
    const int64_t want[1] = {x.shape[x.ndim - 1]};
    return check_shape(w, "weight", 1, want, "[H] for x's last dim H");
}

}  // namespace

extern "C" {

NM_API nm_status nm_rmsnorm(nm_context* ctx, const nm_tensor* x, const nm_tensor* weight, nm_tensor* out, float eps,
                            int32_t zero_centered) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        RmsNormArgs r;
        NM_TRY(require(ctx, x, "x", &r.x));
        NM_TRY(optional(ctx, weight, "weight", &r.weight));
        NM_TRY(require(ctx, out, "out", &r.out));
        NM_TRY(check_float(r.x, "x"));
        NM_TRY(check_float(r.out, "out"));
        NM_TRY(check_same_shape(r.x, "x", r.out, "out"));
        NM_TRY(check_weight(r.weight, r.x, weight, out));
        NM_TRY(check_eps(eps));
        rows_cols(r.x, &r.rows, &r.cols);
        r.eps = eps;
        r.zero_centered = zero_centered != 0;
        return ctx->backend->rmsnorm(r);
    });
}

NM_API nm_status nm_rmsnorm_gated(nm_context* ctx, const nm_tensor* x, const nm_tensor* z, const nm_tensor* weight,
                                  nm_tensor* out, float eps, int64_t group_size, int32_t gate_before_norm) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        RmsNormGatedArgs r;
        NM_TRY(require(ctx, x, "x", &r.x));
        NM_TRY(require(ctx, z, "z", &r.z));
        NM_TRY(optional(ctx, weight, "weight", &r.weight));
        NM_TRY(require(ctx, out, "out", &r.out));
        NM_TRY(check_float(r.x, "x"));
        NM_TRY(check_float(r.z, "z"));
        NM_TRY(check_float(r.out, "out"));
        NM_TRY(check_same_shape(r.x, "x", r.z, "z"));
        NM_TRY(check_same_shape(r.x, "x", r.out, "out"));
        NM_TRY(check_weight(r.weight, r.x, weight, out));
        NM_TRY(check_eps(eps));
        rows_cols(r.x, &r.rows, &r.cols);
        if (group_size < 0 || (group_size > 0 && r.cols % group_size != 0))
            return set_error(NM_ERR_INVALID_ARGUMENT,
                             "group_size: must be 0 or divide the last dim %lld of x (shape %s), got %lld",
                             (long long)r.cols, shape_string(r.x).c_str(), (long long)group_size);
        r.group_size = group_size == 0 ? r.cols : group_size;
        r.eps = eps;
        r.gate_before_norm = gate_before_norm != 0;
        return ctx->backend->rmsnorm_gated(r);
    });
}

NM_API nm_status nm_l2norm(nm_context* ctx, const nm_tensor* x, nm_tensor* out, float eps) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        L2NormArgs l;
        NM_TRY(require(ctx, x, "x", &l.x));
        NM_TRY(require(ctx, out, "out", &l.out));
        NM_TRY(check_float(l.x, "x"));
        NM_TRY(check_float(l.out, "out"));
        NM_TRY(check_same_shape(l.x, "x", l.out, "out"));
        NM_TRY(check_eps(eps));
        rows_cols(l.x, &l.rows, &l.cols);
        l.eps = eps;
        return ctx->backend->l2norm(l);
    });
}

}  // extern "C"
