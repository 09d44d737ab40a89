// attention_golden_fixture.h — reading the attention goldens of
// tests/fixtures/attention (the FlashAttention authors' attention_ref; see the
// README there), shared by the C API test (test_attention_goldens.cpp) and
// the CUDA kernels under the simulator (test_attention_goldens_sim.cpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "golden_fixture.h"
#include "nativemodels.h"

namespace nmtest {
namespace attention_goldens {

// A fixture file (see tests/fixtures/attention/README.md, format in
// golden_fixture.h). Shapes are ours (packed, token-major).
using Fixture = GoldenFixture;

inline bool read_fixture(const std::string& path, Fixture* f) { return read_golden_fixture(path, "NMATGLD1", f); }

// Every fixture written by make_goldens.py (README.md has the case table).
const char* const kCases[] = {
    "bidirectional",        "bidirectional_lq_ne_lk", "causal_square",          "causal_lq_lt_lk",
    "causal_lq_gt_lk",      "window_left",            "window_left_right",      "window_right",
    "window_right_masks_all", "causal_window_left",   "causal_ignores_right",   "window_zero",
    "gqa2_causal",          "gqa4_window",            "mqa",                    "head_dim_128",
    "head_dim_40",          "custom_scale",           "ragged_batch",
};

inline std::string fixture_path(const char* name) { return std::string(NM_TEST_FIXTURES_DIR) + "/attention/" + name + ".bin"; }

inline std::vector<int32_t> to_offsets(const std::vector<float>& v) {
    std::vector<int32_t> r;
    for (float x : v) r.push_back(int32_t(x));
    return r;
}

// Absolute tolerances against the float32 reference. Half inputs are the
// fixture's float32 values rounded to the dtype, so their error is mostly that
// rounding (of q, k and v, then of out); lse is float32 in every case. Worst
// seen on the CPU: float32 out 7e-7, lse 1.5e-6; float16 1.9e-3; bfloat16
// 1.1e-2 (custom_scale, the peakiest softmax). The CUDA kernels under the
// simulator (tests/native/cuda_sim) gave the same half-precision worst cases
// and at most 1e-6 in float32; a GPU's exp2 may add a few ulp, hence 2e-5.
struct Tolerance {
    double out, lse;
};

inline Tolerance tolerance(nm_dtype dtype, bool cuda) {
    if (dtype == NM_DTYPE_F32) return cuda ? Tolerance{2e-5, 2e-5} : Tolerance{1e-5, 1e-5};
    if (dtype == NM_DTYPE_F16) return {4e-3, 4e-3};
    return {2.5e-2, 2.5e-2};
}

// max |got - want| with the position of the worst element; infinities must be
// equal (lse of a fully masked row is -inf), NaN always fails.
inline void expect_near_all(const std::vector<float>& got, const std::vector<float>& want, double tol, const char* what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        double e;
        if (std::isinf(want[i]) || std::isinf(got[i])) e = got[i] == want[i] ? 0.0 : INFINITY;
        else e = std::fabs(double(got[i]) - double(want[i]));
        if (!(e <= worst)) {  // catches NaN
            worst = std::isnan(e) ? INFINITY : e;
            at = i;
        }
    }
    EXPECT_LE(worst, tol) << what << ": worst at " << at << ": got " << got[at] << ", want " << want[at];
}

}  // namespace attention_goldens
}  // namespace nmtest
