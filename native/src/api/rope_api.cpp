// rope_api.cpp — nm_rope: validates x, positions and the rotary parameters,
// then hands [tokens, heads, head_dim] to the backend.
#include <cmath>

#include "validate.h"

using namespace nm;

namespace {

// Resolves rotary_dim (0 = head_dim) and checks it is even and fits the head.
nm_status resolve_rotary_dim(int32_t requested, int64_t head_dim, int64_t* out) {
    if (requested < 0)
        return set_error(NM_ERR_INVALID_ARGUMENT, "params->rotary_dim: must be >= 0 (0 = head_dim), got %d",
                         requested);
    if (requested > head_dim)
        return set_error(NM_ERR_INVALID_ARGUMENT, "params->rotary_dim: %d exceeds head_dim %lld", requested,
                         (long long)head_dim);
    int64_t rotary_dim = requested == 0 ? head_dim : requested;
    if (rotary_dim % 2 != 0) {
        if (requested == 0)
            return set_error(NM_ERR_INVALID_ARGUMENT,
                             "params->rotary_dim: 0 means head_dim (%lld), which is odd; rotary_dim must be even",
                             (long long)head_dim);
        return set_error(NM_ERR_INVALID_ARGUMENT, "params->rotary_dim: must be even, got %d", requested);
    }
    *out = rotary_dim;
    return NM_OK;
}

// inv_freq is either the given float32 [rotary_dim/2] tensor or derived from theta.
nm_status check_frequencies(const nm_rope_params& params, const TensorView& inv_freq, int64_t rotary_dim) {
    if (inv_freq.present()) {
        NM_TRY(check_dtype(inv_freq, "params->inv_freq", NM_DTYPE_F32));
        int64_t expected[1] = {rotary_dim / 2};
        return check_shape(inv_freq, "params->inv_freq", 1, expected, "[rotary_dim/2]");
    }
    if (!std::isfinite(params.theta) || params.theta <= 0.f)
        return set_error(NM_ERR_INVALID_ARGUMENT,
                         "params->theta: must be finite and > 0 when inv_freq is NULL, got %g", params.theta);
    return NM_OK;
}

nm_status check_positions(const int32_t* positions, int64_t count, int64_t tokens) {
    NM_TRY(check_not_null(positions, "positions"));
    if (count != tokens)
        return set_error(NM_ERR_INVALID_ARGUMENT,
                         "count: expected %lld positions (numel(x) / (heads * head_dim)), got %lld",
                         (long long)tokens, (long long)count);
    for (int64_t i = 0; i < count; ++i)
        if (positions[i] < 0)
            return set_error(NM_ERR_INVALID_ARGUMENT, "positions: entry %lld is negative (%d)", (long long)i,
                             positions[i]);
    return NM_OK;
}

}  // namespace

extern "C" NM_API nm_status nm_rope(nm_context* ctx, const nm_tensor* x, const int32_t* positions, int64_t count,
                                    nm_tensor* out, const nm_rope_params* params) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        RopeArgs args;
        NM_TRY(require(ctx, x, "x", &args.x));
        NM_TRY(require(ctx, out, "out", &args.out));
        NM_TRY(check_not_null(params, "params"));
        NM_TRY(optional(ctx, params->inv_freq, "params->inv_freq", &args.inv_freq));
        NM_TRY(check_float(args.x, "x"));
        NM_TRY(check_float(args.out, "out"));
        NM_TRY(check_rank(args.x, "x", 2, NM_MAX_DIMS));
        NM_TRY(check_same_shape(args.x, "x", args.out, "out"));

        args.head_dim = args.x.shape[args.x.ndim - 1];
        args.heads = args.x.shape[args.x.ndim - 2];
        args.tokens = args.x.numel() / (args.heads * args.head_dim);
        NM_TRY(check_positions(positions, count, args.tokens));
        NM_TRY(resolve_rotary_dim(params->rotary_dim, args.head_dim, &args.rotary_dim));
        NM_TRY(check_frequencies(*params, args.inv_freq, args.rotary_dim));
        NM_TRY(check_finite(params->attention_scaling, "params->attention_scaling"));

        args.positions = positions;
        args.theta = params->theta;
        args.attention_scaling = params->attention_scaling;
        args.interleaved = params->interleaved != 0;
        return ctx->backend->rope(args);
    });
}
