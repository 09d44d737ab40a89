// sample_kernel.cuh — the device code of sample.cu and the host-side choices
// of its launch (parameters, grid, block); sample.cu makes the CUDA runtime
// calls, and the CPU simulator tests (tests/native/test_sample_sim.cpp)
// launch the same kernel with the same configuration.
//
// nm_sample on the GPU, exactly the algorithm of docs/sampling.md, so that it
// draws the same tokens as the CPU backend (sample_cpu.cpp).
//
// One block of 1024 threads per row (grid-stride over rows). Every value is
// read as float32 and mapped to an order-preserving uint32 key, after
// canonicalising NaN to -inf and -0 to +0 (so key order is exactly the float
// order the specification compares with, and equal floats have equal keys):
//     key(u) = sign ? ~u : u | 0x80000000        (u = the float's bits)
// -inf has key 0x007fffff, the smallest; every other value's key is larger.
//
//  1. max: block reduction of (key, index), larger key wins, lower index on
//     ties -> m and the greedy token. max key == key(-inf): row has no finite
//     value -> status 1 for the row (reported by the host code below).
//  2. greedy (temperature <= 0 or top_k == 1): the argmax. Done.
//  3. q_i = floor(exp(((double)l_i - (double)m) / (double)T) * 2^32) through
//     nm::mass_of_weight; q = 0 for -inf; q = 2^32 for l_i == m (exactly what
//     the formula gives for finite m, and well defined for m = +inf); a NaN
//     weight (m = +inf with an infinite temperature) gives q = 0. Where
//     l_i - m < -23 T the formula gives exp(< -23) * 2^32 < 0.45, i.e. q = 0,
//     so exp is skipped there (identical result, much less fp64 work).
//  4. top-k: tau_k = the k-th largest key, by an exact MSB-first radix select
//     (4 passes of 8 bits, a 256-bin count histogram in shared memory). Kept:
//     key >= tau_k. Without top-k the threshold is 0 (everything).
//  5. top-p: Q = sum of kept q (uint64 block reduction: integer sums are exact
//     in any order, hence deterministic), P = ceil(top_p * Q) in double, and
//     the same radix select with uint64 mass histograms finds the largest key
//     v with mass(kept, key >= v) >= P: at each pass the bin where the running
//     mass from the top reaches what is still needed. Kept: key >= tau_p.
//  6. draw: each thread owns a contiguous chunk of indices (in index order)
//     and sums its kept masses; an exclusive block scan gives each chunk's
//     starting running sum and Qk. t = umulhi(rng(seed, step, r), Qk); the one
//     thread whose chunk spans t walks it to the first index whose running
//     sum exceeds t.
// Each pass re-reads the row (no O(V) scratch). The host copies the per-row
// tokens and statuses back and synchronises: nm_sample is synchronous.
#pragma once

#include <cstdint>

#include "../core/backend.h"
#include "../core/sample_rng.h"
#include "cuda_common.cuh"

namespace nm {
namespace {

using u64 = unsigned long long;  // the type atomicAdd and __shfl_*_sync take

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;
constexpr uint32_t kKeyNegInf = 0x007fffffu;  // key(-inf)
constexpr unsigned kFull = 0xffffffffu;

struct SampleParams {
    const void* logits;
    nm_dtype dtype;
    int64_t rows, vocab;
    float temperature;
    int32_t top_k;
    float top_p;
    uint64_t seed, step;
    int32_t* tokens;  // device, rows entries
    int32_t* status;  // device, rows entries: 0 ok, 1 no finite value
};

__device__ __forceinline__ uint32_t key_of(float v) {
    uint32_t u = __float_as_uint(v);
    if ((u & 0x7fffffffu) > 0x7f800000u) u = 0xff800000u;  // NaN -> -inf
    if ((u & 0x7fffffffu) == 0u) u = 0u;                   // -0 -> +0
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ __forceinline__ float float_of_key(uint32_t key) {
    return __uint_as_float((key & 0x80000000u) ? (key & 0x7fffffffu) : ~key);
}

__device__ __forceinline__ uint32_t key_at(const SampleParams& p, int64_t base, int64_t i) {
    return key_of(load_float(p.logits, p.dtype, base + i));
}

// q of a value with key `key` (step 3 above). T > 0.
__device__ __forceinline__ u64 mass_of_key(uint32_t key, uint32_t max_key, float m, double T) {
    if (key <= kKeyNegInf) return 0;
    if (key == max_key) return u64(1) << 32;
    const double diff = double(float_of_key(key)) - double(m);
    if (diff < -23.0 * T) return 0;
    const double w = exp(diff / T);
    return w == w ? u64(mass_of_weight(w)) : 0;  // NaN only for m = +inf with T = +inf: q = 0
}

// Block-wide exclusive prefix sum of v over threads in threadIdx order; *total
// receives the sum over the block. Needs blockDim.x == kThreads. Ends with a
// barrier after the last read of `warp_sums`, so it can be called again.
__device__ u64 block_exclusive_scan(u64 v, u64* warp_sums, u64* total) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    u64 incl = v;
    for (int o = 1; o < 32; o <<= 1) {
        const u64 n = __shfl_up_sync(kFull, incl, o);
        if (lane >= o) incl += n;
    }
    if (lane == 31) warp_sums[warp] = incl;
    __syncthreads();
    if (warp == 0) {
        u64 w = warp_sums[lane];  // kWarps == 32: one slot per lane
        for (int o = 1; o < 32; o <<= 1) {
            const u64 n = __shfl_up_sync(kFull, w, o);
            if (lane >= o) w += n;
        }
        warp_sums[lane] = w;  // inclusive scan of the warp totals
    }
    __syncthreads();
    const u64 before = warp == 0 ? 0 : warp_sums[warp - 1];
    *total = warp_sums[kWarps - 1];
    __syncthreads();
    return before + incl - v;
}

// Run by the 32 lanes of warp 0. Bins are visited from 255 down to 0: finds
// the first bin d at which the running sum reaches `need` and returns d and
// need minus the sum of the bins above d. Lane L owns bins 255-8L .. 248-8L.
// (If the bins held less than `need` in total, which the callers rule out,
// bin 0 is returned.)
template <class T>
__device__ void select_bin(const T* hist, T need, uint32_t* digit_out, T* need_out) {
    const int lane = threadIdx.x & 31;
    T local[8];
    T sum = 0;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
        local[j] = hist[255 - (lane * 8 + j)];
        sum += local[j];
    }
    T incl = sum;
    for (int o = 1; o < 32; o <<= 1) {
        const T n = __shfl_up_sync(kFull, incl, o);
        if (lane >= o) incl += n;
    }
    const unsigned reached = __ballot_sync(kFull, incl >= need);
    const int first = reached ? __ffs(int(reached)) - 1 : 31;
    if (lane == first) {
        T above = incl - sum;  // bins owned by earlier lanes
        int pick = 7;
#pragma unroll
        for (int j = 0; j < 8; ++j) {
            if (above + local[j] >= need) {
                pick = j;
                break;
            }
            if (j < 7) above += local[j];
        }
        *digit_out = uint32_t(255 - (lane * 8 + pick));
        *need_out = need - above;
    }
}

__global__ void __launch_bounds__(kThreads) sample_kernel(SampleParams p) {
    __shared__ uint32_t s_count[256];
    __shared__ u64 s_mass[256];
    __shared__ u64 s_warp[kWarps];
    __shared__ uint32_t s_warp_key[kWarps];
    __shared__ int64_t s_warp_idx[kWarps];
    __shared__ uint32_t s_digit;
    __shared__ uint32_t s_need32;
    __shared__ u64 s_need64;
    __shared__ uint32_t s_best_key;
    __shared__ int64_t s_best_idx;
    __shared__ int64_t s_token;

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int64_t V = p.vocab;

    for (int64_t r = blockIdx.x; r < p.rows; r += gridDim.x) {
        const int64_t base = r * V;

        // ---- 1. max key and its lowest index
        uint32_t best_key = 0;
        int64_t best_idx = INT64_MAX;
        for (int64_t i = tid; i < V; i += kThreads) {
            const uint32_t k = key_at(p, base, i);
            if (k > best_key) {  // ascending i: the first of equal keys stays
                best_key = k;
                best_idx = i;
            }
        }
        for (int o = 16; o > 0; o >>= 1) {
            const uint32_t ok = __shfl_xor_sync(kFull, best_key, o);
            const int64_t oi = __shfl_xor_sync(kFull, best_idx, o);
            if (ok > best_key || (ok == best_key && oi < best_idx)) {
                best_key = ok;
                best_idx = oi;
            }
        }
        if (lane == 0) {
            s_warp_key[warp] = best_key;
            s_warp_idx[warp] = best_idx;
        }
        __syncthreads();
        if (warp == 0) {
            best_key = s_warp_key[lane];
            best_idx = s_warp_idx[lane];
            for (int o = 16; o > 0; o >>= 1) {
                const uint32_t ok = __shfl_xor_sync(kFull, best_key, o);
                const int64_t oi = __shfl_xor_sync(kFull, best_idx, o);
                if (ok > best_key || (ok == best_key && oi < best_idx)) {
                    best_key = ok;
                    best_idx = oi;
                }
            }
            if (lane == 0) {
                s_best_key = best_key;
                s_best_idx = best_idx;
            }
        }
        __syncthreads();
        const uint32_t max_key = s_best_key;
        const int64_t argmax = s_best_idx;
        // Every thread has read s_best_*; the next writes to them are behind
        // at least one more barrier (the next row's first __syncthreads).

        if (max_key <= kKeyNegInf) {  // all -inf (or NaN): uniform across the block
            if (tid == 0) {
                p.status[r] = 1;
                p.tokens[r] = -1;
            }
            continue;
        }
        if (!(p.temperature > 0.f) || p.top_k == 1) {  // ---- 2. greedy
            if (tid == 0) {
                p.status[r] = 0;
                p.tokens[r] = int32_t(argmax);
            }
            continue;
        }

        const float m = float_of_key(max_key);
        const double T = double(p.temperature);

        // ---- 4. top-k threshold: the k-th largest key (counting duplicates)
        uint32_t threshold = 0;  // key >= threshold is kept
        if (p.top_k > 0 && int64_t(p.top_k) < V) {
            uint32_t prefix = 0, need = uint32_t(p.top_k);
            for (int pass = 0; pass < 4; ++pass) {
                const int shift = 24 - 8 * pass;
                const uint32_t hi_mask = pass == 0 ? 0u : (0xffffffffu << (shift + 8));
                if (tid < 256) s_count[tid] = 0;
                __syncthreads();
                for (int64_t i = tid; i < V; i += kThreads) {
                    const uint32_t k = key_at(p, base, i);
                    if ((k & hi_mask) == prefix) atomicAdd(&s_count[(k >> shift) & 255u], 1u);
                }
                __syncthreads();
                if (warp == 0) select_bin<uint32_t>(s_count, need, &s_digit, &s_need32);
                __syncthreads();
                prefix |= s_digit << shift;
                need = s_need32;
                __syncthreads();  // all have read s_digit / s_need32 before the next pass rewrites them
            }
            threshold = prefix;
        }

        // ---- 5. top-p threshold
        if (p.top_p < 1.f) {
            u64 local = 0;
            for (int64_t i = tid; i < V; i += kThreads) {
                const uint32_t k = key_at(p, base, i);
                if (k >= threshold) local += mass_of_key(k, max_key, m, T);
            }
            u64 Q = 0;
            block_exclusive_scan(local, s_warp, &Q);
            const double pd = ceil(double(p.top_p) * double(Q));
            u64 need = pd >= 1.0 ? u64(pd) : u64(1);  // top_p <= 0 is rejected before; stay defined anyway
            uint32_t prefix = 0;
            for (int pass = 0; pass < 4; ++pass) {
                const int shift = 24 - 8 * pass;
                const uint32_t hi_mask = pass == 0 ? 0u : (0xffffffffu << (shift + 8));
                if (tid < 256) s_mass[tid] = 0;
                __syncthreads();
                for (int64_t i = tid; i < V; i += kThreads) {
                    const uint32_t k = key_at(p, base, i);
                    if (k >= threshold && (k & hi_mask) == prefix) {
                        const u64 q = mass_of_key(k, max_key, m, T);
                        if (q) atomicAdd(&s_mass[(k >> shift) & 255u], q);
                    }
                }
                __syncthreads();
                if (warp == 0) select_bin<u64>(s_mass, need, &s_digit, &s_need64);
                __syncthreads();
                prefix |= s_digit << shift;
                need = s_need64;
                __syncthreads();
            }
            // prefix is a kept value's key, so prefix >= the top-k threshold.
            threshold = prefix;
        }

        // ---- 6. draw
        const int64_t chunk = (V + kThreads - 1) / kThreads;
        const int64_t lo = int64_t(tid) * chunk;
        const int64_t hi = lo + chunk < V ? lo + chunk : V;
        u64 mine = 0;
        for (int64_t i = lo; i < hi; ++i) {
            const uint32_t k = key_at(p, base, i);
            if (k >= threshold) mine += mass_of_key(k, max_key, m, T);
        }
        if (tid == 0) s_token = argmax;  // unreachable fallback; the scan's barriers order it
        u64 Qk = 0;
        const u64 start = block_exclusive_scan(mine, s_warp, &Qk);
        const u64 t = scale_to_range(sample_rng(p.seed, p.step, uint64_t(r)), Qk);
        if (mine > 0 && start <= t && t - start < mine) {  // the one chunk that spans t
            u64 running = start;
            for (int64_t i = lo; i < hi; ++i) {
                const uint32_t k = key_at(p, base, i);
                if (k >= threshold) running += mass_of_key(k, max_key, m, T);
                if (running > t) {
                    s_token = i;
                    break;
                }
            }
        }
        __syncthreads();
        if (tid == 0) {
            p.status[r] = 0;
            p.tokens[r] = int32_t(s_token);
        }
        __syncthreads();  // s_token is rewritten by the next row
    }
}

// ------------------------------------------------------------- launch plan
// What CudaBackend::sample decides on the host. ws: rows int32 tokens, then
// rows int32 statuses.
inline SampleParams sample_params(const SampleArgs& args, int32_t* ws) {
    SampleParams p;
    p.logits = args.logits.data;
    p.dtype = args.logits.dtype;
    p.rows = args.rows;
    p.vocab = args.vocab;
    p.temperature = args.temperature;
    p.top_k = args.top_k;
    p.top_p = args.top_p;
    p.seed = args.seed;
    p.step = args.step;
    p.tokens = ws;
    p.status = ws + args.rows;
    return p;
}

struct SampleLaunch {
    void (*kernel)(SampleParams);
    dim3 grid, block;
};

inline SampleLaunch sample_launch(const SampleArgs& args) {
    return SampleLaunch{sample_kernel, dim3(cu::grid_for_rows(args.rows)), dim3(kThreads)};
}

}  // namespace
}  // namespace nm
