// tensor_api.cpp — nm_tensor_*: allocation, shape, host/device copies.
#include <cstring>
#include <cstdint>
#include <vector>

#include "validate.h"

using namespace nm;

namespace {

nm_status check_tensor(const nm_tensor* t, const char* name) {
    if (!t) return set_error(NM_ERR_INVALID_ARGUMENT, "%s: tensor is NULL", name);
    return NM_OK;
}

nm_status check_dims(int32_t ndim, const int64_t* shape, uint64_t* numel) {
    if (ndim < 1 || ndim > NM_MAX_DIMS)
        return set_error(NM_ERR_SHAPE, "shape: ndim must be 1..%d, got %d", NM_MAX_DIMS, ndim);
    NM_TRY(check_not_null(shape, "shape"));
    uint64_t n = 1;
    for (int i = 0; i < ndim; ++i) {
        if (shape[i] < 1)
            return set_error(NM_ERR_SHAPE, "shape: dim %d must be >= 1, got %lld", i, (long long)shape[i]);
        if (n > (uint64_t(1) << 48) / uint64_t(shape[i]))
            return set_error(NM_ERR_SHAPE, "shape: too many elements (over 2^48)");
        n *= uint64_t(shape[i]);
    }
    *numel = n;
    return NM_OK;
}

// A byte range [offset, offset + bytes) inside tensor `t` (named `name` in the message).
nm_status check_tensor_range(const nm_tensor* t, uint64_t offset, uint64_t bytes, const char* name) {
    if (offset > t->nbytes || bytes > t->nbytes - offset) {
        const uint64_t end = offset > UINT64_MAX - bytes ? UINT64_MAX : offset + bytes;  // saturated for the message
        return set_error(NM_ERR_INVALID_ARGUMENT, "%s: range [%llu, %llu) is outside the tensor's %llu bytes", name,
                         (unsigned long long)offset, (unsigned long long)end, (unsigned long long)t->nbytes);
    }
    return NM_OK;
}

nm_status check_range(const nm_tensor* t, uint64_t offset, uint64_t bytes, const void* host, const char* host_name) {
    if (bytes == 0) return NM_OK;
    NM_TRY(check_not_null(host, host_name));
    return check_tensor_range(t, offset, bytes, "bytes");
}

}  // namespace

extern "C" {

NM_API const char* nm_dtype_name(nm_dtype dtype) {
    switch (dtype) {
        case NM_DTYPE_F32: return "float32";
        case NM_DTYPE_F16: return "float16";
        case NM_DTYPE_BF16: return "bfloat16";
        case NM_DTYPE_I32: return "int32";
    }
    return "invalid";
}

NM_API size_t nm_dtype_size(nm_dtype dtype) {
    switch (dtype) {
        case NM_DTYPE_F32: case NM_DTYPE_I32: return 4;
        case NM_DTYPE_F16: case NM_DTYPE_BF16: return 2;
    }
    return 0;
}

NM_API nm_status nm_tensor_create(nm_context* ctx, nm_dtype dtype, int32_t ndim, const int64_t* shape,
                                  nm_tensor** out) {
    return guard([&]() -> nm_status {
        NM_TRY(check_not_null(out, "out"));
        *out = nullptr;
        NM_TRY(check_context(ctx));
        if (nm_dtype_size(dtype) == 0) return set_error(NM_ERR_DTYPE, "dtype: unknown dtype %d", int(dtype));
        uint64_t numel = 0;
        NM_TRY(check_dims(ndim, shape, &numel));
        auto t = std::make_unique<nm_tensor>();
        t->ctx = ctx;
        t->view.dtype = dtype;
        t->view.ndim = ndim;
        for (int i = 0; i < ndim; ++i) t->view.shape[i] = shape[i];
        t->nbytes = numel * nm_dtype_size(dtype);
        NM_TRY(ctx->backend->alloc(t->nbytes, &t->view.data));
        nm_status st = ctx->backend->zero(t->view.data, t->nbytes);
        if (st != NM_OK) {
            ctx->backend->release(t->view.data);
            return st;
        }
        uint64_t now = ctx->tensor_bytes.fetch_add(t->nbytes) + t->nbytes;
        uint64_t peak = ctx->peak_tensor_bytes.load();
        while (now > peak && !ctx->peak_tensor_bytes.compare_exchange_weak(peak, now)) {}
        *out = t.release();
        return NM_OK;
    });
}

NM_API void nm_tensor_destroy(nm_tensor* t) {
    if (!t) return;
    guard([&]() -> nm_status {
        t->ctx->backend->release(t->view.data);
        t->ctx->tensor_bytes.fetch_sub(t->nbytes);
        delete t;
        return NM_OK;
    });
}

NM_API nm_status nm_tensor_get_info(const nm_tensor* t, nm_tensor_info* out) {
    return guard([&]() -> nm_status {
        NM_TRY(check_tensor(t, "t"));
        NM_TRY(check_not_null(out, "out"));
        std::memset(out, 0, sizeof *out);
        out->dtype = t->view.dtype;
        out->ndim = t->view.ndim;
        for (int i = 0; i < t->view.ndim; ++i) out->shape[i] = t->view.shape[i];
        out->numel = uint64_t(t->view.numel());
        out->nbytes = t->nbytes;
        out->backend = t->ctx->backend->kind();
        out->device = t->ctx->backend->device();
        return NM_OK;
    });
}

NM_API nm_status nm_tensor_reshape(nm_tensor* t, int32_t ndim, const int64_t* shape) {
    return guard([&]() -> nm_status {
        NM_TRY(check_tensor(t, "t"));
        uint64_t numel = 0;
        NM_TRY(check_dims(ndim, shape, &numel));
        if (numel != uint64_t(t->view.numel())) {
            TensorView want;
            want.ndim = ndim;
            for (int i = 0; i < ndim; ++i) want.shape[i] = shape[i];
            return set_error(NM_ERR_SHAPE, "shape: cannot reshape %s (%lld elements) to %s (%llu elements)",
                             shape_string(t->view).c_str(), (long long)t->view.numel(),
                             shape_string(want).c_str(), (unsigned long long)numel);
        }
        t->view.ndim = ndim;
        for (int i = 0; i < NM_MAX_DIMS; ++i) t->view.shape[i] = i < ndim ? shape[i] : 0;
        return NM_OK;
    });
}

NM_API nm_status nm_tensor_upload(nm_tensor* t, uint64_t offset, const void* src, uint64_t bytes) {
    return guard([&]() -> nm_status {
        NM_TRY(check_tensor(t, "t"));
        NM_TRY(check_range(t, offset, bytes, src, "src"));
        if (bytes == 0) return NM_OK;
        return t->ctx->backend->upload(static_cast<char*>(t->view.data) + offset, src, bytes);
    });
}

NM_API nm_status nm_tensor_download(const nm_tensor* t, uint64_t offset, void* dst, uint64_t bytes) {
    return guard([&]() -> nm_status {
        NM_TRY(check_tensor(t, "t"));
        NM_TRY(check_range(t, offset, bytes, dst, "dst"));
        if (bytes == 0) return NM_OK;
        return t->ctx->backend->download(dst, static_cast<const char*>(t->view.data) + offset, bytes);
    });
}

NM_API nm_status nm_tensor_copy(nm_tensor* dst, const nm_tensor* src) {
    return guard([&]() -> nm_status {
        NM_TRY(check_tensor(dst, "dst"));
        NM_TRY(check_tensor(src, "src"));
        NM_TRY(check_same_dtype(src->view, "src", dst->view, "dst"));
        if (src->view.numel() != dst->view.numel())
            return set_error(NM_ERR_SHAPE, "dst: has %lld elements, src has %lld", (long long)dst->view.numel(),
                             (long long)src->view.numel());
        if (src == dst) return NM_OK;
        if (src->ctx == dst->ctx) return dst->ctx->backend->copy(dst->view.data, src->view.data, dst->nbytes);
        // Across contexts: through host memory, both sides synchronised.
        std::vector<char> host(dst->nbytes);
        NM_TRY(src->ctx->backend->download(host.data(), src->view.data, host.size()));
        NM_TRY(src->ctx->backend->synchronize());
        NM_TRY(dst->ctx->backend->upload(dst->view.data, host.data(), host.size()));
        return dst->ctx->backend->synchronize();
    });
}

NM_API nm_status nm_tensor_zero(nm_tensor* t) {
    return guard([&]() -> nm_status {
        NM_TRY(check_tensor(t, "t"));
        return t->ctx->backend->zero(t->view.data, t->nbytes);
    });
}

NM_API nm_status nm_tensor_copy_bytes(nm_tensor* dst, uint64_t dst_offset, const nm_tensor* src, uint64_t src_offset,
                                      uint64_t bytes) {
    return guard([&]() -> nm_status {
        NM_TRY(check_tensor(dst, "dst"));
        NM_TRY(check_tensor(src, "src"));
        NM_TRY(check_tensor_range(dst, dst_offset, bytes, "dst_offset"));
        NM_TRY(check_tensor_range(src, src_offset, bytes, "src_offset"));
        if (bytes == 0) return NM_OK;
        if (src->view.data == dst->view.data && src_offset < dst_offset + bytes && dst_offset < src_offset + bytes)
            return set_error(NM_ERR_INVALID_ARGUMENT, "dst_offset: range [%llu, %llu) overlaps the source range [%llu, %llu)",
                             (unsigned long long)dst_offset, (unsigned long long)(dst_offset + bytes),
                             (unsigned long long)src_offset, (unsigned long long)(src_offset + bytes));
        char* to = static_cast<char*>(dst->view.data) + dst_offset;
        const char* from = static_cast<const char*>(src->view.data) + src_offset;
        if (src->ctx == dst->ctx) return dst->ctx->backend->copy(to, from, bytes);
        std::vector<char> host(bytes);
        NM_TRY(src->ctx->backend->download(host.data(), from, bytes));
        NM_TRY(src->ctx->backend->synchronize());
        NM_TRY(dst->ctx->backend->upload(to, host.data(), bytes));
        return dst->ctx->backend->synchronize();
    });
}

NM_API nm_status nm_tensor_zero_bytes(nm_tensor* t, uint64_t offset, uint64_t bytes) {
    return guard([&]() -> nm_status {
        NM_TRY(check_tensor(t, "t"));
        NM_TRY(check_tensor_range(t, offset, bytes, "offset"));
        if (bytes == 0) return NM_OK;
        return t->ctx->backend->zero(static_cast<char*>(t->view.data) + offset, bytes);
    });
}

}  // extern "C"
