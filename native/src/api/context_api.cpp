// context_api.cpp — nm_context_* and backend discovery.
#include <cstdlib>
#include <cstring>
#include <string>

#include "validate.h"

namespace nm {
namespace {

// Parses "auto" | "cpu" | "cuda" | "cuda:N". kind_out = -1 for auto.
nm_status parse_spec(const char* spec, int* kind_out, int32_t* device_out) {
    std::string s = spec ? spec : "auto";
    *device_out = 0;
    if (s == "auto" || s.empty()) { *kind_out = -1; return NM_OK; }
    if (s == "cpu") { *kind_out = NM_BACKEND_CPU; return NM_OK; }
    if (s == "cuda") { *kind_out = NM_BACKEND_CUDA; return NM_OK; }
    if (s.rfind("cuda:", 0) == 0 && s.size() > 5 && s.size() < 12) {
        char* end = nullptr;
        long n = std::strtol(s.c_str() + 5, &end, 10);
        if (end && *end == '\0' && n >= 0) {
            *kind_out = NM_BACKEND_CUDA;
            *device_out = int32_t(n);
            return NM_OK;
        }
    }
    return set_error(NM_ERR_INVALID_ARGUMENT, "spec: unknown backend '%s' (expected auto, cpu, cuda or cuda:N)",
                     s.c_str());
}

nm_status create_cuda(int32_t device, std::unique_ptr<Backend>* out) {
    const CudaPluginApi* api = cuda_plugin();
    if (!api) return NM_ERR_BACKEND_UNAVAILABLE;
    int32_t count = 0;
    NM_TRY(api->probe(&count));
    if (device >= count)
        return set_error(NM_ERR_BACKEND_UNAVAILABLE, "cuda: device %d requested, but only %d CUDA device%s found",
                         device, count, count == 1 ? "" : "s");
    Backend* b = nullptr;
    NM_TRY(api->create_backend(device, &b));
    out->reset(b);
    return NM_OK;
}

}  // namespace
}  // namespace nm

using namespace nm;

extern "C" {

NM_API nm_status nm_context_create(const char* spec, nm_context** out) {
    return guard([&]() -> nm_status {
        NM_TRY(check_not_null(out, "out"));
        *out = nullptr;
        int kind = 0;
        int32_t device = 0;
        NM_TRY(parse_spec(spec, &kind, &device));
        auto ctx = std::make_unique<nm_context>();
        if (kind == -1) {  // auto: CUDA if usable, else CPU
            if (create_cuda(0, &ctx->backend) != NM_OK) ctx->backend = make_cpu_backend();
            clear_error();
        } else if (kind == NM_BACKEND_CUDA) {
            NM_TRY(create_cuda(device, &ctx->backend));
        } else {
            ctx->backend = make_cpu_backend();
        }
        ctx->name = ctx->backend->kind() == NM_BACKEND_CUDA ? "cuda:" + std::to_string(ctx->backend->device())
                                                             : std::string("cpu");
        *out = ctx.release();
        return NM_OK;
    });
}

NM_API void nm_context_destroy(nm_context* ctx) {
    if (!ctx) return;
    guard([&]() -> nm_status {
        ctx->backend->synchronize();
        delete ctx;
        return NM_OK;
    });
}

NM_API nm_status nm_context_backend(const nm_context* ctx, nm_backend_kind* kind, int32_t* device) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        if (kind) *kind = ctx->backend->kind();
        if (device) *device = ctx->backend->device();
        return NM_OK;
    });
}

NM_API nm_status nm_context_synchronize(nm_context* ctx) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        return ctx->backend->synchronize();
    });
}

NM_API nm_status nm_context_memory(const nm_context* ctx, uint64_t* tensor_bytes, uint64_t* peak_tensor_bytes) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        if (tensor_bytes) *tensor_bytes = ctx->tensor_bytes.load();
        if (peak_tensor_bytes) *peak_tensor_bytes = ctx->peak_tensor_bytes.load();
        return NM_OK;
    });
}

NM_API nm_status nm_backend_probe(nm_backend_kind kind, int32_t* device_count) {
    return guard([&]() -> nm_status {
        NM_TRY(check_not_null(device_count, "device_count"));
        *device_count = 0;
        if (kind == NM_BACKEND_CPU) { *device_count = 1; return NM_OK; }
        if (kind != NM_BACKEND_CUDA)
            return set_error(NM_ERR_INVALID_ARGUMENT, "kind: unknown backend kind %d", int(kind));
        const CudaPluginApi* api = cuda_plugin();
        if (!api) return NM_ERR_BACKEND_UNAVAILABLE;
        return api->probe(device_count);
    });
}

NM_API nm_status nm_cuda_device_info(int32_t device, nm_device_info* out) {
    return guard([&]() -> nm_status {
        NM_TRY(check_not_null(out, "out"));
        std::memset(out, 0, sizeof *out);
        const CudaPluginApi* api = cuda_plugin();
        if (!api) return NM_ERR_BACKEND_UNAVAILABLE;
        int32_t count = 0;
        NM_TRY(api->probe(&count));
        if (device < 0 || device >= count)
            return set_error(NM_ERR_INVALID_ARGUMENT, "device: %d is out of range (%d CUDA devices)", device, count);
        return api->device_info(device, out);
    });
}

}  // extern "C"
