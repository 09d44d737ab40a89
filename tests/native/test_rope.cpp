// test_rope.cpp — nm_rope against a naive reference (NeoX and GPT-J layouts,
// partial rotary_dim, custom frequencies, scaling, dtypes, in place), the
// relative-position property, argument checks, and CUDA against CPU.
#include <cmath>
#include <cstdint>
#include <vector>

#include "test_util.h"

using namespace nmtest;

namespace {

// theta^(-2i/rotary_dim), rounded once to float32 (as the library documents).
std::vector<float> default_inv_freq(double theta, int64_t rotary_dim) {
    std::vector<float> f(size_t(rotary_dim / 2));
    for (size_t i = 0; i < f.size(); ++i) f[i] = float(std::pow(theta, -double(2 * i) / double(rotary_dim)));
    return f;
}

// Llama 3.1 frequency scaling (transformers' _compute_llama3_parameters).
std::vector<float> llama3_inv_freq(double theta, int64_t rotary_dim, double factor, double low_freq_factor,
                                   double high_freq_factor, double original_max_positions) {
    std::vector<float> f = default_inv_freq(theta, rotary_dim);
    const double low_freq_wavelen = original_max_positions / low_freq_factor;
    const double high_freq_wavelen = original_max_positions / high_freq_factor;
    for (float& inv : f) {
        const double wavelen = 2.0 * M_PI / inv;
        if (wavelen > low_freq_wavelen) {
            inv = float(inv / factor);
        } else if (wavelen >= high_freq_wavelen) {
            const double smooth = (original_max_positions / wavelen - low_freq_factor) /
                                  (high_freq_factor - low_freq_factor);
            inv = float((1.0 - smooth) * inv / factor + smooth * inv);
        }
    }
    return f;
}

struct RopeCase {
    int64_t tokens = 3, heads = 2, head_dim = 8, rotary_dim = 8;
    bool interleaved = false;
    float scaling = 1.f;
    std::vector<float> inv_freq;  // empty: default_inv_freq(10000, rotary_dim)
};

// The plain definition: rotate each pair by angle = float(position) * inv_freq[i].
std::vector<float> rope_reference(const std::vector<float>& x, const std::vector<int32_t>& positions,
                                  const RopeCase& c) {
    std::vector<float> inv = c.inv_freq.empty() ? default_inv_freq(10000.0, c.rotary_dim) : c.inv_freq;
    std::vector<float> out = x;
    const int64_t half = c.rotary_dim / 2;
    for (int64_t t = 0; t < c.tokens; ++t) {
        for (int64_t h = 0; h < c.heads; ++h) {
            const int64_t base = (t * c.heads + h) * c.head_dim;
            for (int64_t i = 0; i < half; ++i) {
                const float angle = float(positions[size_t(t)]) * inv[size_t(i)];
                const double cs = std::cos(double(angle)) * c.scaling, sn = std::sin(double(angle)) * c.scaling;
                const int64_t a = c.interleaved ? base + 2 * i : base + i;
                const int64_t b = c.interleaved ? a + 1 : a + half;
                out[size_t(a)] = float(x[size_t(a)] * cs - x[size_t(b)] * sn);
                out[size_t(b)] = float(x[size_t(b)] * cs + x[size_t(a)] * sn);
            }
        }
    }
    return out;
}

std::vector<int32_t> some_positions(int64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<int32_t> p(static_cast<size_t>(n));
    for (auto& v : p) v = int32_t(rng() % 4096);
    return p;
}

float tolerance(nm_dtype dtype) {
    return dtype == NM_DTYPE_F32 ? 2e-5f : dtype == NM_DTYPE_F16 ? 4e-3f : 3e-2f;
}

// Runs nm_rope on random x (values in [-1, 1]) and compares with the reference.
void expect_matches_reference(const RopeCase& c, nm_dtype in_dtype, nm_dtype out_dtype, uint32_t seed) {
    Context ctx("cpu");
    const std::vector<int64_t> shape = {c.tokens, c.heads, c.head_dim};
    const auto x = round_to(in_dtype, random_floats(size_t(c.tokens * c.heads * c.head_dim), seed));
    const auto positions = some_positions(c.tokens, seed + 1);
    Tensor xt = make_tensor(ctx, in_dtype, shape, x);
    Tensor out = make_tensor(ctx, out_dtype, shape);
    Tensor inv_freq;
    if (!c.inv_freq.empty())
        inv_freq = make_tensor(ctx, NM_DTYPE_F32, {int64_t(c.inv_freq.size())}, c.inv_freq);
    nm_rope_params p{int32_t(c.rotary_dim), 10000.f, c.scaling, c.interleaved ? 1 : 0, inv_freq.p};
    EXPECT_NM_OK(nm_rope(ctx, xt, positions.data(), c.tokens, out, &p));
    const auto want = round_to(out_dtype, rope_reference(x, positions, c));
    EXPECT_LE(max_abs_diff(download(ctx, out), want), tolerance(out_dtype) * std::max(1.f, c.scaling))
        << "head_dim " << c.head_dim << " rotary_dim " << c.rotary_dim << " interleaved " << c.interleaved;
}

}  // namespace

TEST(Rope, NeoxMatchesReference) {
    for (int64_t head_dim : {2, 8, 64, 128}) {
        RopeCase c;
        c.tokens = 5, c.heads = 3, c.head_dim = head_dim, c.rotary_dim = head_dim;
        expect_matches_reference(c, NM_DTYPE_F32, NM_DTYPE_F32, uint32_t(head_dim));
    }
}

TEST(Rope, InterleavedMatchesReference) {
    for (int64_t head_dim : {2, 8, 64, 128}) {
        RopeCase c;
        c.tokens = 5, c.heads = 3, c.head_dim = head_dim, c.rotary_dim = head_dim, c.interleaved = true;
        expect_matches_reference(c, NM_DTYPE_F32, NM_DTYPE_F32, uint32_t(head_dim));
    }
}

TEST(Rope, NeoxAndInterleavedDiffer) {
    Context ctx("cpu");
    const auto x = random_floats(16, 3);
    const int32_t pos[1] = {7};
    Tensor xt = make_tensor(ctx, NM_DTYPE_F32, {1, 1, 16}, x);
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {1, 1, 16}), b = make_tensor(ctx, NM_DTYPE_F32, {1, 1, 16});
    nm_rope_params neox{0, 10000.f, 1.f, 0, nullptr}, gptj{0, 10000.f, 1.f, 1, nullptr};
    EXPECT_NM_OK(nm_rope(ctx, xt, pos, 1, a, &neox));
    EXPECT_NM_OK(nm_rope(ctx, xt, pos, 1, b, &gptj));
    EXPECT_GT(max_abs_diff(download(ctx, a), download(ctx, b)), 1e-2f);
}

TEST(Rope, PartialRotaryDimCopiesTail) {
    for (bool interleaved : {false, true}) {
        RopeCase c;
        c.tokens = 4, c.heads = 2, c.head_dim = 64, c.rotary_dim = 16, c.interleaved = interleaved;
        expect_matches_reference(c, NM_DTYPE_F32, NM_DTYPE_F32, 11);
    }
    // The tail is bit-for-bit the input.
    Context ctx("cpu");
    const auto x = random_floats(2 * 32, 5);
    const int32_t pos[2] = {100, 2000};
    Tensor xt = make_tensor(ctx, NM_DTYPE_F32, {2, 1, 32}, x);
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 1, 32});
    nm_rope_params p{8, 10000.f, 1.f, 0, nullptr};
    EXPECT_NM_OK(nm_rope(ctx, xt, pos, 2, out, &p));
    const auto got = download(ctx, out);
    for (int t = 0; t < 2; ++t)
        for (int j = 8; j < 32; ++j) EXPECT_EQ(got[size_t(t * 32 + j)], x[size_t(t * 32 + j)]) << t << "," << j;
}

TEST(Rope, RotaryDimZeroMeansHeadDim) {
    Context ctx("cpu");
    const auto x = random_floats(3 * 2 * 16, 8);
    const auto positions = some_positions(3, 9);
    Tensor xt = make_tensor(ctx, NM_DTYPE_F32, {3, 2, 16}, x);
    Tensor zero = make_tensor(ctx, NM_DTYPE_F32, {3, 2, 16}), full = make_tensor(ctx, NM_DTYPE_F32, {3, 2, 16});
    nm_rope_params p0{0, 10000.f, 1.f, 0, nullptr}, p16{16, 10000.f, 1.f, 0, nullptr};
    EXPECT_NM_OK(nm_rope(ctx, xt, positions.data(), 3, zero, &p0));
    EXPECT_NM_OK(nm_rope(ctx, xt, positions.data(), 3, full, &p16));
    EXPECT_EQ(download(ctx, zero), download(ctx, full));
}

TEST(Rope, CustomInvFreqLlama3) {
    for (bool interleaved : {false, true}) {
        RopeCase c;
        c.tokens = 6, c.heads = 4, c.head_dim = 128, c.rotary_dim = 128, c.interleaved = interleaved;
        c.inv_freq = llama3_inv_freq(500000.0, 128, 8.0, 1.0, 4.0, 8192.0);
        expect_matches_reference(c, NM_DTYPE_F32, NM_DTYPE_F32, 21);
    }
    // The tensor is really used: it differs from theta-derived frequencies.
    EXPECT_NE(llama3_inv_freq(500000.0, 128, 8.0, 1.0, 4.0, 8192.0), default_inv_freq(500000.0, 128));
}

TEST(Rope, CustomInvFreqOverridesTheta) {
    Context ctx("cpu");
    const auto x = random_floats(2 * 1 * 8, 12);
    const int32_t pos[2] = {3, 50};
    const std::vector<float> inv = {1.f, 0.5f, 0.25f, 0.125f};
    Tensor xt = make_tensor(ctx, NM_DTYPE_F32, {2, 1, 8}, x);
    Tensor freq = make_tensor(ctx, NM_DTYPE_F32, {4}, inv);
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 1, 8});
    nm_rope_params p{8, 0.f /* ignored with inv_freq */, 1.f, 0, freq};
    EXPECT_NM_OK(nm_rope(ctx, xt, pos, 2, out, &p));
    RopeCase c;
    c.tokens = 2, c.heads = 1, c.head_dim = 8, c.rotary_dim = 8, c.inv_freq = inv;
    EXPECT_LE(max_abs_diff(download(ctx, out), rope_reference(x, {3, 50}, c)), 2e-5f);
}

TEST(Rope, AttentionScaling) {
    for (bool interleaved : {false, true}) {
        RopeCase c;
        c.tokens = 3, c.heads = 2, c.head_dim = 32, c.rotary_dim = 32, c.interleaved = interleaved;
        c.scaling = 1.2079f;  // YaRN mscale for factor 8
        expect_matches_reference(c, NM_DTYPE_F32, NM_DTYPE_F32, 31);
    }
    // At position 0 the rotated dims are just scaled; the tail is not.
    Context ctx("cpu");
    const auto x = random_floats(8, 33);
    const int32_t pos[1] = {0};
    Tensor xt = make_tensor(ctx, NM_DTYPE_F32, {1, 1, 8}, x);
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {1, 1, 8});
    nm_rope_params p{4, 10000.f, 0.5f, 0, nullptr};
    EXPECT_NM_OK(nm_rope(ctx, xt, pos, 1, out, &p));
    const auto got = download(ctx, out);
    for (int j = 0; j < 8; ++j) EXPECT_FLOAT_EQ(got[size_t(j)], j < 4 ? 0.5f * x[size_t(j)] : x[size_t(j)]) << j;
}

TEST(Rope, HalfAndMixedDtypes) {
    const nm_dtype dtypes[] = {NM_DTYPE_F32, NM_DTYPE_F16, NM_DTYPE_BF16};
    for (nm_dtype in : dtypes) {
        for (nm_dtype out : dtypes) {
            for (bool interleaved : {false, true}) {
                RopeCase c;
                c.tokens = 4, c.heads = 3, c.head_dim = 64, c.rotary_dim = 32, c.interleaved = interleaved;
                SCOPED_TRACE(std::string(nm_dtype_name(in)) + " -> " + nm_dtype_name(out));
                expect_matches_reference(c, in, out, 41);
            }
        }
    }
}

TEST(Rope, PositionZeroIsIdentity) {
    Context ctx("cpu");
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16}) {
        const auto x = round_to(dtype, random_floats(3 * 4 * 16, 51));
        const std::vector<int32_t> pos(3, 0);
        Tensor xt = make_tensor(ctx, dtype, {3, 4, 16}, x);
        Tensor out = make_tensor(ctx, dtype, {3, 4, 16});
        for (int32_t interleaved : {0, 1}) {
            nm_rope_params p{0, 10000.f, 1.f, interleaved, nullptr};
            EXPECT_NM_OK(nm_rope(ctx, xt, pos.data(), 3, out, &p));
            EXPECT_EQ(download(ctx, out), x);
        }
    }
}

TEST(Rope, InPlaceEqualsOutOfPlace) {
    Context ctx("cpu");
    for (int32_t interleaved : {0, 1}) {
        const auto x = random_floats(5 * 2 * 64, 61);
        const auto positions = some_positions(5, 62);
        Tensor a = make_tensor(ctx, NM_DTYPE_F32, {5, 2, 64}, x);
        Tensor out = make_tensor(ctx, NM_DTYPE_F32, {5, 2, 64});
        nm_rope_params p{48, 10000.f, 1.f, interleaved, nullptr};
        EXPECT_NM_OK(nm_rope(ctx, a, positions.data(), 5, out, &p));
        EXPECT_NM_OK(nm_rope(ctx, a, positions.data(), 5, a, &p));
        EXPECT_EQ(download(ctx, a), download(ctx, out));
    }
}

TEST(Rope, HigherRankAndLargeInput) {
    // [batch, seq, heads, head_dim] flattens to tokens = batch * seq; large enough for threads.
    RopeCase c;
    c.tokens = 2 * 96, c.heads = 8, c.head_dim = 64, c.rotary_dim = 64;
    Context ctx("cpu");
    const auto x = random_floats(size_t(c.tokens * c.heads * c.head_dim), 71);
    const auto positions = some_positions(c.tokens, 72);
    Tensor xt = make_tensor(ctx, NM_DTYPE_F32, {2, 96, 8, 64}, x);
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 96, 8, 64});
    nm_rope_params p{0, 10000.f, 1.f, 0, nullptr};
    EXPECT_NM_OK(nm_rope(ctx, xt, positions.data(), c.tokens, out, &p));
    EXPECT_LE(max_abs_diff(download(ctx, out), rope_reference(x, positions, c)), 2e-5f);
}

TEST(Rope, DotProductDependsOnlyOnRelativePosition) {
    Context ctx("cpu");
    const int64_t head_dim = 64;
    const auto q = random_floats(size_t(head_dim), 81), k = random_floats(size_t(head_dim), 82);
    for (int32_t interleaved : {0, 1}) {
        // Rotate q at p and k at p - 3 for several p; the score must not change.
        std::vector<double> scores;
        for (int32_t p : {3, 10, 250, 1003}) {
            Tensor qt = make_tensor(ctx, NM_DTYPE_F32, {1, 1, head_dim}, q);
            Tensor kt = make_tensor(ctx, NM_DTYPE_F32, {1, 1, head_dim}, k);
            nm_rope_params params{0, 10000.f, 1.f, interleaved, nullptr};
            const int32_t pq[1] = {p}, pk[1] = {p - 3};
            EXPECT_NM_OK(nm_rope(ctx, qt, pq, 1, qt, &params));
            EXPECT_NM_OK(nm_rope(ctx, kt, pk, 1, kt, &params));
            const auto qr = download(ctx, qt), kr = download(ctx, kt);
            double dot = 0;
            for (int64_t j = 0; j < head_dim; ++j) dot += double(qr[size_t(j)]) * kr[size_t(j)];
            scores.push_back(dot);
        }
        for (double s : scores) EXPECT_NEAR(s, scores[0], 2e-4) << "interleaved " << interleaved;
    }
    // A different offset gives a different score (the test would be vacuous otherwise).
    RopeCase c;
    c.tokens = 1, c.heads = 1, c.head_dim = head_dim, c.rotary_dim = head_dim;
    const auto q3 = rope_reference(q, {3}, c), k0 = rope_reference(k, {0}, c), k1 = rope_reference(k, {1}, c);
    double d0 = 0, d1 = 0;
    for (int64_t j = 0; j < head_dim; ++j) d0 += double(q3[size_t(j)]) * k0[size_t(j)], d1 += double(q3[size_t(j)]) * k1[size_t(j)];
    EXPECT_GT(std::fabs(d0 - d1), 1e-3);
}

TEST(Rope, BadInput) {
    Context ctx("cpu"), other("cpu");
    Tensor x = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 8});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 8});
    Tensor ints = make_tensor(ctx, NM_DTYPE_I32, {2, 3, 8});
    Tensor wrong = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 4});
    Tensor flat = make_tensor(ctx, NM_DTYPE_F32, {8});
    Tensor foreign = make_tensor(other, NM_DTYPE_F32, {2, 3, 8});
    Tensor freq_f16 = make_tensor(ctx, NM_DTYPE_F16, {4});
    Tensor freq_short = make_tensor(ctx, NM_DTYPE_F32, {3});
    Tensor freq_foreign = make_tensor(other, NM_DTYPE_F32, {4});
    const int32_t pos[2] = {0, 1}, negative[2] = {0, -1};
    nm_rope_params p{0, 10000.f, 1.f, 0, nullptr};

    EXPECT_NM_ERROR(nm_rope(nullptr, x, pos, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "ctx");
    EXPECT_NM_ERROR(nm_rope(ctx, nullptr, pos, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "x: tensor is NULL");
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, nullptr, &p), NM_ERR_INVALID_ARGUMENT, "out: tensor is NULL");
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, out, nullptr), NM_ERR_INVALID_ARGUMENT, "params: is NULL");
    EXPECT_NM_ERROR(nm_rope(ctx, x, nullptr, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "positions: is NULL");
    EXPECT_NM_ERROR(nm_rope(ctx, ints, pos, 2, out, &p), NM_ERR_DTYPE, "x: expected float32, float16 or bfloat16, got int32");
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, ints, &p), NM_ERR_DTYPE, "out: expected float32");
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, wrong, &p), NM_ERR_SHAPE, "out: shape [2, 3, 4] does not match x shape [2, 3, 8]");
    EXPECT_NM_ERROR(nm_rope(ctx, flat, pos, 1, flat, &p), NM_ERR_SHAPE, "x: expected 2 to 8 dims, got 1");
    EXPECT_NM_ERROR(nm_rope(ctx, foreign, pos, 2, out, &p), NM_ERR_DEVICE, "x: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, foreign, &p), NM_ERR_DEVICE, "out: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 3, out, &p), NM_ERR_INVALID_ARGUMENT, "count: expected 2 positions");
    EXPECT_NM_ERROR(nm_rope(ctx, x, negative, 2, out, &p), NM_ERR_INVALID_ARGUMENT, "positions: entry 1 is negative");

    nm_rope_params bad = p;
    bad.rotary_dim = 5;
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, out, &bad), NM_ERR_INVALID_ARGUMENT, "params->rotary_dim: must be even, got 5");
    bad.rotary_dim = 10;
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, out, &bad), NM_ERR_INVALID_ARGUMENT, "params->rotary_dim: 10 exceeds head_dim 8");
    bad.rotary_dim = -2;
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, out, &bad), NM_ERR_INVALID_ARGUMENT, "params->rotary_dim: must be >= 0");
    {
        Tensor odd = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 7});
        EXPECT_NM_ERROR(nm_rope(ctx, odd, pos, 2, odd, &p), NM_ERR_INVALID_ARGUMENT, "0 means head_dim (7), which is odd");
    }
    for (float theta : {0.f, -1.f, NAN, INFINITY}) {
        bad = p;
        bad.theta = theta;
        EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, out, &bad), NM_ERR_INVALID_ARGUMENT, "params->theta: must be finite and > 0");
    }
    for (float scaling : {NAN, INFINITY}) {
        bad = p;
        bad.attention_scaling = scaling;
        EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, out, &bad), NM_ERR_INVALID_ARGUMENT, "params->attention_scaling: must be finite");
    }
    bad = p;
    bad.inv_freq = freq_f16;
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, out, &bad), NM_ERR_DTYPE, "params->inv_freq: expected float32, got float16");
    bad.inv_freq = freq_short;
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, out, &bad), NM_ERR_SHAPE, "params->inv_freq: expected shape [rotary_dim/2] [4], got [3]");
    bad.inv_freq = freq_foreign;
    EXPECT_NM_ERROR(nm_rope(ctx, x, pos, 2, out, &bad), NM_ERR_DEVICE, "params->inv_freq: tensor belongs to another context");
}

TEST(RopeCuda, MatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    Context cpu("cpu"), cuda("cuda");
    ASSERT_NE(cuda.p, nullptr) << nm_last_error();
    const std::vector<float> llama3 = llama3_inv_freq(500000.0, 64, 8.0, 1.0, 4.0, 8192.0);
    const int64_t tokens = 37, heads = 5, head_dim = 80;
    const auto positions = some_positions(tokens, 91);
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_F16, NM_DTYPE_BF16}) {
        for (int32_t interleaved : {0, 1}) {
            for (bool custom : {false, true}) {
                const auto x = round_to(dtype, random_floats(size_t(tokens * heads * head_dim), 92));
                std::vector<float> results[2];
                int which = 0;
                for (nm_context* ctx : {cpu.p, cuda.p}) {
                    Tensor xt = make_tensor(ctx, dtype, {tokens, heads, head_dim}, x);
                    Tensor freq = custom ? make_tensor(ctx, NM_DTYPE_F32, {32}, llama3) : Tensor();
                    nm_rope_params p{64, 10000.f, 1.1f, interleaved, freq.p};
                    EXPECT_NM_OK(nm_rope(ctx, xt, positions.data(), tokens, xt, &p));
                    results[which++] = download(ctx, xt);
                }
                EXPECT_LE(max_abs_diff(results[0], results[1]), tolerance(dtype) * 1.1f)
                    << nm_dtype_name(dtype) << " interleaved " << interleaved << " custom " << custom;
            }
        }
    }
}
