// test_sample.cpp — nm_sample: greedy, the exact algorithm of docs/sampling.md
// (against an independent transcription of the document), which tokens top-k
// and top-p can ever produce, frequencies against softmax(logits / T),
// reproducibility, batch counters, NaN / -inf, argument checks, CUDA vs CPU.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "test_util.h"

using namespace nmtest;

namespace {

// ----- docs/sampling.md, transcribed as plainly as possible ---------------

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t doc_rng(uint64_t seed, uint64_t step, uint64_t row) {
    return splitmix64(splitmix64(splitmix64(seed) ^ step) ^ row);
}

// One row; the logits must have a finite value. Quadratic loops are fine for small V.
int32_t reference_sample(std::vector<float> l, float temperature, int32_t top_k, float top_p, uint64_t seed,
                         uint64_t step, uint64_t row) {
    const size_t V = l.size();
    for (float& v : l)
        if (std::isnan(v)) v = -INFINITY;
    size_t best = 0;
    for (size_t i = 1; i < V; ++i)
        if (l[i] > l[best]) best = i;
    if (temperature <= 0.f || top_k == 1) return int32_t(best);

    const double m = l[best];
    std::vector<uint64_t> q(V, 0);
    for (size_t i = 0; i < V; ++i)
        if (l[i] != -INFINITY) q[i] = uint64_t(std::exp((double(l[i]) - m) / double(temperature)) * 4294967296.0);

    std::vector<bool> kept(V, true);
    if (top_k > 0 && size_t(top_k) < V) {
        std::vector<float> sorted = l;
        std::sort(sorted.begin(), sorted.end(), std::greater<float>());
        const float tau_k = sorted[size_t(top_k - 1)];
        for (size_t i = 0; i < V; ++i) kept[i] = l[i] >= tau_k;
    }
    if (top_p < 1.f) {
        uint64_t Q = 0;
        for (size_t i = 0; i < V; ++i)
            if (kept[i]) Q += q[i];
        const uint64_t P = uint64_t(std::ceil(double(top_p) * double(Q)));
        float tau_p = -INFINITY;
        bool found = false;
        for (size_t c = 0; c < V; ++c) {  // candidate values v = l[c] of kept tokens
            if (!kept[c]) continue;
            uint64_t mass = 0;
            for (size_t i = 0; i < V; ++i)
                if (kept[i] && l[i] >= l[c]) mass += q[i];
            if (mass >= P && (!found || l[c] > tau_p)) tau_p = l[c], found = true;
        }
        for (size_t i = 0; i < V; ++i) kept[i] = kept[i] && l[i] >= tau_p;
    }
    uint64_t Qk = 0;
    for (size_t i = 0; i < V; ++i)
        if (kept[i]) Qk += q[i];
    const uint64_t t = uint64_t((static_cast<unsigned __int128>(doc_rng(seed, step, row)) * Qk) >> 64);
    uint64_t running = 0;
    for (size_t i = 0; i < V; ++i) {
        if (!kept[i]) continue;
        running += q[i];
        if (running > t) return int32_t(i);
    }
    ADD_FAILURE() << "reference draw fell off the end";
    return -1;
}

// ----- reaching an exact random value ----------------------------------------

// splitmix64 is a bijection, so a (seed, step) whose row-0 draw is any wanted
// x can be constructed: that puts t exactly on a boundary of the running mass.
uint64_t undo_xorshift(uint64_t y, int shift) {
    uint64_t x = y;
    for (int i = 0; i < 64 / shift + 1; ++i) x = y ^ (x >> shift);
    return x;
}

uint64_t inverse_odd(uint64_t c) {  // c * inverse_odd(c) == 1 mod 2^64 (Newton)
    uint64_t inv = c;
    for (int i = 0; i < 6; ++i) inv *= 2 - c * inv;
    return inv;
}

uint64_t unsplitmix64(uint64_t y) {
    y = undo_xorshift(y, 31) * inverse_odd(0x94D049BB133111EBull);
    y = undo_xorshift(y, 27) * inverse_odd(0xBF58476D1CE4E5B9ull);
    return undo_xorshift(y, 30) - 0x9E3779B97F4A7C15ull;
}

struct Counter {
    uint64_t seed, step;
};

// (seed 0, step) such that row 0 draws t == target out of total mass `total`.
Counter counter_for_draw(uint64_t target, uint64_t total) {
    const uint64_t x = uint64_t(((static_cast<unsigned __int128>(target) << 64) + total - 1) / total);
    const uint64_t step = unsplitmix64(unsplitmix64(x) ^ 0) ^ splitmix64(0);
    return {0, step};
}

uint64_t mass_of(float logit) { return uint64_t(std::exp(double(logit)) * 4294967296.0); }  // T = 1, max 0

// ----- helpers -------------------------------------------------------------

struct Sampler {
    Context ctx{"cpu"};
    Tensor logits;
    int64_t rows = 1;

    Sampler(const std::vector<float>& values, int64_t rows_, nm_dtype dtype = NM_DTYPE_F32) : rows(rows_) {
        const int64_t V = int64_t(values.size()) / rows;
        logits = rows == 1 ? make_tensor(ctx, dtype, {V}, values) : make_tensor(ctx, dtype, {rows, V}, values);
    }
    std::vector<int32_t> draw(const nm_sampling_params& p, uint64_t seed, uint64_t step) {
        std::vector<int32_t> tokens(size_t(rows), -1);
        EXPECT_NM_OK(nm_sample(ctx, logits, &p, seed, step, tokens.data(), rows));
        return tokens;
    }
    int32_t draw1(const nm_sampling_params& p, uint64_t seed, uint64_t step) { return draw(p, seed, step)[0]; }
};

// Values k/8 in [-4, 4): exactly representable in float32, float16 and bfloat16.
std::vector<float> exact_logits(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = float(int(rng() % 64) - 32) / 8.f;
    return v;
}

std::set<int32_t> tokens_seen(Sampler& s, const nm_sampling_params& p, int draws) {
    std::set<int32_t> seen;
    for (int i = 0; i < draws; ++i) seen.insert(s.draw1(p, uint64_t(i) * 7919u + 1u, uint64_t(i)));
    return seen;
}

}  // namespace

TEST(Sample, GreedyPicksMaxLowestIndexOnTies) {
    Sampler s({0.5f, 3.f, -1.f, 3.f, 2.f}, 1);
    for (float t : {0.f, -1.f}) {
        nm_sampling_params p{t, 0, 1.f};
        for (uint64_t seed = 0; seed < 20; ++seed) EXPECT_EQ(s.draw1(p, seed, seed), 1);
    }
    Sampler batch({1, 2, 3, 9, 9, 0, -5, -5, -5}, 3);
    nm_sampling_params p{0.f, 0, 1.f};
    EXPECT_EQ(batch.draw(p, 1, 2), (std::vector<int32_t>{2, 0, 0}));
}

TEST(Sample, TopK1EqualsGreedy) {
    const auto logits = random_floats(1000, 5, -3.f, 3.f);
    Sampler s(logits, 1);
    const int32_t argmax = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    for (uint64_t seed = 0; seed < 50; ++seed) {
        nm_sampling_params p{1.5f, 1, 0.9f};
        EXPECT_EQ(s.draw1(p, seed, 3), argmax);
    }
}

TEST(Sample, MatchesDocumentTranscription) {
    // Exact tokens for many parameter combinations and counters.
    const nm_sampling_params cases[] = {
        {1.f, 0, 1.f}, {0.7f, 0, 1.f}, {1.f, 5, 1.f}, {1.3f, 0, 0.9f}, {0.8f, 10, 0.5f},
        {2.f, 3, 0.3f}, {1.f, 40, 0.95f}, {0.05f, 0, 1.f}, {1.f, 1000, 0.999f},
    };
    for (int64_t V : {1, 2, 7, 50}) {
        const int64_t B = 3;
        auto logits = exact_logits(size_t(B * V), uint32_t(V));
        if (V > 2) logits[1] = -INFINITY, logits[size_t(V + 2)] = NAN;
        Sampler s(logits, B);
        for (const auto& p : cases) {
            for (uint64_t seed : {0ull, 1ull, 12345ull, 0xFFFFFFFFFFFFFFFFull}) {
                for (uint64_t step = 0; step < 25; ++step) {
                    const auto got = s.draw(p, seed, step);
                    for (int64_t r = 0; r < B; ++r) {
                        std::vector<float> row(logits.begin() + r * V, logits.begin() + (r + 1) * V);
                        ASSERT_EQ(got[size_t(r)], reference_sample(row, p.temperature, p.top_k, p.top_p, seed, step, uint64_t(r)))
                            << "V=" << V << " T=" << p.temperature << " k=" << p.top_k << " p=" << p.top_p
                            << " seed=" << seed << " step=" << step << " row=" << r;
                    }
                }
            }
        }
    }
}

TEST(Sample, KeptSetsOfAHandComputedCase) {
    // logits {1, 2, 0.5, 2}, T = 1: weights e^-1 = .368, 1, e^-1.5 = .223, 1 (total 2.591).
    Sampler s({1.f, 2.f, 0.5f, 2.f}, 1);
    const int draws = 2000;
    // top-k = 2: the 2nd largest counting duplicates is 2, so {1, 3}.
    EXPECT_EQ(tokens_seen(s, {1.f, 2, 1.f}, draws), (std::set<int32_t>{1, 3}));
    // top-k = 3: threshold 1, so {0, 1, 3}; token 2 never.
    EXPECT_EQ(tokens_seen(s, {1.f, 3, 1.f}, draws), (std::set<int32_t>{0, 1, 3}));
    // top-p = 0.5: P = 1.30; the two 2's already hold 2.0, so {1, 3}.
    EXPECT_EQ(tokens_seen(s, {1.f, 0, 0.5f}, draws), (std::set<int32_t>{1, 3}));
    // top-p = 0.8: P = 2.07 > 2.0, so the 1 joins (2.37): {0, 1, 3}.
    EXPECT_EQ(tokens_seen(s, {1.f, 0, 0.8f}, draws), (std::set<int32_t>{0, 1, 3}));
    // top-p = 0.95: P = 2.46 > 2.37, everything: {0, 1, 2, 3}.
    EXPECT_EQ(tokens_seen(s, {1.f, 0, 0.95f}, draws), (std::set<int32_t>{0, 1, 2, 3}));
    // top-k = 3 then top-p = 0.8 over the kept {0, 1, 3} (2.37): P = 1.89, so {1, 3}.
    EXPECT_EQ(tokens_seen(s, {1.f, 3, 0.8f}, draws), (std::set<int32_t>{1, 3}));
    // Off: top_k >= V, top_p >= 1.
    EXPECT_EQ(tokens_seen(s, {1.f, 4, 1.5f}, draws), (std::set<int32_t>{0, 1, 2, 3}));
}

TEST(Sample, DrawOnAMassBoundaryTakesTheNextToken) {
    const uint64_t unit = uint64_t(1) << 32;  // the mass of a token equal to the max
    // Sanity of the construction itself.
    const Counter c = counter_for_draw(12345, 3 * unit);
    EXPECT_EQ(uint64_t((static_cast<unsigned __int128>(doc_rng(c.seed, c.step, 0)) * (3 * unit)) >> 64), 12345u);

    // Three equal tokens: t in [0, 2^32) is token 0, [2^32, 2^33) token 1, the rest token 2.
    Sampler s({0.f, 0.f, 0.f}, 1);
    const std::pair<uint64_t, int32_t> cases[] = {
        {0, 0}, {unit - 1, 0}, {unit, 1}, {2 * unit - 1, 1}, {2 * unit, 2}, {3 * unit - 1, 2}};
    for (const auto& [t, token] : cases) {
        const Counter at = counter_for_draw(t, 3 * unit);
        EXPECT_EQ(s.draw1({1.f, 0, 1.f}, at.seed, at.step), token) << "t=" << t;
    }
    // Zero-mass tokens before the boundary are skipped, even at t = 0.
    Sampler gaps({-INFINITY, 0.f, -INFINITY, 0.f}, 1);
    for (const auto& [t, token] : {std::pair<uint64_t, int32_t>{0, 1}, {unit - 1, 1}, {unit, 3}}) {
        const Counter at = counter_for_draw(t, 2 * unit);
        EXPECT_EQ(gaps.draw1({1.f, 0, 1.f}, at.seed, at.step), token) << "t=" << t;
    }
}

// Two distinct logits below 0 whose masses (T = 1, max 0) add up to exactly
// `total`; the masses of single floats are too coarse to hit a value alone.
std::pair<float, float> logits_with_total_mass(uint64_t total) {
    const float start = float(std::log(double(total) / 2 / 4294967296.0));
    for (float a = start; a > start - 0.1f; a = std::nextafter(a, -INFINITY)) {
        const uint64_t want = total - mass_of(a);
        float lo = -30.f, hi = 0.f;  // bisection for the float with mass `want`
        for (int i = 0; i < 80; ++i) {
            const float mid = lo + (hi - lo) / 2;
            (mass_of(mid) < want ? lo : hi) = mid;
        }
        if (mass_of(hi) == want && hi != a) return {a, hi};
    }
    ADD_FAILURE() << "no pair of logits with total mass " << total;
    return {-1.f, -1.f};
}

TEST(Sample, TopPThresholdIsCeilAndAtLeast) {
    const uint64_t unit = uint64_t(1) << 32;  // the mass of the max
    {
        // Q = 2^33, top_p = 0.5: P = 2^32 exactly, which the max alone reaches ("at least P").
        const auto [a, b] = logits_with_total_mass(unit);
        ASSERT_EQ(mass_of(a) + mass_of(b), unit);
        Sampler s({a, 0.f, b}, 1);
        EXPECT_EQ(tokens_seen(s, {1.f, 0, 0.5f}, 500), (std::set<int32_t>{1}));
        EXPECT_GT(tokens_seen(s, {1.f, 0, 0.5000001f}, 500).size(), 1u);
    }
    {
        // Q = 2^32 + ceil(2^32 / 3), top_p = 0.75: top_p * Q = 2^32 + 0.5, so P = ceil(...) = 2^32 + 1
        // and the max alone (2^32) is not enough.
        const uint64_t rest = unit / 3 + 1;
        const auto [a, b] = logits_with_total_mass(rest);
        ASSERT_EQ(mass_of(a) + mass_of(b), rest);
        ASSERT_EQ(0.75 * double(unit + rest), double(unit) + 0.5);
        Sampler s({a, 0.f, b}, 1);
        EXPECT_GT(tokens_seen(s, {1.f, 0, 0.75f}, 500).size(), 1u);
    }
}

TEST(Sample, FrequenciesMatchSoftmax) {
    const std::vector<float> logits = {0.f, 1.f, -0.5f, 2.f, 0.3f, -2.f, 1.5f, 0.8f};
    Sampler s(logits, 1);
    const int draws = 20000;
    for (float temperature : {1.f, 0.6f, 2.5f}) {
        std::vector<double> prob(logits.size());
        double z = 0;
        for (size_t i = 0; i < logits.size(); ++i) z += prob[i] = std::exp(logits[i] / temperature);
        for (double& p : prob) p /= z;

        std::vector<int> count(logits.size(), 0);
        for (int i = 0; i < draws; ++i) ++count[size_t(s.draw1({temperature, 0, 1.f}, 42, uint64_t(i)))];
        double chi2 = 0;
        for (size_t i = 0; i < logits.size(); ++i) {
            const double expected = prob[i] * draws;
            chi2 += (count[i] - expected) * (count[i] - expected) / expected;
            EXPECT_NEAR(count[i] / double(draws), prob[i], 0.01) << "token " << i << " T=" << temperature;
        }
        EXPECT_LT(chi2, 29.9) << "T=" << temperature;  // chi-square, 7 degrees of freedom, p = 1e-4
    }
}

TEST(Sample, FrequenciesAfterTopKAndTopPAreRenormalised) {
    // {3, 2, 2, 1, 0, -1}: top_k = 4 keeps {0, 1, 2, 3}; top_p = 0.7 of that keeps {0, 1, 2}.
    const std::vector<float> logits = {3.f, 2.f, 2.f, 1.f, 0.f, -1.f};
    Sampler s(logits, 1);
    const int draws = 20000;
    std::vector<int> count(logits.size(), 0);
    for (int i = 0; i < draws; ++i) ++count[size_t(s.draw1({1.f, 4, 0.7f}, 7, uint64_t(i)))];
    const double z = std::exp(3.0) + 2 * std::exp(2.0);
    const double want[] = {std::exp(3.0) / z, std::exp(2.0) / z, std::exp(2.0) / z, 0, 0, 0};
    for (size_t i = 0; i < logits.size(); ++i) EXPECT_NEAR(count[i] / double(draws), want[i], 0.012) << i;
    EXPECT_EQ(count[3] + count[4] + count[5], 0);
}

TEST(Sample, ReproducibleAndSameAcrossDtypes) {
    const auto logits = exact_logits(300, 77);
    Sampler f32(logits, 1, NM_DTYPE_F32), f16(logits, 1, NM_DTYPE_F16), bf16(logits, 1, NM_DTYPE_BF16);
    const nm_sampling_params p{0.9f, 50, 0.9f};
    std::set<int32_t> distinct;
    for (uint64_t seed = 0; seed < 200; ++seed) {
        const int32_t t = f32.draw1(p, seed, 3);
        EXPECT_EQ(f32.draw1(p, seed, 3), t);
        EXPECT_EQ(f16.draw1(p, seed, 3), t);
        EXPECT_EQ(bf16.draw1(p, seed, 3), t);
        distinct.insert(t);
    }
    EXPECT_GT(distinct.size(), 10u);  // the seed matters
    std::set<int32_t> by_step;
    for (uint64_t step = 0; step < 200; ++step) by_step.insert(f32.draw1(p, 5, step));
    EXPECT_GT(by_step.size(), 10u);  // and so does the step
}

TEST(Sample, BatchRowsUseTheirOwnCounter) {
    const int64_t B = 8, V = 1000;
    std::vector<float> batch;
    const auto row = exact_logits(size_t(V), 88);
    for (int64_t r = 0; r < B; ++r) batch.insert(batch.end(), row.begin(), row.end());
    Sampler rows(batch, B), single(row, 1);
    const nm_sampling_params p{1.f, 0, 1.f};
    int rows_all_equal = 0;
    for (uint64_t seed = 0; seed < 20; ++seed) {
        const auto got = rows.draw(p, seed, 9);
        EXPECT_EQ(got[0], single.draw1(p, seed, 9));  // row 0 uses counter (seed, step, 0)
        for (int64_t r = 0; r < B; ++r)
            EXPECT_EQ(got[size_t(r)], reference_sample(row, 1.f, 0, 1.f, seed, 9, uint64_t(r))) << r;
        rows_all_equal += std::all_of(got.begin(), got.end(), [&](int32_t t) { return t == got[0]; });
    }
    EXPECT_EQ(rows_all_equal, 0);
}

TEST(Sample, LargeBatchRunsInParallelCorrectly) {
    const int64_t B = 16, V = 32000;
    const auto logits = random_floats(size_t(B * V), 99, -5.f, 5.f);
    Sampler s(logits, B);
    const nm_sampling_params p{0.8f, 100, 0.9f};
    const auto got = s.draw(p, 3, 4);
    for (int64_t r = 0; r < B; ++r) {
        std::vector<float> row(logits.begin() + r * V, logits.begin() + (r + 1) * V);
        EXPECT_EQ(got[size_t(r)], reference_sample(row, p.temperature, p.top_k, p.top_p, 3, 4, uint64_t(r))) << r;
    }
}

TEST(Sample, NanAndNegativeInfinityAreNeverDrawn) {
    Sampler s({NAN, 0.f, -INFINITY, 0.5f, NAN, -INFINITY}, 1);
    EXPECT_EQ(tokens_seen(s, {1.f, 0, 1.f}, 2000), (std::set<int32_t>{1, 3}));
    EXPECT_EQ(s.draw1({0.f, 0, 1.f}, 0, 0), 3);      // greedy skips NaN
    EXPECT_EQ(tokens_seen(s, {1.f, 5, 0.99f}, 500), (std::set<int32_t>{1, 3}));

    // Fewer finite values than top_k: the -inf ties are kept but weigh nothing.
    Sampler few({-INFINITY, 1.f, -INFINITY, -INFINITY}, 1);
    EXPECT_EQ(tokens_seen(few, {1.f, 3, 1.f}, 500), (std::set<int32_t>{1}));
}

TEST(Sample, PositiveInfinityWins) {
    Sampler s({0.f, INFINITY, 5.f, INFINITY}, 1);
    EXPECT_EQ(s.draw1({0.f, 0, 1.f}, 0, 0), 1);
    EXPECT_EQ(tokens_seen(s, {1.f, 0, 1.f}, 1000), (std::set<int32_t>{1, 3}));
}

TEST(Sample, RowWithoutFiniteValueFails) {
    Sampler s({0.f, 1.f, -INFINITY, NAN, 2.f, 3.f}, 3);
    int32_t tokens[3];
    for (float t : {0.f, 1.f}) {
        nm_sampling_params p{t, 0, 1.f};
        EXPECT_NM_ERROR(nm_sample(s.ctx, s.logits, &p, 0, 0, tokens, 3), NM_ERR_INVALID_ARGUMENT,
                        "logits: row 1 has no finite value");
    }
    Sampler all_nan({NAN, NAN}, 1);
    nm_sampling_params p{1.f, 0, 1.f};
    EXPECT_NM_ERROR(nm_sample(all_nan.ctx, all_nan.logits, &p, 0, 0, tokens, 1), NM_ERR_INVALID_ARGUMENT,
                    "logits: row 0 has no finite value");
}

TEST(Sample, BadInput) {
    Context ctx("cpu"), other("cpu");
    Tensor logits = make_tensor(ctx, NM_DTYPE_F32, {2, 10});
    Tensor ints = make_tensor(ctx, NM_DTYPE_I32, {2, 10});
    Tensor cube = make_tensor(ctx, NM_DTYPE_F32, {2, 2, 10});
    Tensor foreign = make_tensor(other, NM_DTYPE_F32, {2, 10});
    int32_t tokens[2];
    const nm_sampling_params ok{1.f, 0, 1.f};

    EXPECT_NM_OK(nm_sample(ctx, logits, &ok, 0, 0, tokens, 2));
    EXPECT_NM_ERROR(nm_sample(nullptr, logits, &ok, 0, 0, tokens, 2), NM_ERR_INVALID_ARGUMENT, "ctx");
    EXPECT_NM_ERROR(nm_sample(ctx, nullptr, &ok, 0, 0, tokens, 2), NM_ERR_INVALID_ARGUMENT, "logits: tensor is NULL");
    EXPECT_NM_ERROR(nm_sample(ctx, logits, nullptr, 0, 0, tokens, 2), NM_ERR_INVALID_ARGUMENT, "params: is NULL");
    EXPECT_NM_ERROR(nm_sample(ctx, logits, &ok, 0, 0, nullptr, 2), NM_ERR_INVALID_ARGUMENT, "tokens: is NULL");
    EXPECT_NM_ERROR(nm_sample(ctx, ints, &ok, 0, 0, tokens, 2), NM_ERR_DTYPE, "logits: expected float32, float16 or bfloat16, got int32");
    EXPECT_NM_ERROR(nm_sample(ctx, cube, &ok, 0, 0, tokens, 2), NM_ERR_SHAPE, "logits: expected 1 to 2 dims, got 3");
    EXPECT_NM_ERROR(nm_sample(ctx, foreign, &ok, 0, 0, tokens, 2), NM_ERR_DEVICE, "logits: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_sample(ctx, logits, &ok, 0, 0, tokens, 1), NM_ERR_INVALID_ARGUMENT,
                    "tokens_count: expected 2 (one per row of logits [2, 10]), got 1");

    nm_sampling_params bad = ok;
    bad.top_k = -1;
    EXPECT_NM_ERROR(nm_sample(ctx, logits, &bad, 0, 0, tokens, 2), NM_ERR_INVALID_ARGUMENT, "params->top_k: must be >= 0");
    for (float top_p : {0.f, -0.5f, NAN}) {
        bad = ok;
        bad.top_p = top_p;
        EXPECT_NM_ERROR(nm_sample(ctx, logits, &bad, 0, 0, tokens, 2), NM_ERR_INVALID_ARGUMENT, "params->top_p: must be > 0");
    }
    bad = ok;
    bad.temperature = NAN;
    EXPECT_NM_ERROR(nm_sample(ctx, logits, &bad, 0, 0, tokens, 2), NM_ERR_INVALID_ARGUMENT, "params->temperature: is NaN");
}

TEST(SampleCuda, SameTokensAsCpu) {
    NM_SKIP_WITHOUT_CUDA();
    Context cpu("cpu"), cuda("cuda");
    ASSERT_NE(cuda.p, nullptr) << nm_last_error();
    const int64_t B = 4, V = 32000;
    auto logits = random_floats(size_t(B * V), 123, -8.f, 8.f);
    logits[17] = NAN, logits[V + 5] = -INFINITY;
    const nm_sampling_params cases[] = {{0.f, 0, 1.f}, {1.f, 0, 1.f}, {0.7f, 40, 1.f}, {1.f, 0, 0.9f}, {0.8f, 100, 0.95f}, {1.f, 1, 1.f}};
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_F16, NM_DTYPE_BF16}) {
        Tensor on_cpu = make_tensor(cpu, dtype, {B, V}, logits), on_cuda = make_tensor(cuda, dtype, {B, V}, logits);
        for (const auto& p : cases) {
            for (uint64_t seed = 0; seed < 64; ++seed) {
                std::vector<int32_t> a(static_cast<size_t>(B)), b(static_cast<size_t>(B));
                EXPECT_NM_OK(nm_sample(cpu, on_cpu, &p, seed, seed * 3, a.data(), B));
                EXPECT_NM_OK(nm_sample(cuda, on_cuda, &p, seed, seed * 3, b.data(), B));
                ASSERT_EQ(a, b) << nm_dtype_name(dtype) << " T=" << p.temperature << " k=" << p.top_k
                                << " p=" << p.top_p << " seed=" << seed;
            }
        }
    }
}
