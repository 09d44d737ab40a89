// test_gemm.cpp — nm_gemm against a double-precision reference: all transpose
// combinations, batched with broadcast operands, bias, alpha/beta, mixed
// output dtype, the flattened [..., K] layout, argument errors, CUDA vs CPU.
#include "test_reference.h"

using namespace nmtest;

namespace {

// One GEMM problem: the case (dims, flags) plus dtypes and host data.
struct GemmProblem {
    GemmCase g;
    nm_dtype dtype = NM_DTYPE_F32;  // a and b
    nm_dtype c_dtype = NM_DTYPE_F32;
    nm_dtype bias_dtype = NM_DTYPE_F32;
    bool with_bias = false;
    std::vector<float> a, b, c0, bias;  // already rounded to their dtypes

    std::vector<int64_t> a_shape() const {
        std::vector<int64_t> s = g.trans_a ? std::vector<int64_t>{g.k, g.m} : std::vector<int64_t>{g.m, g.k};
        if (g.a_batched) s.insert(s.begin(), g.batch);
        return s;
    }
    std::vector<int64_t> b_shape() const {
        std::vector<int64_t> s = g.trans_b ? std::vector<int64_t>{g.n, g.k} : std::vector<int64_t>{g.k, g.n};
        if (g.b_batched) s.insert(s.begin(), g.batch);
        return s;
    }
    std::vector<int64_t> c_shape() const {
        if (g.a_batched || g.b_batched) return {g.batch, g.m, g.n};
        return {g.m, g.n};
    }
};

GemmCase gemm_case(int64_t batch, int64_t m, int64_t n, int64_t k, bool trans_a = false, bool trans_b = false) {
    GemmCase g;
    g.batch = batch;
    g.m = m;
    g.n = n;
    g.k = k;
    g.trans_a = trans_a;
    g.trans_b = trans_b;
    return g;
}

GemmProblem make_problem(const GemmCase& g, nm_dtype dtype, uint32_t seed) {
    GemmProblem p;
    p.g = g;
    p.dtype = dtype;
    p.c_dtype = dtype;
    p.bias_dtype = dtype;
    p.a = round_to(dtype, random_floats(size_t(product(p.a_shape())), seed));
    p.b = round_to(dtype, random_floats(size_t(product(p.b_shape())), seed + 1));
    p.c0 = round_to(dtype, random_floats(size_t(product(p.c_shape())), seed + 2));
    p.bias = round_to(dtype, random_floats(size_t(g.n), seed + 3));
    return p;
}

// Re-rounds c0 and bias after their dtypes were changed.
void set_output_dtypes(GemmProblem* p, nm_dtype c_dtype, nm_dtype bias_dtype) {
    p->c_dtype = c_dtype;
    p->bias_dtype = bias_dtype;
    p->c0 = round_to(c_dtype, p->c0);
    p->bias = round_to(bias_dtype, p->bias);
}

std::vector<float> run_gemm(nm_context* ctx, const GemmProblem& p) {
    Tensor a = make_tensor(ctx, p.dtype, p.a_shape(), p.a);
    Tensor b = make_tensor(ctx, p.dtype, p.b_shape(), p.b);
    Tensor c = make_tensor(ctx, p.c_dtype, p.c_shape(), p.c0);
    Tensor bias = p.with_bias ? make_tensor(ctx, p.bias_dtype, {p.g.n}, p.bias) : Tensor();
    EXPECT_NM_OK(nm_gemm(ctx, a, b, bias, c, p.g.trans_a, p.g.trans_b, p.g.alpha, p.g.beta));
    return download(ctx, c);
}

std::vector<double> reference(const GemmProblem& p) {
    return ref_gemm(p.g, p.a, p.b, p.c0, p.with_bias ? p.bias : std::vector<float>{});
}

// Inputs are already rounded, so the rounding of c dominates the error.
double tolerance(const GemmProblem& p) { return ref_tolerance(p.c_dtype); }

}  // namespace

TEST(Gemm, AllTransposeCombinations) {
    Context ctx("cpu");
    const int64_t dims[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 9, 33}, {64, 48, 80}};
    uint32_t seed = 100;
    for (nm_dtype dt : kFloatDtypes)
        for (auto& d : dims)
            for (int ta = 0; ta < 2; ++ta)
                for (int tb = 0; tb < 2; ++tb) {
                    GemmCase g = gemm_case(1, d[0], d[1], d[2], ta, tb);
                    GemmProblem p = make_problem(g, dt, seed += 10);
                    SCOPED_TRACE(::testing::Message() << nm_dtype_name(dt) << " m=" << g.m << " n=" << g.n
                                                      << " k=" << g.k << " ta=" << ta << " tb=" << tb);
                    expect_close(run_gemm(ctx, p), reference(p), tolerance(p));
                }
}

TEST(Gemm, BatchedWithBroadcastOperand) {
    Context ctx("cpu");
    uint32_t seed = 200;
    for (nm_dtype dt : kFloatDtypes)
        for (int which = 0; which < 3; ++which)  // 0: both batched, 1: a broadcast, 2: b broadcast
            for (int ta = 0; ta < 2; ++ta)
                for (int tb = 0; tb < 2; ++tb) {
                    GemmCase g = gemm_case(3, 5, 6, 7, ta, tb);
                    g.a_batched = which != 1;
                    g.b_batched = which != 2;
                    GemmProblem p = make_problem(g, dt, seed += 10);
                    SCOPED_TRACE(::testing::Message()
                                 << nm_dtype_name(dt) << " which=" << which << " ta=" << ta << " tb=" << tb);
                    expect_close(run_gemm(ctx, p), reference(p), tolerance(p));
                }
}

TEST(Gemm, BiasAlphaBeta) {
    Context ctx("cpu");
    uint32_t seed = 300;
    for (nm_dtype dt : kFloatDtypes)
        for (nm_dtype bias_dt : kFloatDtypes) {
            GemmCase g = gemm_case(2, 4, 11, 9, false, true);
            g.a_batched = g.b_batched = true;
            g.alpha = 0.5f;
            g.beta = -1.5f;
            GemmProblem p = make_problem(g, dt, seed += 10);
            p.with_bias = true;
            set_output_dtypes(&p, dt, bias_dt);
            SCOPED_TRACE(::testing::Message() << nm_dtype_name(dt) << " bias " << nm_dtype_name(bias_dt));
            expect_close(run_gemm(ctx, p), reference(p), tolerance(p));
        }
}

TEST(Gemm, Float32OutputFromHalfInputs) {
    Context ctx("cpu");
    for (nm_dtype dt : {NM_DTYPE_BF16, NM_DTYPE_F16}) {
        GemmCase g = gemm_case(1, 13, 7, 31);
        g.beta = 0.75f;
        GemmProblem p = make_problem(g, dt, 400);
        p.with_bias = true;
        set_output_dtypes(&p, NM_DTYPE_F32, NM_DTYPE_F16);
        SCOPED_TRACE(nm_dtype_name(dt));
        // Products of half-precision values are exact in float32: only the accumulation rounds.
        expect_close(run_gemm(ctx, p), reference(p), 1e-5);
    }
}

TEST(Gemm, LeadingDimsFlattenIntoRows) {
    Context ctx("cpu");
    const int64_t K = 6, N = 5;
    for (nm_dtype dt : kFloatDtypes)
        for (int tb = 0; tb < 2; ++tb) {
            SCOPED_TRACE(::testing::Message() << nm_dtype_name(dt) << " tb=" << tb);
            std::vector<float> a = round_to(dt, random_floats(2 * 3 * K, 500));
            std::vector<float> b = round_to(dt, random_floats(K * N, 501));
            Tensor ta = make_tensor(ctx, dt, {2, 3, K}, a);
            Tensor tbt = make_tensor(ctx, dt, tb ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N}, b);
            Tensor c = make_tensor(ctx, dt, {2, 3, N});
            EXPECT_NM_OK(nm_gemm(ctx, ta, tbt, nullptr, c, 0, tb, 1.f, 0.f));
            GemmCase g = gemm_case(1, 6, N, K, false, tb);
            expect_close(download(ctx, c), ref_gemm(g, a, b, {}, {}), ref_tolerance(dt));

            // A 1-D a is a single row: c is [N].
            std::vector<float> row(a.begin(), a.begin() + K);
            Tensor a1 = make_tensor(ctx, dt, {K}, row);
            Tensor c1 = make_tensor(ctx, dt, {N});
            EXPECT_NM_OK(nm_gemm(ctx, a1, tbt, nullptr, c1, 0, tb, 1.f, 0.f));
            g.m = 1;
            expect_close(download(ctx, c1), ref_gemm(g, row, b, {}, {}), ref_tolerance(dt));
        }
}

TEST(Gemm, BetaZeroIgnoresOldC) {
    Context ctx("cpu");
    for (nm_dtype dt : {NM_DTYPE_F32, NM_DTYPE_BF16}) {
        SCOPED_TRACE(nm_dtype_name(dt));
        Tensor a = make_tensor(ctx, dt, {2, 3}, {1, 2, 3, 4, 5, 6});
        Tensor b = make_tensor(ctx, dt, {3, 2}, {1, 0, 0, 1, 1, 1});
        Tensor c = make_tensor(ctx, dt, {2, 2}, std::vector<float>(4, NAN));
        EXPECT_NM_OK(nm_gemm(ctx, a, b, nullptr, c, 0, 0, 1.f, 0.f));
        EXPECT_EQ(download(ctx, c), (std::vector<float>{4, 5, 10, 11}));
    }
}

TEST(Gemm, BadArguments) {
    Context ctx("cpu"), other("cpu");
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {2, 3});
    Tensor b = make_tensor(ctx, NM_DTYPE_F32, {3, 4});
    Tensor c = make_tensor(ctx, NM_DTYPE_F32, {2, 4});
    Tensor bias = make_tensor(ctx, NM_DTYPE_F32, {4});
    EXPECT_NM_OK(nm_gemm(ctx, a, b, bias, c, 0, 0, 1.f, 0.f));

    EXPECT_NM_ERROR(nm_gemm(nullptr, a, b, bias, c, 0, 0, 1.f, 0.f), NM_ERR_INVALID_ARGUMENT, "ctx");
    EXPECT_NM_ERROR(nm_gemm(ctx, nullptr, b, bias, c, 0, 0, 1.f, 0.f), NM_ERR_INVALID_ARGUMENT, "a: tensor is NULL");
    EXPECT_NM_ERROR(nm_gemm(ctx, a, nullptr, bias, c, 0, 0, 1.f, 0.f), NM_ERR_INVALID_ARGUMENT, "b: tensor is NULL");
    EXPECT_NM_ERROR(nm_gemm(ctx, a, b, bias, nullptr, 0, 0, 1.f, 0.f), NM_ERR_INVALID_ARGUMENT, "c: tensor is NULL");

    Tensor a_int = make_tensor(ctx, NM_DTYPE_I32, {2, 3});
    EXPECT_NM_ERROR(nm_gemm(ctx, a_int, b, nullptr, c, 0, 0, 1.f, 0.f), NM_ERR_DTYPE,
                    "a: expected float32, float16 or bfloat16, got int32");
    Tensor b_bf16 = make_tensor(ctx, NM_DTYPE_BF16, {3, 4});
    EXPECT_NM_ERROR(nm_gemm(ctx, a, b_bf16, nullptr, c, 0, 0, 1.f, 0.f), NM_ERR_DTYPE,
                    "b: expected float32 (the dtype of a), got bfloat16");
    Tensor a_bf16 = make_tensor(ctx, NM_DTYPE_BF16, {2, 3});
    Tensor c_f16 = make_tensor(ctx, NM_DTYPE_F16, {2, 4});
    EXPECT_NM_ERROR(nm_gemm(ctx, a_bf16, b_bf16, nullptr, c_f16, 0, 0, 1.f, 0.f), NM_ERR_DTYPE,
                    "c: expected bfloat16 (the dtype of a) or float32, got float16");
    Tensor bias_int = make_tensor(ctx, NM_DTYPE_I32, {4});
    EXPECT_NM_ERROR(nm_gemm(ctx, a, b, bias_int, c, 0, 0, 1.f, 0.f), NM_ERR_DTYPE, "bias: expected float32");

    Tensor b_bad = make_tensor(ctx, NM_DTYPE_F32, {4, 4});
    EXPECT_NM_ERROR(nm_gemm(ctx, a, b_bad, nullptr, c, 0, 0, 1.f, 0.f), NM_ERR_SHAPE,
                    "b: shape [4, 4] does not fit a shape [2, 3]");
    Tensor c_bad = make_tensor(ctx, NM_DTYPE_F32, {2, 5});
    EXPECT_NM_ERROR(nm_gemm(ctx, a, b, nullptr, c_bad, 0, 0, 1.f, 0.f), NM_ERR_SHAPE, "c: expected shape");
    EXPECT_NM_ERROR(nm_gemm(ctx, a, b, nullptr, c_bad, 0, 0, 1.f, 0.f), NM_ERR_SHAPE, "[2, 5]");
    Tensor bias_bad = make_tensor(ctx, NM_DTYPE_F32, {5});
    EXPECT_NM_ERROR(nm_gemm(ctx, a, b, bias_bad, c, 0, 0, 1.f, 0.f), NM_ERR_SHAPE,
                    "bias: expected shape [N] [4], got [5]");
    // Batched: mismatched batches, and too many dims.
    Tensor a3 = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 2});
    Tensor b3 = make_tensor(ctx, NM_DTYPE_F32, {3, 3, 4});
    Tensor c3 = make_tensor(ctx, NM_DTYPE_F32, {2, 2, 4});
    EXPECT_NM_ERROR(nm_gemm(ctx, a3, b3, nullptr, c3, 1, 0, 1.f, 0.f), NM_ERR_SHAPE,
                    "b: batch 3 (shape [3, 3, 4]) does not match a's batch 2");
    Tensor a4 = make_tensor(ctx, NM_DTYPE_F32, {1, 2, 3, 2});
    EXPECT_NM_ERROR(nm_gemm(ctx, a4, b3, nullptr, c3, 1, 0, 1.f, 0.f), NM_ERR_SHAPE, "a: expected 2 to 3 dims, got 4");

    Tensor b_other = make_tensor(other, NM_DTYPE_F32, {3, 4});
    EXPECT_NM_ERROR(nm_gemm(ctx, a, b_other, nullptr, c, 0, 0, 1.f, 0.f), NM_ERR_DEVICE,
                    "b: tensor belongs to another context");

    EXPECT_NM_ERROR(nm_gemm(ctx, a, b, nullptr, c, 0, 0, NAN, 0.f), NM_ERR_INVALID_ARGUMENT, "alpha: must be finite");
    EXPECT_NM_ERROR(nm_gemm(ctx, a, b, nullptr, c, 0, 0, 1.f, INFINITY), NM_ERR_INVALID_ARGUMENT,
                    "beta: must be finite");
    Tensor square = make_tensor(ctx, NM_DTYPE_F32, {3, 3});
    Tensor square_c = make_tensor(ctx, NM_DTYPE_F32, {3, 3});
    EXPECT_NM_OK(nm_gemm(ctx, square, square, nullptr, square_c, 0, 0, 1.f, 0.f));
    EXPECT_NM_ERROR(nm_gemm(ctx, square, square_c, nullptr, square_c, 0, 0, 1.f, 0.f), NM_ERR_INVALID_ARGUMENT,
                    "c: must not be the same tensor as b");
}

TEST(Gemm, CudaMatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    Context cpu("cpu"), cuda("cuda");
    ASSERT_NE(cuda.p, nullptr) << nm_last_error();
    uint32_t seed = 900;
    for (nm_dtype dt : {NM_DTYPE_F32, NM_DTYPE_BF16})
        for (int ta = 0; ta < 2; ++ta)
            for (int tb = 0; tb < 2; ++tb)
                for (int which = 0; which < 3; ++which) {  // 0: both batched, 1: a broadcast, 2: b broadcast
                    GemmCase g = gemm_case(3, 33, 17, 65, ta, tb);
                    g.a_batched = which != 1;
                    g.b_batched = which != 2;
                    g.alpha = 0.5f;
                    g.beta = 0.25f;
                    GemmProblem p = make_problem(g, dt, seed += 10);
                    p.with_bias = true;
                    SCOPED_TRACE(::testing::Message()
                                 << nm_dtype_name(dt) << " ta=" << ta << " tb=" << tb << " which=" << which);
                    expect_close(run_gemm(cuda, p), run_gemm(cpu, p), cuda_tolerance(dt));
                }
}
