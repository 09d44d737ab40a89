// test_reference.h — naive double-precision references for the operator
// tests, and the comparison helpers they share. The references are plain
// loops, written to be obviously right rather than fast.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "test_util.h"

namespace nmtest {

inline const nm_dtype kFloatDtypes[] = {NM_DTYPE_F32, NM_DTYPE_F16, NM_DTYPE_BF16};

// Relative tolerance for comparing with a reference computed on the
// dtype-rounded inputs: mostly the rounding of the output itself.
inline double ref_tolerance(nm_dtype dtype) {
    switch (dtype) {
        case NM_DTYPE_F16: return 1e-3;
        case NM_DTYPE_BF16: return 1e-2;
        default: return 1e-5;
    }
}

// Tolerance for CUDA against CPU on the same inputs.
inline double cuda_tolerance(nm_dtype dtype) { return dtype == NM_DTYPE_F32 ? 1e-4 : 2e-2; }

// Every got[i] within tol * max(1, |want[i]|) of want[i]; reports the worst one.
inline void expect_close(const std::vector<float>& got, const std::vector<double>& want, double tol) {
    ASSERT_EQ(got.size(), want.size());
    size_t worst = 0;
    double worst_excess = -1.0;
    size_t bad = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double allowed = tol * std::max(1.0, std::fabs(want[i]));
        const double err = std::fabs(double(got[i]) - want[i]);
        const double excess = std::isnan(err) ? INFINITY : err / allowed;
        if (excess > 1.0) ++bad;
        if (excess > worst_excess) { worst_excess = excess; worst = i; }
    }
    EXPECT_EQ(bad, 0u) << bad << " of " << got.size() << " elements off; worst at " << worst << ": got "
                       << got[worst] << ", want " << want[worst] << " (tolerance " << tol << " relative)";
}

inline void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tol) {
    expect_close(got, std::vector<double>(want.begin(), want.end()), tol);
}

inline int64_t product(const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

// ---------------------------------------------------- shared test drivers

// Runs an operator on `ctx` with inputs in `dtype` and returns its output;
// the same function drives the CPU and the CUDA side of a comparison.
using RunOnContext = std::function<std::vector<float>(nm_context* ctx, nm_dtype dtype)>;

// Call only after NM_SKIP_WITHOUT_CUDA(): runs `run` on "cuda" and on "cpu".
inline void expect_cuda_matches_cpu(const RunOnContext& run) {
    Context cpu("cpu"), cuda("cuda");
    ASSERT_NE(cuda.p, nullptr) << nm_last_error();
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16}) {
        SCOPED_TRACE(nm_dtype_name(dtype));
        expect_close(run(cuda, dtype), run(cpu, dtype), cuda_tolerance(dtype));
    }
}

// An operator of the form op(ctx, x, out) with its other arguments bound.
using XOutCall = std::function<nm_status(nm_context* ctx, const nm_tensor* x, nm_tensor* out)>;

// The errors every op(ctx, x, out) operator reports the same way.
inline void expect_x_out_errors(const XOutCall& call) {
    Context ctx("cpu"), other("cpu");
    Tensor x = make_tensor(ctx, NM_DTYPE_F32, {2, 3});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 3});
    EXPECT_NM_OK(call(ctx, x, out));
    EXPECT_NM_ERROR(call(nullptr, x, out), NM_ERR_INVALID_ARGUMENT, "ctx: context is NULL");
    EXPECT_NM_ERROR(call(ctx, nullptr, out), NM_ERR_INVALID_ARGUMENT, "x: tensor is NULL");
    EXPECT_NM_ERROR(call(ctx, x, nullptr), NM_ERR_INVALID_ARGUMENT, "out: tensor is NULL");
    Tensor x_int = make_tensor(ctx, NM_DTYPE_I32, {2, 3});
    EXPECT_NM_ERROR(call(ctx, x_int, out), NM_ERR_DTYPE, "x: expected float32, float16 or bfloat16, got int32");
    Tensor out_int = make_tensor(ctx, NM_DTYPE_I32, {2, 3});
    EXPECT_NM_ERROR(call(ctx, x, out_int), NM_ERR_DTYPE, "out: expected float32, float16 or bfloat16, got int32");
    Tensor out_wrong = make_tensor(ctx, NM_DTYPE_F32, {3, 2});
    EXPECT_NM_ERROR(call(ctx, x, out_wrong), NM_ERR_SHAPE, "out: shape [3, 2] does not match x shape [2, 3]");
    Tensor x_other = make_tensor(other, NM_DTYPE_F32, {2, 3});
    EXPECT_NM_ERROR(call(ctx, x_other, out), NM_ERR_DEVICE, "x: tensor belongs to another context");
    Tensor out_other = make_tensor(other, NM_DTYPE_F32, {2, 3});
    EXPECT_NM_ERROR(call(ctx, x, out_other), NM_ERR_DEVICE, "out: tensor belongs to another context");
}

// Shapes for row and elementwise tests: size 1, odd sizes, and one large
// enough to take the multi-threaded path.
inline const std::vector<std::vector<int64_t>>& test_shapes() {
    static const std::vector<std::vector<int64_t>> shapes = {{1}, {7}, {3, 5}, {2, 3, 33}, {1, 1}, {48, 1031}};
    return shapes;
}

// ----------------------------------------------------------- activations

inline double ref_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double ref_silu(double x) { return x * ref_sigmoid(x); }
inline double ref_gelu_erf(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
inline double ref_gelu_tanh(double x) {
    const double k = std::sqrt(2.0 / M_PI);
    return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

// ------------------------------------------------------------------ gemm

// Element (i, p) of op(x) where x is stored [rows, cols] (transposed when trans).
inline double op_at(const std::vector<float>& x, int64_t offset, int64_t i, int64_t p, int64_t op_rows,
                    int64_t op_cols, bool trans) {
    return trans ? x[offset + p * op_rows + i] : x[offset + i * op_cols + p];
}

struct GemmCase {
    int64_t batch = 1, m = 1, n = 1, k = 1;
    bool trans_a = false, trans_b = false;
    bool a_batched = false, b_batched = false;  // false: one matrix broadcast over the batch
    float alpha = 1.f, beta = 0.f;
};

// c0: c before the call (read when beta != 0); bias: empty or [n].
inline std::vector<double> ref_gemm(const GemmCase& g, const std::vector<float>& a, const std::vector<float>& b,
                                    const std::vector<float>& c0, const std::vector<float>& bias) {
    std::vector<double> c(size_t(g.batch * g.m * g.n));
    for (int64_t t = 0; t < g.batch; ++t) {
        const int64_t ao = g.a_batched ? t * g.m * g.k : 0, bo = g.b_batched ? t * g.k * g.n : 0;
        for (int64_t i = 0; i < g.m; ++i)
            for (int64_t j = 0; j < g.n; ++j) {
                double acc = 0;
                for (int64_t p = 0; p < g.k; ++p)
                    acc += op_at(a, ao, i, p, g.m, g.k, g.trans_a) * op_at(b, bo, p, j, g.k, g.n, g.trans_b);
                const size_t ci = size_t((t * g.m + i) * g.n + j);
                double v = double(g.alpha) * acc;
                if (g.beta != 0.f) v += double(g.beta) * c0[ci];
                if (!bias.empty()) v += bias[size_t(j)];
                c[ci] = v;
            }
    }
    return c;
}

// ----------------------------------------------------------- row-wise ops

inline std::vector<double> ref_softmax(const std::vector<float>& x, int64_t cols, float scale) {
    std::vector<double> out(x.size());
    for (size_t r = 0; r < x.size() / size_t(cols); ++r) {
        const size_t base = r * size_t(cols);
        double m = -INFINITY, sum = 0;
        for (int64_t j = 0; j < cols; ++j) m = std::max(m, double(scale) * x[base + j]);
        for (int64_t j = 0; j < cols; ++j) sum += std::exp(double(scale) * x[base + j] - m);
        for (int64_t j = 0; j < cols; ++j) out[base + j] = std::exp(double(scale) * x[base + j] - m) / sum;
    }
    return out;
}

// weight empty: no scaling.
inline std::vector<double> ref_rmsnorm(const std::vector<float>& x, const std::vector<float>& weight, int64_t cols,
                                       float eps, bool zero_centered) {
    std::vector<double> out(x.size());
    for (size_t r = 0; r < x.size() / size_t(cols); ++r) {
        const size_t base = r * size_t(cols);
        double ss = 0;
        for (int64_t j = 0; j < cols; ++j) ss += double(x[base + j]) * x[base + j];
        const double inv = 1.0 / std::sqrt(ss / double(cols) + eps);
        for (int64_t j = 0; j < cols; ++j) {
            double w = weight.empty() ? 1.0 : double(weight[size_t(j)]) + (zero_centered ? 1.0 : 0.0);
            out[base + j] = x[base + j] * inv * w;
        }
    }
    return out;
}

inline std::vector<double> ref_rmsnorm_gated(const std::vector<float>& x, const std::vector<float>& z,
                                             const std::vector<float>& weight, int64_t cols, int64_t group,
                                             float eps, bool gate_before_norm) {
    std::vector<double> out(x.size());
    for (size_t g0 = 0; g0 < x.size(); g0 += size_t(group)) {
        std::vector<double> v(static_cast<size_t>(group));
        double ss = 0;
        for (int64_t j = 0; j < group; ++j) {
            v[j] = gate_before_norm ? x[g0 + j] * ref_silu(z[g0 + j]) : x[g0 + j];
            ss += v[j] * v[j];
        }
        const double inv = 1.0 / std::sqrt(ss / double(group) + eps);
        for (int64_t j = 0; j < group; ++j) {
            double o = v[j] * inv;
            if (!gate_before_norm) o *= ref_silu(z[g0 + j]);
            if (!weight.empty()) o *= weight[(g0 + j) % size_t(cols)];
            out[g0 + j] = o;
        }
    }
    return out;
}

inline std::vector<double> ref_l2norm(const std::vector<float>& x, int64_t cols, float eps) {
    std::vector<double> out(x.size());
    for (size_t r = 0; r < x.size() / size_t(cols); ++r) {
        const size_t base = r * size_t(cols);
        double ss = 0;
        for (int64_t j = 0; j < cols; ++j) ss += double(x[base + j]) * x[base + j];
        for (int64_t j = 0; j < cols; ++j) out[base + j] = x[base + j] / std::sqrt(ss + eps);
    }
    return out;
}

}  // namespace nmtest
