// test_attention.cpp — nm_attention, nm_kv_cache_append and
// nm_attention_decode against a naive double-precision softmax(QK^T * scale +
// mask) V: dtypes, head dims (64/128/256 and an odd 40), GQA/MQA, causal and
// bidirectional, Lq != Lk, sliding windows, ragged batches, lse, fully masked
// rows; decode against prefill on the same cache; append-then-decode; every
// argument check; CUDA against CPU.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "test_reference.h"
#include "test_util.h"

using namespace nmtest;

namespace {

struct AttnCase {
    std::vector<int32_t> lq = {5}, lk = {5};  // per sequence
    int64_t hq = 2, hkv = 1, d = 64;
    bool causal = false;
    int32_t wl = -1, wr = -1;
    float scale = 0.f;  // 0: default
    bool varlen = false;  // pass cu_seqlens even for one sequence
};

std::vector<int32_t> offsets(const std::vector<int32_t>& lens) {
    std::vector<int32_t> cu(1, 0);
    for (int32_t l : lens) cu.push_back(cu.back() + l);
    return cu;
}

struct RefOut {
    std::vector<double> out, lse;
};

// The definition: each query sees key j iff the mask allows; softmax over those.
RefOut ref_attention(const AttnCase& c, const std::vector<float>& q, const std::vector<float>& k,
                     const std::vector<float>& v) {
    const auto cq = offsets(c.lq), ck = offsets(c.lk);
    const int64_t tq = cq.back(), d = c.d, group = c.hq / c.hkv;
    const double scale = c.scale > 0 ? c.scale : 1.0 / std::sqrt(double(d));
    const int32_t wr = c.causal ? 0 : c.wr;
    RefOut r{std::vector<double>(size_t(tq * c.hq * d), 0.0), std::vector<double>(size_t(c.hq * tq), -INFINITY)};
    for (size_t b = 0; b < c.lq.size(); ++b) {
        const int64_t lq = c.lq[b], lk = c.lk[b];
        for (int64_t i = 0; i < lq; ++i) {
            const int64_t p = i + lk - lq;
            for (int64_t h = 0; h < c.hq; ++h) {
                const int64_t hk = h / group;
                std::vector<double> s;
                std::vector<int64_t> keys;
                for (int64_t j = 0; j < lk; ++j) {
                    if (c.wl >= 0 && j < p - c.wl) continue;
                    if (wr >= 0 && j > p + wr) continue;
                    double dot = 0;
                    for (int64_t e = 0; e < d; ++e)
                        dot += double(q[size_t(((cq[b] + i) * c.hq + h) * d + e)]) *
                               k[size_t(((ck[b] + j) * c.hkv + hk) * d + e)];
                    s.push_back(dot * scale);
                    keys.push_back(j);
                }
                if (s.empty()) continue;
                const double m = *std::max_element(s.begin(), s.end());
                double sum = 0;
                for (double& x : s) sum += (x = std::exp(x - m));
                const size_t o = size_t(((cq[b] + i) * c.hq + h) * d);
                for (size_t n = 0; n < s.size(); ++n)
                    for (int64_t e = 0; e < d; ++e)
                        r.out[o + e] += s[n] / sum * v[size_t(((ck[b] + keys[n]) * c.hkv + hk) * d + e)];
                r.lse[size_t(h * tq + cq[b] + i)] = m + std::log(sum);
            }
        }
    }
    return r;
}

struct Inputs {
    std::vector<float> q, k, v;
};

Inputs make_inputs(const AttnCase& c, nm_dtype dtype, uint32_t seed) {
    const int64_t tq = offsets(c.lq).back(), tk = offsets(c.lk).back();
    return {round_to(dtype, random_floats(size_t(tq * c.hq * c.d), seed)),
            round_to(dtype, random_floats(size_t(tk * c.hkv * c.d), seed + 1)),
            round_to(dtype, random_floats(size_t(tk * c.hkv * c.d), seed + 2))};
}

struct RunOut {
    std::vector<float> out, lse;
};

RunOut run_attention(nm_context* ctx, nm_dtype dtype, const AttnCase& c, const Inputs& in) {
    const auto cq = offsets(c.lq), ck = offsets(c.lk);
    const int64_t tq = cq.back(), tk = ck.back();
    Tensor q = make_tensor(ctx, dtype, {tq, c.hq, c.d}, in.q);
    Tensor k = make_tensor(ctx, dtype, {tk, c.hkv, c.d}, in.k);
    Tensor v = make_tensor(ctx, dtype, {tk, c.hkv, c.d}, in.v);
    Tensor out = make_tensor(ctx, dtype, {tq, c.hq, c.d});
    Tensor lse = make_tensor(ctx, NM_DTYPE_F32, {c.hq, tq});
    nm_attention_params p{c.scale, c.causal ? 1 : 0, c.wl, c.wr};
    const bool cu = c.varlen || c.lq.size() > 1;
    EXPECT_NM_OK(nm_attention(ctx, q, k, v, cu ? cq.data() : nullptr, cu ? ck.data() : nullptr,
                              int32_t(c.lq.size()), out, lse, &p));
    return {download(ctx, out), download(ctx, lse)};
}

double tol(nm_dtype dtype) { return dtype == NM_DTYPE_F32 ? 1e-4 : dtype == NM_DTYPE_F16 ? 2e-3 : 2e-2; }

// lse: infinities must match exactly, finite values within tol (relative to max(1, |want|)).
void expect_lse(const std::vector<float>& got, const std::vector<double>& want, double tolerance) {
    ASSERT_EQ(got.size(), want.size());
    std::vector<float> g = got;
    std::vector<double> w = want;
    for (size_t i = 0; i < g.size(); ++i) {
        if (std::isinf(w[i]) || std::isinf(g[i])) {
            EXPECT_EQ(g[i], float(w[i])) << "lse entry " << i;
            g[i] = 0.f, w[i] = 0.0;
        }
    }
    expect_close(g, w, tolerance);
}

void expect_case(const AttnCase& c, nm_dtype dtype, uint32_t seed) {
    SCOPED_TRACE(testing::Message() << nm_dtype_name(dtype) << " d=" << c.d << " hq=" << c.hq << " hkv=" << c.hkv
                                    << " causal=" << c.causal << " window=(" << c.wl << "," << c.wr << ") seqs="
                                    << c.lq.size() << " lq0=" << c.lq[0] << " lk0=" << c.lk[0]);
    Context ctx("cpu");
    const Inputs in = make_inputs(c, dtype, seed);
    const RunOut got = run_attention(ctx, dtype, c, in);
    const RefOut want = ref_attention(c, in.q, in.k, in.v);
    expect_close(got.out, want.out, tol(dtype));
    expect_lse(got.lse, want.lse, 1e-4);
}

}  // namespace

// ------------------------------------------------------------------ prefill

TEST(Attention, DtypesHeadDimsGqaCausal) {
    for (nm_dtype dtype : kFloatDtypes)
        for (int64_t d : {64, 128, 256, 40})
            for (int64_t hkv : {4, 2, 1})  // GQA ratios 1, 2, 4 (4 is MQA here)
                for (bool causal : {false, true}) {
                    AttnCase c;
                    c.lq = {33}, c.lk = {33}, c.hq = 4, c.hkv = hkv, c.d = d, c.causal = causal;
                    expect_case(c, dtype, uint32_t(d + hkv + causal));
                }
}

TEST(Attention, GqaRatioEightAndMqa) {
    for (int64_t hkv : {2, 1}) {
        AttnCase c;
        c.lq = {20}, c.lk = {20}, c.hq = 16, c.hkv = hkv, c.d = 64, c.causal = true;
        expect_case(c, NM_DTYPE_F32, 7);
    }
}

TEST(Attention, Lengths) {
    for (int32_t len : {1, 7, 63, 64, 65, 300, 1000})
        for (bool causal : {false, true}) {
            AttnCase c;
            c.lq = {len}, c.lk = {len}, c.hq = len >= 300 ? 1 : 2, c.hkv = 1, c.d = 64, c.causal = causal;
            expect_case(c, NM_DTYPE_F32, uint32_t(len));
        }
    AttnCase c;
    c.lq = {300}, c.lk = {300}, c.hq = 2, c.hkv = 1, c.d = 128, c.causal = true;
    expect_case(c, NM_DTYPE_BF16, 99);
}

TEST(Attention, ChunkedPrefillBottomRightAligned) {
    // Lq < Lk: the queries are the last Lq positions (a chunk after a prefix in the cache).
    for (bool causal : {false, true})
        for (int32_t lq : {1, 37, 64, 65}) {
            AttnCase c;
            c.lq = {lq}, c.lk = {300}, c.hq = 2, c.hkv = 1, c.d = 64, c.causal = causal;
            expect_case(c, NM_DTYPE_F32, uint32_t(lq));
            c.d = 128;
            expect_case(c, NM_DTYPE_BF16, uint32_t(lq + 1));
        }
}

TEST(Attention, SlidingWindows) {
    const int32_t windows[][2] = {{16, -1}, {5, 3}, {0, 0}, {-1, 4}, {64, 0}, {100, 100}};
    for (auto w : windows)
        for (bool causal : {false, true}) {
            AttnCase c;
            c.lq = {200}, c.lk = {200}, c.hq = 2, c.hkv = 1, c.d = 64, c.causal = causal, c.wl = w[0], c.wr = w[1];
            expect_case(c, NM_DTYPE_F32, uint32_t(w[0] + 3 * w[1] + 7));
            c.lq = {70};  // chunk: window relative to the aligned positions
            expect_case(c, NM_DTYPE_F32, uint32_t(w[0] + 3 * w[1] + 8));
        }
}

TEST(Attention, RaggedBatch) {
    for (bool causal : {false, true})
        for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16}) {
            AttnCase c;
            c.lq = {1, 65, 0, 130, 7, 64};
            c.lk = {1, 65, 5, 200, 7, 64};
            c.hq = 4, c.hkv = 2, c.d = 64, c.causal = causal;
            expect_case(c, dtype, 17);
            c.wl = 20;
            expect_case(c, dtype, 18);
        }
    AttnCase one;  // cu_seqlens given for a single sequence
    one.lq = {9}, one.lk = {9}, one.varlen = true, one.causal = true;
    expect_case(one, NM_DTYPE_F32, 3);
}

TEST(Attention, CustomScale) {
    AttnCase c;
    c.lq = {40}, c.lk = {50}, c.hq = 2, c.hkv = 2, c.d = 64, c.scale = 0.3f;
    expect_case(c, NM_DTYPE_F32, 5);
}

TEST(Attention, FullyMaskedRowsGiveZeroAndMinusInfLse) {
    // Lq > Lk with causal: the first Lq - Lk queries sit at negative positions and see nothing.
    AttnCase c;
    c.lq = {10}, c.lk = {4}, c.hq = 2, c.hkv = 1, c.d = 64, c.causal = true;
    expect_case(c, NM_DTYPE_F32, 11);
    Context ctx("cpu");
    const Inputs in = make_inputs(c, NM_DTYPE_F32, 11);
    const RunOut got = run_attention(ctx, NM_DTYPE_F32, c, in);
    for (int64_t i = 0; i < 10; ++i)
        for (int64_t h = 0; h < 2; ++h) {
            const float lse = got.lse[size_t(h * 10 + i)];
            if (i < 6) {
                EXPECT_EQ(lse, -INFINITY) << i;
                for (int64_t e = 0; e < 64; ++e) EXPECT_EQ(got.out[size_t((i * 2 + h) * 64 + e)], 0.f);
            } else {
                EXPECT_TRUE(std::isfinite(lse)) << i;
            }
        }
    // A window that leaves some queries with nothing: left window with Lq > Lk, non-causal.
    AttnCase w;
    w.lq = {50}, w.lk = {10}, w.hq = 1, w.hkv = 1, w.d = 40, w.wl = 3, w.wr = 2;
    expect_case(w, NM_DTYPE_F32, 12);
}

TEST(Attention, LseIsOptionalAndOutMayBeQ) {
    Context ctx("cpu");
    AttnCase c;
    c.lq = {20}, c.lk = {20}, c.hq = 2, c.hkv = 1, c.d = 64, c.causal = true;
    const Inputs in = make_inputs(c, NM_DTYPE_F32, 21);
    const RunOut with_lse = run_attention(ctx, NM_DTYPE_F32, c, in);
    Tensor q = make_tensor(ctx, NM_DTYPE_F32, {20, 2, 64}, in.q);
    Tensor k = make_tensor(ctx, NM_DTYPE_F32, {20, 1, 64}, in.k);
    Tensor v = make_tensor(ctx, NM_DTYPE_F32, {20, 1, 64}, in.v);
    nm_attention_params p{0.f, 1, -1, -1};
    EXPECT_NM_OK(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, q, nullptr, &p));
    EXPECT_EQ(download(ctx, q), with_lse.out);
}

// ------------------------------------------------------------ cache + decode

namespace {

struct DecodeCase {
    int64_t slots = 3, capacity = 300, hq = 4, hkv = 2, d = 64;
    std::vector<int32_t> seq_slots = {2, 0}, lens = {300, 77};
    int32_t queries = 1;
    bool causal = true;
    int32_t wl = -1, wr = -1;
};

// Fills both caches with random rows (all positions), runs decode, and
// compares with nm_attention over each sequence's valid prefix.
void expect_decode_matches_prefill(const DecodeCase& c, nm_dtype dtype, uint32_t seed) {
    SCOPED_TRACE(testing::Message() << nm_dtype_name(dtype) << " queries=" << c.queries << " d=" << c.d
                                    << " causal=" << c.causal << " wl=" << c.wl);
    Context ctx("cpu");
    const int64_t row = c.hkv * c.d, batch = int64_t(c.seq_slots.size());
    const auto kc = round_to(dtype, random_floats(size_t(c.slots * c.capacity * row), seed));
    const auto vc = round_to(dtype, random_floats(size_t(c.slots * c.capacity * row), seed + 1));
    const auto qv = round_to(dtype, random_floats(size_t(batch * c.queries * c.hq * c.d), seed + 2));
    Tensor kt = make_tensor(ctx, dtype, {c.slots, c.capacity, c.hkv, c.d}, kc);
    Tensor vt = make_tensor(ctx, dtype, {c.slots, c.capacity, c.hkv, c.d}, vc);
    Tensor q = make_tensor(ctx, dtype, {batch * c.queries, c.hq, c.d}, qv);
    Tensor out = make_tensor(ctx, dtype, {batch * c.queries, c.hq, c.d});
    nm_attention_params p{0.f, c.causal ? 1 : 0, c.wl, c.wr};
    EXPECT_NM_OK(nm_attention_decode(ctx, q, kt, vt, c.seq_slots.data(), c.lens.data(), int32_t(batch), c.queries,
                                     out, &p));
    const auto got = download(ctx, out);

    // The same problem as varlen prefill: gather each sequence's keys.
    AttnCase a;
    a.hq = c.hq, a.hkv = c.hkv, a.d = c.d, a.causal = c.causal, a.wl = c.wl, a.wr = c.wr, a.varlen = true;
    a.lq.assign(size_t(batch), c.queries);
    a.lk = c.lens;
    Inputs in{qv, {}, {}};
    for (int64_t b = 0; b < batch; ++b) {
        const size_t base = size_t(c.seq_slots[size_t(b)] * c.capacity * row);
        in.k.insert(in.k.end(), kc.begin() + base, kc.begin() + base + size_t(c.lens[size_t(b)] * row));
        in.v.insert(in.v.end(), vc.begin() + base, vc.begin() + base + size_t(c.lens[size_t(b)] * row));
    }
    const RunOut prefill = run_attention(ctx, dtype, a, in);
    expect_close(got, prefill.out, dtype == NM_DTYPE_F32 ? 1e-5 : tol(dtype));
    expect_close(got, ref_attention(a, in.q, in.k, in.v).out, tol(dtype));
}

}  // namespace

TEST(AttentionDecode, MatchesPrefillOnTheSameCache) {
    for (int32_t queries : {1, 4})
        for (nm_dtype dtype : kFloatDtypes) {
            DecodeCase c;
            c.queries = queries;
            expect_decode_matches_prefill(c, dtype, uint32_t(queries));
        }
    DecodeCase mqa;  // MQA, head dim 128, three sequences sharing a slot, a window
    mqa.hq = 8, mqa.hkv = 1, mqa.d = 128, mqa.seq_slots = {1, 1, 0}, mqa.lens = {4, 299, 150}, mqa.queries = 4;
    mqa.wl = 31;
    expect_decode_matches_prefill(mqa, NM_DTYPE_F32, 9);
    DecodeCase odd;  // odd head dim, bidirectional over the cache
    odd.d = 40, odd.causal = false, odd.queries = 2, odd.lens = {2, 64};
    expect_decode_matches_prefill(odd, NM_DTYPE_F32, 10);
}

TEST(KvCache, AppendThenDecodeEqualsPrefill) {
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16}) {
        SCOPED_TRACE(nm_dtype_name(dtype));
        Context ctx("cpu");
        const int64_t L = 90, hq = 4, hkv = 2, d = 64, capacity = 128;
        AttnCase a;
        a.lq = {int32_t(L)}, a.lk = {int32_t(L)}, a.hq = hq, a.hkv = hkv, a.d = d, a.causal = true;
        const Inputs in = make_inputs(a, dtype, 40);
        const RunOut full = run_attention(ctx, dtype, a, in);

        Tensor kc = make_tensor(ctx, dtype, {2, capacity, hkv, d}, std::vector<float>(size_t(2 * capacity * hkv * d)));
        Tensor vc = make_tensor(ctx, dtype, {2, capacity, hkv, d}, std::vector<float>(size_t(2 * capacity * hkv * d)));
        // Prefix in one call (slot 1), then the remaining tokens one at a time.
        const int64_t prefix = 60;
        std::vector<int32_t> slots(static_cast<size_t>(prefix), 1), pos(static_cast<size_t>(prefix));
        for (int64_t i = 0; i < prefix; ++i) pos[size_t(i)] = int32_t(i);
        const auto rows = [&](const std::vector<float>& x, int64_t from, int64_t n) {
            return std::vector<float>(x.begin() + from * hkv * d, x.begin() + (from + n) * hkv * d);
        };
        Tensor kp = make_tensor(ctx, dtype, {prefix, hkv, d}, rows(in.k, 0, prefix));
        Tensor vp = make_tensor(ctx, dtype, {prefix, hkv, d}, rows(in.v, 0, prefix));
        EXPECT_NM_OK(nm_kv_cache_append(ctx, kc, vc, kp, vp, slots.data(), pos.data(), prefix));
        for (int64_t t = prefix; t < L; ++t) {
            Tensor k1 = make_tensor(ctx, dtype, {1, hkv, d}, rows(in.k, t, 1));
            Tensor v1 = make_tensor(ctx, dtype, {1, hkv, d}, rows(in.v, t, 1));
            const int32_t s1 = 1, p1 = int32_t(t), len = int32_t(t + 1);
            EXPECT_NM_OK(nm_kv_cache_append(ctx, kc, vc, k1, v1, &s1, &p1, 1));
            Tensor q1 = make_tensor(ctx, dtype, {1, hq, d},
                                    std::vector<float>(in.q.begin() + t * hq * d, in.q.begin() + (t + 1) * hq * d));
            Tensor o1 = make_tensor(ctx, dtype, {1, hq, d});
            nm_attention_params p{0.f, 1, -1, -1};
            EXPECT_NM_OK(nm_attention_decode(ctx, q1, kc, vc, &s1, &len, 1, 1, o1, &p));
            const auto got = download(ctx, o1);
            const std::vector<float> want(full.out.begin() + t * hq * d, full.out.begin() + (t + 1) * hq * d);
            EXPECT_LE(max_abs_diff(got, want), dtype == NM_DTYPE_F32 ? 1e-5f : 1e-2f) << "token " << t;
        }
        // The other slot was never written.
        const auto k_all = download(ctx, kc);
        EXPECT_TRUE(std::all_of(k_all.begin(), k_all.begin() + capacity * hkv * d, [](float x) { return x == 0.f; }));
    }
}

TEST(KvCache, AppendScattersRows) {
    Context ctx("cpu");
    const auto k = random_floats(3 * 2 * 8, 1), v = random_floats(3 * 2 * 8, 2);
    Tensor kc = make_tensor(ctx, NM_DTYPE_F16, {2, 5, 2, 8}, std::vector<float>(2 * 5 * 16));
    Tensor vc = make_tensor(ctx, NM_DTYPE_F16, {2, 5, 2, 8}, std::vector<float>(2 * 5 * 16));
    Tensor kt = make_tensor(ctx, NM_DTYPE_F16, {3, 2, 8}, k), vt = make_tensor(ctx, NM_DTYPE_F16, {3, 2, 8}, v);
    const int32_t slots[3] = {1, 0, 1}, pos[3] = {4, 0, 2};
    EXPECT_NM_OK(nm_kv_cache_append(ctx, kc, vc, kt, vt, slots, pos, 3));
    const auto kg = download(ctx, kc), vg = download(ctx, vc);
    const auto kr = round_to(NM_DTYPE_F16, k), vr = round_to(NM_DTYPE_F16, v);
    for (int i = 0; i < 3; ++i)
        for (int e = 0; e < 16; ++e) {
            EXPECT_EQ(kg[size_t((slots[i] * 5 + pos[i]) * 16 + e)], kr[size_t(i * 16 + e)]);
            EXPECT_EQ(vg[size_t((slots[i] * 5 + pos[i]) * 16 + e)], vr[size_t(i * 16 + e)]);
        }
    EXPECT_EQ(kg[size_t((0 * 5 + 3) * 16)], 0.f);
}

// ------------------------------------------------------------ argument checks

TEST(Attention, ArgumentErrors) {
    Context ctx("cpu"), other("cpu");
    const nm_dtype F = NM_DTYPE_F32;
    Tensor q = make_tensor(ctx, F, {6, 4, 8}), k = make_tensor(ctx, F, {5, 2, 8}), v = make_tensor(ctx, F, {5, 2, 8});
    Tensor out = make_tensor(ctx, F, {6, 4, 8}), lse = make_tensor(ctx, F, {4, 6});
    nm_attention_params p{0.f, 1, -1, -1};
    const int32_t cq[3] = {0, 2, 6}, ck[3] = {0, 3, 5};
    EXPECT_NM_OK(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, out, lse, &p));
    EXPECT_NM_OK(nm_attention(ctx, q, k, v, cq, ck, 2, out, nullptr, &p));

    EXPECT_NM_ERROR(nm_attention(nullptr, q, k, v, nullptr, nullptr, 1, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "ctx: context is NULL");
    EXPECT_NM_ERROR(nm_attention(ctx, nullptr, k, v, nullptr, nullptr, 1, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "q: tensor is NULL");
    EXPECT_NM_ERROR(nm_attention(ctx, q, nullptr, v, nullptr, nullptr, 1, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "k: tensor is NULL");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, nullptr, nullptr, nullptr, 1, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "v: tensor is NULL");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, nullptr, lse, &p), NM_ERR_INVALID_ARGUMENT, "out: tensor is NULL");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, out, lse, nullptr), NM_ERR_INVALID_ARGUMENT, "params: is NULL");
    Tensor q_other = make_tensor(other, F, {6, 4, 8});
    EXPECT_NM_ERROR(nm_attention(ctx, q_other, k, v, nullptr, nullptr, 1, out, lse, &p), NM_ERR_DEVICE, "q: tensor belongs to another context");
    Tensor lse_other = make_tensor(other, F, {4, 6});
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, out, lse_other, &p), NM_ERR_DEVICE, "lse: tensor belongs to another context");

    // dtypes
    Tensor q_int = make_tensor(ctx, NM_DTYPE_I32, {6, 4, 8});
    EXPECT_NM_ERROR(nm_attention(ctx, q_int, k, v, nullptr, nullptr, 1, out, lse, &p), NM_ERR_DTYPE, "q: expected float32, float16 or bfloat16, got int32");
    Tensor k_bf = make_tensor(ctx, NM_DTYPE_BF16, {5, 2, 8}), v_bf = make_tensor(ctx, NM_DTYPE_BF16, {5, 2, 8});
    Tensor out_bf = make_tensor(ctx, NM_DTYPE_BF16, {6, 4, 8});
    EXPECT_NM_ERROR(nm_attention(ctx, q, k_bf, v, nullptr, nullptr, 1, out, lse, &p), NM_ERR_DTYPE, "k: expected float32 (the dtype of q), got bfloat16");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v_bf, nullptr, nullptr, 1, out, lse, &p), NM_ERR_DTYPE, "v: expected float32 (the dtype of q), got bfloat16");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, out_bf, lse, &p), NM_ERR_DTYPE, "out: expected float32 (the dtype of q), got bfloat16");
    Tensor lse_bf = make_tensor(ctx, NM_DTYPE_BF16, {4, 6});
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, out, lse_bf, &p), NM_ERR_DTYPE, "lse: expected float32, got bfloat16");

    // shapes
    Tensor q2 = make_tensor(ctx, F, {6, 32});
    EXPECT_NM_ERROR(nm_attention(ctx, q2, k, v, nullptr, nullptr, 1, out, lse, &p), NM_ERR_SHAPE, "q: expected 3 dims, got 2");
    Tensor k4 = make_tensor(ctx, F, {5, 2, 8, 1});
    EXPECT_NM_ERROR(nm_attention(ctx, q, k4, v, nullptr, nullptr, 1, out, lse, &p), NM_ERR_SHAPE, "k: expected 3 dims, got 4");
    Tensor k_dim = make_tensor(ctx, F, {5, 2, 16});
    EXPECT_NM_ERROR(nm_attention(ctx, q, k_dim, v, nullptr, nullptr, 1, out, lse, &p), NM_ERR_SHAPE, "k: head_dim 16 does not match q head_dim 8");
    Tensor k3 = make_tensor(ctx, F, {5, 3, 8});
    EXPECT_NM_ERROR(nm_attention(ctx, q, k3, v, nullptr, nullptr, 1, out, lse, &p), NM_ERR_SHAPE, "k: 3 KV heads do not divide the 4 query heads");
    Tensor v_bad = make_tensor(ctx, F, {4, 2, 8});
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v_bad, nullptr, nullptr, 1, out, lse, &p), NM_ERR_SHAPE, "v: shape [4, 2, 8] does not match k shape [5, 2, 8]");
    Tensor out_bad = make_tensor(ctx, F, {6, 4, 4});
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, out_bad, lse, &p), NM_ERR_SHAPE, "out: shape [6, 4, 4] does not match q shape [6, 4, 8]");
    Tensor lse_bad = make_tensor(ctx, F, {6, 4});
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, out, lse_bad, &p), NM_ERR_SHAPE, "lse: expected shape [Hq, Tq] [4, 6], got [6, 4]");
    Tensor kv_same = make_tensor(ctx, F, {6, 4, 8});
    EXPECT_NM_ERROR(nm_attention(ctx, q, kv_same, kv_same, nullptr, nullptr, 1, kv_same, lse, &p), NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as k");

    // sequence offsets
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 2, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "cu_seqlens_q: is NULL (one sequence) but batch is 2");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 0, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "batch: must be >= 1, got 0");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, cq, nullptr, 2, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "cu_seqlens_k: is NULL but cu_seqlens_q is not");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, ck, 2, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "cu_seqlens_q: is NULL but cu_seqlens_k is not");
    const int32_t first1[3] = {1, 2, 6}, decreasing[3] = {0, 4, 3}, short_last[3] = {0, 2, 5};
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, first1, ck, 2, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "cu_seqlens_q: entry 0 must be 0, got 1");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, cq, decreasing, 2, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "cu_seqlens_k: offsets must be non-decreasing, entry 2 (3) < entry 1 (4)");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, short_last, ck, 2, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "cu_seqlens_q: last entry (5) must equal Tq (6)");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, cq, cq, 2, out, lse, &p), NM_ERR_INVALID_ARGUMENT, "cu_seqlens_k: last entry (6) must equal Tk (5)");

    // params
    nm_attention_params bad_left{0.f, 0, -2, -1}, bad_right{0.f, 0, -1, -5}, bad_scale{NAN, 0, -1, -1};
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, out, lse, &bad_left), NM_ERR_INVALID_ARGUMENT, "params->window_left: must be >= 0 or -1");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, out, lse, &bad_right), NM_ERR_INVALID_ARGUMENT, "params->window_right: must be >= 0 or -1");
    EXPECT_NM_ERROR(nm_attention(ctx, q, k, v, nullptr, nullptr, 1, out, lse, &bad_scale), NM_ERR_INVALID_ARGUMENT, "params->softmax_scale: must be finite");
}

TEST(Attention, CausalIgnoresWindowRightAndScaleDefault) {
    Context ctx("cpu");
    AttnCase c;
    c.lq = {30}, c.lk = {30}, c.hq = 1, c.hkv = 1, c.d = 16;
    const Inputs in = make_inputs(c, NM_DTYPE_F32, 50);
    c.causal = true, c.wr = 7;
    const RunOut a = run_attention(ctx, NM_DTYPE_F32, c, in);
    c.wr = -1;
    const RunOut b = run_attention(ctx, NM_DTYPE_F32, c, in);
    EXPECT_EQ(a.out, b.out);
    c.scale = 0.25f;  // 1 / sqrt(16): the default
    const RunOut s = run_attention(ctx, NM_DTYPE_F32, c, in);
    EXPECT_EQ(s.out, b.out);
    c.scale = -3.f;  // <= 0 also means the default
    EXPECT_EQ(run_attention(ctx, NM_DTYPE_F32, c, in).out, b.out);
}

TEST(AttentionDecode, ArgumentErrors) {
    Context ctx("cpu"), other("cpu");
    const nm_dtype F = NM_DTYPE_F32;
    Tensor q = make_tensor(ctx, F, {4, 4, 8}), out = make_tensor(ctx, F, {4, 4, 8});
    Tensor kc = make_tensor(ctx, F, {3, 10, 2, 8}), vc = make_tensor(ctx, F, {3, 10, 2, 8});
    nm_attention_params p{0.f, 1, -1, -1};
    const int32_t slots[2] = {2, 0}, lens[2] = {10, 2};
    EXPECT_NM_OK(nm_attention_decode(ctx, q, kc, vc, slots, lens, 2, 2, out, &p));

    EXPECT_NM_ERROR(nm_attention_decode(nullptr, q, kc, vc, slots, lens, 2, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "ctx: context is NULL");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, nullptr, kc, vc, slots, lens, 2, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "q: tensor is NULL");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, nullptr, vc, slots, lens, 2, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "k_cache: tensor is NULL");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, nullptr, slots, lens, 2, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "v_cache: tensor is NULL");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, slots, lens, 2, 2, nullptr, &p), NM_ERR_INVALID_ARGUMENT, "out: tensor is NULL");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, slots, lens, 2, 2, out, nullptr), NM_ERR_INVALID_ARGUMENT, "params: is NULL");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, nullptr, lens, 2, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "slots: is NULL");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, slots, nullptr, 2, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "cache_lens: is NULL");
    Tensor kc_other = make_tensor(other, F, {3, 10, 2, 8});
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc_other, vc, slots, lens, 2, 2, out, &p), NM_ERR_DEVICE, "k_cache: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, slots, lens, 0, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "batch: must be >= 1, got 0");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, slots, lens, 2, 0, out, &p), NM_ERR_INVALID_ARGUMENT, "queries: must be >= 1, got 0");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, slots, lens, 1, 2, out, &p), NM_ERR_SHAPE, "q: dim 0 must be batch * queries = 2, got shape [4, 4, 8]");
    Tensor kc_bf = make_tensor(ctx, NM_DTYPE_BF16, {3, 10, 2, 8});
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc_bf, vc, slots, lens, 2, 2, out, &p), NM_ERR_DTYPE, "k_cache: expected float32 (the dtype of q), got bfloat16");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, kc_bf, slots, lens, 2, 2, out, &p), NM_ERR_DTYPE, "v_cache: expected float32 (the dtype of q), got bfloat16");
    Tensor kc3 = make_tensor(ctx, F, {3, 10, 16});
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc3, vc, slots, lens, 2, 2, out, &p), NM_ERR_SHAPE, "k_cache: expected 4 dims, got 3");
    Tensor kc_dim = make_tensor(ctx, F, {3, 10, 2, 4});
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc_dim, vc, slots, lens, 2, 2, out, &p), NM_ERR_SHAPE, "k_cache: head_dim 4 does not match q head_dim 8");
    Tensor kc_h3 = make_tensor(ctx, F, {3, 10, 3, 8});
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc_h3, vc, slots, lens, 2, 2, out, &p), NM_ERR_SHAPE, "k_cache: 3 KV heads do not divide the 4 query heads");
    Tensor vc_bad = make_tensor(ctx, F, {3, 9, 2, 8});
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc_bad, slots, lens, 2, 2, out, &p), NM_ERR_SHAPE, "v_cache: shape [3, 9, 2, 8] does not match k_cache shape [3, 10, 2, 8]");
    Tensor out_bad = make_tensor(ctx, F, {4, 2, 8});
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, slots, lens, 2, 2, out_bad, &p), NM_ERR_SHAPE, "out: shape [4, 2, 8] does not match q shape [4, 4, 8]");
    const int32_t bad_slot[2] = {3, 0}, neg_slot[2] = {0, -1}, long_len[2] = {11, 2}, short_len[2] = {10, 1};
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, bad_slot, lens, 2, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "slots: entry 0 (3) is outside [0, 3)");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, neg_slot, lens, 2, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "slots: entry 1 (-1) is outside [0, 3)");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, slots, long_len, 2, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "cache_lens: entry 0 (11) is outside [queries, capacity] = [2, 10]");
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, slots, short_len, 2, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "cache_lens: entry 1 (1) is outside [queries, capacity] = [2, 10]");
    nm_attention_params bad_left{0.f, 0, -3, -1};
    EXPECT_NM_ERROR(nm_attention_decode(ctx, q, kc, vc, slots, lens, 2, 2, out, &bad_left), NM_ERR_INVALID_ARGUMENT, "params->window_left: must be >= 0 or -1");
}

TEST(KvCache, ArgumentErrors) {
    Context ctx("cpu"), other("cpu");
    const nm_dtype F = NM_DTYPE_F32;
    Tensor kc = make_tensor(ctx, F, {2, 6, 2, 8}), vc = make_tensor(ctx, F, {2, 6, 2, 8});
    Tensor k = make_tensor(ctx, F, {3, 2, 8}), v = make_tensor(ctx, F, {3, 2, 8});
    const int32_t slots[3] = {0, 1, 1}, pos[3] = {0, 5, 2};
    EXPECT_NM_OK(nm_kv_cache_append(ctx, kc, vc, k, v, slots, pos, 3));

    EXPECT_NM_ERROR(nm_kv_cache_append(nullptr, kc, vc, k, v, slots, pos, 3), NM_ERR_INVALID_ARGUMENT, "ctx: context is NULL");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, nullptr, vc, k, v, slots, pos, 3), NM_ERR_INVALID_ARGUMENT, "k_cache: tensor is NULL");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, nullptr, k, v, slots, pos, 3), NM_ERR_INVALID_ARGUMENT, "v_cache: tensor is NULL");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, nullptr, v, slots, pos, 3), NM_ERR_INVALID_ARGUMENT, "k: tensor is NULL");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k, nullptr, slots, pos, 3), NM_ERR_INVALID_ARGUMENT, "v: tensor is NULL");
    Tensor v_other = make_tensor(other, F, {3, 2, 8});
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k, v_other, slots, pos, 3), NM_ERR_DEVICE, "v: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k, v, nullptr, pos, 3), NM_ERR_INVALID_ARGUMENT, "slots: is NULL");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k, v, slots, nullptr, 3), NM_ERR_INVALID_ARGUMENT, "positions: is NULL");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, kc, k, v, slots, pos, 3), NM_ERR_INVALID_ARGUMENT, "v_cache: must not be the same tensor as k_cache");
    Tensor kc_int = make_tensor(ctx, NM_DTYPE_I32, {2, 6, 2, 8});
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc_int, vc, k, v, slots, pos, 3), NM_ERR_DTYPE, "k_cache: expected float32, float16 or bfloat16, got int32");
    Tensor k_bf = make_tensor(ctx, NM_DTYPE_BF16, {3, 2, 8}), vc_bf = make_tensor(ctx, NM_DTYPE_BF16, {2, 6, 2, 8});
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k_bf, v, slots, pos, 3), NM_ERR_DTYPE, "k: expected float32 (the dtype of k_cache), got bfloat16");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc_bf, k, v, slots, pos, 3), NM_ERR_DTYPE, "v_cache: expected float32 (the dtype of k_cache), got bfloat16");
    Tensor kc3 = make_tensor(ctx, F, {2, 6, 16});
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc3, vc, k, v, slots, pos, 3), NM_ERR_SHAPE, "k_cache: expected 4 dims, got 3");
    Tensor vc_bad = make_tensor(ctx, F, {2, 7, 2, 8});
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc_bad, k, v, slots, pos, 3), NM_ERR_SHAPE, "v_cache: shape [2, 7, 2, 8] does not match k_cache shape [2, 6, 2, 8]");
    Tensor k_bad = make_tensor(ctx, F, {3, 1, 8});
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k_bad, v, slots, pos, 3), NM_ERR_SHAPE, "k: expected shape [count, Hkv, Dh] [3, 2, 8], got [3, 1, 8]");
    Tensor v_bad = make_tensor(ctx, F, {3, 2, 4});
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k, v_bad, slots, pos, 3), NM_ERR_SHAPE, "v: expected shape [count, Hkv, Dh] [3, 2, 8], got [3, 2, 4]");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k, v, slots, pos, 2), NM_ERR_SHAPE, "k: expected shape [count, Hkv, Dh] [2, 2, 8], got [3, 2, 8]");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k, v, slots, pos, -1), NM_ERR_INVALID_ARGUMENT, "count: must be >= 0, got -1");
    const int32_t bad_slots[3] = {0, 2, 0}, bad_pos[3] = {0, 1, 6}, neg_pos[3] = {-1, 0, 0};
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k, v, bad_slots, pos, 3), NM_ERR_INVALID_ARGUMENT, "slots: entry 1 (2) is outside [0, 2)");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k, v, slots, bad_pos, 3), NM_ERR_INVALID_ARGUMENT, "positions: entry 2 (6) is outside [0, 6)");
    EXPECT_NM_ERROR(nm_kv_cache_append(ctx, kc, vc, k, v, slots, neg_pos, 3), NM_ERR_INVALID_ARGUMENT, "positions: entry 0 (-1) is outside [0, 6)");
}

// ------------------------------------------------------------ CUDA vs CPU

namespace {

void expect_cuda_case(const AttnCase& c, nm_dtype dtype, uint32_t seed) {
    SCOPED_TRACE(testing::Message() << nm_dtype_name(dtype) << " d=" << c.d << " hq=" << c.hq << " hkv=" << c.hkv
                                    << " causal=" << c.causal << " window=(" << c.wl << "," << c.wr << ") lq0="
                                    << c.lq[0] << " lk0=" << c.lk[0]);
    Context cpu("cpu"), cuda("cuda");
    ASSERT_NE(cuda.p, nullptr) << nm_last_error();
    const Inputs in = make_inputs(c, dtype, seed);
    const RunOut want = run_attention(cpu, dtype, c, in), got = run_attention(cuda, dtype, c, in);
    expect_close(got.out, want.out, cuda_tolerance(dtype));
    expect_lse(got.lse, std::vector<double>(want.lse.begin(), want.lse.end()), 1e-4);
}

}  // namespace

TEST(AttentionCuda, MatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    for (nm_dtype dtype : kFloatDtypes)
        for (int64_t d : {64, 128, 256, 40})
            for (int64_t hkv : {4, 1})
                for (bool causal : {false, true}) {
                    AttnCase c;
                    c.lq = {130}, c.lk = {130}, c.hq = 4, c.hkv = hkv, c.d = d, c.causal = causal;
                    expect_cuda_case(c, dtype, uint32_t(d + hkv));
                }
}

TEST(AttentionCuda, LengthsChunksWindowsRagged) {
    NM_SKIP_WITHOUT_CUDA();
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16, NM_DTYPE_F16})
        for (int64_t d : {64, 128}) {
            for (int32_t len : {1, 7, 63, 64, 65, 300, 1000}) {
                AttnCase c;
                c.lq = {len}, c.lk = {len}, c.hq = 2, c.hkv = 1, c.d = d, c.causal = len % 2 == 1;
                expect_cuda_case(c, dtype, uint32_t(len));
            }
            for (int32_t lq : {1, 37, 65, 10}) {  // chunked prefill (and Lq > Lk: fully masked rows)
                AttnCase c;
                c.lq = {lq == 10 ? 300 : lq}, c.lk = {lq == 10 ? 100 : 300}, c.hq = 4, c.hkv = 2, c.d = d;
                c.causal = true;
                expect_cuda_case(c, dtype, uint32_t(lq + 5));
            }
            const int32_t windows[][2] = {{16, -1}, {5, 3}, {0, 0}, {-1, 4}, {200, 0}};
            for (auto w : windows) {
                AttnCase c;
                c.lq = {400}, c.lk = {400}, c.hq = 2, c.hkv = 2, c.d = d, c.wl = w[0], c.wr = w[1];
                expect_cuda_case(c, dtype, uint32_t(w[0] + 100));
            }
            AttnCase r;
            r.lq = {1, 65, 0, 130, 7, 64, 257}, r.lk = {1, 65, 5, 200, 7, 64, 257}, r.hq = 8, r.hkv = 2, r.d = d;
            r.causal = true;
            expect_cuda_case(r, dtype, 77);
            r.causal = false, r.wl = 33;
            expect_cuda_case(r, dtype, 78);
        }
}

TEST(AttentionCuda, DecodeAndAppendMatchCpu) {
    NM_SKIP_WITHOUT_CUDA();
    Context cpu("cpu"), cuda("cuda");
    ASSERT_NE(cuda.p, nullptr) << nm_last_error();
    for (nm_dtype dtype : kFloatDtypes)
        for (int64_t d : {64, 128, 256, 40})
            for (int32_t queries : {1, 4})
                for (int64_t hkv : {1, 2, 8}) {
                    SCOPED_TRACE(testing::Message() << nm_dtype_name(dtype) << " d=" << d << " queries=" << queries
                                                    << " hkv=" << hkv);
                    const int64_t slots = 3, capacity = 2100, hq = 8, row = hkv * d;
                    const std::vector<int32_t> seq_slots = {2, 0, 2}, lens = {2099, 37, 1000};
                    const auto kc = round_to(dtype, random_floats(size_t(slots * capacity * row), 1));
                    const auto vc = round_to(dtype, random_floats(size_t(slots * capacity * row), 2));
                    const auto qv = round_to(dtype, random_floats(size_t(3 * queries * hq * d), 3));
                    const auto knew = round_to(dtype, random_floats(size_t(4 * row), 4));
                    const auto vnew = round_to(dtype, random_floats(size_t(4 * row), 5));
                    const int32_t app_slots[4] = {0, 2, 1, 0}, app_pos[4] = {36, 2098, 0, 10};
                    std::vector<float> outs[2], caches[2];
                    int which = 0;
                    for (nm_context* ctx : {cpu.p, cuda.p}) {
                        Tensor kt = make_tensor(ctx, dtype, {slots, capacity, hkv, d}, kc);
                        Tensor vt = make_tensor(ctx, dtype, {slots, capacity, hkv, d}, vc);
                        Tensor kn = make_tensor(ctx, dtype, {4, hkv, d}, knew), vn = make_tensor(ctx, dtype, {4, hkv, d}, vnew);
                        EXPECT_NM_OK(nm_kv_cache_append(ctx, kt, vt, kn, vn, app_slots, app_pos, 4));
                        Tensor q = make_tensor(ctx, dtype, {3 * queries, hq, d}, qv);
                        Tensor out = make_tensor(ctx, dtype, {3 * queries, hq, d});
                        nm_attention_params p{0.f, 1, queries == 4 ? 700 : -1, -1};
                        EXPECT_NM_OK(nm_attention_decode(ctx, q, kt, vt, seq_slots.data(), lens.data(), 3, queries, out, &p));
                        outs[which] = download(ctx, out);
                        caches[which] = download(ctx, vt);
                        ++which;
                    }
                    EXPECT_EQ(caches[0], caches[1]);
                    expect_close(outs[1], outs[0], cuda_tolerance(dtype));
                }
}
