// test_conv1d.cpp — nm_conv1d_causal and nm_conv1d_update against a naive
// reference; chunked prefill and prefill-then-decode against one long
// prefill; shared state tensors; argument checks; CUDA against CPU.
#include <cmath>
#include <vector>

#include "test_util.h"

using namespace nmtest;

namespace {

struct ConvShape {
    int64_t batch = 2, length = 5, channels = 3, kernel = 4;
};

struct ConvResult {
    std::vector<float> out;          // [B, L, D]
    std::vector<float> final_state;  // [B, D, K-1]
};

// The definition, written plainly: xin = state then x along time.
ConvResult conv1d_reference(const ConvShape& s, const std::vector<float>& x, const std::vector<float>& weight,
                            const std::vector<float>& bias, const std::vector<float>& initial_state, bool silu) {
    const int64_t B = s.batch, L = s.length, D = s.channels, K = s.kernel, H = K - 1;
    ConvResult r{std::vector<float>(size_t(B * L * D)), std::vector<float>(size_t(B * D * H))};
    for (int64_t b = 0; b < B; ++b) {
        for (int64_t d = 0; d < D; ++d) {
            std::vector<double> xin;
            for (int64_t j = 0; j < H; ++j)
                xin.push_back(initial_state.empty() ? 0.0 : initial_state[size_t((b * D + d) * H + j)]);
            for (int64_t t = 0; t < L; ++t) xin.push_back(x[size_t((b * L + t) * D + d)]);
            for (int64_t t = 0; t < L; ++t) {
                double acc = bias.empty() ? 0.0 : bias[size_t(d)];
                for (int64_t k = 0; k < K; ++k) acc += weight[size_t(d * K + k)] * xin[size_t(t + k)];
                if (silu) acc = acc / (1.0 + std::exp(-acc));
                r.out[size_t((b * L + t) * D + d)] = float(acc);
            }
            for (int64_t j = 0; j < H; ++j) r.final_state[size_t((b * D + d) * H + j)] = float(xin[size_t(L + j)]);
        }
    }
    return r;
}

nm_activation activation_of(bool silu) { return silu ? NM_ACTIVATION_SILU : NM_ACTIVATION_NONE; }

float tolerance(nm_dtype dtype) { return dtype == NM_DTYPE_F32 ? 1e-5f : dtype == NM_DTYPE_F16 ? 4e-3f : 3e-2f; }

// One configuration of the prefill against the reference. All tensors in `dtype`.
void expect_prefill_matches(const ConvShape& s, nm_dtype dtype, bool with_bias, bool with_state, bool silu,
                            uint32_t seed) {
    SCOPED_TRACE(testing::Message() << "B=" << s.batch << " L=" << s.length << " D=" << s.channels << " K="
                                    << s.kernel << " " << nm_dtype_name(dtype) << " bias=" << with_bias
                                    << " state=" << with_state << " silu=" << silu);
    Context ctx("cpu");
    const int64_t B = s.batch, L = s.length, D = s.channels, K = s.kernel;
    const auto x = round_to(dtype, random_floats(size_t(B * L * D), seed));
    const auto w = round_to(dtype, random_floats(size_t(D * K), seed + 1));
    const auto bias = with_bias ? round_to(dtype, random_floats(size_t(D), seed + 2)) : std::vector<float>();
    const auto state = with_state ? round_to(dtype, random_floats(size_t(B * D * (K - 1)), seed + 3)) : std::vector<float>();

    Tensor xt = make_tensor(ctx, dtype, {B, L, D}, x);
    Tensor wt = make_tensor(ctx, dtype, {D, K}, w);
    Tensor bt = with_bias ? make_tensor(ctx, dtype, {D}, bias) : Tensor();
    Tensor st = with_state ? make_tensor(ctx, dtype, {B, D, K - 1}, state) : Tensor();
    Tensor out = make_tensor(ctx, dtype, {B, L, D});
    Tensor fin = make_tensor(ctx, dtype, {B, D, K - 1});
    EXPECT_NM_OK(nm_conv1d_causal(ctx, xt, wt, bt, st, out, fin, activation_of(silu)));

    const ConvResult want = conv1d_reference(s, x, w, bias, state, silu);
    EXPECT_LE(max_abs_diff(download(ctx, out), round_to(dtype, want.out)), tolerance(dtype) * 2);
    // The state is a copy of inputs: exact.
    EXPECT_EQ(download(ctx, fin), want.final_state);
}

}  // namespace

TEST(Conv1d, MatchesReference) {
    uint32_t seed = 1;
    for (int64_t K : {2, 3, 4}) {
        for (int64_t L : {1, 2, 7}) {  // L = 1, L < K-1 (K = 4, L = 2), L > K
            for (bool with_bias : {false, true}) {
                for (bool with_state : {false, true}) {
                    for (bool silu : {false, true}) {
                        ConvShape s{2, L, 5, K};
                        expect_prefill_matches(s, NM_DTYPE_F32, with_bias, with_state, silu, seed++);
                    }
                }
            }
        }
    }
}

TEST(Conv1d, HalfDtypes) {
    for (nm_dtype dtype : {NM_DTYPE_BF16, NM_DTYPE_F16}) {
        for (int64_t K : {2, 4}) {
            expect_prefill_matches(ConvShape{2, 6, 7, K}, dtype, true, true, true, 100);
            expect_prefill_matches(ConvShape{1, 1, 3, K}, dtype, false, false, false, 101);
        }
    }
}

TEST(Conv1d, LargeInputUsesManyChannelBlocks) {
    // Enough work for threads, and D not a multiple of any block size.
    expect_prefill_matches(ConvShape{3, 64, 301, 4}, NM_DTYPE_F32, true, true, true, 200);
}

TEST(Conv1d, MixedDtypes) {
    Context ctx("cpu");
    const ConvShape s{2, 4, 6, 3};
    const auto x = round_to(NM_DTYPE_BF16, random_floats(2 * 4 * 6, 300));
    const auto w = random_floats(6 * 3, 301);
    const auto bias = round_to(NM_DTYPE_F16, random_floats(6, 302));
    Tensor xt = make_tensor(ctx, NM_DTYPE_BF16, {2, 4, 6}, x);
    Tensor wt = make_tensor(ctx, NM_DTYPE_F32, {6, 3}, w);
    Tensor bt = make_tensor(ctx, NM_DTYPE_F16, {6}, bias);
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 4, 6});
    EXPECT_NM_OK(nm_conv1d_causal(ctx, xt, wt, bt, nullptr, out, nullptr, NM_ACTIVATION_SILU));
    EXPECT_LE(max_abs_diff(download(ctx, out), conv1d_reference(s, x, w, bias, {}, true).out), 1e-5f);
}

TEST(Conv1d, WeightWithSingletonMiddleDim) {
    Context ctx("cpu");
    const auto x = random_floats(1 * 5 * 4, 400), w = random_floats(4 * 3, 401);
    Tensor xt = make_tensor(ctx, NM_DTYPE_F32, {1, 5, 4}, x);
    Tensor w2 = make_tensor(ctx, NM_DTYPE_F32, {4, 3}, w), w3 = make_tensor(ctx, NM_DTYPE_F32, {4, 1, 3}, w);
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {1, 5, 4}), b = make_tensor(ctx, NM_DTYPE_F32, {1, 5, 4});
    EXPECT_NM_OK(nm_conv1d_causal(ctx, xt, w2, nullptr, nullptr, a, nullptr, NM_ACTIVATION_NONE));
    EXPECT_NM_OK(nm_conv1d_causal(ctx, xt, w3, nullptr, nullptr, b, nullptr, NM_ACTIVATION_NONE));
    EXPECT_EQ(download(ctx, a), download(ctx, b));
}

TEST(Conv1d, KernelOneWithoutState) {
    Context ctx("cpu");
    const auto x = random_floats(2 * 3 * 4, 500), w = random_floats(4, 501);
    Tensor xt = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 4}, x);
    Tensor wt = make_tensor(ctx, NM_DTYPE_F32, {4, 1}, w);
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 4});
    EXPECT_NM_OK(nm_conv1d_causal(ctx, xt, wt, nullptr, nullptr, out, nullptr, NM_ACTIVATION_NONE));
    const auto got = download(ctx, out);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_FLOAT_EQ(got[i], x[i] * w[i % 4]) << i;
}

TEST(Conv1d, ShortSequenceKeepsOldStateInFinalState) {
    // K = 4, L = 1: final_state = [s1, s2, x0] (drops the oldest of the initial state).
    Context ctx("cpu");
    Tensor xt = make_tensor(ctx, NM_DTYPE_F32, {1, 1, 2}, {10, 20});
    Tensor wt = make_tensor(ctx, NM_DTYPE_F32, {2, 4}, {1, 1, 1, 1, 1, 2, 3, 4});
    Tensor st = make_tensor(ctx, NM_DTYPE_F32, {1, 2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {1, 1, 2});
    Tensor fin = make_tensor(ctx, NM_DTYPE_F32, {1, 2, 3});
    EXPECT_NM_OK(nm_conv1d_causal(ctx, xt, wt, nullptr, st, out, fin, NM_ACTIVATION_NONE));
    EXPECT_EQ(download(ctx, out), (std::vector<float>{1 + 2 + 3 + 10, 4 * 1 + 5 * 2 + 6 * 3 + 20 * 4}));
    EXPECT_EQ(download(ctx, fin), (std::vector<float>{2, 3, 10, 5, 6, 20}));
}

TEST(Conv1d, SameTensorForInitialAndFinalState) {
    for (int64_t L : {1, 2, 6}) {
        Context ctx("cpu");
        const ConvShape s{2, L, 40, 4};  // 40 channels: two channel blocks
        const auto x = random_floats(size_t(2 * L * 40), 600), w = random_floats(40 * 4, 601);
        const auto state = random_floats(2 * 40 * 3, 602);
        Tensor xt = make_tensor(ctx, NM_DTYPE_F32, {2, L, 40}, x);
        Tensor wt = make_tensor(ctx, NM_DTYPE_F32, {40, 4}, w);
        Tensor st = make_tensor(ctx, NM_DTYPE_F32, {2, 40, 3}, state);
        Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, L, 40});
        EXPECT_NM_OK(nm_conv1d_causal(ctx, xt, wt, nullptr, st, out, st, NM_ACTIVATION_SILU));
        const ConvResult want = conv1d_reference(s, x, w, {}, state, true);
        EXPECT_LE(max_abs_diff(download(ctx, out), want.out), 1e-5f) << "L=" << L;
        EXPECT_EQ(download(ctx, st), want.final_state) << "L=" << L;
    }
}

TEST(Conv1d, ChunkedPrefillEqualsWholePrefill) {
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16}) {
        for (int64_t split : {1, 2, 5}) {  // first chunk shorter than, equal to, longer than K-1 = 3
            Context ctx("cpu");
            const int64_t B = 2, L = 9, D = 6, K = 4;
            const auto x = round_to(dtype, random_floats(size_t(B * L * D), 700));
            const auto w = round_to(dtype, random_floats(size_t(D * K), 701));
            const auto bias = round_to(dtype, random_floats(size_t(D), 702));
            Tensor wt = make_tensor(ctx, dtype, {D, K}, w), bt = make_tensor(ctx, dtype, {D}, bias);

            Tensor whole_x = make_tensor(ctx, dtype, {B, L, D}, x);
            Tensor whole_out = make_tensor(ctx, dtype, {B, L, D}), whole_state = make_tensor(ctx, dtype, {B, D, K - 1});
            EXPECT_NM_OK(nm_conv1d_causal(ctx, whole_x, wt, bt, nullptr, whole_out, whole_state, NM_ACTIVATION_SILU));

            // Split x along time into [0, split) and [split, L).
            std::vector<float> x1, x2;
            for (int64_t b = 0; b < B; ++b)
                for (int64_t t = 0; t < L; ++t)
                    for (int64_t d = 0; d < D; ++d) (t < split ? x1 : x2).push_back(x[size_t((b * L + t) * D + d)]);
            Tensor x1t = make_tensor(ctx, dtype, {B, split, D}, x1), x2t = make_tensor(ctx, dtype, {B, L - split, D}, x2);
            Tensor out1 = make_tensor(ctx, dtype, {B, split, D}), out2 = make_tensor(ctx, dtype, {B, L - split, D});
            Tensor state = make_tensor(ctx, dtype, {B, D, K - 1});
            EXPECT_NM_OK(nm_conv1d_causal(ctx, x1t, wt, bt, nullptr, out1, state, NM_ACTIVATION_SILU));
            EXPECT_NM_OK(nm_conv1d_causal(ctx, x2t, wt, bt, state, out2, state, NM_ACTIVATION_SILU));

            const auto o1 = download(ctx, out1), o2 = download(ctx, out2), whole = download(ctx, whole_out);
            std::vector<float> joined;
            for (int64_t b = 0; b < B; ++b) {
                joined.insert(joined.end(), o1.begin() + b * split * D, o1.begin() + (b + 1) * split * D);
                joined.insert(joined.end(), o2.begin() + b * (L - split) * D, o2.begin() + (b + 1) * (L - split) * D);
            }
            // Same arithmetic in the same order: identical results.
            EXPECT_EQ(joined, whole) << nm_dtype_name(dtype) << " split " << split;
            EXPECT_EQ(download(ctx, state), download(ctx, whole_state)) << nm_dtype_name(dtype) << " split " << split;
        }
    }
}

TEST(Conv1d, DecodeStepsAfterPrefillEqualLongPrefill) {
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16}) {
        for (int64_t K : {2, 3, 4}) {
            Context ctx("cpu");
            const int64_t B = 3, L = 8, prefill = 3, D = 5;
            const auto x = round_to(dtype, random_floats(size_t(B * L * D), 800));
            const auto w = round_to(dtype, random_floats(size_t(D * K), 801));
            const auto bias = round_to(dtype, random_floats(size_t(D), 802));
            Tensor wt = make_tensor(ctx, dtype, {D, K}, w), bt = make_tensor(ctx, dtype, {D}, bias);

            Tensor whole_x = make_tensor(ctx, dtype, {B, L, D}, x);
            Tensor whole_out = make_tensor(ctx, dtype, {B, L, D}), whole_state = make_tensor(ctx, dtype, {B, D, K - 1});
            EXPECT_NM_OK(nm_conv1d_causal(ctx, whole_x, wt, bt, nullptr, whole_out, whole_state, NM_ACTIVATION_SILU));
            const auto whole = download(ctx, whole_out);

            std::vector<float> head;
            for (int64_t b = 0; b < B; ++b)
                for (int64_t t = 0; t < prefill; ++t)
                    for (int64_t d = 0; d < D; ++d) head.push_back(x[size_t((b * L + t) * D + d)]);
            Tensor head_x = make_tensor(ctx, dtype, {B, prefill, D}, head);
            Tensor head_out = make_tensor(ctx, dtype, {B, prefill, D}), state = make_tensor(ctx, dtype, {B, D, K - 1});
            EXPECT_NM_OK(nm_conv1d_causal(ctx, head_x, wt, bt, nullptr, head_out, state, NM_ACTIVATION_SILU));

            for (int64_t t = prefill; t < L; ++t) {
                std::vector<float> step, want;
                for (int64_t b = 0; b < B; ++b)
                    for (int64_t d = 0; d < D; ++d) {
                        step.push_back(x[size_t((b * L + t) * D + d)]);
                        want.push_back(whole[size_t((b * L + t) * D + d)]);
                    }
                Tensor xs = make_tensor(ctx, dtype, {B, D}, step);
                EXPECT_NM_OK(nm_conv1d_update(ctx, xs, state, wt, bt, xs, NM_ACTIVATION_SILU));  // out aliases x
                EXPECT_EQ(download(ctx, xs), want) << nm_dtype_name(dtype) << " K=" << K << " t=" << t;
            }
            EXPECT_EQ(download(ctx, state), download(ctx, whole_state)) << nm_dtype_name(dtype) << " K=" << K;
        }
    }
}

TEST(Conv1d, UpdateMatchesDefinition) {
    Context ctx("cpu");
    // K = 3: out = bias + w0*s0 + w1*s1 + w2*x; state becomes [s1, x].
    Tensor x = make_tensor(ctx, NM_DTYPE_F32, {1, 2}, {5, -1});
    Tensor state = make_tensor(ctx, NM_DTYPE_F32, {1, 2, 2}, {1, 2, 3, 4});
    Tensor w = make_tensor(ctx, NM_DTYPE_F32, {2, 1, 3}, {1, 10, 100, 2, 3, 4});
    Tensor bias = make_tensor(ctx, NM_DTYPE_F32, {2}, {0.5f, -0.5f});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {1, 2});
    EXPECT_NM_OK(nm_conv1d_update(ctx, x, state, w, bias, out, NM_ACTIVATION_NONE));
    EXPECT_EQ(download(ctx, out), (std::vector<float>{0.5f + 1 + 20 + 500, -0.5f + 6 + 12 - 4}));
    EXPECT_EQ(download(ctx, state), (std::vector<float>{2, 5, 4, -1}));
    // SiLU on top of the same sum.
    Tensor state2 = make_tensor(ctx, NM_DTYPE_F32, {1, 2, 2}, {1, 2, 3, 4});
    EXPECT_NM_OK(nm_conv1d_update(ctx, x, state2, w, bias, out, NM_ACTIVATION_SILU));
    const float v = -0.5f + 6 + 12 - 4;
    EXPECT_NEAR(download(ctx, out)[1], v / (1 + std::exp(-v)), 1e-5f);
}

TEST(Conv1d, BadInputCausal) {
    Context ctx("cpu"), other("cpu");
    Tensor x = make_tensor(ctx, NM_DTYPE_F32, {2, 5, 3});
    Tensor w = make_tensor(ctx, NM_DTYPE_F32, {3, 4});
    Tensor bias = make_tensor(ctx, NM_DTYPE_F32, {3});
    Tensor state = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 3});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 5, 3});
    Tensor ints = make_tensor(ctx, NM_DTYPE_I32, {2, 5, 3});
    Tensor foreign = make_tensor(other, NM_DTYPE_F32, {2, 5, 3});
    Tensor w_bad = make_tensor(ctx, NM_DTYPE_F32, {4, 4});
    Tensor w_mid = make_tensor(ctx, NM_DTYPE_F32, {3, 2, 4});
    Tensor w_k1 = make_tensor(ctx, NM_DTYPE_F32, {3, 1});
    Tensor bias_bad = make_tensor(ctx, NM_DTYPE_F32, {4});
    Tensor state_bad = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 2});
    Tensor state_k1 = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 1});
    Tensor out_bad = make_tensor(ctx, NM_DTYPE_F32, {2, 4, 3});
    Tensor x2d = make_tensor(ctx, NM_DTYPE_F32, {5, 3});
    const auto A = NM_ACTIVATION_NONE;

    EXPECT_NM_OK(nm_conv1d_causal(ctx, x, w, bias, state, out, state, A));
    EXPECT_NM_ERROR(nm_conv1d_causal(nullptr, x, w, bias, state, out, state, A), NM_ERR_INVALID_ARGUMENT, "ctx");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, nullptr, w, bias, state, out, state, A), NM_ERR_INVALID_ARGUMENT, "x: tensor is NULL");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, nullptr, bias, state, out, state, A), NM_ERR_INVALID_ARGUMENT, "weight: tensor is NULL");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w, bias, state, nullptr, state, A), NM_ERR_INVALID_ARGUMENT, "out: tensor is NULL");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, ints, w, bias, state, out, state, A), NM_ERR_DTYPE, "x: expected float32, float16 or bfloat16, got int32");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w, bias, state, ints, nullptr, A), NM_ERR_DTYPE, "out: expected float32");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, foreign, w, bias, state, out, state, A), NM_ERR_DEVICE, "x: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w, bias, state, foreign, state, A), NM_ERR_DEVICE, "out: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x2d, w, bias, nullptr, x2d, nullptr, A), NM_ERR_SHAPE, "x: expected 3 dims, got 2");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w_bad, bias, state, out, state, A), NM_ERR_SHAPE, "weight: expected shape [D, K] [3, 4], got [4, 4]");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w_mid, bias, state, out, state, A), NM_ERR_SHAPE, "weight: expected shape [D, 1, K] [3, 1, 4], got [3, 2, 4]");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w, bias_bad, state, out, state, A), NM_ERR_SHAPE, "bias: expected shape [D] [3], got [4]");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w, bias, state_bad, out, nullptr, A), NM_ERR_SHAPE, "initial_state: expected shape [B, D, K-1] [2, 3, 3], got [2, 3, 2]");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w, bias, nullptr, out, state_bad, A), NM_ERR_SHAPE, "final_state: expected shape [B, D, K-1] [2, 3, 3], got [2, 3, 2]");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w, bias, nullptr, out_bad, nullptr, A), NM_ERR_SHAPE, "out: shape [2, 4, 3] does not match x shape [2, 5, 3]");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w_k1, nullptr, state_k1, out, nullptr, A), NM_ERR_SHAPE, "initial_state: weight has K = 1 tap, so there is no state");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w, bias, state, x, state, A), NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as x");
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w, bias, state, out, state, nm_activation(7)), NM_ERR_INVALID_ARGUMENT, "activation: unknown value 7");
    {
        // [B, L, D] = [1, 3, 3] and [B, D, K-1] = [1, 3, 3]: shapes fit, aliasing does not.
        Tensor sq = make_tensor(ctx, NM_DTYPE_F32, {1, 3, 3});
        Tensor sq_out = make_tensor(ctx, NM_DTYPE_F32, {1, 3, 3});
        EXPECT_NM_ERROR(nm_conv1d_causal(ctx, sq, w, nullptr, nullptr, sq_out, sq, A), NM_ERR_INVALID_ARGUMENT, "final_state: must not be the same tensor as x");
        EXPECT_NM_ERROR(nm_conv1d_causal(ctx, sq, w, nullptr, nullptr, sq_out, sq_out, A), NM_ERR_INVALID_ARGUMENT, "final_state: must not be the same tensor as out");
        EXPECT_NM_ERROR(nm_conv1d_causal(ctx, sq, w, nullptr, sq_out, sq_out, nullptr, A), NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as initial_state");
    }
    Tensor foreign_state = make_tensor(other, NM_DTYPE_F32, {2, 3, 3});
    EXPECT_NM_ERROR(nm_conv1d_causal(ctx, x, w, bias, foreign_state, out, nullptr, A), NM_ERR_DEVICE, "initial_state: tensor belongs to another context");
}

TEST(Conv1d, BadInputUpdate) {
    Context ctx("cpu"), other("cpu");
    Tensor x = make_tensor(ctx, NM_DTYPE_F32, {2, 3});
    Tensor state = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 3});
    Tensor w = make_tensor(ctx, NM_DTYPE_F32, {3, 4});
    Tensor bias = make_tensor(ctx, NM_DTYPE_F32, {3});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 3});
    Tensor ints = make_tensor(ctx, NM_DTYPE_I32, {2, 3});
    Tensor foreign = make_tensor(other, NM_DTYPE_F32, {2, 3, 3});
    Tensor state_bad = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 4});
    Tensor w_k1 = make_tensor(ctx, NM_DTYPE_F32, {3, 1});
    Tensor out_bad = make_tensor(ctx, NM_DTYPE_F32, {3, 2});
    Tensor x3d = make_tensor(ctx, NM_DTYPE_F32, {2, 1, 3});
    const auto A = NM_ACTIVATION_SILU;

    EXPECT_NM_OK(nm_conv1d_update(ctx, x, state, w, bias, out, A));
    EXPECT_NM_ERROR(nm_conv1d_update(nullptr, x, state, w, bias, out, A), NM_ERR_INVALID_ARGUMENT, "ctx");
    EXPECT_NM_ERROR(nm_conv1d_update(ctx, nullptr, state, w, bias, out, A), NM_ERR_INVALID_ARGUMENT, "x: tensor is NULL");
    EXPECT_NM_ERROR(nm_conv1d_update(ctx, x, nullptr, w, bias, out, A), NM_ERR_INVALID_ARGUMENT, "conv_state: tensor is NULL");
    EXPECT_NM_ERROR(nm_conv1d_update(ctx, x, state, nullptr, bias, out, A), NM_ERR_INVALID_ARGUMENT, "weight: tensor is NULL");
    EXPECT_NM_ERROR(nm_conv1d_update(ctx, x, state, w, bias, nullptr, A), NM_ERR_INVALID_ARGUMENT, "out: tensor is NULL");
    EXPECT_NM_ERROR(nm_conv1d_update(ctx, ints, state, w, bias, out, A), NM_ERR_DTYPE, "x: expected float32, float16 or bfloat16, got int32");
    EXPECT_NM_ERROR(nm_conv1d_update(ctx, x, foreign, w, bias, out, A), NM_ERR_DEVICE, "conv_state: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_conv1d_update(ctx, x3d, state, w, bias, out, A), NM_ERR_SHAPE, "x: expected 2 dims, got 3");
    EXPECT_NM_ERROR(nm_conv1d_update(ctx, x, state_bad, w, bias, out, A), NM_ERR_SHAPE, "conv_state: expected shape [B, D, K-1] [2, 3, 3], got [2, 3, 4]");
    EXPECT_NM_ERROR(nm_conv1d_update(ctx, x, state, w, bias, out_bad, A), NM_ERR_SHAPE, "out: shape [3, 2] does not match x shape [2, 3]");
    EXPECT_NM_ERROR(nm_conv1d_update(ctx, x, state, w_k1, bias, out, A), NM_ERR_SHAPE, "conv_state: weight has K = 1 tap");
    EXPECT_NM_ERROR(nm_conv1d_update(ctx, x, state, w, bias, out, nm_activation(-1)), NM_ERR_INVALID_ARGUMENT, "activation: unknown value -1");
}

TEST(Conv1dCuda, MatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    Context cpu("cpu"), cuda("cuda");
    ASSERT_NE(cuda.p, nullptr) << nm_last_error();
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16}) {
        for (int64_t K : {2, 4}) {
            const int64_t B = 2, L = 37, D = 70;
            const auto x = round_to(dtype, random_floats(size_t(B * L * D), 900));
            const auto w = round_to(dtype, random_floats(size_t(D * K), 901));
            const auto bias = round_to(dtype, random_floats(size_t(D), 902));
            const auto state = round_to(dtype, random_floats(size_t(B * D * (K - 1)), 903));
            const auto step = round_to(dtype, random_floats(size_t(B * D), 904));
            std::vector<float> out[2], fin[2], step_out[2], step_state[2];
            int which = 0;
            for (nm_context* ctx : {cpu.p, cuda.p}) {
                Tensor xt = make_tensor(ctx, dtype, {B, L, D}, x), wt = make_tensor(ctx, dtype, {D, K}, w);
                Tensor bt = make_tensor(ctx, dtype, {D}, bias), st = make_tensor(ctx, dtype, {B, D, K - 1}, state);
                Tensor ot = make_tensor(ctx, dtype, {B, L, D});
                EXPECT_NM_OK(nm_conv1d_causal(ctx, xt, wt, bt, st, ot, st, NM_ACTIVATION_SILU));
                out[which] = download(ctx, ot);
                fin[which] = download(ctx, st);
                Tensor xs = make_tensor(ctx, dtype, {B, D}, step);
                EXPECT_NM_OK(nm_conv1d_update(ctx, xs, st, wt, bt, xs, NM_ACTIVATION_SILU));
                step_out[which] = download(ctx, xs);
                step_state[which] = download(ctx, st);
                ++which;
            }
            SCOPED_TRACE(testing::Message() << nm_dtype_name(dtype) << " K=" << K);
            EXPECT_LE(max_abs_diff(out[0], out[1]), tolerance(dtype));
            EXPECT_EQ(fin[0], fin[1]);
            EXPECT_LE(max_abs_diff(step_out[0], step_out[1]), tolerance(dtype));
            EXPECT_EQ(step_state[0], step_state[1]);
        }
    }
}
