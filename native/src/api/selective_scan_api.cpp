// selective_scan_api.cpp — nm_selective_scan (prefill over a sequence) and
// nm_selective_state_update (one decoding step) of Mamba-1: validation of the
// tensors, then dispatch to the backend. See docs/selective-scan.md.
#include "validate.h"

using namespace nm;

namespace {

// The largest state size the backends support (the CUDA kernels keep up to 8
// states per lane of a 32-lane group in registers).
constexpr int64_t kMaxStateSize = 256;

// Resolves the optional tensors of `options` (itself required).
nm_status get_options(const nm_context* ctx, const nm_ssm_options* options, TensorView* d_skip, TensorView* z,
                      TensorView* delta_bias) {
    if (!options)
        return set_error(NM_ERR_INVALID_ARGUMENT,
                         "options: is NULL (pass a zero-initialised nm_ssm_options for no extras)");
    NM_TRY(optional(ctx, options->d_skip, "options->d_skip", d_skip));
    NM_TRY(optional(ctx, options->z, "options->z", z));
    return optional(ctx, options->delta_bias, "options->delta_bias", delta_bias);
}

// A: float32 [D, N] with 1 <= N <= kMaxStateSize; returns N.
nm_status check_a(const TensorView& a, int64_t channels, int64_t* state_size) {
    NM_TRY(check_dtype(a, "A", NM_DTYPE_F32));
    NM_TRY(check_rank(a, "A", 2, 2));
    const int64_t n = a.shape[1];
    int64_t expected[2] = {channels, n};
    NM_TRY(check_shape(a, "A", 2, expected, "[D, N]"));
    if (n < 1 || n > kMaxStateSize)
        return set_error(NM_ERR_SHAPE, "A: state size N = %lld is out of range (1 to %lld), shape %s", (long long)n,
                         (long long)kMaxStateSize, shape_string(a).c_str());
    *state_size = n;
    return NM_OK;
}

// d_skip and delta_bias: [D] of any float dtype, or absent.
nm_status check_per_channel(const TensorView& v, const char* name, int64_t channels) {
    if (!v.present()) return NM_OK;
    NM_TRY(check_float(v, name));
    int64_t expected[1] = {channels};
    return check_shape(v, name, 1, expected, "[D]");
}

nm_status check_groups(const TensorView& v, const char* name, int64_t channels, int64_t groups) {
    if (groups < 1 || channels % groups != 0)
        return set_error(NM_ERR_SHAPE, "%s: G = %lld groups must divide D = %lld channels (shape %s)", name,
                         (long long)groups, (long long)channels, shape_string(v).c_str());
    return NM_OK;
}

// B / C of the scan: [D, N] (per channel) or [B, L, G, N] (input-dependent).
// B decides the form and G; C must have the same form and G.
nm_status check_scan_bc(SelectiveScanArgs& a) {
    NM_TRY(check_float(a.b_mat, "B"));
    NM_TRY(check_float(a.c_mat, "C"));
    const int64_t D = a.channels, N = a.state_size;
    if (a.b_mat.ndim == 2) {
        int64_t expected[2] = {D, N};
        NM_TRY(check_shape(a.b_mat, "B", 2, expected, "[D, N]"));
        if (a.c_mat.ndim != 2)
            return set_error(NM_ERR_SHAPE,
                             "C: expected shape [D, N] [%lld, %lld] like B (B and C are both per channel or both "
                             "input-dependent), got %s",
                             (long long)D, (long long)N, shape_string(a.c_mat).c_str());
        NM_TRY(check_shape(a.c_mat, "C", 2, expected, "[D, N]"));
        a.per_channel_bc = true;
        a.groups = 1;
        return NM_OK;
    }
    if (a.b_mat.ndim != 4)
        return set_error(NM_ERR_SHAPE, "B: expected 2 dims [D, N] or 4 dims [B, L, G, N], got %d (shape %s)",
                         a.b_mat.ndim, shape_string(a.b_mat).c_str());
    const int64_t G = a.b_mat.shape[2];
    NM_TRY(check_groups(a.b_mat, "B", D, G));
    int64_t expected[4] = {a.batch, a.length, G, N};
    NM_TRY(check_shape(a.b_mat, "B", 4, expected, "[B, L, G, N]"));
    if (a.c_mat.ndim != 4)
        return set_error(NM_ERR_SHAPE,
                         "C: expected shape [B, L, G, N] [%lld, %lld, %lld, %lld] like B (B and C are both per "
                         "channel or both input-dependent), got %s",
                         (long long)a.batch, (long long)a.length, (long long)G, (long long)N,
                         shape_string(a.c_mat).c_str());
    NM_TRY(check_shape(a.c_mat, "C", 4, expected, "[B, L, G, N]"));
    a.per_channel_bc = false;
    a.groups = G;
    return NM_OK;
}

nm_status check_state(const TensorView& s, const char* name, int64_t batch, int64_t channels, int64_t n) {
    if (!s.present()) return NM_OK;
    NM_TRY(check_dtype(s, name, NM_DTYPE_F32));
    int64_t expected[3] = {batch, channels, n};
    return check_shape(s, name, 3, expected, "[B, D, N]");
}

// `written` must not be the same tensor as `read` (NULLs never clash).
nm_status check_distinct(const nm_tensor* written, const char* wn, const nm_tensor* read, const char* rn) {
    if (written && written == read)
        return set_error(NM_ERR_INVALID_ARGUMENT, "%s: must not be the same tensor as %s", wn, rn);
    return NM_OK;
}

}  // namespace

extern "C" {

NM_API nm_status nm_selective_scan(nm_context* ctx, const nm_tensor* u, const nm_tensor* delta, const nm_tensor* A,
                                   const nm_tensor* B, const nm_tensor* C, const nm_ssm_options* options,
                                   const nm_tensor* initial_state, nm_tensor* out, nm_tensor* final_state) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        SelectiveScanArgs args;
        NM_TRY(require(ctx, u, "u", &args.u));
        NM_TRY(require(ctx, delta, "delta", &args.delta));
        NM_TRY(require(ctx, A, "A", &args.a));
        NM_TRY(require(ctx, B, "B", &args.b_mat));
        NM_TRY(require(ctx, C, "C", &args.c_mat));
        NM_TRY(get_options(ctx, options, &args.d_skip, &args.z, &args.delta_bias));
        NM_TRY(optional(ctx, initial_state, "initial_state", &args.initial_state));
        NM_TRY(require(ctx, out, "out", &args.out));
        NM_TRY(optional(ctx, final_state, "final_state", &args.final_state));

        NM_TRY(check_float(args.u, "u"));
        NM_TRY(check_rank(args.u, "u", 3, 3));
        args.batch = args.u.shape[0];
        args.length = args.u.shape[1];
        args.channels = args.u.shape[2];
        if (args.length < 1)
            return set_error(NM_ERR_SHAPE, "u: sequence length L must be >= 1, got shape %s",
                             shape_string(args.u).c_str());
        NM_TRY(check_float(args.delta, "delta"));
        NM_TRY(check_same_shape(args.u, "u", args.delta, "delta"));
        NM_TRY(check_a(args.a, args.channels, &args.state_size));
        NM_TRY(check_scan_bc(args));
        NM_TRY(check_per_channel(args.d_skip, "options->d_skip", args.channels));
        if (args.z.present()) {
            NM_TRY(check_float(args.z, "options->z"));
            NM_TRY(check_same_shape(args.u, "u", args.z, "options->z"));
        }
        NM_TRY(check_per_channel(args.delta_bias, "options->delta_bias", args.channels));
        args.delta_softplus = options->delta_softplus != 0;
        NM_TRY(check_state(args.initial_state, "initial_state", args.batch, args.channels, args.state_size));
        NM_TRY(check_float(args.out, "out"));
        NM_TRY(check_same_shape(args.u, "u", args.out, "out"));
        NM_TRY(check_state(args.final_state, "final_state", args.batch, args.channels, args.state_size));

        // Blocks of channels and time may still read any input while out and
        // final_state are written; only initial_state == final_state is safe
        // (each (b, d) state row is read before it is written, by its owner).
        const struct {
            const nm_tensor* t;
            const char* name;
        } inputs[] = {{u, "u"},
                      {delta, "delta"},
                      {A, "A"},
                      {B, "B"},
                      {C, "C"},
                      {options->d_skip, "options->d_skip"},
                      {options->z, "options->z"},
                      {options->delta_bias, "options->delta_bias"},
                      {initial_state, "initial_state"}};
        for (const auto& in : inputs) NM_TRY(check_distinct(out, "out", in.t, in.name));
        for (const auto& in : inputs)
            if (in.t != initial_state) NM_TRY(check_distinct(final_state, "final_state", in.t, in.name));
        NM_TRY(check_distinct(final_state, "final_state", out, "out"));

        return ctx->backend->selective_scan(args);
    });
}

NM_API nm_status nm_selective_state_update(nm_context* ctx, nm_tensor* state, const nm_tensor* x, const nm_tensor* dt,
                                           const nm_tensor* A, const nm_tensor* B, const nm_tensor* C,
                                           const nm_ssm_options* options, nm_tensor* out) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        SelectiveStateUpdateArgs args;
        NM_TRY(require(ctx, state, "state", &args.state));
        NM_TRY(require(ctx, x, "x", &args.x));
        NM_TRY(require(ctx, dt, "dt", &args.dt));
        NM_TRY(require(ctx, A, "A", &args.a));
        NM_TRY(require(ctx, B, "B", &args.b_mat));
        NM_TRY(require(ctx, C, "C", &args.c_mat));
        NM_TRY(get_options(ctx, options, &args.d_skip, &args.z, &args.delta_bias));
        NM_TRY(require(ctx, out, "out", &args.out));

        NM_TRY(check_float(args.x, "x"));
        NM_TRY(check_rank(args.x, "x", 2, 2));
        args.batch = args.x.shape[0];
        args.channels = args.x.shape[1];
        NM_TRY(check_float(args.dt, "dt"));
        NM_TRY(check_same_shape(args.x, "x", args.dt, "dt"));
        NM_TRY(check_a(args.a, args.channels, &args.state_size));
        const int64_t N = args.state_size;
        NM_TRY(check_dtype(args.state, "state", NM_DTYPE_F32));
        int64_t state_shape[3] = {args.batch, args.channels, N};
        NM_TRY(check_shape(args.state, "state", 3, state_shape, "[B, D, N]"));

        NM_TRY(check_float(args.b_mat, "B"));
        NM_TRY(check_rank(args.b_mat, "B", 3, 3));
        args.groups = args.b_mat.shape[1];
        NM_TRY(check_groups(args.b_mat, "B", args.channels, args.groups));
        int64_t bc_shape[3] = {args.batch, args.groups, N};
        NM_TRY(check_shape(args.b_mat, "B", 3, bc_shape, "[B, G, N]"));
        NM_TRY(check_float(args.c_mat, "C"));
        NM_TRY(check_shape(args.c_mat, "C", 3, bc_shape, "[B, G, N] (G of B)"));

        NM_TRY(check_per_channel(args.d_skip, "options->d_skip", args.channels));
        if (args.z.present()) {
            NM_TRY(check_float(args.z, "options->z"));
            NM_TRY(check_same_shape(args.x, "x", args.z, "options->z"));
        }
        NM_TRY(check_per_channel(args.delta_bias, "options->delta_bias", args.channels));
        args.delta_softplus = options->delta_softplus != 0;
        NM_TRY(check_float(args.out, "out"));
        NM_TRY(check_same_shape(args.x, "x", args.out, "out"));

        // Several threads of one channel read x, dt and z while one of them
        // writes out; the state is read and rewritten by its owners only.
        const struct {
            const nm_tensor* t;
            const char* name;
        } inputs[] = {{state, "state"},
                      {x, "x"},
                      {dt, "dt"},
                      {A, "A"},
                      {B, "B"},
                      {C, "C"},
                      {options->d_skip, "options->d_skip"},
                      {options->z, "options->z"},
                      {options->delta_bias, "options->delta_bias"}};
        for (const auto& in : inputs) NM_TRY(check_distinct(out, "out", in.t, in.name));
        for (const auto& in : inputs)
            if (in.t != state) NM_TRY(check_distinct(state, "state", in.t, in.name));

        return ctx->backend->selective_state_update(args);
    });
}

}  // extern "C"
