// rope_cpu.cpp — rotary position embedding on the CPU.
//
// x and out are [tokens, heads, head_dim]. For frequency i < rotary_dim/2 the
// pair (a, b) of a head is rotated by angle = position * inv_freq[i]:
//   a' = a * cos - b * sin,   b' = b * cos + a * sin
// where the pair is (i, i + rotary_dim/2) in the NeoX "rotate half" layout and
// (2i, 2i+1) in the GPT-J interleaved layout; dims past rotary_dim are copied.
// cos and sin are multiplied by attention_scaling (YaRN / longrope mscale).
//
// Numerics follow Hugging Face: inv_freq is a float32 value, the angle is the
// float32 product float(position) * inv_freq, and cos/sin are taken in float32
// of that angle. When no inv_freq tensor is given, theta^(-2i/rotary_dim) is
// computed in double and rounded once to float32.
//
// Two passes: a [tokens, rotary_dim/2] table of cos and sin (one row per
// token, shared by all heads), then the rotation over tokens x heads. Each
// pair is read before it is written, so out may be x (in place).
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "../core/half.h"

namespace nm {

namespace {

constexpr int64_t kParallelElements = 1 << 14;  // below this, threads cost more than they save

std::vector<float> inverse_frequencies(const RopeArgs& a) {
    const int64_t half = a.rotary_dim / 2;
    std::vector<float> inv_freq(size_t(half), 0.f);
    if (a.inv_freq.present()) {
        const float* given = static_cast<const float*>(a.inv_freq.data);
        for (int64_t i = 0; i < half; ++i) inv_freq[size_t(i)] = given[i];
    } else {
        for (int64_t i = 0; i < half; ++i)
            inv_freq[size_t(i)] = float(std::pow(double(a.theta), -double(2 * i) / double(a.rotary_dim)));
    }
    return inv_freq;
}

// Rotates the head starting at element `base`. Both members of a pair are
// loaded before either is stored, which makes out == x safe.
void rotate_head(const RopeArgs& a, int64_t base, const float* cos_row, const float* sin_row) {
    const int64_t half = a.rotary_dim / 2;
    for (int64_t i = 0; i < half; ++i) {
        const int64_t ia = a.interleaved ? base + 2 * i : base + i;
        const int64_t ib = a.interleaved ? ia + 1 : ia + half;
        const float xa = load_float(a.x.data, a.x.dtype, ia);
        const float xb = load_float(a.x.data, a.x.dtype, ib);
        store_float(a.out.data, a.out.dtype, ia, xa * cos_row[i] - xb * sin_row[i]);
        store_float(a.out.data, a.out.dtype, ib, xb * cos_row[i] + xa * sin_row[i]);
    }
    for (int64_t j = a.rotary_dim; j < a.head_dim; ++j)
        store_float(a.out.data, a.out.dtype, base + j, load_float(a.x.data, a.x.dtype, base + j));
}

}  // namespace

nm_status CpuBackend::rope(const RopeArgs& a) {
    const int64_t half = a.rotary_dim / 2;
    const std::vector<float> inv_freq = inverse_frequencies(a);
    const bool parallel = a.tokens * a.heads * a.head_dim >= kParallelElements;

    std::vector<float> cos_table(size_t(a.tokens * half)), sin_table(size_t(a.tokens * half));
#pragma omp parallel for if (parallel && a.tokens > 1)
    for (int64_t t = 0; t < a.tokens; ++t) {
        const float position = float(a.positions[t]);
        for (int64_t i = 0; i < half; ++i) {
            const float angle = position * inv_freq[size_t(i)];
            cos_table[size_t(t * half + i)] = std::cos(angle) * a.attention_scaling;
            sin_table[size_t(t * half + i)] = std::sin(angle) * a.attention_scaling;
        }
    }

    const int64_t rows = a.tokens * a.heads;
#pragma omp parallel for if (parallel)
    for (int64_t row = 0; row < rows; ++row) {
        const int64_t t = row / a.heads;
        rotate_head(a, row * a.head_dim, cos_table.data() + t * half, sin_table.data() + t * half);
    }
    return NM_OK;
}

}  // namespace nm
