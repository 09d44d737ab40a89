// validate.h — argument checks shared by every nm_* operator.
//
// Each check returns NM_OK or sets a message that names the argument and the
// problem, e.g. "q: expected bfloat16, got float32", and returns its status.
// Operators chain them with NM_TRY so the first problem is reported.
#pragma once

#include <string>

#include "../core/context.h"
#include "../core/error.h"

namespace nm {

std::string shape_string(const TensorView& v);  // "[2, 3, 4]"

nm_status check_context(const nm_context* ctx);
nm_status check_not_null(const void* p, const char* name);

// Resolves a tensor argument: NULL is an error when required (and an absent
// view otherwise); a tensor of another context is NM_ERR_DEVICE.
nm_status get_view(const nm_context* ctx, const nm_tensor* t, const char* name, bool required, TensorView* out);
inline nm_status require(const nm_context* ctx, const nm_tensor* t, const char* name, TensorView* out) {
    return get_view(ctx, t, name, true, out);
}
inline nm_status optional(const nm_context* ctx, const nm_tensor* t, const char* name, TensorView* out) {
    return get_view(ctx, t, name, false, out);
}

bool is_float(nm_dtype d);
nm_status check_float(const TensorView& v, const char* name);  // float32/float16/bfloat16
nm_status check_dtype(const TensorView& v, const char* name, nm_dtype expected);
nm_status check_same_dtype(const TensorView& a, const char* an, const TensorView& b, const char* bn);
nm_status check_rank(const TensorView& v, const char* name, int min_rank, int max_rank);
nm_status check_same_shape(const TensorView& a, const char* an, const TensorView& b, const char* bn);
// v must be exactly `expected` (ndim dims); `what` explains the expectation, e.g. "[D, K]".
nm_status check_shape(const TensorView& v, const char* name, int ndim, const int64_t* expected, const char* what);
// Last dim of v must equal n.
nm_status check_last_dim(const TensorView& v, const char* name, int64_t n, const char* what);
nm_status check_finite(float value, const char* name);

// rows = product of all dims but the last; cols = last dim.
inline void rows_cols(const TensorView& v, int64_t* rows, int64_t* cols) {
    *cols = v.shape[v.ndim - 1];
    *rows = v.numel() / *cols;
}

}  // namespace nm
