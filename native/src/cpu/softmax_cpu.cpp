// softmax_cpu.cpp — softmax over the last dim of the CPU backend.
//
//   out[r, j] = exp(s*x[r, j] - m) / sum_k exp(s*x[r, k] - m),  m = max_k s*x[r, k]
//
// Subtracting the row maximum keeps exp() from overflowing. Each row is first
// loaded as float32 (a thread-local scratch row unless everything is already
// float32), so x may be out (in place). OpenMP over rows.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "cpu_common.h"

namespace nm {
namespace {

// Softmax of scale * v[0..n) in place, in float32.
void softmax_row(float* v, int64_t n, float scale) {
    float m = -INFINITY;
    for (int64_t j = 0; j < n; ++j) m = std::fmax(m, scale * v[j]);
    float sum = 0.f;
    for (int64_t j = 0; j < n; ++j) {
        v[j] = std::exp(scale * v[j] - m);
        sum += v[j];
    }
    const float inv = 1.f / sum;
    for (int64_t j = 0; j < n; ++j) v[j] *= inv;
}

}  // namespace

nm_status CpuBackend::softmax(const SoftmaxArgs& args) {
    const int64_t rows = args.rows, cols = args.cols;
    const bool f32 = cpu::all_f32({&args.x, &args.out});
#pragma omp parallel if (rows * cols >= cpu::kParallelMinElements)
    {
        std::vector<float> scratch(f32 ? 0 : size_t(cols));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; ++r) {
            if (f32) {
                const float* x = static_cast<const float*>(args.x.data) + r * cols;
                float* out = static_cast<float*>(args.out.data) + r * cols;
                if (out != x) std::copy(x, x + cols, out);
                softmax_row(out, cols, args.scale);
            } else {
                for (int64_t j = 0; j < cols; ++j) scratch[j] = load_float(args.x.data, args.x.dtype, r * cols + j);
                softmax_row(scratch.data(), cols, args.scale);
                for (int64_t j = 0; j < cols; ++j) store_float(args.out.data, args.out.dtype, r * cols + j, scratch[j]);
            }
        }
    }
    return NM_OK;
}

}  // namespace nm
