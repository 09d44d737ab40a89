// test_elementwise.cpp — nm_convert, nm_silu, nm_gelu, nm_scale, nm_swiglu,
// nm_add, nm_mul against double-precision references in every float dtype,
// in place, with bad arguments, and CUDA against CPU.
#include "test_reference.h"

using namespace nmtest;

namespace {

// A unary operator under test: the call, and its reference on one value.
struct UnaryCase {
    const char* name;
    XOutCall call;
    std::function<double(double)> reference;
};

std::vector<UnaryCase> unary_cases() {
    return {
        {"silu", [](nm_context* c, const nm_tensor* x, nm_tensor* o) { return nm_silu(c, x, o); }, ref_silu},
        {"gelu_erf", [](nm_context* c, const nm_tensor* x, nm_tensor* o) { return nm_gelu(c, x, o, 0); }, ref_gelu_erf},
        {"gelu_tanh", [](nm_context* c, const nm_tensor* x, nm_tensor* o) { return nm_gelu(c, x, o, 1); },
         ref_gelu_tanh},
        {"scale", [](nm_context* c, const nm_tensor* x, nm_tensor* o) { return nm_scale(c, x, o, -0.375f); },
         [](double x) { return -0.375 * x; }},
    };
}

std::vector<double> map_reference(const std::vector<float>& x, const std::function<double(double)>& f) {
    std::vector<double> out(x.size());
    for (size_t i = 0; i < x.size(); ++i) out[i] = f(x[i]);
    return out;
}

}  // namespace

// ------------------------------------------------------------------ unary

TEST(Unary, MatchesReference) {
    Context ctx("cpu");
    for (const UnaryCase& op : unary_cases())
        for (nm_dtype dt : kFloatDtypes)
            for (const auto& shape : test_shapes()) {
                SCOPED_TRACE(::testing::Message()
                             << op.name << " " << nm_dtype_name(dt) << " numel " << product(shape));
                std::vector<float> x = round_to(dt, random_floats(size_t(product(shape)), 11, -6.f, 6.f));
                Tensor tx = make_tensor(ctx, dt, shape, x);
                Tensor out = make_tensor(ctx, dt, shape);
                EXPECT_NM_OK(op.call(ctx, tx, out));
                expect_close(download(ctx, out), map_reference(x, op.reference), ref_tolerance(dt));
            }
}

TEST(Unary, InPlace) {
    Context ctx("cpu");
    for (const UnaryCase& op : unary_cases())
        for (nm_dtype dt : kFloatDtypes) {
            SCOPED_TRACE(::testing::Message() << op.name << " " << nm_dtype_name(dt));
            std::vector<float> x = round_to(dt, random_floats(40000, 12, -6.f, 6.f));
            Tensor t = make_tensor(ctx, dt, {200, 200}, x);
            EXPECT_NM_OK(op.call(ctx, t, t));
            expect_close(download(ctx, t), map_reference(x, op.reference), ref_tolerance(dt));
        }
}

TEST(Unary, MixedDtypes) {
    Context ctx("cpu");
    std::vector<float> x = round_to(NM_DTYPE_BF16, random_floats(37, 13, -4.f, 4.f));
    Tensor tx = make_tensor(ctx, NM_DTYPE_BF16, {37}, x);
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {37});
    EXPECT_NM_OK(nm_silu(ctx, tx, out));
    expect_close(download(ctx, out), map_reference(x, ref_silu), 1e-5);
}

TEST(Unary, BadArguments) {
    for (const UnaryCase& op : unary_cases()) {
        SCOPED_TRACE(op.name);
        expect_x_out_errors(op.call);
    }
    Context ctx("cpu");
    Tensor x = make_tensor(ctx, NM_DTYPE_F32, {4});
    EXPECT_NM_ERROR(nm_scale(ctx, x, x, NAN), NM_ERR_INVALID_ARGUMENT, "alpha: must be finite, got nan");
    EXPECT_NM_ERROR(nm_scale(ctx, x, x, -INFINITY), NM_ERR_INVALID_ARGUMENT, "alpha: must be finite");
}

TEST(Unary, CudaMatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    for (const UnaryCase& op : unary_cases()) {
        SCOPED_TRACE(op.name);
        expect_cuda_matches_cpu([&](nm_context* ctx, nm_dtype dt) {
            Tensor x = make_tensor(ctx, dt, {37, 129}, random_floats(37 * 129, 14, -6.f, 6.f));
            Tensor out = make_tensor(ctx, dt, {37, 129});
            EXPECT_NM_OK(op.call(ctx, x, out));
            return download(ctx, out);
        });
    }
}

// ---------------------------------------------------------------- convert

TEST(Convert, RoundsToNearestEven) {
    Context ctx("cpu");
    std::vector<float> x = random_floats(1000, 21, -100.f, 100.f);
    x.push_back(1.f + 1.f / 256.f);  // bfloat16 tie: rounds to even (1.0)
    x.push_back(70000.f);            // overflows float16 to inf
    for (nm_dtype from : kFloatDtypes)
        for (nm_dtype to : kFloatDtypes) {
            SCOPED_TRACE(::testing::Message() << nm_dtype_name(from) << " -> " << nm_dtype_name(to));
            std::vector<float> src = round_to(from, x);
            Tensor s = make_tensor(ctx, from, {int64_t(src.size())}, src);
            Tensor d = make_tensor(ctx, to, {int64_t(src.size())});
            EXPECT_NM_OK(nm_convert(ctx, s, d));
            EXPECT_EQ(download(ctx, d), round_to(to, src));
        }
}

TEST(Convert, OnlyElementCountMustMatch) {
    Context ctx("cpu");
    Tensor s = make_tensor(ctx, NM_DTYPE_F32, {2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor d = make_tensor(ctx, NM_DTYPE_BF16, {6});
    EXPECT_NM_OK(nm_convert(ctx, s, d));
    EXPECT_EQ(download(ctx, d), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    Tensor one = make_tensor(ctx, NM_DTYPE_F16, {1}, {0.1f});
    Tensor one_out = make_tensor(ctx, NM_DTYPE_F32, {1, 1});
    EXPECT_NM_OK(nm_convert(ctx, one, one_out));
    EXPECT_EQ(download(ctx, one_out), round_to(NM_DTYPE_F16, {0.1f}));
}

TEST(Convert, BadArguments) {
    Context ctx("cpu"), other("cpu");
    Tensor s = make_tensor(ctx, NM_DTYPE_F32, {2, 3});
    Tensor d = make_tensor(ctx, NM_DTYPE_F16, {6});
    EXPECT_NM_OK(nm_convert(ctx, s, d));
    EXPECT_NM_ERROR(nm_convert(nullptr, s, d), NM_ERR_INVALID_ARGUMENT, "ctx: context is NULL");
    EXPECT_NM_ERROR(nm_convert(ctx, nullptr, d), NM_ERR_INVALID_ARGUMENT, "src: tensor is NULL");
    EXPECT_NM_ERROR(nm_convert(ctx, s, nullptr), NM_ERR_INVALID_ARGUMENT, "dst: tensor is NULL");
    Tensor s_int = make_tensor(ctx, NM_DTYPE_I32, {6});
    EXPECT_NM_ERROR(nm_convert(ctx, s_int, d), NM_ERR_DTYPE, "src: expected float32, float16 or bfloat16, got int32");
    Tensor d_int = make_tensor(ctx, NM_DTYPE_I32, {6});
    EXPECT_NM_ERROR(nm_convert(ctx, s, d_int), NM_ERR_DTYPE, "dst: expected float32, float16 or bfloat16, got int32");
    Tensor d_small = make_tensor(ctx, NM_DTYPE_F16, {5});
    EXPECT_NM_ERROR(nm_convert(ctx, s, d_small), NM_ERR_SHAPE, "dst: shape [5] has 5 elements, src shape [2, 3] has 6");
    Tensor d_other = make_tensor(other, NM_DTYPE_F16, {6});
    EXPECT_NM_ERROR(nm_convert(ctx, s, d_other), NM_ERR_DEVICE, "dst: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_convert(ctx, s, s), NM_ERR_INVALID_ARGUMENT, "dst: must not be the same tensor as src");
}

TEST(Convert, CudaMatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    expect_cuda_matches_cpu([](nm_context* ctx, nm_dtype dt) {
        Tensor s = make_tensor(ctx, NM_DTYPE_F32, {1000}, random_floats(1000, 22, -100.f, 100.f));
        Tensor d = make_tensor(ctx, dt == NM_DTYPE_F32 ? NM_DTYPE_F16 : dt, {1000});
        EXPECT_NM_OK(nm_convert(ctx, s, d));
        return download(ctx, d);
    });
}

// ----------------------------------------------------------------- swiglu

TEST(Swiglu, SeparateGateAndUp) {
    Context ctx("cpu");
    for (nm_dtype dt : kFloatDtypes)
        for (const auto& shape : test_shapes()) {
            SCOPED_TRACE(::testing::Message() << nm_dtype_name(dt) << " numel " << product(shape));
            const size_t n = size_t(product(shape));
            std::vector<float> g = round_to(dt, random_floats(n, 31, -5.f, 5.f));
            std::vector<float> u = round_to(dt, random_floats(n, 32, -2.f, 2.f));
            Tensor tg = make_tensor(ctx, dt, shape, g), tu = make_tensor(ctx, dt, shape, u);
            Tensor out = make_tensor(ctx, dt, shape);
            EXPECT_NM_OK(nm_swiglu(ctx, tg, tu, out));
            std::vector<double> want(n);
            for (size_t i = 0; i < n; ++i) want[i] = ref_silu(g[i]) * u[i];
            expect_close(download(ctx, out), want, ref_tolerance(dt));
        }
}

TEST(Swiglu, FusedGateUpHalves) {
    Context ctx("cpu");
    const std::vector<std::vector<int64_t>> out_shapes = {{1}, {9}, {4, 11}, {2, 3, 1}, {40, 1000}};
    for (nm_dtype dt : kFloatDtypes)
        for (const auto& out_shape : out_shapes) {
            SCOPED_TRACE(::testing::Message() << nm_dtype_name(dt) << " numel " << product(out_shape));
            const int64_t f = out_shape.back(), rows = product(out_shape) / f;
            std::vector<int64_t> gate_shape = out_shape;
            gate_shape.back() = 2 * f;
            std::vector<float> g = round_to(dt, random_floats(size_t(rows * 2 * f), 33, -5.f, 5.f));
            Tensor tg = make_tensor(ctx, dt, gate_shape, g);
            Tensor out = make_tensor(ctx, dt, out_shape);
            EXPECT_NM_OK(nm_swiglu(ctx, tg, nullptr, out));
            std::vector<double> want(size_t(rows * f));
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t j = 0; j < f; ++j)
                    want[size_t(r * f + j)] = ref_silu(g[size_t(r * 2 * f + j)]) * g[size_t(r * 2 * f + f + j)];
            expect_close(download(ctx, out), want, ref_tolerance(dt));
        }
}

TEST(Swiglu, BadArguments) {
    Context ctx("cpu"), other("cpu");
    Tensor g = make_tensor(ctx, NM_DTYPE_F32, {2, 6});
    Tensor u = make_tensor(ctx, NM_DTYPE_F32, {2, 6});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 6});
    Tensor half = make_tensor(ctx, NM_DTYPE_F32, {2, 3});
    EXPECT_NM_OK(nm_swiglu(ctx, g, u, out));
    EXPECT_NM_OK(nm_swiglu(ctx, g, nullptr, half));
    EXPECT_NM_ERROR(nm_swiglu(nullptr, g, u, out), NM_ERR_INVALID_ARGUMENT, "ctx: context is NULL");
    EXPECT_NM_ERROR(nm_swiglu(ctx, nullptr, u, out), NM_ERR_INVALID_ARGUMENT, "gate: tensor is NULL");
    EXPECT_NM_ERROR(nm_swiglu(ctx, g, u, nullptr), NM_ERR_INVALID_ARGUMENT, "out: tensor is NULL");
    Tensor u_int = make_tensor(ctx, NM_DTYPE_I32, {2, 6});
    EXPECT_NM_ERROR(nm_swiglu(ctx, g, u_int, out), NM_ERR_DTYPE,
                    "up: expected float32, float16 or bfloat16, got int32");
    Tensor u_wrong = make_tensor(ctx, NM_DTYPE_F32, {6, 2});
    EXPECT_NM_ERROR(nm_swiglu(ctx, g, u_wrong, out), NM_ERR_SHAPE, "up: shape [6, 2] does not match gate shape [2, 6]");
    EXPECT_NM_ERROR(nm_swiglu(ctx, g, u, half), NM_ERR_SHAPE, "out: shape [2, 3] does not match gate shape [2, 6]");
    EXPECT_NM_ERROR(nm_swiglu(ctx, g, nullptr, out), NM_ERR_SHAPE,
                    "out: expected shape [..., F] for gate [..., 2F] [2, 3], got [2, 6]");
    Tensor odd = make_tensor(ctx, NM_DTYPE_F32, {2, 5});
    EXPECT_NM_ERROR(nm_swiglu(ctx, odd, nullptr, half), NM_ERR_SHAPE, "gate: last dim must be even");
    Tensor u_other = make_tensor(other, NM_DTYPE_F32, {2, 6});
    EXPECT_NM_ERROR(nm_swiglu(ctx, g, u_other, out), NM_ERR_DEVICE, "up: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_swiglu(ctx, g, u, g), NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as gate");
    EXPECT_NM_ERROR(nm_swiglu(ctx, g, u, u), NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as up");
}

TEST(Swiglu, CudaMatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    for (int fused = 0; fused < 2; ++fused) {
        SCOPED_TRACE(fused ? "fused" : "separate");
        expect_cuda_matches_cpu([&](nm_context* ctx, nm_dtype dt) {
            const int64_t rows = 17, f = 300;
            Tensor g =
                make_tensor(ctx, dt, {rows, fused ? 2 * f : f}, random_floats(size_t(rows * 2 * f), 34, -5.f, 5.f));
            Tensor u = fused ? Tensor() : make_tensor(ctx, dt, {rows, f}, random_floats(size_t(rows * f), 35));
            Tensor out = make_tensor(ctx, dt, {rows, f});
            EXPECT_NM_OK(nm_swiglu(ctx, g, u, out));
            return download(ctx, out);
        });
    }
}

// ------------------------------------------------------------- add and mul

namespace {

struct BinaryCase {
    const char* name;
    nm_status (*call)(nm_context*, const nm_tensor*, const nm_tensor*, nm_tensor*);
    double (*reference)(double, double);
};

const BinaryCase kBinaryCases[] = {
    {"add", nm_add, [](double x, double y) { return x + y; }},
    {"mul", nm_mul, [](double x, double y) { return x * y; }},
};

// (a shape, b shape) pairs that broadcast.
const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>& broadcast_shapes() {
    static const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> shapes = {
        {{1}, {1}}, {{7}, {7}},       {{4, 5}, {4, 5}},    {{2, 3, 5}, {3, 5}},  {{2, 3, 5}, {5}},
        {{7}, {1}}, {{3, 4}, {1, 4}}, {{2, 3}, {1, 1, 1}}, {{64, 1031}, {1031}}, {{64, 1031}, {64, 1031}},
    };
    return shapes;
}

std::vector<double> ref_binary(const BinaryCase& op, const std::vector<float>& a, const std::vector<float>& b) {
    std::vector<double> out(a.size());
    for (size_t i = 0; i < a.size(); ++i) out[i] = op.reference(a[i], b[i % b.size()]);
    return out;
}

}  // namespace

TEST(Binary, SuffixBroadcastMatchesReference) {
    Context ctx("cpu");
    for (const BinaryCase& op : kBinaryCases)
        for (nm_dtype dt : kFloatDtypes)
            for (const auto& [a_shape, b_shape] : broadcast_shapes()) {
                SCOPED_TRACE(::testing::Message() << op.name << " " << nm_dtype_name(dt) << " a numel "
                                                  << product(a_shape) << " b numel " << product(b_shape));
                std::vector<float> a = round_to(dt, random_floats(size_t(product(a_shape)), 41, -3.f, 3.f));
                std::vector<float> b = round_to(dt, random_floats(size_t(product(b_shape)), 42, -3.f, 3.f));
                Tensor ta = make_tensor(ctx, dt, a_shape, a), tb = make_tensor(ctx, dt, b_shape, b);
                Tensor out = make_tensor(ctx, dt, a_shape);
                EXPECT_NM_OK(op.call(ctx, ta, tb, out));
                expect_close(download(ctx, out), ref_binary(op, a, b), ref_tolerance(dt));
                // In place: out == a.
                EXPECT_NM_OK(op.call(ctx, ta, tb, ta));
                expect_close(download(ctx, ta), ref_binary(op, a, b), ref_tolerance(dt));
            }
}

TEST(Binary, MixedDtypes) {
    Context ctx("cpu");
    for (const BinaryCase& op : kBinaryCases) {
        SCOPED_TRACE(op.name);
        std::vector<float> a = round_to(NM_DTYPE_F16, random_floats(30, 43));
        std::vector<float> b = round_to(NM_DTYPE_BF16, random_floats(10, 44));
        Tensor ta = make_tensor(ctx, NM_DTYPE_F16, {3, 10}, a), tb = make_tensor(ctx, NM_DTYPE_BF16, {10}, b);
        Tensor out = make_tensor(ctx, NM_DTYPE_F32, {3, 10});
        EXPECT_NM_OK(op.call(ctx, ta, tb, out));
        expect_close(download(ctx, out), ref_binary(op, a, b), 1e-6);
    }
}

TEST(Binary, BadArguments) {
    for (const BinaryCase& op : kBinaryCases) {
        SCOPED_TRACE(op.name);
        Context ctx("cpu"), other("cpu");
        Tensor a = make_tensor(ctx, NM_DTYPE_F32, {3, 5});
        Tensor b = make_tensor(ctx, NM_DTYPE_F32, {5});
        Tensor out = make_tensor(ctx, NM_DTYPE_F32, {3, 5});
        EXPECT_NM_OK(op.call(ctx, a, b, out));
        EXPECT_NM_ERROR(op.call(nullptr, a, b, out), NM_ERR_INVALID_ARGUMENT, "ctx: context is NULL");
        EXPECT_NM_ERROR(op.call(ctx, nullptr, b, out), NM_ERR_INVALID_ARGUMENT, "a: tensor is NULL");
        EXPECT_NM_ERROR(op.call(ctx, a, nullptr, out), NM_ERR_INVALID_ARGUMENT, "b: tensor is NULL");
        EXPECT_NM_ERROR(op.call(ctx, a, b, nullptr), NM_ERR_INVALID_ARGUMENT, "out: tensor is NULL");
        Tensor b_int = make_tensor(ctx, NM_DTYPE_I32, {5});
        EXPECT_NM_ERROR(op.call(ctx, a, b_int, out), NM_ERR_DTYPE,
                        "b: expected float32, float16 or bfloat16, got int32");
        Tensor b_wrong = make_tensor(ctx, NM_DTYPE_F32, {3});
        EXPECT_NM_ERROR(op.call(ctx, a, b_wrong, out), NM_ERR_SHAPE,
                        "b: shape [3] does not broadcast to a shape [3, 5]");
        Tensor b_long = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 5});
        EXPECT_NM_ERROR(op.call(ctx, a, b_long, out), NM_ERR_SHAPE, "b: shape [2, 3, 5] does not broadcast");
        Tensor out_wrong = make_tensor(ctx, NM_DTYPE_F32, {15});
        EXPECT_NM_ERROR(op.call(ctx, a, b, out_wrong), NM_ERR_SHAPE, "out: shape [15] does not match a shape [3, 5]");
        Tensor b_other = make_tensor(other, NM_DTYPE_F32, {5});
        EXPECT_NM_ERROR(op.call(ctx, a, b_other, out), NM_ERR_DEVICE, "b: tensor belongs to another context");
    }
}

TEST(Binary, CudaMatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    for (const BinaryCase& op : kBinaryCases)
        for (int64_t nb : {int64_t(1), int64_t(129), int64_t(37 * 129)}) {
            SCOPED_TRACE(::testing::Message() << op.name << " nb=" << nb);
            expect_cuda_matches_cpu([&](nm_context* ctx, nm_dtype dt) {
                Tensor a = make_tensor(ctx, dt, {37, 129}, random_floats(37 * 129, 45));
                Tensor b = make_tensor(ctx, dt, {nb}, random_floats(size_t(nb), 46));
                Tensor out = make_tensor(ctx, dt, {37, 129});
                EXPECT_NM_OK(op.call(ctx, a, b, out));
                return download(ctx, out);
            });
        }
}
