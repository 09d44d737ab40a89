// elementwise_api.cpp — nm_convert, nm_silu, nm_gelu, nm_swiglu, nm_add,
// nm_mul, nm_scale: checks, then one UnaryArgs / SwigluArgs / BinaryArgs /
// ConvertArgs call into the backend.
#include "validate.h"

using namespace nm;

namespace {

// For operators that do not work in place: out must be a tensor of its own.
nm_status check_distinct(const nm_tensor* out, const char* out_name, const nm_tensor* in, const char* in_name) {
    if (in && in == out)
        return set_error(NM_ERR_INVALID_ARGUMENT, "%s: must not be the same tensor as %s", out_name, in_name);
    return NM_OK;
}

// x and out: float tensors of one shape (out may be x).
nm_status same_shape_float_pair(nm_context* ctx, const nm_tensor* x, nm_tensor* out, const char* x_name,
                                TensorView* xv, TensorView* ov) {
    NM_TRY(check_context(ctx));
    NM_TRY(require(ctx, x, x_name, xv));
    NM_TRY(require(ctx, out, "out", ov));
    NM_TRY(check_float(*xv, x_name));
    NM_TRY(check_float(*ov, "out"));
    return check_same_shape(*xv, x_name, *ov, "out");
}

nm_status run_unary(nm_context* ctx, const nm_tensor* x, nm_tensor* out, UnaryOp op, float alpha) {
    UnaryArgs u;
    NM_TRY(same_shape_float_pair(ctx, x, out, "x", &u.x, &u.out));
    if (op == UnaryOp::Scale) NM_TRY(check_finite(alpha, "alpha"));
    u.n = u.x.numel();
    u.op = op;
    u.alpha = alpha;
    return ctx->backend->unary(u);
}

// b broadcasts over a when b's shape, without leading 1s, is a suffix of a's
// shape, or b has one element. Then b[i % nb] is the element paired with a[i].
bool broadcasts_as_suffix(const TensorView& a, const TensorView& b) {
    if (b.numel() == 1) return true;
    int first = 0;
    while (first < b.ndim - 1 && b.shape[first] == 1) ++first;
    const int rank = b.ndim - first;
    if (rank > a.ndim) return false;
    for (int i = 0; i < rank; ++i)
        if (b.shape[first + i] != a.shape[a.ndim - rank + i]) return false;
    return true;
}

nm_status run_binary(nm_context* ctx, const nm_tensor* a, const nm_tensor* b, nm_tensor* out, BinaryOp op) {
    BinaryArgs args;
    NM_TRY(same_shape_float_pair(ctx, a, out, "a", &args.a, &args.out));
    NM_TRY(require(ctx, b, "b", &args.b));
    NM_TRY(check_float(args.b, "b"));
    if (!broadcasts_as_suffix(args.a, args.b))
        return set_error(NM_ERR_SHAPE,
                         "b: shape %s does not broadcast to a shape %s (b must equal a suffix of a's shape or have "
                         "one element)",
                         shape_string(args.b).c_str(), shape_string(args.a).c_str());
    args.n = args.a.numel();
    args.nb = args.b.numel();
    args.op = op;
    return ctx->backend->binary(args);
}

}  // namespace

extern "C" {

NM_API nm_status nm_convert(nm_context* ctx, const nm_tensor* src, nm_tensor* dst) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        ConvertArgs c;
        NM_TRY(require(ctx, src, "src", &c.src));
        NM_TRY(require(ctx, dst, "dst", &c.dst));
        NM_TRY(check_distinct(dst, "dst", src, "src"));
        NM_TRY(check_float(c.src, "src"));
        NM_TRY(check_float(c.dst, "dst"));
        if (c.src.numel() != c.dst.numel())
            return set_error(NM_ERR_SHAPE, "dst: shape %s has %lld elements, src shape %s has %lld",
                             shape_string(c.dst).c_str(), (long long)c.dst.numel(), shape_string(c.src).c_str(),
                             (long long)c.src.numel());
        c.n = c.src.numel();
        return ctx->backend->convert(c);
    });
}

NM_API nm_status nm_silu(nm_context* ctx, const nm_tensor* x, nm_tensor* out) {
    return guard([&]() -> nm_status { return run_unary(ctx, x, out, UnaryOp::Silu, 1.f); });
}

NM_API nm_status nm_gelu(nm_context* ctx, const nm_tensor* x, nm_tensor* out, int32_t tanh_approx) {
    return guard([&]() -> nm_status {
        return run_unary(ctx, x, out, tanh_approx ? UnaryOp::GeluTanh : UnaryOp::GeluErf, 1.f);
    });
}

NM_API nm_status nm_scale(nm_context* ctx, const nm_tensor* x, nm_tensor* out, float alpha) {
    return guard([&]() -> nm_status { return run_unary(ctx, x, out, UnaryOp::Scale, alpha); });
}

NM_API nm_status nm_swiglu(nm_context* ctx, const nm_tensor* gate, const nm_tensor* up, nm_tensor* out) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        SwigluArgs s;
        NM_TRY(require(ctx, gate, "gate", &s.gate));
        NM_TRY(optional(ctx, up, "up", &s.up));
        NM_TRY(require(ctx, out, "out", &s.out));
        NM_TRY(check_distinct(out, "out", gate, "gate"));
        NM_TRY(check_distinct(out, "out", up, "up"));
        NM_TRY(check_float(s.gate, "gate"));
        if (s.up.present()) NM_TRY(check_float(s.up, "up"));
        NM_TRY(check_float(s.out, "out"));
        if (s.up.present()) {
            NM_TRY(check_same_shape(s.gate, "gate", s.up, "up"));
            NM_TRY(check_same_shape(s.gate, "gate", s.out, "out"));
            rows_cols(s.gate, &s.rows, &s.cols);
        } else {
            const int64_t width = s.gate.shape[s.gate.ndim - 1];
            if (width % 2 != 0)
                return set_error(NM_ERR_SHAPE,
                                 "gate: last dim must be even (gate and up halves, [..., 2F]) when up is NULL, "
                                 "got shape %s",
                                 shape_string(s.gate).c_str());
            int64_t want[NM_MAX_DIMS];
            for (int i = 0; i < s.gate.ndim; ++i) want[i] = s.gate.shape[i];
            want[s.gate.ndim - 1] = width / 2;
            NM_TRY(check_shape(s.out, "out", s.gate.ndim, want, "[..., F] for gate [..., 2F]"));
            rows_cols(s.out, &s.rows, &s.cols);
        }
        return ctx->backend->swiglu(s);
    });
}

NM_API nm_status nm_add(nm_context* ctx, const nm_tensor* a, const nm_tensor* b, nm_tensor* out) {
    return guard([&]() -> nm_status { return run_binary(ctx, a, b, out, BinaryOp::Add); });
}

NM_API nm_status nm_mul(nm_context* ctx, const nm_tensor* a, const nm_tensor* b, nm_tensor* out) {
    return guard([&]() -> nm_status { return run_binary(ctx, a, b, out, BinaryOp::Mul); });
}

}  // extern "C"
