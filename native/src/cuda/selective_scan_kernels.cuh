// selective_scan_kernels.cuh — the device code of selective_scan.cu and the
// host-side choices of its launches (kernel, grid, block, shared memory,
// parameters); selective_scan.cu makes the CUDA runtime calls, and the CPU
// simulator tests (tests/native/test_selective_scan_sim.cpp) launch the same
// kernels with the same configuration.
//
// Mamba-1 selective scan (prefill) and state update (decode), token-major: u, delta, z, out [B, L, D]; A float32 [D, N];
// B, C [D, N] (per channel) or [B, L, G, N]; states float32 [B, D, N].
//   dt = softplus?(delta + delta_bias);  h = exp(dt A) h + dt B u
//   y  = (C . h + d_skip u) * silu?(z)
// See docs/selective-scan.md for the design; in short:
//
// Chunked kernel (the fast path; per-channel B/C, or input-dependent B/C
// whose groups are a multiple of kTileD channels wide): one block per
// (b, tile of kTileD = 8 channels), one warp per channel, walking L in chunks
// of kChunk = 32 lanes x kItems = 512 steps. A chunk's u and dt (bias and
// softplus applied) are read once from global memory, coalesced along the
// channels, into shared memory; input-dependent B/C rows are staged in tiles
// of kNTile states. Lane s of a warp owns steps s*kItems .. s*kItems+15 of
// the chunk. For each state n the lane runs its 16 steps from h = 0, keeping
// the local states and the running decay product in registers, the warp
// combines the lanes' (decay, state) pairs with a shuffle scan (the
// associative operator (a1, b1) then (a2, b2) = (a1 a2, a2 b1 + b2)), and
// each lane corrects its local states with the state carried into its first
// step: h_t = local_t + decay_t * h_in; y_t += C_t[n] h_t. The carry of each
// (channel, n) across chunks lives in shared memory; final_state is written
// at the end. exp(dt A) is exp2(dt * A * log2 e), once per (t, d, n). The
// (B, L, D, N) expansion never exists outside registers.
//
// Simple kernel (other shapes, and the state update with L = 1): P lanes
// per (b, d) (P a power of two <= min(N, 32)), lane j owns states
// n = j, j + P, ... in registers and walks t sequentially; y is summed over
// the P lanes with shuffles.
//
// Both read each (b, d) row of initial_state before writing final_state, in
// the same block or thread, so the two may be the same tensor.
#pragma once
#include "cuda_common.cuh"
#include "../core/backend.h"

namespace nm {
namespace {

constexpr float kLog2e = 1.4426950408889634f;

struct ScanParams {
    const void* u;
    nm_dtype ut;
    const void* delta;
    nm_dtype dtt;
    const float* a;  // [D, N]
    const void* b;
    nm_dtype bt;
    const void* c;
    nm_dtype ct;
    const void* d_skip;  // nullptr: none
    nm_dtype dst;
    const void* z;  // nullptr: none
    nm_dtype zt;
    const void* delta_bias;  // nullptr: none
    nm_dtype dbt;
    const float* h0;  // initial state, nullptr: zeros
    float* h1;        // final state, nullptr: not wanted
    void* out;
    nm_dtype ot;
    int64_t batch, length, channels, state, groups;
    bool per_channel;  // B, C are [D, N]
    bool softplus;
};

__device__ __forceinline__ float softplus(float x) { return x > 20.f ? x : log1pf(expf(x)); }

// dt of element i (index into [B, L, D]) of channel d.
__device__ __forceinline__ float load_dt(const ScanParams& p, int64_t i, int64_t d) {
    float dt = load_float(p.delta, p.dtt, i);
    if (p.delta_bias) dt += load_float(p.delta_bias, p.dbt, d);
    return p.softplus ? softplus(dt) : dt;
}

// y (C . h + d_skip u) finished: gate and store.
__device__ __forceinline__ void store_y(const ScanParams& p, int64_t i, float y) {
    if (p.z) y *= cu::silu(load_float(p.z, p.zt, i));
    store_float(p.out, p.ot, i, y);
}

// ------------------------------------------------------------ chunked kernel

constexpr int kTileD = 8;                    // channels per block: one warp each
constexpr int kItems = 16;                   // steps per lane
constexpr int kChunk = 32 * kItems;          // steps per chunk
constexpr int kSeg = kItems + 1;             // padded lane segment in shared memory (odd: no bank conflicts)
constexpr int kColumn = 32 * kSeg;           // floats per staged column (one channel or one state)
constexpr int kNTile = 8;                    // input-dependent B/C states staged at a time
constexpr int kChunkThreads = 32 * kTileD;

// Shared-memory slot of chunk row r (0 .. kChunk-1) in a staged column.
__device__ __forceinline__ int slot_of(int r) { return (r / kItems) * kSeg + r % kItems; }

inline size_t chunked_smem_bytes(int64_t state, bool per_channel) {
    size_t floats = size_t(kTileD) * size_t(state)      // carried states [kTileD][N]
                    + 2 * size_t(kTileD) * kColumn;     // u, dt [kTileD][kColumn]
    if (!per_channel) floats += 2 * size_t(kNTile) * kColumn;  // B, C [kNTile][kColumn]
    return floats * sizeof(float);
}

// kPerChannel: B, C are [D, N] (p.per_channel); otherwise [B, L, G, N], staged.
template <bool kPerChannel>
__global__ void __launch_bounds__(kChunkThreads, 2) selective_scan_chunked_kernel(ScanParams p) {
    NM_DYNAMIC_SHARED(float, smem);
    const int64_t N = p.state, D = p.channels, L = p.length, G = p.groups;
    float* s_h = smem;                          // [kTileD][N]
    float* s_u = s_h + kTileD * N;              // [kTileD][kColumn]; later y
    float* s_dt = s_u + kTileD * kColumn;       // [kTileD][kColumn]
    float* s_b = s_dt + kTileD * kColumn;       // [kNTile][kColumn] (input-dependent only)
    float* s_c = s_b + kNTile * kColumn;        // [kNTile][kColumn]

    const int64_t tiles = (D + kTileD - 1) / kTileD;
    const int64_t b = blockIdx.x / tiles;
    const int64_t d0 = (blockIdx.x % tiles) * kTileD;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int64_t d = d0 + warp;
    const bool active = d < D;
    // Input-dependent B/C: the launcher guarantees one group per tile.
    const int64_t g = kPerChannel ? 0 : d0 / (D / G);

    // Carried state of this warp's channel.
    float* h_carry = s_h + warp * N;
    if (active)
        for (int64_t n = lane; n < N; n += 32) h_carry[n] = p.h0 ? p.h0[(b * D + d) * N + n] : 0.f;
    float skip = 0.f;
    if (active && p.d_skip) skip = load_float(p.d_skip, p.dst, d);

    for (int64_t t0 = 0; t0 < L; t0 += kChunk) {
        const int len = int(L - t0 < kChunk ? L - t0 : kChunk);
        __syncthreads();  // the previous chunk's y (in s_u) has been stored
        // u and dt of the chunk, coalesced along channels.
        for (int idx = threadIdx.x; idx < len * kTileD; idx += kChunkThreads) {
            const int r = idx / kTileD, cc = idx % kTileD;
            if (d0 + cc >= D) continue;
            const int64_t i = (b * L + t0 + r) * D + d0 + cc;
            const int s = cc * kColumn + slot_of(r);
            s_u[s] = load_float(p.u, p.ut, i);
            s_dt[s] = load_dt(p, i, d0 + cc);
        }
        __syncthreads();

        // This lane's steps; rows past the end act as identity (dt = 0: decay 1, input 0).
        float dt[kItems], dtu[kItems], y[kItems];
        const float* col_u = s_u + warp * kColumn + lane * kSeg;
        const float* col_dt = s_dt + warp * kColumn + lane * kSeg;
#pragma unroll
        for (int i = 0; i < kItems; ++i) {
            const bool valid = active && lane * kItems + i < len;
            dt[i] = valid ? col_dt[i] : 0.f;
            dtu[i] = valid ? dt[i] * col_u[i] : 0.f;
            y[i] = 0.f;
        }

        for (int64_t n0 = 0; n0 < N; n0 += kNTile) {
            const int nt = int(N - n0 < kNTile ? N - n0 : kNTile);
            if (!kPerChannel) {
                __syncthreads();  // the previous tile's B/C have been used
                // Rows past the end of the sequence are zeroed: stale shared memory
                // could hold NaN, and 0 * NaN would poison the carried state.
                for (int idx = threadIdx.x; idx < kChunk * nt; idx += kChunkThreads) {
                    const int r = idx / nt, k = idx % nt;
                    float bv = 0.f, cv = 0.f;
                    if (r < len) {
                        const int64_t i = ((b * L + t0 + r) * G + g) * N + n0 + k;
                        bv = load_float(p.b, p.bt, i);
                        cv = load_float(p.c, p.ct, i);
                    }
                    s_b[k * kColumn + slot_of(r)] = bv;
                    s_c[k * kColumn + slot_of(r)] = cv;
                }
                __syncthreads();
            }
            if (!active) continue;
            for (int k = 0; k < nt; ++k) {
                const int64_t n = n0 + k;
                const float a2 = p.a[d * N + n] * kLog2e;
                float bconst = 0.f, cconst = 0.f;
                if (kPerChannel) {
                    bconst = load_float(p.b, p.bt, d * N + n);
                    cconst = load_float(p.c, p.ct, d * N + n);
                }
                const float* col_b = s_b + k * kColumn + lane * kSeg;
                const float* col_c = s_c + k * kColumn + lane * kSeg;

                // Local scan from h = 0: local states and decay products.
                float local[kItems], decay[kItems];
                float hl = 0.f, pr = 1.f;
#pragma unroll
                for (int i = 0; i < kItems; ++i) {
                    const float a = exp2f(dt[i] * a2);
                    const float bv = kPerChannel ? bconst : col_b[i];
                    hl = fmaf(a, hl, dtu[i] * bv);
                    pr *= a;
                    local[i] = hl;
                    decay[i] = pr;
                }
                // Inclusive warp scan of the lanes' (decay, state) pairs.
                float sa = pr, sb = hl;
#pragma unroll
                for (int off = 1; off < 32; off <<= 1) {
                    const float pa = __shfl_up_sync(0xffffffffu, sa, off);
                    const float pb = __shfl_up_sync(0xffffffffu, sb, off);
                    if (lane >= off) {
                        sb = fmaf(sa, pb, sb);
                        sa *= pa;
                    }
                }
                float ea = __shfl_up_sync(0xffffffffu, sa, 1);
                float eb = __shfl_up_sync(0xffffffffu, sb, 1);
                if (lane == 0) {
                    ea = 1.f;
                    eb = 0.f;
                }
                const float ta = __shfl_sync(0xffffffffu, sa, 31);
                const float tb = __shfl_sync(0xffffffffu, sb, 31);
                const float h_in = h_carry[n];
                const float h_start = fmaf(ea, h_in, eb);  // state before this lane's first step
#pragma unroll
                for (int i = 0; i < kItems; ++i) {
                    const float cv = kPerChannel ? cconst : col_c[i];
                    y[i] = fmaf(cv, fmaf(decay[i], h_start, local[i]), y[i]);
                }
                __syncwarp();  // every lane has read h_carry[n]
                if (lane == 0) h_carry[n] = fmaf(ta, h_in, tb);
                __syncwarp();
            }
        }

        // y with the skip term back into s_u (each lane overwrites its own slots), then gated stores.
        if (active) {
            float* col_y = s_u + warp * kColumn + lane * kSeg;
#pragma unroll
            for (int i = 0; i < kItems; ++i)
                if (lane * kItems + i < len) col_y[i] = fmaf(skip, col_y[i], y[i]);
        }
        __syncthreads();
        for (int idx = threadIdx.x; idx < len * kTileD; idx += kChunkThreads) {
            const int r = idx / kTileD, cc = idx % kTileD;
            if (d0 + cc >= D) continue;
            store_y(p, (b * L + t0 + r) * D + d0 + cc, s_u[cc * kColumn + slot_of(r)]);
        }
    }

    __syncwarp();
    if (active && p.h1)
        for (int64_t n = lane; n < N; n += 32) p.h1[(b * D + d) * N + n] = h_carry[n];
}

// ------------------------------------------------------------- simple kernel

constexpr int kSimpleBlock = 256;

// PER states per lane (a power of two, PER * lanes >= N), `lanes` lanes per (b, d).
template <int PER>
__global__ void __launch_bounds__(kSimpleBlock) selective_scan_simple_kernel(ScanParams p, int lanes) {
    const int64_t N = p.state, D = p.channels, L = p.length, G = p.groups;
    const int64_t total = p.batch * D * lanes;
    const int lane = threadIdx.x & 31;
    // Whole warps iterate together so the shuffles always see every lane.
    for (int64_t base = cu::global_thread() - lane; base < total; base += cu::grid_stride()) {
        const int64_t idx = base + lane;
        const bool active = idx < total;
        const unsigned mask = __ballot_sync(0xffffffffu, active);
        if (!active) continue;  // whole lane groups drop out together (lanes divides 32)
        const int64_t item = idx / lanes;  // b * D + d
        const int j = int(idx % lanes);
        const int64_t b = item / D, d = item % D, g = d / (D / G);

        float h[PER], a2[PER], bconst[PER], cconst[PER];
#pragma unroll
        for (int k = 0; k < PER; ++k) {
            const int64_t n = j + int64_t(k) * lanes;
            const bool in = n < N;
            h[k] = a2[k] = bconst[k] = cconst[k] = 0.f;
            if (!in) continue;
            if (p.h0) h[k] = p.h0[item * N + n];
            a2[k] = p.a[d * N + n] * kLog2e;
            if (p.per_channel) {
                bconst[k] = load_float(p.b, p.bt, d * N + n);
                cconst[k] = load_float(p.c, p.ct, d * N + n);
            }
        }
        const float skip = p.d_skip ? load_float(p.d_skip, p.dst, d) : 0.f;

        for (int64_t t = 0; t < L; ++t) {
            const int64_t i = (b * L + t) * D + d;
            const float u = load_float(p.u, p.ut, i);
            const float dt = load_dt(p, i, d);
            const float dtu = dt * u;
            const int64_t row = ((b * L + t) * G + g) * N;
            float part = 0.f;
#pragma unroll
            for (int k = 0; k < PER; ++k) {
                const int64_t n = j + int64_t(k) * lanes;
                if (n < N) {
                    float bv = bconst[k], cv = cconst[k];
                    if (!p.per_channel) {
                        bv = load_float(p.b, p.bt, row + n);
                        cv = load_float(p.c, p.ct, row + n);
                    }
                    h[k] = fmaf(exp2f(dt * a2[k]), h[k], dtu * bv);
                    part = fmaf(cv, h[k], part);
                }
            }
            for (int off = lanes >> 1; off > 0; off >>= 1) part += __shfl_xor_sync(mask, part, off, lanes);
            if (j == 0) store_y(p, i, fmaf(skip, u, part));
        }
        if (p.h1) {
#pragma unroll
            for (int k = 0; k < PER; ++k) {
                const int64_t n = j + int64_t(k) * lanes;
                if (n < N) p.h1[item * N + n] = h[k];
            }
        }
    }
}

// Lanes per (b, d) and states per lane for the simple kernel.
inline void simple_shape(int64_t n, int* lanes, int* per) {
    int l = 1;
    while (l * 2 <= n && l < 32) l *= 2;
    int q = 1;
    while (int64_t(q) * l < n) q *= 2;
    *lanes = l;
    *per = q;
}

// Below this many steps the chunked kernel's 512-step chunks are mostly idle lanes.
constexpr int64_t kChunkedMinLength = 16;

inline bool use_chunked(const ScanParams& p) {
    if (p.length < kChunkedMinLength) return false;
    if (p.per_channel) return true;
    const int64_t group_width = p.channels / p.groups;
    return group_width % kTileD == 0;  // every tile lies in one group
}

// The fields the scan and the one-step state update fill alike (absent
// optional tensors become nullptr); the caller sets states and sizes.
inline ScanParams scan_params(const TensorView& u, const TensorView& delta, const TensorView& a, const TensorView& b,
                       const TensorView& c, const TensorView& d_skip, const TensorView& z,
                       const TensorView& delta_bias, const TensorView& out) {
    ScanParams p;
    p.u = u.data;
    p.ut = u.dtype;
    p.delta = delta.data;
    p.dtt = delta.dtype;
    p.a = static_cast<const float*>(a.data);
    p.b = b.data;
    p.bt = b.dtype;
    p.c = c.data;
    p.ct = c.dtype;
    p.d_skip = d_skip.present() ? d_skip.data : nullptr;
    p.dst = d_skip.dtype;
    p.z = z.present() ? z.data : nullptr;
    p.zt = z.dtype;
    p.delta_bias = delta_bias.present() ? delta_bias.data : nullptr;
    p.dbt = delta_bias.dtype;
    p.out = out.data;
    p.ot = out.dtype;
    return p;
}

// ------------------------------------------------------------- launch plans
// What CudaBackend::selective_scan and selective_state_update decide on the host.

// The scan's parameters (prefill).
inline ScanParams selective_scan_params(const SelectiveScanArgs& args) {
    ScanParams p = scan_params(args.u, args.delta, args.a, args.b_mat, args.c_mat, args.d_skip, args.z,
                               args.delta_bias, args.out);
    p.h0 = args.initial_state.present() ? static_cast<const float*>(args.initial_state.data) : nullptr;
    p.h1 = args.final_state.present() ? static_cast<float*>(args.final_state.data) : nullptr;
    p.batch = args.batch;
    p.length = args.length;
    p.channels = args.channels;
    p.state = args.state_size;
    p.groups = args.per_channel_bc ? 1 : args.groups;
    p.per_channel = args.per_channel_bc;
    p.softplus = args.delta_softplus;
    return p;
}

// One step of the scan: [B, D] is [B, 1, D] and [B, G, N] is [B, 1, G, N];
// the state is read and written in place.
inline ScanParams state_update_params(const SelectiveStateUpdateArgs& args) {
    ScanParams p = scan_params(args.x, args.dt, args.a, args.b_mat, args.c_mat, args.d_skip, args.z,
                               args.delta_bias, args.out);
    p.h0 = static_cast<const float*>(args.state.data);
    p.h1 = static_cast<float*>(args.state.data);
    p.batch = args.batch;
    p.length = 1;
    p.channels = args.channels;
    p.state = args.state_size;
    p.groups = args.groups;
    p.per_channel = false;
    p.softplus = args.delta_softplus;
    return p;
}

// The simple kernel: kernel == nullptr when the state size needs more than
// 8 states per lane (N > 256).
struct SimpleLaunch {
    void (*kernel)(ScanParams, int);
    unsigned grid;
    int block;
    int lanes, per;
};

inline SimpleLaunch simple_launch(const ScanParams& p) {
    SimpleLaunch l{nullptr, 0, kSimpleBlock, 1, 1};
    simple_shape(p.state, &l.lanes, &l.per);
    l.grid = cu::grid_for(p.batch * p.channels * l.lanes, kSimpleBlock);
    switch (l.per) {
        case 1: l.kernel = selective_scan_simple_kernel<1>; break;
        case 2: l.kernel = selective_scan_simple_kernel<2>; break;
        case 4: l.kernel = selective_scan_simple_kernel<4>; break;
        case 8: l.kernel = selective_scan_simple_kernel<8>; break;
        default: break;
    }
    return l;
}

// The chunked kernel (when use_chunked(p)): blocks may exceed what a grid
// takes; the caller checks.
struct ChunkedLaunch {
    void (*kernel)(ScanParams);
    int64_t blocks;
    int block;
    size_t smem;  // dynamic shared memory (opt in above 48 KiB)
};

inline ChunkedLaunch chunked_launch(const ScanParams& p) {
    return ChunkedLaunch{p.per_channel ? selective_scan_chunked_kernel<true> : selective_scan_chunked_kernel<false>,
                         p.batch * ((p.channels + kTileD - 1) / kTileD), kChunkThreads,
                         chunked_smem_bytes(p.state, p.per_channel)};
}

}  // namespace
}  // namespace nm
