// conv1d_cpu.cpp — depthwise causal conv1d on the CPU (Mamba / GatedDeltaNet
// short convolutions), channels last.
//
// Prefill: xin = initial_state (K-1 steps, zeros if absent) followed by x
// along time, so xin has K-1+L steps and
//   out[b,t,d] = act(bias[d] + sum_k weight[d,k] * xin[b, t+k, d])
// final_state[b,d,:] = the last K-1 steps of xin (some of them still from
// initial_state when L < K-1).
//
// Work is split over (batch, block of channels). A block first gathers its
// whole window of xin into a local [time, channel] buffer, then computes out
// and final_state from that buffer, so initial_state and final_state may be
// the same tensor: everything a block reads is copied before it writes.
//
// Decode (update): the state is the previous K-1 inputs; out uses the state
// followed by x, then the state is shifted left by one with x appended.
// Accumulation is float32 in the order bias, k = 0 .. K-1.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "../core/half.h"

namespace nm {

namespace {

constexpr int64_t kChannelBlock = 32;           // channels gathered together: contiguous reads of x
constexpr int64_t kParallelElements = 1 << 14;  // below this, threads cost more than they save

float activate(float v, nm_activation activation) {
    return activation == NM_ACTIVATION_SILU ? v / (1.f + std::exp(-v)) : v;
}

float bias_of(const TensorView& bias, int64_t d) { return bias.present() ? load_float(bias.data, bias.dtype, d) : 0.f; }

// Per-thread buffers of the prefill, reused across blocks.
struct Scratch {
    std::vector<float> xin;   // [K-1+L, block]: the block's window of xin
    std::vector<float> taps;  // [K]: one channel's weights
};

// One (batch, channel block) of the prefill: channels d0 .. d0+n-1 of batch b.
void conv_block(const Conv1dArgs& a, int64_t b, int64_t d0, int64_t n, Scratch& s) {
    const int64_t K = a.kernel, L = a.length, D = a.channels, hist = K - 1;
    s.xin.assign(size_t((hist + L) * n), 0.f);
    if (a.initial_state.present())
        for (int64_t c = 0; c < n; ++c)
            for (int64_t j = 0; j < hist; ++j)
                s.xin[size_t(j * n + c)] =
                    load_float(a.initial_state.data, a.initial_state.dtype, (b * D + d0 + c) * hist + j);
    for (int64_t t = 0; t < L; ++t)
        for (int64_t c = 0; c < n; ++c)
            s.xin[size_t((hist + t) * n + c)] = load_float(a.x.data, a.x.dtype, (b * L + t) * D + d0 + c);

    s.taps.resize(size_t(K));
    for (int64_t c = 0; c < n; ++c) {
        const int64_t d = d0 + c;
        for (int64_t k = 0; k < K; ++k) s.taps[size_t(k)] = load_float(a.weight.data, a.weight.dtype, d * K + k);
        const float bias = bias_of(a.bias, d);
        for (int64_t t = 0; t < L; ++t) {
            float acc = bias;
            for (int64_t k = 0; k < K; ++k) acc += s.taps[size_t(k)] * s.xin[size_t((t + k) * n + c)];
            store_float(a.out.data, a.out.dtype, (b * L + t) * D + d, activate(acc, a.activation));
        }
        if (a.final_state.present())
            for (int64_t j = 0; j < hist; ++j)
                store_float(a.final_state.data, a.final_state.dtype, (b * D + d) * hist + j,
                            s.xin[size_t((L + j) * n + c)]);
    }
}

}  // namespace

nm_status CpuBackend::conv1d_causal(const Conv1dArgs& a) {
    const int64_t blocks = (a.channels + kChannelBlock - 1) / kChannelBlock;
    const int64_t items = a.batch * blocks;
    const bool parallel = items > 1 && a.batch * a.length * a.channels >= kParallelElements;
#pragma omp parallel if (parallel)
    {
        Scratch scratch;
#pragma omp for schedule(static)
        for (int64_t item = 0; item < items; ++item) {
            const int64_t b = item / blocks, d0 = (item % blocks) * kChannelBlock;
            conv_block(a, b, d0, std::min(kChannelBlock, a.channels - d0), scratch);
        }
    }
    return NM_OK;
}

nm_status CpuBackend::conv1d_update(const Conv1dUpdateArgs& a) {
    const int64_t K = a.kernel, D = a.channels, hist = K - 1;
    const int64_t items = a.batch * D;
    const bool parallel = items * K >= kParallelElements;
#pragma omp parallel for if (parallel)
    for (int64_t item = 0; item < items; ++item) {
        const int64_t d = item % D;
        const int64_t state0 = item * hist;  // conv_state[b, d, 0]
        const float x = load_float(a.x.data, a.x.dtype, item);  // read before out (which may be x) is written
        float acc = bias_of(a.bias, d);
        for (int64_t k = 0; k < hist; ++k)
            acc += load_float(a.weight.data, a.weight.dtype, d * K + k) *
                   load_float(a.conv_state.data, a.conv_state.dtype, state0 + k);
        acc += load_float(a.weight.data, a.weight.dtype, d * K + hist) * x;
        store_float(a.out.data, a.out.dtype, item, activate(acc, a.activation));
        for (int64_t k = 0; k + 1 < hist; ++k)
            store_float(a.conv_state.data, a.conv_state.dtype, state0 + k,
                        load_float(a.conv_state.data, a.conv_state.dtype, state0 + k + 1));
        store_float(a.conv_state.data, a.conv_state.dtype, state0 + hist - 1, x);
    }
    return NM_OK;
}

}  // namespace nm
