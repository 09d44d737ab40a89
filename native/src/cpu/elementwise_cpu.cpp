// elementwise_cpu.cpp — elementwise operators of the CPU backend.
//
//   unary:   out[i] = f(x[i]) for f in silu x/(1+e^-x), gelu (exact erf form
//            0.5x(1+erf(x/sqrt2)) or tanh form 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))),
//            scale alpha*x
//   swiglu:  out[r, j] = silu(gate[r, j]) * up[r, j], up either its own tensor
//            or the second half of each gate row
//   binary:  out[i] = a[i] (+ or *) b[i % nb]  (suffix broadcasting)
//   convert: dst[i] = src[i] in another float dtype (round to nearest even)
//
// Every element is read before the same element of out is written, so out
// may be the very tensor it reads (in place). One OpenMP loop over elements,
// single-threaded below cpu::kParallelMinElements; all arithmetic in float32.
#include <cmath>
#include <cstring>

#include "cpu_backend.h"
#include "cpu_common.h"

namespace nm {
namespace {

using cpu::kParallelMinElements;

inline float silu(float x) { return x / (1.f + std::exp(-x)); }

inline float gelu_erf(float x) { return 0.5f * x * (1.f + std::erf(x * 0.70710678118654752f)); }

inline float gelu_tanh(float x) {
    const float k = 0.79788456080286536f;  // sqrt(2/pi)
    return 0.5f * x * (1.f + std::tanh(k * (x + 0.044715f * x * x * x)));
}

template <bool F32, class F>
void unary_loop(const UnaryArgs& u, F f) {
#pragma omp parallel for schedule(static) if (u.n >= kParallelMinElements)
    for (int64_t i = 0; i < u.n; ++i) cpu::store<F32>(u.out, i, f(cpu::load<F32>(u.x, i)));
}

template <bool F32>
void unary_impl(const UnaryArgs& u) {
    switch (u.op) {
        // Lambdas (not function pointers) so each loop gets its own inlined body.
        case UnaryOp::Silu: unary_loop<F32>(u, [](float x) { return silu(x); }); break;
        case UnaryOp::GeluErf: unary_loop<F32>(u, [](float x) { return gelu_erf(x); }); break;
        case UnaryOp::GeluTanh: unary_loop<F32>(u, [](float x) { return gelu_tanh(x); }); break;
        case UnaryOp::Scale: {
            const float alpha = u.alpha;
            unary_loop<F32>(u, [alpha](float x) { return alpha * x; });
            break;
        }
    }
}

template <bool F32>
void swiglu_impl(const SwigluArgs& s) {
    const int64_t cols = s.cols, n = s.rows * s.cols;
    const bool fused = !s.up.present();  // up lives in the second half of each gate row
    const int64_t gate_stride = fused ? 2 * cols : cols;
    const TensorView& up = fused ? s.gate : s.up;
    const int64_t up_offset = fused ? cols : 0;
#pragma omp parallel for schedule(static) if (n >= kParallelMinElements)
    for (int64_t i = 0; i < n; ++i) {
        const int64_t r = i / cols, j = i % cols;
        const float g = cpu::load<F32>(s.gate, r * gate_stride + j);
        const float v = cpu::load<F32>(up, r * gate_stride + up_offset + j);
        cpu::store<F32>(s.out, i, silu(g) * v);
    }
}

template <bool F32, bool Add>
void binary_impl(const BinaryArgs& b) {
    const int64_t nb = b.nb;
#pragma omp parallel for schedule(static) if (b.n >= kParallelMinElements)
    for (int64_t i = 0; i < b.n; ++i) {
        const float x = cpu::load<F32>(b.a, i);
        const float y = cpu::load<F32>(b.b, nb == b.n ? i : i % nb);
        cpu::store<F32>(b.out, i, Add ? x + y : x * y);
    }
}

}  // namespace

nm_status CpuBackend::unary(const UnaryArgs& args) {
    if (cpu::all_f32({&args.x, &args.out})) unary_impl<true>(args);
    else unary_impl<false>(args);
    return NM_OK;
}

nm_status CpuBackend::swiglu(const SwigluArgs& args) {
    if (cpu::all_f32({&args.gate, &args.up, &args.out})) swiglu_impl<true>(args);
    else swiglu_impl<false>(args);
    return NM_OK;
}

nm_status CpuBackend::binary(const BinaryArgs& args) {
    const bool f32 = cpu::all_f32({&args.a, &args.b, &args.out});
    const bool add = args.op == BinaryOp::Add;
    if (f32 && add) binary_impl<true, true>(args);
    else if (f32) binary_impl<true, false>(args);
    else if (add) binary_impl<false, true>(args);
    else binary_impl<false, false>(args);
    return NM_OK;
}

nm_status CpuBackend::convert(const ConvertArgs& args) {
    if (args.src.dtype == args.dst.dtype) {
        std::memmove(args.dst.data, args.src.data, size_t(args.n) * nm_dtype_size(args.src.dtype));
        return NM_OK;
    }
#pragma omp parallel for schedule(static) if (args.n >= kParallelMinElements)
    for (int64_t i = 0; i < args.n; ++i)
        store_float(args.dst.data, args.dst.dtype, i, load_float(args.src.data, args.src.dtype, i));
    return NM_OK;
}

}  // namespace nm
