// norm_cpu.cpp — row normalisations of the CPU backend (last dim, float32 math).
//
//   rmsnorm:       out = x * 1/sqrt(mean(x^2) + eps) * w'   with w' = w, 1 + w (zero
//                  centered) or 1 (no weight)
//   rmsnorm_gated: per group of group_size consecutive columns,
//                  out = w * rmsnorm(x) * silu(z)           (gate after the norm), or
//                  out = w * rmsnorm(x * silu(z))           (gate before the norm)
//   l2norm:        out = x / sqrt(sum(x^2) + eps)
//
// Two passes per row: the sum of squares, then the scaled write. The second
// pass reads x[j] (and z[j]) before writing out[j], so out may alias them
// (in place). OpenMP over rows, single-threaded for small tensors.
#include <cmath>

#include "cpu_backend.h"
#include "cpu_common.h"

namespace nm {
namespace {

using cpu::kParallelMinElements;
using cpu::load;
using cpu::store;

inline float silu(float x) { return x / (1.f + std::exp(-x)); }

template <bool F32>
void rmsnorm_impl(const RmsNormArgs& a) {
    const int64_t rows = a.rows, cols = a.cols;
    const bool has_weight = a.weight.present();
    const float weight_offset = a.zero_centered ? 1.f : 0.f;
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelMinElements)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t base = r * cols;
        float sum_sq = 0.f;
        for (int64_t j = 0; j < cols; ++j) {
            const float v = load<F32>(a.x, base + j);
            sum_sq += v * v;
        }
        const float inv_rms = 1.f / std::sqrt(sum_sq / float(cols) + a.eps);
        for (int64_t j = 0; j < cols; ++j) {
            const float w = has_weight ? weight_offset + load<F32>(a.weight, j) : 1.f;
            store<F32>(a.out, base + j, load<F32>(a.x, base + j) * inv_rms * w);
        }
    }
}

template <bool F32>
void rmsnorm_gated_impl(const RmsNormGatedArgs& a) {
    const int64_t rows = a.rows, cols = a.cols, group = a.group_size;
    const bool has_weight = a.weight.present();
    const bool gate_first = a.gate_before_norm;
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelMinElements)
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t g0 = 0; g0 < cols; g0 += group) {
            const int64_t base = r * cols + g0;
            // The value whose RMS is taken: x, or x * silu(z) when gating first.
            auto normed_input = [&](int64_t j) {
                const float x = load<F32>(a.x, base + j);
                return gate_first ? x * silu(load<F32>(a.z, base + j)) : x;
            };
            float sum_sq = 0.f;
            for (int64_t j = 0; j < group; ++j) {
                const float v = normed_input(j);
                sum_sq += v * v;
            }
            const float inv_rms = 1.f / std::sqrt(sum_sq / float(group) + a.eps);
            for (int64_t j = 0; j < group; ++j) {
                float v = normed_input(j) * inv_rms;
                if (!gate_first) v *= silu(load<F32>(a.z, base + j));
                if (has_weight) v *= load<F32>(a.weight, g0 + j);
                store<F32>(a.out, base + j, v);
            }
        }
    }
}

template <bool F32>
void l2norm_impl(const L2NormArgs& a) {
    const int64_t rows = a.rows, cols = a.cols;
#pragma omp parallel for schedule(static) if (rows * cols >= kParallelMinElements)
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t base = r * cols;
        float sum_sq = 0.f;
        for (int64_t j = 0; j < cols; ++j) {
            const float v = load<F32>(a.x, base + j);
            sum_sq += v * v;
        }
        const float inv_norm = 1.f / std::sqrt(sum_sq + a.eps);
        for (int64_t j = 0; j < cols; ++j) store<F32>(a.out, base + j, load<F32>(a.x, base + j) * inv_norm);
    }
}

}  // namespace

nm_status CpuBackend::rmsnorm(const RmsNormArgs& args) {
    if (cpu::all_f32({&args.x, &args.weight, &args.out})) rmsnorm_impl<true>(args);
    else rmsnorm_impl<false>(args);
    return NM_OK;
}

nm_status CpuBackend::rmsnorm_gated(const RmsNormGatedArgs& args) {
    if (cpu::all_f32({&args.x, &args.z, &args.weight, &args.out})) rmsnorm_gated_impl<true>(args);
    else rmsnorm_gated_impl<false>(args);
    return NM_OK;
}

nm_status CpuBackend::l2norm(const L2NormArgs& args) {
    if (cpu::all_f32({&args.x, &args.out})) l2norm_impl<true>(args);
    else l2norm_impl<false>(args);
    return NM_OK;
}

}  // namespace nm
