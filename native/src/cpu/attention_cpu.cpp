// attention_cpu.cpp — varlen attention and decode attention on the CPU.
//
// The same blocked online-softmax algorithm as the CUDA kernels (see
// docs/attention.md), so the CPU is a faithful twin rather than a different
// formula: a work item is (sequence, query head, block of kBlockQ queries);
// it streams keys in tiles of kBlockK, skips tiles no query of the block can
// see, keeps a running maximum m and sum l per query in base-2 units (the
// scale is folded with log2(e)), rescales the float32 accumulator when m
// grows, and normalises once at the end. lse = (m + log2 l) * ln 2; a query
// that sees no key gets zeros and lse = -inf.
//
// Decode is the same routine: sequence b's queries against the first
// cache_lens[b] positions of its cache slot, Lq = queries.
//
// Work items are spread over OpenMP threads (dynamic schedule: causal blocks
// differ in cost). Each thread uses its own scratch, allocated up front so
// nothing can throw inside the parallel region. q is read into scratch before
// out is written, so out may be q.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu_backend.h"
#include "cpu_common.h"
#include "../core/attention_window.h"

namespace nm {

namespace {

constexpr int64_t kBlockQ = 16;
constexpr int64_t kBlockK = 64;
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// One (sequence, head, query block) problem, in elements of the tensors.
struct Block {
    int64_t q_off, q_stride;    // q/out element offset of the block's first row; row stride
    int64_t k_off, kv_stride;   // k/v element offset of key 0 of the sequence for this head; row stride
    int64_t rows;               // queries in this block (<= kBlockQ)
    int64_t first_query;        // index of the block's first query within its sequence
    int64_t lq, lk;             // sequence lengths
    float* lse;                 // lse of the first row (stride 1), or nullptr
};

struct Problem {
    TensorView q, k, v, out;
    int64_t head_dim;
    float scale_log2;           // softmax_scale * log2(e)
    int32_t window_left, window_right;
};

struct Scratch {
    std::vector<float> q, k, v, s, acc, m, l;
    explicit Scratch(int64_t d)
        : q(size_t(kBlockQ * d)), k(size_t(kBlockK * d)), v(size_t(kBlockK * d)), s(size_t(kBlockQ * kBlockK)),
          acc(size_t(kBlockQ * d)), m(size_t(kBlockQ)), l(size_t(kBlockQ)) {}
};

// Eight independent partial sums: vectorisable without reassociation flags.
inline float dot(const float* a, const float* b, int64_t n) {
    float s[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    int64_t c = 0;
    for (; c + 8 <= n; c += 8)
        for (int u = 0; u < 8; ++u) s[u] += a[c + u] * b[c + u];
    float tail = 0.f;
    for (; c < n; ++c) tail += a[c] * b[c];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])) + tail;
}

template <bool F32>
void load_rows(const TensorView& t, int64_t off, int64_t stride, int64_t rows, int64_t d, float* dst) {
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < d; ++c) dst[r * d + c] = cpu::load<F32>(t, off + r * stride + c);
}

template <bool F32>
void attend_block(const Problem& p, const Block& b, Scratch& s) {
    const int64_t d = p.head_dim;
    const int64_t shift = b.lk - b.lq;  // aligned position of query i is i + shift
    float* q = s.q.data();
    float* acc = s.acc.data();
    float* m = s.m.data();
    float* l = s.l.data();
    load_rows<F32>(p.q, b.q_off, b.q_stride, b.rows, d, q);
    std::fill(acc, acc + b.rows * d, 0.f);
    std::fill(m, m + b.rows, -INFINITY);
    std::fill(l, l + b.rows, 0.f);

    // Keys any query of the block can see: lo of the first, hi of the last query.
    const int64_t p_first = b.first_query + shift, p_last = b.first_query + b.rows - 1 + shift;
    const int64_t key_lo = attn_key_lo(p_first, p.window_left);
    const int64_t key_hi = attn_key_hi(p_last, p.window_right, b.lk);
    if (key_lo <= key_hi) {
        for (int64_t t0 = key_lo / kBlockK * kBlockK; t0 <= key_hi; t0 += kBlockK) {
            const int64_t keys = std::min(kBlockK, b.lk - t0);
            load_rows<F32>(p.k, b.k_off + t0 * b.kv_stride, b.kv_stride, keys, d, s.k.data());
            load_rows<F32>(p.v, b.k_off + t0 * b.kv_stride, b.kv_stride, keys, d, s.v.data());
            for (int64_t r = 0; r < b.rows; ++r) {
                const int64_t pos = b.first_query + r + shift;
                const int64_t lo = std::max(attn_key_lo(pos, p.window_left) - t0, int64_t(0));
                const int64_t hi = std::min(attn_key_hi(pos, p.window_right, b.lk) - t0, keys - 1);
                if (lo > hi) continue;  // this query sees nothing in this tile
                float* srow = s.s.data() + r * kBlockK;
                const float* qr = q + r * d;
                float tile_max = -INFINITY;
                for (int64_t j = lo; j <= hi; ++j) {
                    srow[j] = dot(qr, s.k.data() + j * d, d) * p.scale_log2;
                    tile_max = std::max(tile_max, srow[j]);
                }
                const float m_new = std::max(m[r], tile_max);
                const float alpha = std::exp2(m[r] - m_new);  // m[r] = -inf gives 0
                float sum = 0.f;
                for (int64_t j = lo; j <= hi; ++j) {
                    srow[j] = std::exp2(srow[j] - m_new);
                    sum += srow[j];
                }
                l[r] = l[r] * alpha + sum;
                m[r] = m_new;
                float* ar = acc + r * d;
                for (int64_t c = 0; c < d; ++c) ar[c] *= alpha;
                for (int64_t j = lo; j <= hi; ++j) {
                    const float pj = srow[j];
                    const float* vr = s.v.data() + j * d;
                    for (int64_t c = 0; c < d; ++c) ar[c] += pj * vr[c];
                }
            }
        }
    }
    for (int64_t r = 0; r < b.rows; ++r) {
        const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;
        for (int64_t c = 0; c < d; ++c) cpu::store<F32>(p.out, b.q_off + r * b.q_stride + c, acc[r * d + c] * inv);
        if (b.lse) b.lse[r] = l[r] > 0.f ? (m[r] + std::log2(l[r])) * kLn2 : -INFINITY;
    }
}

// Runs `count` work items; make(i, &block) describes item i.
template <class Make>
void run_blocks(const Problem& p, int64_t count, const Make& make) {
    const bool f32 = cpu::all_f32({&p.q, &p.k, &p.v, &p.out});
    const int threads = std::max(1, omp_get_max_threads());
    std::vector<Scratch> scratch;
    scratch.reserve(size_t(threads));
    for (int t = 0; t < threads; ++t) scratch.emplace_back(p.head_dim);
    const bool parallel = count > 1;
#pragma omp parallel for schedule(dynamic) num_threads(threads) if (parallel)
    for (int64_t i = 0; i < count; ++i) {
        Block b;
        make(i, &b);
        Scratch& s = scratch[size_t(omp_get_thread_num())];
        if (f32) attend_block<true>(p, b, s);
        else attend_block<false>(p, b, s);
    }
}

}  // namespace

nm_status CpuBackend::attention(const AttentionArgs& a) {
    Problem p{a.q, a.k, a.v, a.out, a.head_dim, a.softmax_scale * kLog2e, a.window_left, a.window_right};
    const int32_t single_q[2] = {0, int32_t(a.total_q)}, single_k[2] = {0, int32_t(a.total_k)};
    const int32_t* cu_q = a.cu_seqlens_q ? a.cu_seqlens_q : single_q;
    const int32_t* cu_k = a.cu_seqlens_k ? a.cu_seqlens_k : single_k;

    // Query blocks of every sequence, in order: block_start[b] is the first block of sequence b.
    std::vector<int64_t> block_start(size_t(a.batch) + 1, 0);
    for (int32_t b = 0; b < a.batch; ++b)
        block_start[size_t(b) + 1] = block_start[size_t(b)] + (cu_q[b + 1] - cu_q[b] + kBlockQ - 1) / kBlockQ;
    const int64_t blocks = block_start[size_t(a.batch)];
    const int64_t group = a.heads_q / a.heads_kv;
    float* lse = a.lse.present() ? static_cast<float*>(a.lse.data) : nullptr;

    run_blocks(p, blocks * a.heads_q, [&](int64_t i, Block* blk) {
        const int64_t h = i % a.heads_q, gb = i / a.heads_q;
        const int64_t b = std::upper_bound(block_start.begin(), block_start.end(), gb) - block_start.begin() - 1;
        const int64_t qb = gb - block_start[size_t(b)];
        const int64_t lq = cu_q[b + 1] - cu_q[b];
        const int64_t row0 = cu_q[b] + qb * kBlockQ;
        blk->q_stride = a.heads_q * a.head_dim;
        blk->q_off = (row0 * a.heads_q + h) * a.head_dim;
        blk->kv_stride = a.heads_kv * a.head_dim;
        blk->k_off = (int64_t(cu_k[b]) * a.heads_kv + h / group) * a.head_dim;
        blk->rows = std::min(kBlockQ, lq - qb * kBlockQ);
        blk->first_query = qb * kBlockQ;
        blk->lq = lq;
        blk->lk = cu_k[b + 1] - cu_k[b];
        blk->lse = lse ? lse + h * a.total_q + row0 : nullptr;
    });
    return NM_OK;
}

nm_status CpuBackend::attention_decode(const AttentionDecodeArgs& a) {
    Problem p{a.q, a.k_cache, a.v_cache, a.out, a.head_dim, a.softmax_scale * kLog2e, a.window_left,
              a.window_right};
    const int64_t qblocks = (a.queries + kBlockQ - 1) / kBlockQ;
    const int64_t group = a.heads_q / a.heads_kv;
    run_blocks(p, int64_t(a.batch) * qblocks * a.heads_q, [&](int64_t i, Block* blk) {
        const int64_t h = i % a.heads_q, qb = (i / a.heads_q) % qblocks, b = i / (a.heads_q * qblocks);
        const int64_t row0 = b * a.queries + qb * kBlockQ;
        blk->q_stride = a.heads_q * a.head_dim;
        blk->q_off = (row0 * a.heads_q + h) * a.head_dim;
        blk->kv_stride = a.heads_kv * a.head_dim;
        blk->k_off = ((int64_t(a.slots[b]) * a.capacity) * a.heads_kv + h / group) * a.head_dim;
        blk->rows = std::min(kBlockQ, int64_t(a.queries) - qb * kBlockQ);
        blk->first_query = qb * kBlockQ;
        blk->lq = a.queries;
        blk->lk = a.cache_lens[b];
        blk->lse = nullptr;
    });
    return NM_OK;
}

}  // namespace nm
