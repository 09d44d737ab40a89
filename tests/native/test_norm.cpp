// test_norm.cpp — the row-wise operators over the last dim: nm_rmsnorm,
// nm_rmsnorm_gated, nm_l2norm and nm_softmax, against double-precision
// references in every float dtype, in place, with bad arguments, and CUDA
// against CPU.
#include "test_reference.h"

using namespace nmtest;

namespace {

// Runs op(ctx, x, out) and then in place op(ctx, x, x); both must match `want`.
void expect_out_and_in_place(nm_context* ctx, nm_dtype dt, const std::vector<int64_t>& shape,
                             const std::vector<float>& x, const XOutCall& call, const std::vector<double>& want) {
    Tensor tx = make_tensor(ctx, dt, shape, x);
    Tensor out = make_tensor(ctx, dt, shape);
    EXPECT_NM_OK(call(ctx, tx, out));
    expect_close(download(ctx, out), want, ref_tolerance(dt));
    EXPECT_NM_OK(call(ctx, tx, tx));
    expect_close(download(ctx, tx), want, ref_tolerance(dt));
}

std::string trace(nm_dtype dt, const std::vector<int64_t>& shape) {
    std::string s = std::string(nm_dtype_name(dt)) + " [";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

}  // namespace

// ---------------------------------------------------------------- rmsnorm

TEST(RmsNorm, MatchesReference) {
    Context ctx("cpu");
    const float eps = 1e-5f;
    for (nm_dtype dt : kFloatDtypes)
        for (const auto& shape : test_shapes())
            for (int mode = 0; mode < 3; ++mode) {  // 0: no weight, 1: weight, 2: zero-centered weight
                SCOPED_TRACE(trace(dt, shape) + " mode " + std::to_string(mode));
                const int64_t cols = shape.back();
                std::vector<float> x = round_to(dt, random_floats(size_t(product(shape)), 51, -3.f, 3.f));
                std::vector<float> w =
                    mode ? round_to(dt, random_floats(size_t(cols), 52, -1.5f, 1.5f)) : std::vector<float>{};
                Tensor tw = mode ? make_tensor(ctx, dt, {cols}, w) : Tensor();
                auto call = [&](nm_context* c, const nm_tensor* in, nm_tensor* out) {
                    return nm_rmsnorm(c, in, tw, out, eps, mode == 2);
                };
                expect_out_and_in_place(ctx, dt, shape, x, call, ref_rmsnorm(x, w, cols, eps, mode == 2));
            }
}

TEST(RmsNorm, MixedDtypesAndZeroEps) {
    Context ctx("cpu");
    std::vector<float> x = round_to(NM_DTYPE_BF16, random_floats(64, 53));
    std::vector<float> w = round_to(NM_DTYPE_F16, random_floats(16, 54));
    Tensor tx = make_tensor(ctx, NM_DTYPE_BF16, {4, 16}, x);
    Tensor tw = make_tensor(ctx, NM_DTYPE_F16, {16}, w);
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {4, 16});
    EXPECT_NM_OK(nm_rmsnorm(ctx, tx, tw, out, 0.f, 0));
    expect_close(download(ctx, out), ref_rmsnorm(x, w, 16, 0.f, false), 1e-5);
}

TEST(RmsNorm, BadArguments) {
    expect_x_out_errors(
        [](nm_context* c, const nm_tensor* x, nm_tensor* out) { return nm_rmsnorm(c, x, nullptr, out, 1e-6f, 0); });
    Context ctx("cpu"), other("cpu");
    Tensor x = make_tensor(ctx, NM_DTYPE_F32, {2, 3});
    Tensor w = make_tensor(ctx, NM_DTYPE_F32, {3});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 3});
    EXPECT_NM_OK(nm_rmsnorm(ctx, x, w, out, 1e-6f, 0));
    Tensor w_wrong = make_tensor(ctx, NM_DTYPE_F32, {2});
    EXPECT_NM_ERROR(nm_rmsnorm(ctx, x, w_wrong, out, 1e-6f, 0), NM_ERR_SHAPE,
                    "weight: expected shape [H] for x's last dim H [3], got [2]");
    Tensor w_int = make_tensor(ctx, NM_DTYPE_I32, {3});
    EXPECT_NM_ERROR(nm_rmsnorm(ctx, x, w_int, out, 1e-6f, 0), NM_ERR_DTYPE,
                    "weight: expected float32, float16 or bfloat16, got int32");
    Tensor w_other = make_tensor(other, NM_DTYPE_F32, {3});
    EXPECT_NM_ERROR(nm_rmsnorm(ctx, x, w_other, out, 1e-6f, 0), NM_ERR_DEVICE,
                    "weight: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_rmsnorm(ctx, x, w, out, -1e-6f, 0), NM_ERR_INVALID_ARGUMENT, "eps: must be finite and >= 0");
    EXPECT_NM_ERROR(nm_rmsnorm(ctx, x, w, out, NAN, 0), NM_ERR_INVALID_ARGUMENT,
                    "eps: must be finite and >= 0, got nan");
    EXPECT_NM_ERROR(nm_rmsnorm(ctx, x, w, out, INFINITY, 0), NM_ERR_INVALID_ARGUMENT, "eps:");
    Tensor v = make_tensor(ctx, NM_DTYPE_F32, {3});
    EXPECT_NM_ERROR(nm_rmsnorm(ctx, v, v, v, 1e-6f, 0), NM_ERR_INVALID_ARGUMENT,
                    "out: must not be the same tensor as weight");
}

TEST(RmsNorm, CudaMatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    for (int zero_centered = 0; zero_centered < 2; ++zero_centered)
        expect_cuda_matches_cpu([&](nm_context* ctx, nm_dtype dt) {
            Tensor x = make_tensor(ctx, dt, {33, 1000}, random_floats(33 * 1000, 55, -3.f, 3.f));
            Tensor w = make_tensor(ctx, dt, {1000}, random_floats(1000, 56));
            Tensor out = make_tensor(ctx, dt, {33, 1000});
            EXPECT_NM_OK(nm_rmsnorm(ctx, x, w, out, 1e-6f, zero_centered));
            return download(ctx, out);
        });
}

// ---------------------------------------------------------- rmsnorm_gated

TEST(RmsNormGated, MatchesReference) {
    Context ctx("cpu");
    const float eps = 1e-6f;
    // (shape, group_size): 0 is the whole last dim.
    const std::vector<std::pair<std::vector<int64_t>, int64_t>> cases = {
        {{1}, 0}, {{7}, 0}, {{3, 12}, 0}, {{3, 12}, 4}, {{2, 3, 15}, 5}, {{5, 8}, 1}, {{40, 1024}, 256}};
    for (nm_dtype dt : kFloatDtypes)
        for (const auto& [shape, group] : cases)
            for (int gate_first = 0; gate_first < 2; ++gate_first)
                for (int with_weight = 0; with_weight < 2; ++with_weight) {
                    SCOPED_TRACE(trace(dt, shape) + " group " + std::to_string(group) + " gate_first " +
                                 std::to_string(gate_first) + " weight " + std::to_string(with_weight));
                    const int64_t cols = shape.back(), n = product(shape);
                    std::vector<float> x = round_to(dt, random_floats(size_t(n), 61, -3.f, 3.f));
                    std::vector<float> z = round_to(dt, random_floats(size_t(n), 62, -4.f, 4.f));
                    std::vector<float> w =
                        with_weight ? round_to(dt, random_floats(size_t(cols), 63)) : std::vector<float>{};
                    std::vector<double> want = ref_rmsnorm_gated(x, z, w, cols, group ? group : cols, eps, gate_first);
                    Tensor tz = make_tensor(ctx, dt, shape, z);
                    Tensor tw = with_weight ? make_tensor(ctx, dt, {cols}, w) : Tensor();
                    auto call = [&](nm_context* c, const nm_tensor* in, nm_tensor* out) {
                        return nm_rmsnorm_gated(c, in, tz, tw, out, eps, group, gate_first);
                    };
                    expect_out_and_in_place(ctx, dt, shape, x, call, want);
                    // In place over z as well.
                    Tensor tx = make_tensor(ctx, dt, shape, x);
                    EXPECT_NM_OK(nm_rmsnorm_gated(ctx, tx, tz, tw, tz, eps, group, gate_first));
                    expect_close(download(ctx, tz), want, ref_tolerance(dt));
                }
}

TEST(RmsNormGated, BadArguments) {
    Context ctx("cpu"), other("cpu");
    auto call_without_weight = [](nm_context* c, const nm_tensor* x, nm_tensor* out) -> nm_status {
        // z is x itself (out when x is NULL), so the shared checks hit x's and out's errors.
        return nm_rmsnorm_gated(c, x, x ? x : out, nullptr, out, 1e-6f, 0, 0);
    };
    expect_x_out_errors(call_without_weight);
    Tensor x = make_tensor(ctx, NM_DTYPE_F32, {2, 6});
    Tensor z = make_tensor(ctx, NM_DTYPE_F32, {2, 6});
    Tensor w = make_tensor(ctx, NM_DTYPE_F32, {6});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 6});
    EXPECT_NM_OK(nm_rmsnorm_gated(ctx, x, z, w, out, 1e-6f, 3, 1));
    EXPECT_NM_ERROR(nm_rmsnorm_gated(ctx, x, nullptr, w, out, 1e-6f, 3, 1), NM_ERR_INVALID_ARGUMENT,
                    "z: tensor is NULL");
    Tensor z_int = make_tensor(ctx, NM_DTYPE_I32, {2, 6});
    EXPECT_NM_ERROR(nm_rmsnorm_gated(ctx, x, z_int, w, out, 1e-6f, 3, 1), NM_ERR_DTYPE,
                    "z: expected float32, float16 or bfloat16, got int32");
    Tensor z_wrong = make_tensor(ctx, NM_DTYPE_F32, {3, 4});
    EXPECT_NM_ERROR(nm_rmsnorm_gated(ctx, x, z_wrong, w, out, 1e-6f, 3, 1), NM_ERR_SHAPE,
                    "z: shape [3, 4] does not match x shape [2, 6]");
    Tensor w_wrong = make_tensor(ctx, NM_DTYPE_F32, {3});
    EXPECT_NM_ERROR(nm_rmsnorm_gated(ctx, x, z, w_wrong, out, 1e-6f, 3, 1), NM_ERR_SHAPE, "weight: expected shape");
    Tensor z_other = make_tensor(other, NM_DTYPE_F32, {2, 6});
    EXPECT_NM_ERROR(nm_rmsnorm_gated(ctx, x, z_other, w, out, 1e-6f, 3, 1), NM_ERR_DEVICE,
                    "z: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_rmsnorm_gated(ctx, x, z, w, out, 1e-6f, 4, 1), NM_ERR_INVALID_ARGUMENT,
                    "group_size: must be 0 or divide the last dim 6 of x (shape [2, 6]), got 4");
    EXPECT_NM_ERROR(nm_rmsnorm_gated(ctx, x, z, w, out, 1e-6f, -1, 1), NM_ERR_INVALID_ARGUMENT, "group_size:");
    EXPECT_NM_ERROR(nm_rmsnorm_gated(ctx, x, z, w, out, -1.f, 3, 1), NM_ERR_INVALID_ARGUMENT,
                    "eps: must be finite and >= 0");
}

TEST(RmsNormGated, CudaMatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    for (int gate_first = 0; gate_first < 2; ++gate_first)
        for (int64_t group : {int64_t(0), int64_t(128)})
            expect_cuda_matches_cpu([&](nm_context* ctx, nm_dtype dt) {
                Tensor x = make_tensor(ctx, dt, {19, 1024}, random_floats(19 * 1024, 64, -3.f, 3.f));
                Tensor z = make_tensor(ctx, dt, {19, 1024}, random_floats(19 * 1024, 65, -4.f, 4.f));
                Tensor w = make_tensor(ctx, dt, {1024}, random_floats(1024, 66));
                Tensor out = make_tensor(ctx, dt, {19, 1024});
                EXPECT_NM_OK(nm_rmsnorm_gated(ctx, x, z, w, out, 1e-6f, group, gate_first));
                return download(ctx, out);
            });
}

// ----------------------------------------------------------------- l2norm

TEST(L2Norm, MatchesReference) {
    Context ctx("cpu");
    for (nm_dtype dt : kFloatDtypes)
        for (const auto& shape : test_shapes())
            for (float eps : {0.f, 1e-6f}) {
                SCOPED_TRACE(trace(dt, shape) + " eps " + std::to_string(eps));
                std::vector<float> x = round_to(dt, random_floats(size_t(product(shape)), 71, -3.f, 3.f));
                auto call = [&](nm_context* c, const nm_tensor* in, nm_tensor* out) {
                    return nm_l2norm(c, in, out, eps);
                };
                expect_out_and_in_place(ctx, dt, shape, x, call, ref_l2norm(x, shape.back(), eps));
            }
}

TEST(L2Norm, BadArguments) {
    expect_x_out_errors([](nm_context* c, const nm_tensor* x, nm_tensor* out) { return nm_l2norm(c, x, out, 1e-6f); });
    Context ctx("cpu");
    Tensor x = make_tensor(ctx, NM_DTYPE_F32, {2, 3});
    EXPECT_NM_ERROR(nm_l2norm(ctx, x, x, -0.5f), NM_ERR_INVALID_ARGUMENT, "eps: must be finite and >= 0, got -0.5");
    EXPECT_NM_ERROR(nm_l2norm(ctx, x, x, NAN), NM_ERR_INVALID_ARGUMENT, "eps:");
}

TEST(L2Norm, CudaMatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    expect_cuda_matches_cpu([](nm_context* ctx, nm_dtype dt) {
        Tensor x = make_tensor(ctx, dt, {4, 7, 128}, random_floats(4 * 7 * 128, 72, -3.f, 3.f));
        Tensor out = make_tensor(ctx, dt, {4, 7, 128});
        EXPECT_NM_OK(nm_l2norm(ctx, x, out, 1e-6f));
        return download(ctx, out);
    });
}

// ---------------------------------------------------------------- softmax

TEST(Softmax, MatchesReference) {
    Context ctx("cpu");
    for (nm_dtype dt : kFloatDtypes)
        for (const auto& shape : test_shapes())
            for (float scale : {1.f, 0.125f, -2.f}) {
                SCOPED_TRACE(trace(dt, shape) + " scale " + std::to_string(scale));
                std::vector<float> x = round_to(dt, random_floats(size_t(product(shape)), 81, -8.f, 8.f));
                auto call = [&](nm_context* c, const nm_tensor* in, nm_tensor* out) {
                    return nm_softmax(c, in, out, scale);
                };
                expect_out_and_in_place(ctx, dt, shape, x, call, ref_softmax(x, shape.back(), scale));
            }
}

TEST(Softmax, LargeLogitsDoNotOverflow) {
    Context ctx("cpu");
    Tensor x = make_tensor(ctx, NM_DTYPE_F32, {1, 3}, {1000.f, 1000.f, -INFINITY});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {1, 3});
    EXPECT_NM_OK(nm_softmax(ctx, x, out, 1.f));
    EXPECT_EQ(download(ctx, out), (std::vector<float>{0.5f, 0.5f, 0.f}));
}

TEST(Softmax, BadArguments) {
    expect_x_out_errors([](nm_context* c, const nm_tensor* x, nm_tensor* out) { return nm_softmax(c, x, out, 1.f); });
    Context ctx("cpu");
    Tensor x = make_tensor(ctx, NM_DTYPE_F32, {2, 3});
    EXPECT_NM_ERROR(nm_softmax(ctx, x, x, NAN), NM_ERR_INVALID_ARGUMENT, "scale: must be finite, got nan");
    EXPECT_NM_ERROR(nm_softmax(ctx, x, x, INFINITY), NM_ERR_INVALID_ARGUMENT, "scale: must be finite");
}

TEST(Softmax, CudaMatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    for (int64_t cols : {int64_t(1), int64_t(100), int64_t(5000)})
        expect_cuda_matches_cpu([&](nm_context* ctx, nm_dtype dt) {
            Tensor x = make_tensor(ctx, dt, {9, cols}, random_floats(size_t(9 * cols), 82, -8.f, 8.f));
            Tensor out = make_tensor(ctx, dt, {9, cols});
            EXPECT_NM_OK(nm_softmax(ctx, x, out, 0.5f));
            return download(ctx, out);
        });
}
