// test_attention_goldens.cpp — nm_attention against goldens from the
// FlashAttention authors' pure-PyTorch reference (attention_ref of
// Dao-AILab/flash-attention; tests/fixtures/attention, README.md there):
// bottom-right causal alignment for Lq < Lk and Lq > Lk, fully masked rows,
// sliding windows (left, right, both, with and without causal), GQA/MQA head
// mapping, head dims 16/40/64/128, a custom softmax scale and a ragged batch
// with empty sequences. Each fixture runs in float32 and, from the same
// values, in float16 and bfloat16, on the CPU and (when a GPU is present) on
// CUDA.
#include <cmath>
#include <string>
#include <vector>

#include "attention_golden_fixture.h"
#include "test_util.h"

using namespace nmtest;
using namespace nmtest::attention_goldens;

namespace {

// Runs one fixture on `spec` with q, k, v, out in `dtype` and checks out and lse.
void expect_golden(const char* spec, nm_dtype dtype, const char* name) {
    SCOPED_TRACE(std::string(spec) + " " + nm_dtype_name(dtype) + " " + name);
    Fixture f;
    ASSERT_TRUE(read_fixture(fixture_path(name), &f)) << "cannot read " << fixture_path(name);
    for (const char* n : {"q", "k", "v", "cu_seqlens_q", "cu_seqlens_k", "causal", "window", "softmax_scale", "out", "lse"})
        ASSERT_TRUE(f.has(n)) << name << ": no tensor " << n;
    Context ctx(spec);
    ASSERT_NE(ctx.p, nullptr) << nm_last_error();
    const std::vector<int32_t> cu_q = to_offsets(f.data["cu_seqlens_q"]), cu_k = to_offsets(f.data["cu_seqlens_k"]);
    const int32_t batch = int32_t(cu_q.size()) - 1;
    Tensor q = make_tensor(ctx, dtype, f.shape["q"], f.data["q"]);
    Tensor k = make_tensor(ctx, dtype, f.shape["k"], f.data["k"]);
    Tensor v = make_tensor(ctx, dtype, f.shape["v"], f.data["v"]);
    Tensor out = make_tensor(ctx, dtype, f.shape["q"]);
    Tensor lse = make_tensor(ctx, NM_DTYPE_F32, f.shape["lse"]);
    // The fixture's window is already in our encoding (-1: no limit).
    const nm_attention_params params{f.data["softmax_scale"][0], f.data["causal"][0] != 0.f ? 1 : 0,
                                     int32_t(f.data["window"][0]), int32_t(f.data["window"][1])};
    ASSERT_EQ(nm_attention(ctx, q, k, v, cu_q.data(), cu_k.data(), batch, out, lse, &params), NM_OK)
        << nm_last_error();
    const std::vector<float> got_out = download(ctx, out), got_lse = download(ctx, lse);
    const Tolerance tol = tolerance(dtype, std::string(spec) == "cuda");
    expect_near_all(got_out, f.data["out"], tol.out, "out");
    expect_near_all(got_lse, f.data["lse"], tol.lse, "lse");

    // Rows the reference leaves at exactly 0 (queries that see no key) are
    // exactly 0 here too, in every dtype, and their lse is -inf.
    const std::vector<int64_t>& qs = f.shape["q"];
    const int64_t tq = qs[0], hq = qs[1], d = qs[2];
    for (int64_t t = 0; t < tq; ++t)
        for (int64_t h = 0; h < hq; ++h) {
            if (!std::isinf(f.data["lse"][size_t(h * tq + t)])) continue;
            for (int64_t c = 0; c < d; ++c) {
                const size_t i = size_t((t * hq + h) * d + c);
                ASSERT_EQ(f.data["out"][i], 0.f) << "reference row (" << t << ", " << h << ") is not zero";
                ASSERT_EQ(got_out[i], 0.f) << "fully masked row (" << t << ", " << h << ")";
            }
        }
}

void expect_all_goldens(const char* spec, nm_dtype dtype) {
    for (const char* name : kCases) expect_golden(spec, dtype, name);
}

}  // namespace

TEST(AttentionGoldens, Float32MatchesAuthorsReference) { expect_all_goldens("cpu", NM_DTYPE_F32); }
TEST(AttentionGoldens, Float16MatchesAuthorsReference) { expect_all_goldens("cpu", NM_DTYPE_F16); }
TEST(AttentionGoldens, BFloat16MatchesAuthorsReference) { expect_all_goldens("cpu", NM_DTYPE_BF16); }

// The exact-zero check above only bites where a fixture has fully masked
// rows: these cases are there for that (Lq > Lk under causal or a window, and
// the ragged batch's sequence with no keys).
TEST(AttentionGoldens, FixturesContainFullyMaskedRows) {
    for (const char* name : {"causal_lq_gt_lk", "window_right_masks_all", "causal_ignores_right", "window_zero",
                             "ragged_batch"}) {
        Fixture f;
        ASSERT_TRUE(read_fixture(fixture_path(name), &f)) << "cannot read " << fixture_path(name);
        int masked = 0;
        for (float x : f.data["lse"]) masked += std::isinf(x) ? 1 : 0;
        EXPECT_GT(masked, 0) << name;
    }
}

TEST(AttentionGoldensCuda, Float32MatchesAuthorsReference) {
    NM_SKIP_WITHOUT_CUDA();
    expect_all_goldens("cuda", NM_DTYPE_F32);
}

TEST(AttentionGoldensCuda, Float16MatchesAuthorsReference) {
    NM_SKIP_WITHOUT_CUDA();
    expect_all_goldens("cuda", NM_DTYPE_F16);
}

TEST(AttentionGoldensCuda, BFloat16MatchesAuthorsReference) {
    NM_SKIP_WITHOUT_CUDA();
    expect_all_goldens("cuda", NM_DTYPE_BF16);
}
