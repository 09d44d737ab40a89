// validate.cpp — argument checks shared by every nm_* operator.
#include "validate.h"

#include <cmath>

namespace nm {

std::string shape_string(const TensorView& v) {
    std::string s = "[";
    for (int i = 0; i < v.ndim; ++i) {
        if (i) s += ", ";
        s += std::to_string(v.shape[i]);
    }
    return s + "]";
}

nm_status check_context(const nm_context* ctx) {
    if (!ctx) return set_error(NM_ERR_INVALID_ARGUMENT, "ctx: context is NULL");
    return NM_OK;
}

nm_status check_not_null(const void* p, const char* name) {
    if (!p) return set_error(NM_ERR_INVALID_ARGUMENT, "%s: is NULL", name);
    return NM_OK;
}

nm_status get_view(const nm_context* ctx, const nm_tensor* t, const char* name, bool required, TensorView* out) {
    *out = TensorView{};
    if (!t) {
        if (required) return set_error(NM_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", name);
        return NM_OK;
    }
    if (t->ctx != ctx)
        return set_error(NM_ERR_DEVICE, "%s: tensor belongs to another context (%s), the operator runs on %s",
                         name, t->ctx ? t->ctx->name.c_str() : "none", ctx->name.c_str());
    *out = t->view;
    return NM_OK;
}

bool is_float(nm_dtype d) { return d == NM_DTYPE_F32 || d == NM_DTYPE_F16 || d == NM_DTYPE_BF16; }

nm_status check_float(const TensorView& v, const char* name) {
    if (!is_float(v.dtype))
        return set_error(NM_ERR_DTYPE, "%s: expected float32, float16 or bfloat16, got %s", name,
                         nm_dtype_name(v.dtype));
    return NM_OK;
}

nm_status check_dtype(const TensorView& v, const char* name, nm_dtype expected) {
    if (v.dtype != expected)
        return set_error(NM_ERR_DTYPE, "%s: expected %s, got %s", name, nm_dtype_name(expected),
                         nm_dtype_name(v.dtype));
    return NM_OK;
}

nm_status check_same_dtype(const TensorView& a, const char* an, const TensorView& b, const char* bn) {
    if (a.dtype != b.dtype)
        return set_error(NM_ERR_DTYPE, "%s: expected %s (the dtype of %s), got %s", bn, nm_dtype_name(a.dtype), an,
                         nm_dtype_name(b.dtype));
    return NM_OK;
}

nm_status check_rank(const TensorView& v, const char* name, int min_rank, int max_rank) {
    if (v.ndim < min_rank || v.ndim > max_rank) {
        if (min_rank == max_rank)
            return set_error(NM_ERR_SHAPE, "%s: expected %d dims, got %d (shape %s)", name, min_rank, v.ndim,
                             shape_string(v).c_str());
        return set_error(NM_ERR_SHAPE, "%s: expected %d to %d dims, got %d (shape %s)", name, min_rank, max_rank,
                         v.ndim, shape_string(v).c_str());
    }
    return NM_OK;
}

nm_status check_same_shape(const TensorView& a, const char* an, const TensorView& b, const char* bn) {
    bool same = a.ndim == b.ndim;
    for (int i = 0; same && i < a.ndim; ++i) same = a.shape[i] == b.shape[i];
    if (!same)
        return set_error(NM_ERR_SHAPE, "%s: shape %s does not match %s shape %s", bn, shape_string(b).c_str(), an,
                         shape_string(a).c_str());
    return NM_OK;
}

nm_status check_shape(const TensorView& v, const char* name, int ndim, const int64_t* expected, const char* what) {
    bool same = v.ndim == ndim;
    for (int i = 0; same && i < ndim; ++i) same = v.shape[i] == expected[i];
    if (!same) {
        TensorView e;
        e.ndim = ndim;
        for (int i = 0; i < ndim; ++i) e.shape[i] = expected[i];
        return set_error(NM_ERR_SHAPE, "%s: expected shape %s %s, got %s", name, what, shape_string(e).c_str(),
                         shape_string(v).c_str());
    }
    return NM_OK;
}

nm_status check_last_dim(const TensorView& v, const char* name, int64_t n, const char* what) {
    if (v.ndim < 1 || v.shape[v.ndim - 1] != n)
        return set_error(NM_ERR_SHAPE, "%s: last dim must be %lld (%s), got shape %s", name, (long long)n, what,
                         shape_string(v).c_str());
    return NM_OK;
}

nm_status check_finite(float value, const char* name) {
    if (!std::isfinite(value)) return set_error(NM_ERR_INVALID_ARGUMENT, "%s: must be finite, got %g", name, value);
    return NM_OK;
}

}  // namespace nm
