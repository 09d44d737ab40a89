// softmax.cu — out[r, :] = softmax(scale * x[r, :]) over the last dim, float32 math.
//
// One block per row (grid-stride over rows), three passes over the row:
//   1. m = max_j scale * x[j]             (block max reduction)
//   2. s = sum_j exp(scale * x[j] - m)    (block sum reduction)
//   3. out[j] = exp(scale * x[j] - m) / s
// Every thread touches only its own columns j = tid, tid + blockDim, ...; the
// barriers inside the reductions separate all reads of passes 1-2 from the
// writes of pass 3, so out == x (in place) is safe.
#include "cuda_backend.h"
#include "cuda_common.cuh"
#include "cuda_error.h"

namespace nm {
namespace {

__global__ void __launch_bounds__(1024) softmax_kernel(const void* x, nm_dtype xt, void* out, nm_dtype ot,
                                                      int64_t rows, int64_t cols, float scale) {
    __shared__ float scratch[33];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const int64_t base = r * cols;
        float m = -INFINITY;
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) m = fmaxf(m, scale * load_float(x, xt, base + j));
        m = cu::block_max(m, scratch);
        float s = 0.f;
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += expf(scale * load_float(x, xt, base + j) - m);
        s = cu::block_sum(s, scratch);
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x)
            store_float(out, ot, base + j, expf(scale * load_float(x, xt, base + j) - m) / s);
        // The next row's first reduction starts with a barrier, so no thread
        // can overwrite scratch while another still reads this row's result.
    }
}

}  // namespace

nm_status CudaBackend::softmax(const SoftmaxArgs& args) {
    NM_TRY(activate());
    if (args.rows <= 0 || args.cols <= 0) return NM_OK;
    const int block = cu::block_for_cols(args.cols);
    softmax_kernel<<<cu::grid_for_rows(args.rows), block, 0, stream_>>>(args.x.data, args.x.dtype, args.out.data,
                                                                         args.out.dtype, args.rows, args.cols,
                                                                         args.scale);
    CUDA_CHECK_LAUNCH("softmax kernel");
    return NM_OK;
}

}  // namespace nm
