// elementwise.cu — one value in, one value out, one thread per element
// (grid-stride, 64-bit indices):
//   unary:   out[i] = f(x[i]) for silu, gelu (erf form or tanh approximation), scale;
//   swiglu:  out[r, j] = silu(gate[r, j]) * up[r, j], with up either its own
//            tensor or the second half of each gate row (packed [.., 2F]);
//   binary:  out[i] = a[i] + b[i % nb] or a[i] * b[i % nb] (suffix broadcasting);
//   convert: dst[i] = src[i] between float32 / float16 / bfloat16.
// Each thread reads its inputs before writing its own output element, so
// out == x (in place) is safe. Precise expf / erff / tanhf, never __expf.
#include "cuda_backend.h"
#include "cuda_common.cuh"
#include "cuda_error.h"

namespace nm {
namespace {

constexpr int kBlock = 256;

template <UnaryOp op>
__device__ __forceinline__ float apply_unary(float x, float alpha) {
    if (op == UnaryOp::Silu) return cu::silu(x);
    if (op == UnaryOp::GeluErf) return 0.5f * x * (1.f + erff(x * 0.70710678118654752440f));
    if (op == UnaryOp::GeluTanh) {
        const float k = 0.79788456080286535588f;  // sqrt(2 / pi)
        return 0.5f * x * (1.f + tanhf(k * (x + 0.044715f * x * x * x)));
    }
    return alpha * x;  // Scale
}

template <UnaryOp op>
__global__ void unary_kernel(const void* x, nm_dtype xt, void* out, nm_dtype ot, int64_t n, float alpha) {
    for (int64_t i = cu::global_thread(); i < n; i += cu::grid_stride())
        store_float(out, ot, i, apply_unary<op>(load_float(x, xt, i), alpha));
}

// up == nullptr: packed, gate rows are [gate | up] of 2 * cols values.
__global__ void swiglu_kernel(const void* gate, nm_dtype gt, const void* up, nm_dtype ut, void* out, nm_dtype ot,
                              int64_t rows, int64_t cols) {
    const int64_t n = rows * cols;
    for (int64_t i = cu::global_thread(); i < n; i += cu::grid_stride()) {
        float g, u;
        if (up) {
            g = load_float(gate, gt, i);
            u = load_float(up, ut, i);
        } else {
            const int64_t r = i / cols, j = i - r * cols;
            g = load_float(gate, gt, r * 2 * cols + j);
            u = load_float(gate, gt, r * 2 * cols + cols + j);
        }
        store_float(out, ot, i, cu::silu(g) * u);
    }
}

template <BinaryOp op>
__global__ void binary_kernel(const void* a, nm_dtype at, const void* b, nm_dtype bt, void* out, nm_dtype ot,
                              int64_t n, int64_t nb) {
    for (int64_t i = cu::global_thread(); i < n; i += cu::grid_stride()) {
        const float x = load_float(a, at, i);
        const float y = load_float(b, bt, nb == n ? i : i % nb);
        store_float(out, ot, i, op == BinaryOp::Add ? x + y : x * y);
    }
}

__global__ void convert_kernel(const void* src, nm_dtype st, void* dst, nm_dtype dt, int64_t n) {
    for (int64_t i = cu::global_thread(); i < n; i += cu::grid_stride())
        store_float(dst, dt, i, load_float(src, st, i));
}

}  // namespace

nm_status CudaBackend::unary(const UnaryArgs& args) {
    NM_TRY(activate());
    const int64_t n = args.n;
    if (n <= 0) return NM_OK;
    const unsigned grid = cu::grid_for(n, kBlock);
    const void* x = args.x.data;
    void* out = args.out.data;
    const nm_dtype xt = args.x.dtype, ot = args.out.dtype;
    switch (args.op) {
        case UnaryOp::Silu:
            unary_kernel<UnaryOp::Silu><<<grid, kBlock, 0, stream_>>>(x, xt, out, ot, n, args.alpha);
            break;
        case UnaryOp::GeluErf:
            unary_kernel<UnaryOp::GeluErf><<<grid, kBlock, 0, stream_>>>(x, xt, out, ot, n, args.alpha);
            break;
        case UnaryOp::GeluTanh:
            unary_kernel<UnaryOp::GeluTanh><<<grid, kBlock, 0, stream_>>>(x, xt, out, ot, n, args.alpha);
            break;
        case UnaryOp::Scale:
            unary_kernel<UnaryOp::Scale><<<grid, kBlock, 0, stream_>>>(x, xt, out, ot, n, args.alpha);
            break;
        default:
            return cuda_fail(NM_ERR_INTERNAL, "cuda: unknown unary op %d", int(args.op));
    }
    CUDA_CHECK_LAUNCH("unary kernel");
    return NM_OK;
}

nm_status CudaBackend::swiglu(const SwigluArgs& args) {
    NM_TRY(activate());
    const int64_t n = args.rows * args.cols;
    if (n <= 0) return NM_OK;
    swiglu_kernel<<<cu::grid_for(n, kBlock), kBlock, 0, stream_>>>(
        args.gate.data, args.gate.dtype, args.up.present() ? args.up.data : nullptr, args.up.dtype, args.out.data,
        args.out.dtype, args.rows, args.cols);
    CUDA_CHECK_LAUNCH("swiglu kernel");
    return NM_OK;
}

nm_status CudaBackend::binary(const BinaryArgs& args) {
    NM_TRY(activate());
    const int64_t n = args.n, nb = args.nb;
    if (n <= 0) return NM_OK;
    if (nb <= 0) return cuda_fail(NM_ERR_INTERNAL, "cuda: binary op with an empty b");
    const unsigned grid = cu::grid_for(n, kBlock);
    if (args.op == BinaryOp::Add)
        binary_kernel<BinaryOp::Add><<<grid, kBlock, 0, stream_>>>(args.a.data, args.a.dtype, args.b.data,
                                                                   args.b.dtype, args.out.data, args.out.dtype, n, nb);
    else
        binary_kernel<BinaryOp::Mul><<<grid, kBlock, 0, stream_>>>(args.a.data, args.a.dtype, args.b.data,
                                                                   args.b.dtype, args.out.data, args.out.dtype, n, nb);
    CUDA_CHECK_LAUNCH("binary kernel");
    return NM_OK;
}

nm_status CudaBackend::convert(const ConvertArgs& args) {
    NM_TRY(activate());
    const int64_t n = args.n;
    if (n <= 0) return NM_OK;
    if (args.src.dtype == args.dst.dtype) {
        if (args.src.data == args.dst.data) return NM_OK;
        const size_t bytes = size_t(n) * (args.src.dtype == NM_DTYPE_F16 || args.src.dtype == NM_DTYPE_BF16 ? 2 : 4);
        CUDA_TRY(cudaMemcpyAsync(args.dst.data, args.src.data, bytes, cudaMemcpyDeviceToDevice, stream_));
        return NM_OK;
    }
    convert_kernel<<<cu::grid_for(n, kBlock), kBlock, 0, stream_>>>(args.src.data, args.src.dtype, args.dst.data,
                                                                     args.dst.dtype, n);
    CUDA_CHECK_LAUNCH("convert kernel");
    return NM_OK;
}

}  // namespace nm
