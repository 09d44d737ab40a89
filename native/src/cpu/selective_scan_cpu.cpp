// selective_scan_cpu.cpp — Mamba-1 selective scan and state update on the CPU,
// token-major: u, delta, z, out [B, L, D]; B, C [D, N] or [B, L, G, N];
// states float32 [B, D, N]. For every (b, d), step by step:
//   dt   = softplus?(delta[b,t,d] + delta_bias[d])   (identity above 20)
//   h[n] = exp(dt * A[d,n]) * h[n] + dt * B[.., n] * u[b,t,d]
//   y    = (sum_n C[.., n] * h[n] + d_skip[d] * u[b,t,d]) * silu?(z[b,t,d])
// This is the straightforward recurrence, float32 state and accumulation, and
// the reference the CUDA kernels are tested against.
//
// Work is split over (b, d): each item reads its row of initial_state into a
// local buffer before anything is written and writes final_state at the end,
// so initial_state and final_state may be the same tensor. The state update
// is the same recurrence with L = 1 on the state in place ([B, G, N] is
// [B, 1, G, N], [B, D] is [B, 1, D]).
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "cpu_common.h"

namespace nm {

namespace {

inline float softplus(float x) { return x > 20.f ? x : std::log1p(std::exp(x)); }
inline float silu(float x) { return x / (1.f + std::exp(-x)); }

template <bool F32>
void scan_item(const SelectiveScanArgs& a, int64_t b, int64_t d, std::vector<float>& h, std::vector<float>& arow) {
    const int64_t L = a.length, D = a.channels, N = a.state_size, G = a.groups;
    const int64_t g = d / (D / G);
    const float* A = static_cast<const float*>(a.a.data);
    for (int64_t n = 0; n < N; ++n) arow[size_t(n)] = A[d * N + n];
    const int64_t row = (b * D + d) * N;  // state row of (b, d)
    for (int64_t n = 0; n < N; ++n)
        h[size_t(n)] = a.initial_state.present() ? static_cast<const float*>(a.initial_state.data)[row + n] : 0.f;
    const float bias = a.delta_bias.present() ? load_float(a.delta_bias.data, a.delta_bias.dtype, d) : 0.f;
    const float skip = a.d_skip.present() ? load_float(a.d_skip.data, a.d_skip.dtype, d) : 0.f;

    for (int64_t t = 0; t < L; ++t) {
        const int64_t i = (b * L + t) * D + d;  // element of u, delta, z, out
        const float u = cpu::load<F32>(a.u, i);
        float dt = cpu::load<F32>(a.delta, i) + bias;
        if (a.delta_softplus) dt = softplus(dt);
        const float dtu = dt * u;
        // B and C rows: per channel, or the (b, t, g) row.
        const int64_t bc = a.per_channel_bc ? d * N : ((b * L + t) * G + g) * N;
        float y = 0.f;
        for (int64_t n = 0; n < N; ++n) {
            const float decay = std::exp(dt * arow[size_t(n)]);
            h[size_t(n)] = decay * h[size_t(n)] + dtu * cpu::load<F32>(a.b_mat, bc + n);
            y += cpu::load<F32>(a.c_mat, bc + n) * h[size_t(n)];
        }
        y += skip * u;
        if (a.z.present()) y *= silu(cpu::load<F32>(a.z, i));
        cpu::store<F32>(a.out, i, y);
    }
    if (a.final_state.present())
        for (int64_t n = 0; n < N; ++n) static_cast<float*>(a.final_state.data)[row + n] = h[size_t(n)];
}

template <bool F32>
void scan_all(const SelectiveScanArgs& a) {
    const int64_t items = a.batch * a.channels;
    const bool parallel = items > 1 && items * a.length * a.state_size >= cpu::kParallelMinElements;
#pragma omp parallel if (parallel)
    {
        std::vector<float> h(size_t(a.state_size)), arow(size_t(a.state_size));
#pragma omp for schedule(static)
        for (int64_t item = 0; item < items; ++item) scan_item<F32>(a, item / a.channels, item % a.channels, h, arow);
    }
}

}  // namespace

nm_status CpuBackend::selective_scan(const SelectiveScanArgs& a) {
    if (a.batch <= 0 || a.channels <= 0 || a.length <= 0) return NM_OK;
    if (cpu::all_f32({&a.u, &a.delta, &a.b_mat, &a.c_mat, &a.z, &a.out})) scan_all<true>(a);
    else scan_all<false>(a);
    return NM_OK;
}

nm_status CpuBackend::selective_state_update(const SelectiveStateUpdateArgs& a) {
    SelectiveScanArgs s;
    s.u = a.x;
    s.delta = a.dt;
    s.a = a.a;
    s.b_mat = a.b_mat;
    s.c_mat = a.c_mat;
    s.d_skip = a.d_skip;
    s.z = a.z;
    s.delta_bias = a.delta_bias;
    s.initial_state = a.state;
    s.final_state = a.state;
    s.out = a.out;
    s.batch = a.batch;
    s.length = 1;
    s.channels = a.channels;
    s.state_size = a.state_size;
    s.groups = a.groups;
    s.per_channel_bc = false;
    s.delta_softplus = a.delta_softplus;
    return selective_scan(s);
}

}  // namespace nm
