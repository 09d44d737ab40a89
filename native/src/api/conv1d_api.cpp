// conv1d_api.cpp — nm_conv1d_causal (prefill) and nm_conv1d_update (one
// decoding step): validation of the depthwise causal convolution's tensors.
#include "validate.h"

using namespace nm;

namespace {

nm_status check_activation(nm_activation activation) {
    if (activation != NM_ACTIVATION_NONE && activation != NM_ACTIVATION_SILU)
        return set_error(NM_ERR_INVALID_ARGUMENT,
                         "activation: unknown value %d (expected NM_ACTIVATION_NONE or NM_ACTIVATION_SILU)",
                         int(activation));
    return NM_OK;
}

// weight is [D, K] or [D, 1, K]; returns K.
nm_status check_weight(const TensorView& weight, int64_t channels, int64_t* kernel) {
    NM_TRY(check_float(weight, "weight"));
    NM_TRY(check_rank(weight, "weight", 2, 3));
    int64_t k = weight.shape[weight.ndim - 1];
    if (weight.ndim == 3) {
        int64_t expected[3] = {channels, 1, k};
        NM_TRY(check_shape(weight, "weight", 3, expected, "[D, 1, K]"));
    } else {
        int64_t expected[2] = {channels, k};
        NM_TRY(check_shape(weight, "weight", 2, expected, "[D, K]"));
    }
    *kernel = k;
    return NM_OK;
}

nm_status check_bias(const TensorView& bias, int64_t channels) {
    if (!bias.present()) return NM_OK;
    NM_TRY(check_float(bias, "bias"));
    int64_t expected[1] = {channels};
    return check_shape(bias, "bias", 1, expected, "[D]");
}

// A state holds the K-1 inputs before the current one: [B, D, K-1].
nm_status check_state(const TensorView& state, const char* name, int64_t batch, int64_t channels, int64_t kernel) {
    if (!state.present()) return NM_OK;
    NM_TRY(check_float(state, name));
    if (kernel < 2)
        return set_error(NM_ERR_SHAPE,
                         "%s: weight has K = %lld tap, so there is no state (K-1 = 0 columns); "
                         "pass NULL or use K >= 2",
                         name, (long long)kernel);
    int64_t expected[3] = {batch, channels, kernel - 1};
    return check_shape(state, name, 3, expected, "[B, D, K-1]");
}

nm_status check_distinct(const nm_tensor* a, const char* an, const nm_tensor* b, const char* bn) {
    if (a && a == b) return set_error(NM_ERR_INVALID_ARGUMENT, "%s: must not be the same tensor as %s", an, bn);
    return NM_OK;
}

}  // namespace

extern "C" {

NM_API nm_status nm_conv1d_causal(nm_context* ctx, const nm_tensor* x, const nm_tensor* weight,
                                  const nm_tensor* bias, const nm_tensor* initial_state, nm_tensor* out,
                                  nm_tensor* final_state, nm_activation activation) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        Conv1dArgs args;
        NM_TRY(require(ctx, x, "x", &args.x));
        NM_TRY(require(ctx, weight, "weight", &args.weight));
        NM_TRY(optional(ctx, bias, "bias", &args.bias));
        NM_TRY(optional(ctx, initial_state, "initial_state", &args.initial_state));
        NM_TRY(require(ctx, out, "out", &args.out));
        NM_TRY(optional(ctx, final_state, "final_state", &args.final_state));
        NM_TRY(check_activation(activation));

        NM_TRY(check_float(args.x, "x"));
        NM_TRY(check_rank(args.x, "x", 3, 3));
        args.batch = args.x.shape[0];
        args.length = args.x.shape[1];
        args.channels = args.x.shape[2];
        NM_TRY(check_weight(args.weight, args.channels, &args.kernel));
        NM_TRY(check_bias(args.bias, args.channels));
        NM_TRY(check_state(args.initial_state, "initial_state", args.batch, args.channels, args.kernel));
        NM_TRY(check_float(args.out, "out"));
        NM_TRY(check_same_shape(args.x, "x", args.out, "out"));
        NM_TRY(check_state(args.final_state, "final_state", args.batch, args.channels, args.kernel));

        // Other channel blocks may still be reading x and initial_state while out and
        // final_state are written; only initial_state == final_state is safe (per channel).
        NM_TRY(check_distinct(out, "out", x, "x"));
        NM_TRY(check_distinct(out, "out", initial_state, "initial_state"));
        NM_TRY(check_distinct(final_state, "final_state", x, "x"));
        NM_TRY(check_distinct(final_state, "final_state", out, "out"));

        args.activation = activation;
        return ctx->backend->conv1d_causal(args);
    });
}

NM_API nm_status nm_conv1d_update(nm_context* ctx, const nm_tensor* x, nm_tensor* conv_state,
                                  const nm_tensor* weight, const nm_tensor* bias, nm_tensor* out,
                                  nm_activation activation) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        Conv1dUpdateArgs args;
        NM_TRY(require(ctx, x, "x", &args.x));
        NM_TRY(require(ctx, conv_state, "conv_state", &args.conv_state));
        NM_TRY(require(ctx, weight, "weight", &args.weight));
        NM_TRY(optional(ctx, bias, "bias", &args.bias));
        NM_TRY(require(ctx, out, "out", &args.out));
        NM_TRY(check_activation(activation));

        NM_TRY(check_float(args.x, "x"));
        NM_TRY(check_rank(args.x, "x", 2, 2));
        args.batch = args.x.shape[0];
        args.channels = args.x.shape[1];
        NM_TRY(check_weight(args.weight, args.channels, &args.kernel));
        NM_TRY(check_bias(args.bias, args.channels));
        NM_TRY(check_state(args.conv_state, "conv_state", args.batch, args.channels, args.kernel));
        NM_TRY(check_float(args.out, "out"));
        NM_TRY(check_same_shape(args.x, "x", args.out, "out"));

        args.activation = activation;
        return ctx->backend->conv1d_update(args);
    });
}

}  // extern "C"
