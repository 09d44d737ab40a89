// attention_kernels.cuh — the device code of attention.cu (varlen prefill
// attention and split-KV decode attention) and the host-side choices of its
// launches: which kernel, grid, block, shared memory and parameters. The CUDA
// runtime calls stay in attention.cu; the CPU simulator tests
// (tests/native/test_attention_sim.cpp) include this file and launch the same
// kernels with the same configuration.
//
// Semantics (docs/attention.md, core/attention_window.h): query i of a
// sequence with Lq queries and Lk keys sits at p = i + Lk - Lq and sees keys
// [lo(p), hi(p)]; causal has already been resolved into window_right = 0.
//
// Two kernel families:
//
//  1. flash_kernel<T, D> (float16 / bfloat16, D = 64, 128, 256, sm_80+):
//     FlashAttention-2 style. A CTA of 4 warps owns 64 queries of one
//     (sequence, head); each warp owns 16 rows. K/V tiles of kBc keys stream
//     through a double-buffered, XOR-swizzled shared-memory ring filled with
//     16-byte cp.async. S = Q K^T and O += P V use mma.sync m16n8k16 with
//     float32 accumulators; Q and K fragments come from ldmatrix.x4, V from
//     ldmatrix.x4.trans. Online softmax in registers (running max m and sum l
//     per row, exp2 with the scale folded with log2 e); O is normalised once
//     at the end and staged through shared memory for 16-byte stores. Only
//     the key tiles some query of the CTA can see are visited, and only tiles
//     that cut the mask are masked elementwise.
//
//  2. tile_kernel<kDecode> (any float dtype and head dim, any sm): the same
//     online softmax with plain float32 FMAs on 16 rows x 32-key tiles in
//     shared memory (16-byte vector loads where rows allow). It is the
//     prefill path for float32, other head dims and pre-sm_80 devices, and the
//     decode kernel: for decode a CTA's rows are all query heads of one KV
//     group (times `queries`), so every K/V byte is read once per group, and
//     the cache is split along keys over gridDim.x (flash-decoding); each split
//     writes a normalised partial output and its lse, and combine_kernel merges
//     them.
//
// cu_seqlens, slots and cache_lens are host arrays copied to the workspace.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "attention_mma.cuh"
#include "cuda_common.cuh"
#include "../core/attention_window.h"
#include "../core/backend.h"

namespace nm {
namespace {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// ------------------------------------------------------------------ tensor cores

struct FlashParams {
    const void* q;
    const void* k;
    const void* v;
    void* out;
    float* lse;  // [Hq, total_q] or nullptr
    const int32_t* cu_q;
    const int32_t* cu_k;
    int32_t batch;
    int64_t total_q, heads_q, heads_kv, group;
    float scale_log2;
    int32_t window_left, window_right;
};

constexpr int kFlashThreads = 128;
constexpr int kBr = 64;  // queries per CTA: 4 warps x 16 rows

template <int D>
constexpr int flash_bc() { return D == 256 ? 32 : 64; }  // keys per tile

template <int D>
constexpr size_t flash_smem_bytes() { return size_t(kBr + 4 * flash_bc<D>()) * D * 2; }  // Q + 2 x (K, V)

template <class T, int D>
__global__ void __launch_bounds__(kFlashThreads) flash_kernel(FlashParams p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    constexpr int kBc = flash_bc<D>();
    constexpr int kChunks = D / 8;  // 16-byte chunks per row
    NM_DYNAMIC_SHARED(uint4, flash_smem);
    T* s_q = reinterpret_cast<T*>(flash_smem);
    T* s_k = s_q + kBr * D;      // two buffers of kBc x D
    T* s_v = s_k + 2 * kBc * D;  // two buffers of kBc x D

    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int h = blockIdx.y;
    const int64_t hk = h / p.group;
    const int64_t q_stride = p.heads_q * D, kv_stride = p.heads_kv * D;
    // Highest query tiles first: under a causal mask they have the most keys.
    const int tile = gridDim.x - 1 - blockIdx.x;

    for (int b = blockIdx.z; b < p.batch; b += gridDim.z) {
        const int q_start = p.cu_q[b], lq = p.cu_q[b + 1] - q_start;
        const int k_start = p.cu_k[b], lk = p.cu_k[b + 1] - k_start;
        const int row0 = tile * kBr;
        if (row0 >= lq) continue;  // uniform over the CTA
        const int rows_valid = min(kBr, lq - row0);
        const int shift = lk - lq;
        const int64_t pos_first = row0 + shift, pos_last = row0 + rows_valid - 1 + shift;
        const int64_t key_lo = attn_key_lo(pos_first, p.window_left);
        const int64_t key_hi = attn_key_hi(pos_last, p.window_right, lk);
        const int first_tile = int(key_lo / kBc);
        const int n_tiles = key_lo <= key_hi ? int(key_hi / kBc) - first_tile + 1 : 0;
        // Tiles inside [lo of the last row, hi of the first row] need no elementwise mask.
        const int64_t full_lo = attn_key_lo(pos_last, p.window_left);
        const int64_t full_hi = attn_key_hi(pos_first, p.window_right, lk);

        const T* qg = static_cast<const T*>(p.q) + (int64_t(q_start + row0) * p.heads_q + h) * D;
        const T* kg = static_cast<const T*>(p.k) + (int64_t(k_start) * p.heads_kv + hk) * D;
        const T* vg = static_cast<const T*>(p.v) + (int64_t(k_start) * p.heads_kv + hk) * D;

        for (int i = tid; i < kBr * kChunks; i += kFlashThreads) {
            const int r = i / kChunks, c = (i % kChunks) * 8;
            const bool ok = r < rows_valid;
            attn::cp_async16(s_q + attn::swz<D>(r, c), ok ? qg + r * q_stride + c : qg, ok ? 16 : 0);
        }
        auto load_kv = [&](int t, int buf) {
            T* dk = s_k + buf * kBc * D;
            T* dv = s_v + buf * kBc * D;
            for (int i = tid; i < kBc * kChunks; i += kFlashThreads) {
                const int r = i / kChunks, c = (i % kChunks) * 8;
                const int key = t * kBc + r;
                const bool ok = key < lk;
                const int64_t off = ok ? int64_t(key) * kv_stride + c : 0;
                attn::cp_async16(dk + attn::swz<D>(r, c), kg + off, ok ? 16 : 0);
                attn::cp_async16(dv + attn::swz<D>(r, c), vg + off, ok ? 16 : 0);
            }
        };
        if (n_tiles > 0) load_kv(first_tile, 0);
        attn::cp_async_commit();

        float o[D / 8][4];
#pragma unroll
        for (int i = 0; i < D / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
        float m_row[2] = {-INFINITY, -INFINITY}, l_row[2] = {0.f, 0.f};
        const int r_a = warp * 16 + (lane >> 2);  // this thread's rows: r_a and r_a + 8
        int64_t lo[2], hi[2];
        for (int j = 0; j < 2; ++j) {
            const int64_t pos = row0 + r_a + 8 * j + shift;
            lo[j] = attn_key_lo(pos, p.window_left);
            hi[j] = attn_key_hi(pos, p.window_right, lk);
        }

        for (int it = 0; it < n_tiles; ++it) {
            const int t = first_tile + it, buf = it & 1;
            if (it + 1 < n_tiles) {
                load_kv(t + 1, buf ^ 1);
                attn::cp_async_commit();
                attn::cp_async_wait<1>();
            } else {
                attn::cp_async_wait<0>();
            }
            __syncthreads();
            const T* ck = s_k + buf * kBc * D;
            const T* cv = s_v + buf * kBc * D;

            // S = Q K^T for this warp's 16 rows x kBc keys.
            float s[kBc / 8][4];
#pragma unroll
            for (int i = 0; i < kBc / 8; ++i) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.f;
#pragma unroll
            for (int kk = 0; kk < D / 16; ++kk) {
                uint32_t a[4];
                attn::ldmatrix_x4(a, s_q + attn::swz<D>(warp * 16 + (lane & 15), kk * 16 + (lane >> 4) * 8));
#pragma unroll
                for (int np = 0; np < kBc / 16; ++np) {
                    uint32_t bk[4];
                    attn::ldmatrix_x4(bk, ck + attn::swz<D>(np * 16 + (lane & 7) + ((lane >> 4) << 3),
                                                             kk * 16 + ((lane >> 3) & 1) * 8));
                    attn::mma16816<T>(s[2 * np], a, bk[0], bk[1]);
                    attn::mma16816<T>(s[2 * np + 1], a, bk[2], bk[3]);
                }
            }

            // Scale (base 2), mask where the tile cuts the window, online softmax.
            const bool masked = int64_t(t) * kBc < full_lo || int64_t(t + 1) * kBc - 1 > full_hi;
            float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
            for (int nt = 0; nt < kBc / 8; ++nt)
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    float x = s[nt][e] * p.scale_log2;
                    if (masked) {
                        const int64_t key = int64_t(t) * kBc + nt * 8 + (lane & 3) * 2 + (e & 1);
                        if (key < lo[e >> 1] || key > hi[e >> 1]) x = -INFINITY;
                    }
                    s[nt][e] = x;
                    mx[e >> 1] = fmaxf(mx[e >> 1], x);
                }
            float alpha[2], m_use[2];
#pragma unroll
            for (int j = 0; j < 2; ++j) {
                mx[j] = fmaxf(mx[j], __shfl_xor_sync(0xffffffffu, mx[j], 1));
                mx[j] = fmaxf(mx[j], __shfl_xor_sync(0xffffffffu, mx[j], 2));
                const float m_new = fmaxf(m_row[j], mx[j]);
                m_use[j] = m_new == -INFINITY ? 0.f : m_new;  // a row that has seen nothing yet
                alpha[j] = exp2f(m_row[j] - m_use[j]);
                m_row[j] = m_new;
                l_row[j] *= alpha[j];  // thread-partial sum; reduced over the quad at the end
            }
#pragma unroll
            for (int nt = 0; nt < kBc / 8; ++nt)
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    s[nt][e] = exp2f(s[nt][e] - m_use[e >> 1]);
                    l_row[e >> 1] += s[nt][e];
                }
#pragma unroll
            for (int i = 0; i < D / 8; ++i) {
                o[i][0] *= alpha[0], o[i][1] *= alpha[0];
                o[i][2] *= alpha[1], o[i][3] *= alpha[1];
            }

            // O += P V: the S accumulators of two adjacent n-tiles are the A fragment of one k-step.
#pragma unroll
            for (int kk = 0; kk < kBc / 16; ++kk) {
                uint32_t a[4];
                a[0] = attn::pack2<T>(s[2 * kk][0], s[2 * kk][1]);
                a[1] = attn::pack2<T>(s[2 * kk][2], s[2 * kk][3]);
                a[2] = attn::pack2<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]);
                a[3] = attn::pack2<T>(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
                for (int dp = 0; dp < D / 16; ++dp) {
                    uint32_t bv[4];
                    attn::ldmatrix_x4_trans(bv, cv + attn::swz<D>(kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8,
                                                                   dp * 16 + (lane >> 4) * 8));
                    attn::mma16816<T>(o[2 * dp], a, bv[0], bv[1]);
                    attn::mma16816<T>(o[2 * dp + 1], a, bv[2], bv[3]);
                }
            }
            __syncthreads();  // the next iteration refills the other buffer; this one is free after this
        }
        if (n_tiles == 0) {  // nothing visible: only the Q copies (into every warp's rows) are in flight
            attn::cp_async_wait<0>();
            __syncthreads();
        }

        // Normalise once, stage this warp's rows in s_q (only this warp reads them), store 16 bytes at a time.
        float inv[2];
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            l_row[j] += __shfl_xor_sync(0xffffffffu, l_row[j], 1);
            l_row[j] += __shfl_xor_sync(0xffffffffu, l_row[j], 2);
            inv[j] = l_row[j] > 0.f ? 1.f / l_row[j] : 0.f;
        }
        __syncwarp();
#pragma unroll
        for (int i = 0; i < D / 8; ++i) {
            const int c = i * 8 + (lane & 3) * 2;
            *reinterpret_cast<uint32_t*>(s_q + attn::swz<D>(r_a, c)) = attn::pack2<T>(o[i][0] * inv[0], o[i][1] * inv[0]);
            *reinterpret_cast<uint32_t*>(s_q + attn::swz<D>(r_a + 8, c)) =
                attn::pack2<T>(o[i][2] * inv[1], o[i][3] * inv[1]);
        }
        __syncwarp();
        T* og = static_cast<T*>(p.out) + (int64_t(q_start + row0) * p.heads_q + h) * D;
        for (int i = lane; i < 16 * kChunks; i += 32) {
            const int r = warp * 16 + i / kChunks, c = (i % kChunks) * 8;
            if (r < rows_valid)
                *reinterpret_cast<uint4*>(og + r * q_stride + c) = *reinterpret_cast<const uint4*>(s_q + attn::swz<D>(r, c));
        }
        if (p.lse && (lane & 3) == 0) {
            for (int j = 0; j < 2; ++j) {
                const int r = r_a + 8 * j;
                if (r < rows_valid)
                    p.lse[int64_t(h) * p.total_q + q_start + row0 + r] =
                        l_row[j] > 0.f ? (m_row[j] + log2f(l_row[j])) * kLn2 : -INFINITY;
            }
        }
        __syncthreads();  // s_q is reloaded if this CTA takes another sequence
    }
#endif
}

// ----------------------------------------------------------------- float32 tiles

constexpr int kRows = 16, kKeys = 32, kTileThreads = 128;

struct TileParams {
    const void* q;
    const void* k;
    const void* v;
    void* out;
    nm_dtype dtype;
    bool vec;  // rows are whole 16-byte chunks: vector loads
    int64_t head_dim, heads_q, heads_kv, group;
    float scale_log2;
    int32_t window_left, window_right;
    int32_t batch;
    // prefill
    const int32_t* cu_q;
    const int32_t* cu_k;
    float* lse;
    int64_t total_q;
    // decode
    const int32_t* slots;
    const int32_t* lens;
    int32_t queries;
    int64_t capacity;
    int32_t row_chunks;  // ceil(group * queries / kRows)
    int32_t splits;
    int64_t split_keys;  // keys per split (multiple of kKeys)
    float* part_o;       // [splits, rows_total, D] when splits > 1
    float* part_lse;     // [splits, rows_total]
    int64_t rows_total;  // batch * queries * Hq
};

inline size_t tile_smem_bytes(int64_t d) {
    return size_t(kRows * d + kKeys * (d + 1) + kKeys * d + kRows * kKeys + kRows * d + 5 * kRows) * sizeof(float);  // + m, l, alpha, int64 pos
}

// Loads `rows` rows of d elements (row r at element off + r * stride) as float32 into dst (row pitch ld).
__device__ void load_rows_f32(const TileParams& p, const void* base, int64_t off, int64_t stride, int rows, int d,
                              float* dst, int ld, float mul) {
    const int tid = threadIdx.x;
    if (p.vec) {
        const int esize = p.dtype == NM_DTYPE_F32 ? 4 : 2, per = 16 / esize, chunks = d / per;
        for (int i = tid; i < rows * chunks; i += kTileThreads) {
            const int r = i / chunks, c = (i % chunks) * per;
            const uint4 raw = *reinterpret_cast<const uint4*>(static_cast<const char*>(base) +
                                                              (off + r * stride + c) * esize);
            float* o = dst + r * ld + c;
            if (p.dtype == NM_DTYPE_F32) {
                o[0] = __uint_as_float(raw.x) * mul, o[1] = __uint_as_float(raw.y) * mul;
                o[2] = __uint_as_float(raw.z) * mul, o[3] = __uint_as_float(raw.w) * mul;
            } else {
                const uint32_t w[4] = {raw.x, raw.y, raw.z, raw.w};
                for (int e = 0; e < 8; ++e) {
                    const uint16_t hbits = uint16_t(w[e >> 1] >> (16 * (e & 1)));
                    o[e] = (p.dtype == NM_DTYPE_F16 ? f16_to_float(hbits) : bf16_to_float(hbits)) * mul;
                }
            }
        }
    } else {
        for (int i = tid; i < rows * d; i += kTileThreads) {
            const int r = i / d, c = i % d;
            dst[r * ld + c] = load_float(base, p.dtype, off + r * stride + c) * mul;
        }
    }
}

template <bool kDecode>
__global__ void __launch_bounds__(kTileThreads) tile_kernel(TileParams p) {
    NM_DYNAMIC_SHARED(float, tile_smem);
    const int d = int(p.head_dim);
    float* s_q = tile_smem;                 // [kRows][d], pre-scaled by scale * log2 e
    float* s_k = s_q + kRows * d;           // [kKeys][d + 1]
    float* s_v = s_k + kKeys * (d + 1);     // [kKeys][d]
    float* s_s = s_v + kKeys * d;           // [kRows][kKeys]
    float* s_o = s_s + kRows * kKeys;       // [kRows][d]
    float* s_m = s_o + kRows * d;           // [kRows]
    float* s_l = s_m + kRows;
    float* s_alpha = s_l + kRows;
    int64_t* s_pos = reinterpret_cast<int64_t*>(s_alpha + kRows);  // [kRows] (2 floats each)
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;

    for (int b = blockIdx.z; b < p.batch; b += gridDim.z) {
        int rows, lq, lk;
        int64_t q_base, row_step, k_base, key_begin, key_end, first_query;
        int64_t head0 = 0;
        int split = 0;
        if (!kDecode) {
            const int q_start = p.cu_q[b];
            lq = p.cu_q[b + 1] - q_start;
            lk = p.cu_k[b + 1] - p.cu_k[b];
            first_query = int64_t(blockIdx.x) * kRows;
            if (first_query >= lq) continue;
            rows = int(min(int64_t(kRows), lq - first_query));
            head0 = blockIdx.y;
            q_base = ((q_start + first_query) * p.heads_q + head0) * d;
            row_step = p.heads_q * d;
            k_base = (int64_t(p.cu_k[b]) * p.heads_kv + head0 / p.group) * d;
            key_begin = 0, key_end = lk;
        } else {
            lq = p.queries;
            lk = p.lens[b];
            split = blockIdx.x / p.row_chunks;
            const int64_t r0 = int64_t(blockIdx.x % p.row_chunks) * kRows;  // row = query * group + head in group
            const int64_t group_rows = p.group * p.queries;
            rows = int(min(int64_t(kRows), group_rows - r0));
            first_query = r0;  // reused below as the first group row
            q_base = 0, row_step = 0;
            k_base = ((int64_t(p.slots[b]) * p.capacity) * p.heads_kv + blockIdx.y) * d;
            key_begin = split * p.split_keys;
            key_end = min(int64_t(lk), key_begin + p.split_keys);
        }
        const int64_t kv_stride = p.heads_kv * d;
        const int64_t shift = int64_t(lk) - lq;

        // Per-row positions and element offsets of q/out rows.
        if (tid < kRows) {
            int64_t pos = 0;
            if (tid < rows) {
                if (!kDecode) pos = first_query + tid + shift;
                else pos = (first_query + tid) / p.group + shift;
            }
            s_pos[tid] = pos;
            s_m[tid] = -INFINITY;
            s_l[tid] = 0.f;
        }
        __syncthreads();
        auto q_row_off = [&](int r) -> int64_t {
            if (!kDecode) return q_base + r * row_step;
            const int64_t g = first_query + r, qi = g / p.group, h = blockIdx.y * p.group + g % p.group;
            return ((int64_t(b) * p.queries + qi) * p.heads_q + h) * d;
        };
        for (int r = 0; r < rows; ++r) {  // rows are not evenly strided in decode: one row at a time
            load_rows_f32(p, p.q, q_row_off(r), 0, 1, d, s_q + r * d, d, p.scale_log2);
        }
        for (int i = tid; i < kRows * d; i += kTileThreads) s_o[i] = 0.f;

        const int64_t lo_all = max(attn_key_lo(s_pos[0], p.window_left), key_begin);
        const int64_t hi_all = min(attn_key_hi(s_pos[rows - 1], p.window_right, lk), key_end - 1);
        for (int64_t t0 = lo_all >= 0 ? lo_all / kKeys * kKeys : 0; lo_all <= hi_all && t0 <= hi_all; t0 += kKeys) {
            const int keys = int(min(int64_t(kKeys), key_end - t0));
            __syncthreads();  // previous tile fully consumed (and q/o initialised)
            load_rows_f32(p, p.k, k_base + t0 * kv_stride, kv_stride, keys, d, s_k, d + 1, 1.f);
            load_rows_f32(p, p.v, k_base + t0 * kv_stride, kv_stride, keys, d, s_v, d, 1.f);
            __syncthreads();
            for (int i = tid; i < rows * kKeys; i += kTileThreads) {
                const int r = i / kKeys, j = i % kKeys;
                const int64_t key = t0 + j;
                float x = -INFINITY;
                if (j < keys && key >= max(attn_key_lo(s_pos[r], p.window_left), key_begin) &&
                    key <= attn_key_hi(s_pos[r], p.window_right, lk)) {
                    const float* qr = s_q + r * d;
                    const float* kr = s_k + j * (d + 1);
                    float acc = 0.f;
                    for (int c = 0; c < d; ++c) acc = fmaf(qr[c], kr[c], acc);
                    x = acc;
                }
                s_s[r * kKeys + j] = x;
            }
            __syncthreads();
            for (int r = warp; r < rows; r += kTileThreads / 32) {
                const float x = s_s[r * kKeys + lane];
                const float m_old = s_m[r];
                const float m_new = fmaxf(m_old, cu::warp_max(x));
                const float m_use = m_new == -INFINITY ? 0.f : m_new;
                const float pr = exp2f(x - m_use);
                const float sum = cu::warp_sum(pr);
                s_s[r * kKeys + lane] = pr;
                __syncwarp();
                if (lane == 0) {
                    const float alpha = exp2f(m_old - m_use);
                    s_alpha[r] = alpha;
                    s_l[r] = s_l[r] * alpha + sum;
                    s_m[r] = m_new;
                }
            }
            __syncthreads();
            for (int i = tid; i < rows * d; i += kTileThreads) {
                const int r = i / d, c = i % d;
                float acc = s_o[i] * s_alpha[r];
                const float* pr = s_s + r * kKeys;
                for (int j = 0; j < keys; ++j) acc = fmaf(pr[j], s_v[j * d + c], acc);
                s_o[i] = acc;
            }
        }
        __syncthreads();
        for (int i = tid; i < rows * d; i += kTileThreads) {
            const int r = i / d, c = i % d;
            const float l = s_l[r];
            const float val = l > 0.f ? s_o[i] / l : 0.f;
            const int64_t off = q_row_off(r);
            if (kDecode && p.splits > 1) p.part_o[int64_t(split) * p.rows_total * d + off + c] = val;
            else store_float(p.out, p.dtype, off + c, val);
        }
        if (tid < rows) {
            const float l = s_l[tid];
            const float lse = l > 0.f ? (s_m[tid] + log2f(l)) * kLn2 : -INFINITY;
            if (!kDecode && p.lse) p.lse[blockIdx.y * p.total_q + p.cu_q[b] + first_query + tid] = lse;
            if (kDecode && p.splits > 1) p.part_lse[int64_t(split) * p.rows_total + q_row_off(tid) / d] = lse;
        }
        __syncthreads();
    }
}

// out[row] = sum_s w_s * part_o[s][row] / sum_s w_s with w_s = exp(lse_s - max lse).
__global__ void combine_kernel(const float* __restrict__ part_o, const float* __restrict__ part_lse, void* out,
                               nm_dtype dtype, int64_t rows, int64_t d, int splits) {
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        float mx = -INFINITY;
        for (int s = 0; s < splits; ++s) mx = fmaxf(mx, part_lse[s * rows + row]);
        for (int64_t c = threadIdx.x; c < d; c += blockDim.x) {
            float num = 0.f, den = 0.f;
            if (mx != -INFINITY) {
                for (int s = 0; s < splits; ++s) {
                    const float w = expf(part_lse[s * rows + row] - mx);
                    num += w * part_o[(s * rows + row) * d + c];
                    den += w;
                }
            }
            store_float(out, dtype, row * d + c, den > 0.f ? num / den : 0.f);
        }
    }
}

inline size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

// ------------------------------------------------------------- launch plans
// What CudaBackend::attention and attention_decode decide on the host.

// Rows of d elements are whole 16-byte chunks: the tile kernel's vector loads.
inline bool rows_vectorisable(nm_dtype dtype, int64_t d) { return (d * (dtype == NM_DTYPE_F32 ? 4 : 2)) % 16 == 0; }

// The offsets the kernels read (copied to the workspace): batch + 1 query
// offsets, then batch + 1 key offsets (one sequence: {0, T}); and the
// longest query run, which sizes the grid.
struct AttentionOffsets {
    std::vector<int32_t> cu;
    int max_lq = 0;
};

inline AttentionOffsets attention_offsets(const AttentionArgs& a) {
    AttentionOffsets r;
    r.cu.resize(2 * (size_t(a.batch) + 1));
    for (int32_t b = 0; b <= a.batch; ++b) {
        r.cu[size_t(b)] = a.cu_seqlens_q ? a.cu_seqlens_q[b] : (b == 0 ? 0 : int32_t(a.total_q));
        r.cu[size_t(a.batch) + 1 + size_t(b)] =
            a.cu_seqlens_k ? a.cu_seqlens_k[b] : (b == 0 ? 0 : int32_t(a.total_k));
    }
    for (int32_t b = 0; b < a.batch; ++b) r.max_lq = std::max(r.max_lq, r.cu[size_t(b) + 1] - r.cu[size_t(b)]);
    return r;
}

// The tensor-core kernel: float16 / bfloat16, head dim 64, 128 or 256, sm_80+.
inline bool use_flash(const AttentionArgs& a, int cc_major) {
    const int64_t d = a.head_dim;
    return cc_major >= 8 && (a.q.dtype == NM_DTYPE_F16 || a.q.dtype == NM_DTYPE_BF16) &&
           (d == 64 || d == 128 || d == 256);
}

inline FlashParams flash_params(const AttentionArgs& a, const int32_t* cu_q, const int32_t* cu_k) {
    FlashParams fp;
    fp.q = a.q.data, fp.k = a.k.data, fp.v = a.v.data, fp.out = a.out.data;
    fp.lse = a.lse.present() ? static_cast<float*>(a.lse.data) : nullptr;
    fp.cu_q = cu_q, fp.cu_k = cu_k, fp.batch = a.batch;
    fp.total_q = a.total_q, fp.heads_q = a.heads_q, fp.heads_kv = a.heads_kv, fp.group = a.heads_q / a.heads_kv;
    fp.scale_log2 = a.softmax_scale * kLog2e;
    fp.window_left = a.window_left, fp.window_right = a.window_right;
    return fp;
}

struct FlashLaunch {
    void (*kernel)(FlashParams);
    dim3 grid, block;
    size_t smem;  // dynamic shared memory (above the 48 KiB default: opt in first)
};

template <class T, int D>
FlashLaunch flash_launch_for(const FlashParams& fp, int max_lq) {
    const dim3 grid(unsigned((max_lq + kBr - 1) / kBr), unsigned(fp.heads_q), unsigned(std::min(fp.batch, 65535)));
    return FlashLaunch{flash_kernel<T, D>, grid, dim3(kFlashThreads), flash_smem_bytes<D>()};
}

// dtype and d as use_flash accepted them.
inline FlashLaunch flash_launch(nm_dtype dtype, int64_t d, const FlashParams& fp, int max_lq) {
    if (dtype == NM_DTYPE_F16) {
        if (d == 64) return flash_launch_for<__half, 64>(fp, max_lq);
        if (d == 128) return flash_launch_for<__half, 128>(fp, max_lq);
        return flash_launch_for<__half, 256>(fp, max_lq);
    }
    if (d == 64) return flash_launch_for<__nv_bfloat16, 64>(fp, max_lq);
    if (d == 128) return flash_launch_for<__nv_bfloat16, 128>(fp, max_lq);
    return flash_launch_for<__nv_bfloat16, 256>(fp, max_lq);
}

struct TileLaunch {
    void (*kernel)(TileParams);
    dim3 grid, block;
    size_t smem;  // dynamic shared memory: the caller checks it against the device's limit
};

inline TileParams tile_prefill_params(const AttentionArgs& a, const int32_t* cu_q, const int32_t* cu_k) {
    TileParams tp{};
    tp.q = a.q.data, tp.k = a.k.data, tp.v = a.v.data, tp.out = a.out.data, tp.dtype = a.q.dtype;
    tp.vec = rows_vectorisable(a.q.dtype, a.head_dim);
    tp.head_dim = a.head_dim, tp.heads_q = a.heads_q, tp.heads_kv = a.heads_kv, tp.group = a.heads_q / a.heads_kv;
    tp.scale_log2 = a.softmax_scale * kLog2e;
    tp.window_left = a.window_left, tp.window_right = a.window_right, tp.batch = a.batch;
    tp.cu_q = cu_q, tp.cu_k = cu_k, tp.total_q = a.total_q;
    tp.lse = a.lse.present() ? static_cast<float*>(a.lse.data) : nullptr;
    return tp;
}

inline TileLaunch tile_prefill_launch(const AttentionArgs& a, int max_lq) {
    const dim3 grid(unsigned((max_lq + kRows - 1) / kRows), unsigned(a.heads_q), unsigned(std::min(a.batch, 65535)));
    return TileLaunch{tile_kernel<false>, grid, dim3(kTileThreads), tile_smem_bytes(a.head_dim)};
}

// How decode splits the cache along keys, and where the workspace holds what:
// slots and cache_lens (batch int32 each) at the start, then the partial
// outputs and their lse when splits > 1.
struct DecodePlan {
    int32_t row_chunks = 0;  // ceil(group * queries / kRows)
    int64_t splits = 1, split_keys = 0, rows_total = 0;
    size_t part_offset = 0, part_lse_offset = 0, workspace_bytes = 0;
};

// sms: the device's multiprocessor count.
inline DecodePlan decode_plan(const AttentionDecodeArgs& a, int sms) {
    DecodePlan pl;
    const int64_t d = a.head_dim, group = a.heads_q / a.heads_kv;
    pl.row_chunks = int32_t((group * a.queries + kRows - 1) / kRows);
    int32_t max_len = 0;
    for (int32_t b = 0; b < a.batch; ++b) max_len = std::max(max_len, a.cache_lens[b]);

    // Split the keys so that about two waves of CTAs cover the GPU, each split at least 4 tiles.
    const int64_t base_ctas = int64_t(a.batch) * a.heads_kv * pl.row_chunks;
    int64_t splits = std::max<int64_t>(1, (2 * int64_t(sms) + base_ctas - 1) / base_ctas);
    splits = std::min<int64_t>(splits, std::max<int64_t>(1, max_len / (4 * kKeys)));
    splits = std::min<int64_t>(splits, 64);
    int64_t split_keys = (max_len + splits - 1) / splits;
    split_keys = (split_keys + kKeys - 1) / kKeys * kKeys;
    splits = std::max<int64_t>(1, (max_len + split_keys - 1) / split_keys);
    pl.splits = splits;
    pl.split_keys = split_keys;
    pl.rows_total = int64_t(a.batch) * a.queries * a.heads_q;

    const size_t host_bytes = 2 * size_t(a.batch) * sizeof(int32_t);
    pl.part_offset = align_up(host_bytes, 256);
    const size_t part_o_bytes = splits > 1 ? size_t(splits * pl.rows_total * d) * sizeof(float) : 0;
    pl.part_lse_offset = align_up(pl.part_offset + part_o_bytes, 256);
    pl.workspace_bytes =
        pl.part_lse_offset + (splits > 1 ? size_t(splits * pl.rows_total) * sizeof(float) : 0);
    return pl;
}

// ws: the workspace laid out as the plan says, slots and cache_lens already copied.
inline TileParams decode_params(const AttentionDecodeArgs& a, const DecodePlan& pl, char* ws) {
    TileParams tp{};
    tp.q = a.q.data, tp.k = a.k_cache.data, tp.v = a.v_cache.data, tp.out = a.out.data, tp.dtype = a.q.dtype;
    tp.vec = rows_vectorisable(a.q.dtype, a.head_dim);
    tp.head_dim = a.head_dim, tp.heads_q = a.heads_q, tp.heads_kv = a.heads_kv, tp.group = a.heads_q / a.heads_kv;
    tp.scale_log2 = a.softmax_scale * kLog2e;
    tp.window_left = a.window_left, tp.window_right = a.window_right, tp.batch = a.batch;
    tp.slots = reinterpret_cast<const int32_t*>(ws);
    tp.lens = tp.slots + a.batch;
    tp.queries = a.queries, tp.capacity = a.capacity, tp.row_chunks = pl.row_chunks;
    tp.splits = int32_t(pl.splits), tp.split_keys = pl.split_keys, tp.rows_total = pl.rows_total;
    tp.part_o = pl.splits > 1 ? reinterpret_cast<float*>(ws + pl.part_offset) : nullptr;
    tp.part_lse = pl.splits > 1 ? reinterpret_cast<float*>(ws + pl.part_lse_offset) : nullptr;
    return tp;
}

inline TileLaunch decode_launch(const AttentionDecodeArgs& a, const DecodePlan& pl) {
    const dim3 grid(unsigned(pl.splits * pl.row_chunks), unsigned(a.heads_kv), unsigned(std::min(a.batch, 65535)));
    return TileLaunch{tile_kernel<true>, grid, dim3(kTileThreads), tile_smem_bytes(a.head_dim)};
}

// The merge of the splits (only when pl.splits > 1).
struct CombineLaunch {
    void (*kernel)(const float*, const float*, void*, nm_dtype, int64_t, int64_t, int);
    dim3 grid, block;
};

inline CombineLaunch combine_launch(const DecodePlan& pl) {
    return CombineLaunch{combine_kernel, dim3(cu::grid_for_rows(pl.rows_total)), dim3(128)};
}

}  // namespace
}  // namespace nm
