// test_util.h — small helpers shared by the native tests: RAII handles,
// tensors from host vectors in any dtype, CUDA-or-skip, error assertions.
// Tests use only the public C ABI (plus the header-only half.h conversions).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "nativemodels.h"

namespace nmtest {

struct Context {
    nm_context* p = nullptr;
    explicit Context(const char* spec) {
        if (nm_context_create(spec, &p) != NM_OK) p = nullptr;
    }
    ~Context() { nm_context_destroy(p); }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
    operator nm_context*() const { return p; }
};

struct Tensor {
    nm_tensor* p = nullptr;
    Tensor() = default;
    explicit Tensor(nm_tensor* t) : p(t) {}
    ~Tensor() { nm_tensor_destroy(p); }
    Tensor(Tensor&& o) noexcept : p(o.p) { o.p = nullptr; }
    Tensor& operator=(Tensor&& o) noexcept {
        if (this != &o) { nm_tensor_destroy(p); p = o.p; o.p = nullptr; }
        return *this;
    }
    operator nm_tensor*() const { return p; }
};

// True when a CUDA context can be created; otherwise `why` says why not.
inline bool cuda_available(std::string* why) {
    int32_t count = 0;
    if (nm_backend_probe(NM_BACKEND_CUDA, &count) != NM_OK) {
        if (why) *why = nm_last_error();
        return false;
    }
    return true;
}

#define NM_SKIP_WITHOUT_CUDA()                                            \
    do {                                                                  \
        std::string nm_why_;                                              \
        if (!nmtest::cuda_available(&nm_why_)) GTEST_SKIP() << nm_why_;   \
    } while (0)

inline std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
}

// Rounds values to what `dtype` can hold (so references see the stored values).
inline std::vector<float> round_to(nm_dtype dtype, std::vector<float> v) {
    for (auto& x : v) {
        if (dtype == NM_DTYPE_F16) x = nm::f16_to_float(nm::float_to_f16(x));
        if (dtype == NM_DTYPE_BF16) x = nm::bf16_to_float(nm::float_to_bf16(x));
    }
    return v;
}

inline Tensor make_tensor(nm_context* ctx, nm_dtype dtype, std::vector<int64_t> shape) {
    nm_tensor* t = nullptr;
    nm_status st = nm_tensor_create(ctx, dtype, int32_t(shape.size()), shape.data(), &t);
    EXPECT_EQ(st, NM_OK) << nm_last_error();
    return Tensor(t);
}

// A tensor holding `values` converted to `dtype` (int32 values are truncated).
inline Tensor make_tensor(nm_context* ctx, nm_dtype dtype, std::vector<int64_t> shape,
                          const std::vector<float>& values) {
    Tensor t = make_tensor(ctx, dtype, shape);
    if (!t.p) return t;
    std::vector<unsigned char> bytes(values.size() * nm_dtype_size(dtype));
    for (size_t i = 0; i < values.size(); ++i) {
        if (dtype == NM_DTYPE_I32) {
            int32_t v = int32_t(values[i]);
            std::memcpy(bytes.data() + 4 * i, &v, 4);
        } else {
            nm::store_float(bytes.data(), dtype, int64_t(i), values[i]);
        }
    }
    EXPECT_EQ(nm_tensor_upload(t, 0, bytes.data(), bytes.size()), NM_OK) << nm_last_error();
    return t;
}

// Download + synchronize + convert: the right call for any backend.
inline std::vector<float> download(nm_context* ctx, const nm_tensor* t) {
    nm_tensor_info info{};
    EXPECT_EQ(nm_tensor_get_info(t, &info), NM_OK) << nm_last_error();
    std::vector<unsigned char> bytes(info.nbytes);
    EXPECT_EQ(nm_tensor_download(t, 0, bytes.data(), bytes.size()), NM_OK) << nm_last_error();
    EXPECT_EQ(nm_context_synchronize(ctx), NM_OK) << nm_last_error();
    std::vector<float> out(info.numel);
    for (size_t i = 0; i < out.size(); ++i) out[i] = nm::load_float(bytes.data(), info.dtype, int64_t(i));
    return out;
}

inline float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    float m = 0.f;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
        float d = std::fabs(a[i] - b[i]);
        if (std::isnan(d)) return INFINITY;
        m = std::max(m, d);
    }
    return m;
}

// Asserts a call failed with `expected` and a message containing `needle`.
#define EXPECT_NM_ERROR(call, expected, needle)                                       \
    do {                                                                              \
        nm_status nm_st_ = (call);                                                    \
        EXPECT_EQ(nm_st_, (expected)) << nm_status_name(nm_st_) << ": " << nm_last_error(); \
        EXPECT_NE(std::string(nm_last_error()).find(needle), std::string::npos)       \
            << "message was: " << nm_last_error();                                    \
    } while (0)

#define EXPECT_NM_OK(call) \
    do { nm_status nm_st_ = (call); EXPECT_EQ(nm_st_, NM_OK) << nm_last_error(); } while (0)

}  // namespace nmtest
