// rope.cu — rotary position embedding on x [tokens, heads, head_dim].
//
// For token t at position p and frequency index i < rotary_dim / 2:
//   angle = float(p) * inv_freq[i]                (float32 multiply)
//   c = cosf(angle) * attention_scaling, s = sinf(angle) * attention_scaling
//   (x0, x1) -> (x0 * c - x1 * s, x1 * c + x0 * s)
// where the pair (x0, x1) is (i, i + rotary_dim/2) for NeoX rotate-half, or
// (2i, 2i + 1) for interleaved (GPT-J). Dims past rotary_dim are copied.
// inv_freq is the given float32 tensor, or theta^(-2i/rotary_dim) computed on
// the host in double precision and rounded to float (the CPU backend must use
// the same expression for the two to agree at large positions). Positions and
// the computed inv_freq are copied to the workspace.
// One thread per pair (grid-stride). It reads both elements before writing
// either, and no other thread touches them, so out == x is safe. cosf/sinf
// (full range reduction, not __cosf) and __fmul_rn/__fadd_rn (no FMA
// contraction) keep the result within a few ulp of the CPU's.
#include <cmath>
#include <vector>

#include "cuda_backend.h"
#include "cuda_common.cuh"
#include "cuda_error.h"

namespace nm {
namespace {

constexpr int kBlock = 256;

__global__ void rope_kernel(const void* x, nm_dtype xt, void* out, nm_dtype ot, const int32_t* __restrict__ positions,
                            const float* __restrict__ inv_freq, int64_t heads, int64_t head_dim, int64_t half,
                            bool interleaved, float scaling, int64_t pairs) {
    for (int64_t idx = cu::global_thread(); idx < pairs; idx += cu::grid_stride()) {
        const int64_t row = idx / half;  // token * heads + head
        const int64_t i = idx - row * half;
        const int64_t token = row / heads;
        const int64_t e0 = row * head_dim + (interleaved ? 2 * i : i);
        const int64_t e1 = e0 + (interleaved ? 1 : half);
        const float angle = __fmul_rn(float(positions[token]), inv_freq[i]);
        const float c = __fmul_rn(cosf(angle), scaling);
        const float s = __fmul_rn(sinf(angle), scaling);
        const float x0 = load_float(x, xt, e0);
        const float x1 = load_float(x, xt, e1);
        store_float(out, ot, e0, __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s)));
        store_float(out, ot, e1, __fadd_rn(__fmul_rn(x1, c), __fmul_rn(x0, s)));
    }
}

// Copies dims [rotary_dim, head_dim) of every row (only when out != x).
__global__ void rope_passthrough_kernel(const void* x, nm_dtype xt, void* out, nm_dtype ot, int64_t head_dim,
                                        int64_t rotary_dim, int64_t n) {
    const int64_t rest = head_dim - rotary_dim;
    for (int64_t idx = cu::global_thread(); idx < n; idx += cu::grid_stride()) {
        const int64_t row = idx / rest;
        const int64_t e = row * head_dim + rotary_dim + (idx - row * rest);
        store_float(out, ot, e, load_float(x, xt, e));
    }
}

size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

}  // namespace

nm_status CudaBackend::rope(const RopeArgs& args) {
    NM_TRY(activate());
    const int64_t tokens = args.tokens, heads = args.heads, head_dim = args.head_dim;
    const int64_t rotary_dim = args.rotary_dim > 0 ? args.rotary_dim : head_dim;
    const int64_t half = rotary_dim / 2;
    if (tokens <= 0 || heads <= 0 || head_dim <= 0) return NM_OK;

    const size_t pos_bytes = size_t(tokens) * sizeof(int32_t);
    const size_t freq_offset = align_up(pos_bytes, 256);
    const bool own_freq = !args.inv_freq.present();
    void* ws = nullptr;
    NM_TRY(workspace(freq_offset + (own_freq ? size_t(half) * sizeof(float) : 0), &ws));
    const int32_t* positions = static_cast<const int32_t*>(ws);
    NM_TRY(copy_from_host(ws, args.positions, pos_bytes));
    const float* inv_freq = static_cast<const float*>(args.inv_freq.data);
    if (own_freq && half > 0) {
        std::vector<float> freq(static_cast<size_t>(half));
        for (int64_t i = 0; i < half; ++i)
            freq[size_t(i)] = float(std::pow(double(args.theta), -2.0 * double(i) / double(rotary_dim)));
        float* dev = reinterpret_cast<float*>(static_cast<char*>(ws) + freq_offset);
        NM_TRY(copy_from_host(dev, freq.data(), freq.size() * sizeof(float)));
        inv_freq = dev;
    }

    const int64_t pairs = tokens * heads * half;
    if (pairs > 0) {
        rope_kernel<<<cu::grid_for(pairs, kBlock), kBlock, 0, stream_>>>(
            args.x.data, args.x.dtype, args.out.data, args.out.dtype, positions, inv_freq, heads, head_dim, half,
            args.interleaved, args.attention_scaling, pairs);
        CUDA_CHECK_LAUNCH("rope kernel");
    }
    const int64_t rest = head_dim - 2 * half;
    if (rest > 0 && args.out.data != args.x.data) {
        const int64_t n = tokens * heads * rest;
        rope_passthrough_kernel<<<cu::grid_for(n, kBlock), kBlock, 0, stream_>>>(
            args.x.data, args.x.dtype, args.out.data, args.out.dtype, head_dim, 2 * half, n);
        CUDA_CHECK_LAUNCH("rope passthrough kernel");
    }
    return NM_OK;
}

}  // namespace nm
