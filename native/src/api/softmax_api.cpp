// softmax_api.cpp — nm_softmax: softmax over the last dim, in place allowed.
#include "validate.h"

using namespace nm;

extern "C" {

NM_API nm_status nm_softmax(nm_context* ctx, const nm_tensor* x, nm_tensor* out, float scale) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        SoftmaxArgs s;
        NM_TRY(require(ctx, x, "x", &s.x));
        NM_TRY(require(ctx, out, "out", &s.out));
        NM_TRY(check_float(s.x, "x"));
        NM_TRY(check_float(s.out, "out"));
        NM_TRY(check_same_shape(s.x, "x", s.out, "out"));
        NM_TRY(check_finite(scale, "scale"));
        rows_cols(s.x, &s.rows, &s.cols);
        s.scale = scale;
        return ctx->backend->softmax(s);
    });
}

}  // extern "C"
