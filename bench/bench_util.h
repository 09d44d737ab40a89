// bench_util.h — what every benchmark here shares: tensor handles, random
// fills, median timing over synchronised calls, and the device-to-device copy
// bandwidth that memory-bound kernels are measured against.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/half.h"
#include "nativemodels.h"

namespace bench {

struct Handle {
    nm_tensor* t = nullptr;
    Handle() = default;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { nm_tensor_destroy(t); }
};

inline void check(nm_status st, const char* what) {
    if (st != NM_OK) {
        std::fprintf(stderr, "%s failed: %s: %s\n", what, nm_status_name(st), nm_last_error());
        std::exit(1);
    }
}

// Creates a float tensor filled with pseudo-random values in [lo, hi): a
// pattern of at most 2^18 elements, repeated (cheap for multi-GiB tensors).
inline void make(nm_context* ctx, Handle& h, nm_dtype dtype, std::vector<int64_t> shape, float lo = -1.f,
                 float hi = 1.f) {
    check(nm_tensor_create(ctx, dtype, int32_t(shape.size()), shape.data(), &h.t), "nm_tensor_create");
    nm_tensor_info info{};
    check(nm_tensor_get_info(h.t, &info), "nm_tensor_get_info");
    const size_t es = nm_dtype_size(dtype);
    const size_t n = std::min<size_t>(size_t(info.numel), size_t(1) << 18);
    std::vector<unsigned char> pattern(n * es);
    uint32_t s = 12345u;
    for (size_t i = 0; i < n; ++i) {
        s = s * 1664525u + 1013904223u;
        nm::store_float(pattern.data(), dtype, int64_t(i), lo + (hi - lo) * float(s >> 8) / float(1u << 24));
    }
    for (uint64_t off = 0; off < info.nbytes; off += pattern.size())
        check(nm_tensor_upload(h.t, off, pattern.data(), std::min<uint64_t>(pattern.size(), info.nbytes - off)),
              "nm_tensor_upload");
}

// Median wall time of `call` in ms: 2 warm-up calls, then `repeats` timed
// calls, each followed by nm_context_synchronize.
template <class F>
double median_ms(nm_context* ctx, int repeats, F&& call) {
    for (int i = 0; i < 2; ++i) call();
    check(nm_context_synchronize(ctx), "nm_context_synchronize");
    std::vector<double> ms;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        call();
        check(nm_context_synchronize(ctx), "nm_context_synchronize");
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

// Device-to-device copy bandwidth in GB/s, counting bytes read plus written.
inline double copy_bandwidth(nm_context* ctx, int repeats) {
    const int64_t n = int64_t(1) << 28;  // 1 GiB of float32
    Handle a, b;
    make(ctx, a, NM_DTYPE_F32, {n});
    make(ctx, b, NM_DTYPE_F32, {n});
    const double ms = median_ms(ctx, repeats, [&] { check(nm_tensor_copy(b.t, a.t), "nm_tensor_copy"); });
    return 2.0 * double(n) * 4.0 / (ms * 1e6);
}

}  // namespace bench
