// conv1d.cu — depthwise causal conv1d, channels last (Mamba / GatedDeltaNet style).
//
// Prefill, x [B, L, D], weight [D, K], states [B, D, K-1]:
//   xin(b, s, d) = initial_state[b, d, s]        for s <  K-1  (0 without a state)
//                = x[b, s - (K-1), d]           for s >= K-1
//   out[b, t, d] = act(bias[d] + sum_k weight[d, k] * xin(b, t + k, d))
//   final_state[b, d, j] = xin(b, L + j, d), j < K-1
// Kernel 1 has one thread per output element (d fastest, so loads of x and
// stores of out are coalesced; the K reads of neighbouring times hit L1/L2).
// K <= 8 is unrolled through a template, larger K runs a plain loop. Kernel 1
// only reads the states. Kernel 2, queued after it on the stream, writes
// final_state with one thread per (b, d) walking j upwards: it reads
// xin(L + j) before writing slot j, and L + j > j, so a slot is never read
// after it was written even when final_state is initial_state.
//
// Update (one decode step), x [B, D], conv_state [B, D, K-1]:
//   out[b, d] = act(bias[d] + sum_{k<K-1} weight[d, k] * state[b, d, k] + weight[d, K-1] * x[b, d])
//   state[b, d, :] = (state[b, d, 1:], x[b, d])
// One thread per (b, d): it reads x first (out may alias x), reads the state
// in index order while shifting it left, then writes out.
#include "cuda_backend.h"
#include "cuda_common.cuh"
#include "cuda_error.h"

namespace nm {
namespace {

constexpr int kBlock = 256;

struct ConvParams {
    const void* x;
    nm_dtype xt;
    const void* w;
    nm_dtype wt;
    const void* bias;  // nullptr: none
    nm_dtype bt;
    const void* state;  // initial state, nullptr: zeros
    nm_dtype st;
    void* out;
    nm_dtype ot;
    int64_t batch, length, channels, kernel;
    bool silu;
};

// xin(b, s, d) as defined above.
__device__ __forceinline__ float conv_input(const ConvParams& p, int64_t b, int64_t s, int64_t d) {
    const int64_t km1 = p.kernel - 1;
    if (s < km1) return p.state ? load_float(p.state, p.st, (b * p.channels + d) * km1 + s) : 0.f;
    return load_float(p.x, p.xt, (b * p.length + (s - km1)) * p.channels + d);
}

// KT > 0: kernel size known at compile time (== p.kernel); KT == 0: runtime.
template <int KT>
__global__ void conv1d_causal_kernel(ConvParams p) {
    const int64_t n = p.batch * p.length * p.channels;
    const int64_t K = KT > 0 ? KT : p.kernel;
    for (int64_t idx = cu::global_thread(); idx < n; idx += cu::grid_stride()) {
        const int64_t d = idx % p.channels;
        const int64_t bt = idx / p.channels;  // b * L + t
        const int64_t t = bt % p.length;
        const int64_t b = bt / p.length;
        float acc = p.bias ? load_float(p.bias, p.bt, d) : 0.f;
        if (KT > 0) {
#pragma unroll
            for (int k = 0; k < (KT > 0 ? KT : 1); ++k)
                acc += load_float(p.w, p.wt, d * K + k) * conv_input(p, b, t + k, d);
        } else {
            for (int64_t k = 0; k < K; ++k) acc += load_float(p.w, p.wt, d * K + k) * conv_input(p, b, t + k, d);
        }
        store_float(p.out, p.ot, idx, p.silu ? cu::silu(acc) : acc);
    }
}

__global__ void conv1d_final_state_kernel(ConvParams p, void* final_state, nm_dtype ft) {
    const int64_t n = p.batch * p.channels;
    const int64_t km1 = p.kernel - 1;
    for (int64_t idx = cu::global_thread(); idx < n; idx += cu::grid_stride()) {
        const int64_t b = idx / p.channels, d = idx - b * p.channels;
        for (int64_t j = 0; j < km1; ++j) {
            const float v = conv_input(p, b, p.length + j, d);  // reads slot L + j > j, or x
            store_float(final_state, ft, idx * km1 + j, v);
        }
    }
}

__global__ void conv1d_update_kernel(const void* x, nm_dtype xt, void* state, nm_dtype st, const void* w,
                                     nm_dtype wt, const void* bias, nm_dtype bt, void* out, nm_dtype ot,
                                     int64_t batch, int64_t channels, int64_t kernel, bool silu) {
    const int64_t n = batch * channels;
    const int64_t km1 = kernel - 1;
    for (int64_t idx = cu::global_thread(); idx < n; idx += cu::grid_stride()) {
        const int64_t d = idx % channels;
        const float xv = load_float(x, xt, idx);
        float acc = bias ? load_float(bias, bt, d) : 0.f;
        const int64_t s0 = idx * km1;  // state row of (b, d)
        for (int64_t k = 0; k < km1; ++k) {
            const float sv = load_float(state, st, s0 + k);
            acc += load_float(w, wt, d * kernel + k) * sv;
            if (k > 0) store_float(state, st, s0 + k - 1, sv);  // shift left
        }
        acc += load_float(w, wt, d * kernel + km1) * xv;
        if (km1 > 0) store_float(state, st, s0 + km1 - 1, xv);
        store_float(out, ot, idx, silu ? cu::silu(acc) : acc);
    }
}

}  // namespace

nm_status CudaBackend::conv1d_causal(const Conv1dArgs& args) {
    NM_TRY(activate());
    ConvParams p;
    p.x = args.x.data;
    p.xt = args.x.dtype;
    p.w = args.weight.data;
    p.wt = args.weight.dtype;
    p.bias = args.bias.present() ? args.bias.data : nullptr;
    p.bt = args.bias.dtype;
    p.state = args.initial_state.present() ? args.initial_state.data : nullptr;
    p.st = args.initial_state.dtype;
    p.out = args.out.data;
    p.ot = args.out.dtype;
    p.batch = args.batch;
    p.length = args.length;
    p.channels = args.channels;
    p.kernel = args.kernel;
    p.silu = args.activation == NM_ACTIVATION_SILU;
    if (p.batch <= 0 || p.channels <= 0 || p.kernel <= 0) return NM_OK;

    const int64_t n = p.batch * p.length * p.channels;
    if (n > 0) {
        const unsigned grid = cu::grid_for(n, kBlock);
        switch (p.kernel) {
            case 1: conv1d_causal_kernel<1><<<grid, kBlock, 0, stream_>>>(p); break;
            case 2: conv1d_causal_kernel<2><<<grid, kBlock, 0, stream_>>>(p); break;
            case 3: conv1d_causal_kernel<3><<<grid, kBlock, 0, stream_>>>(p); break;
            case 4: conv1d_causal_kernel<4><<<grid, kBlock, 0, stream_>>>(p); break;
            case 5: conv1d_causal_kernel<5><<<grid, kBlock, 0, stream_>>>(p); break;
            case 6: conv1d_causal_kernel<6><<<grid, kBlock, 0, stream_>>>(p); break;
            case 7: conv1d_causal_kernel<7><<<grid, kBlock, 0, stream_>>>(p); break;
            case 8: conv1d_causal_kernel<8><<<grid, kBlock, 0, stream_>>>(p); break;
            default: conv1d_causal_kernel<0><<<grid, kBlock, 0, stream_>>>(p); break;
        }
        CUDA_CHECK_LAUNCH("conv1d_causal kernel");
    }
    if (args.final_state.present() && p.kernel > 1) {
        const int64_t m = p.batch * p.channels;
        conv1d_final_state_kernel<<<cu::grid_for(m, kBlock), kBlock, 0, stream_>>>(p, args.final_state.data,
                                                                                    args.final_state.dtype);
        CUDA_CHECK_LAUNCH("conv1d_causal final-state kernel");
    }
    return NM_OK;
}

nm_status CudaBackend::conv1d_update(const Conv1dUpdateArgs& args) {
    NM_TRY(activate());
    const int64_t n = args.batch * args.channels;
    if (n <= 0 || args.kernel <= 0) return NM_OK;
    conv1d_update_kernel<<<cu::grid_for(n, kBlock), kBlock, 0, stream_>>>(
        args.x.data, args.x.dtype, args.conv_state.data, args.conv_state.dtype, args.weight.data,
        args.weight.dtype, args.bias.present() ? args.bias.data : nullptr, args.bias.dtype, args.out.data,
        args.out.dtype, args.batch, args.channels, args.kernel, args.activation == NM_ACTIVATION_SILU);
    CUDA_CHECK_LAUNCH("conv1d_update kernel");
    return NM_OK;
}

}  // namespace nm
