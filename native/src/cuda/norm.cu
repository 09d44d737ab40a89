// norm.cu — normalisations over the last dim (or groups of it), float32 math.
//
//   rmsnorm:       out = x / sqrt(mean(x^2) + eps) * w'  (w' = weight, 1 + weight, or 1)
//   rmsnorm_gated: per group of G consecutive columns,
//                  out = w * rmsnorm(x) * silu(z)   (gate after the norm), or
//                  out = w * rmsnorm(x * silu(z))   (gate_before_norm)
//                  weight is indexed by the column in the full row
//   l2norm:        out = x / sqrt(sum(x^2) + eps)
// One block per segment (a row, or a row's group; grid-stride over segments).
// Pass 1: each thread sums squares of its columns, a block reduction gives the
// total. Pass 2: each thread scales its own columns. The reduction's barriers
// separate every read of pass 1 from the writes of pass 2, and pass 2 reads an
// element before writing it in the same thread, so out == x (and out == z) is
// safe.
#include "cuda_backend.h"
#include "cuda_common.cuh"
#include "cuda_error.h"

namespace nm {
namespace {

__global__ void __launch_bounds__(1024) rmsnorm_kernel(const void* x, nm_dtype xt, const void* w, nm_dtype wt,
                                                      void* out, nm_dtype ot, int64_t rows, int64_t cols,
                                                      float eps, bool zero_centered) {
    __shared__ float scratch[33];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const int64_t base = r * cols;
        float ss = 0.f;
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
            const float v = load_float(x, xt, base + j);
            ss += v * v;
        }
        ss = cu::block_sum(ss, scratch);
        const float inv = 1.f / sqrtf(ss / float(cols) + eps);
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
            float v = load_float(x, xt, base + j) * inv;
            if (w) {
                const float wj = load_float(w, wt, j);
                v *= zero_centered ? 1.f + wj : wj;
            }
            store_float(out, ot, base + j, v);
        }
    }
}

// Segments of `group` columns; a row holds cols / group of them.
__global__ void __launch_bounds__(1024) rmsnorm_gated_kernel(const void* x, nm_dtype xt, const void* z, nm_dtype zt,
                                                            const void* w, nm_dtype wt, void* out, nm_dtype ot,
                                                            int64_t segments, int64_t cols, int64_t group, float eps,
                                                            bool gate_before_norm) {
    __shared__ float scratch[33];
    const int64_t groups_per_row = cols / group;
    for (int64_t s = blockIdx.x; s < segments; s += gridDim.x) {
        const int64_t base = s * group;                     // element offset (rows are contiguous)
        const int64_t col0 = (s % groups_per_row) * group;  // column of the segment's first element
        float ss = 0.f;
        for (int64_t j = threadIdx.x; j < group; j += blockDim.x) {
            float v = load_float(x, xt, base + j);
            if (gate_before_norm) v *= cu::silu(load_float(z, zt, base + j));
            ss += v * v;
        }
        ss = cu::block_sum(ss, scratch);
        const float inv = 1.f / sqrtf(ss / float(group) + eps);
        for (int64_t j = threadIdx.x; j < group; j += blockDim.x) {
            const float g = cu::silu(load_float(z, zt, base + j));
            float v = load_float(x, xt, base + j);
            v = gate_before_norm ? (v * g) * inv : (v * inv) * g;
            if (w) v *= load_float(w, wt, col0 + j);
            store_float(out, ot, base + j, v);
        }
    }
}

__global__ void __launch_bounds__(1024) l2norm_kernel(const void* x, nm_dtype xt, void* out, nm_dtype ot,
                                                     int64_t rows, int64_t cols, float eps) {
    __shared__ float scratch[33];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const int64_t base = r * cols;
        float ss = 0.f;
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
            const float v = load_float(x, xt, base + j);
            ss += v * v;
        }
        ss = cu::block_sum(ss, scratch);
        const float inv = 1.f / sqrtf(ss + eps);
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x)
            store_float(out, ot, base + j, load_float(x, xt, base + j) * inv);
    }
}

}  // namespace

nm_status CudaBackend::rmsnorm(const RmsNormArgs& args) {
    NM_TRY(activate());
    if (args.rows <= 0 || args.cols <= 0) return NM_OK;
    rmsnorm_kernel<<<cu::grid_for_rows(args.rows), cu::block_for_cols(args.cols), 0, stream_>>>(
        args.x.data, args.x.dtype, args.weight.present() ? args.weight.data : nullptr, args.weight.dtype,
        args.out.data, args.out.dtype, args.rows, args.cols, args.eps, args.zero_centered);
    CUDA_CHECK_LAUNCH("rmsnorm kernel");
    return NM_OK;
}

nm_status CudaBackend::rmsnorm_gated(const RmsNormGatedArgs& args) {
    NM_TRY(activate());
    if (args.rows <= 0 || args.cols <= 0) return NM_OK;
    const int64_t group = args.group_size > 0 ? args.group_size : args.cols;
    if (args.cols % group != 0)
        return cuda_fail(NM_ERR_INTERNAL, "cuda: rmsnorm_gated group size %lld does not divide %lld",
                         (long long)group, (long long)args.cols);
    const int64_t segments = args.rows * (args.cols / group);
    rmsnorm_gated_kernel<<<cu::grid_for_rows(segments), cu::block_for_cols(group), 0, stream_>>>(
        args.x.data, args.x.dtype, args.z.data, args.z.dtype, args.weight.present() ? args.weight.data : nullptr,
        args.weight.dtype, args.out.data, args.out.dtype, segments, args.cols, group, args.eps,
        args.gate_before_norm);
    CUDA_CHECK_LAUNCH("rmsnorm_gated kernel");
    return NM_OK;
}

nm_status CudaBackend::l2norm(const L2NormArgs& args) {
    NM_TRY(activate());
    if (args.rows <= 0 || args.cols <= 0) return NM_OK;
    l2norm_kernel<<<cu::grid_for_rows(args.rows), cu::block_for_cols(args.cols), 0, stream_>>>(
        args.x.data, args.x.dtype, args.out.data, args.out.dtype, args.rows, args.cols, args.eps);
    CUDA_CHECK_LAUNCH("l2norm kernel");
    return NM_OK;
}

}  // namespace nm
