// test_embedding.cpp — nm_embedding: row gathers in every float dtype (also
// converting between dtypes), out shapes with count*H elements, bad ids and
// other bad arguments, CUDA against CPU.
#include "test_reference.h"

using namespace nmtest;

namespace {

std::vector<double> gather_rows(const std::vector<float>& weight, int64_t hidden, const std::vector<int32_t>& ids) {
    std::vector<double> out;
    for (int32_t id : ids)
        for (int64_t j = 0; j < hidden; ++j) out.push_back(weight[size_t(id * hidden + j)]);
    return out;
}

std::vector<int32_t> random_ids(size_t count, int32_t vocab, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
    std::vector<int32_t> ids(count);
    for (auto& id : ids) id = dist(rng);
    return ids;
}

}  // namespace

TEST(Embedding, GathersRows) {
    Context ctx("cpu");
    // (vocab, hidden, out shape)
    struct Case {
        int64_t vocab, hidden;
        std::vector<int64_t> out_shape;
    };
    const Case cases[] = {{1, 1, {1}}, {5, 3, {4, 3}}, {50, 17, {2, 3, 17}}, {1000, 257, {300, 257}}};
    for (nm_dtype wdt : kFloatDtypes)
        for (nm_dtype odt : kFloatDtypes)
            for (const Case& c : cases) {
                SCOPED_TRACE(::testing::Message() << nm_dtype_name(wdt) << " -> " << nm_dtype_name(odt) << " vocab "
                                                  << c.vocab << " hidden " << c.hidden);
                std::vector<float> w = round_to(wdt, random_floats(size_t(c.vocab * c.hidden), 91));
                const int64_t count = product(c.out_shape) / c.hidden;
                std::vector<int32_t> ids = random_ids(size_t(count), int32_t(c.vocab), 92);
                ids.back() = int32_t(c.vocab - 1);  // the last row is reachable
                Tensor tw = make_tensor(ctx, wdt, {c.vocab, c.hidden}, w);
                Tensor out = make_tensor(ctx, odt, c.out_shape);
                EXPECT_NM_OK(nm_embedding(ctx, tw, ids.data(), count, out));
                // A gather is exact in the same dtype; converting rounds once to odt.
                std::vector<double> want = gather_rows(round_to(odt, w), c.hidden, ids);
                expect_close(download(ctx, out), want, 0.0);
            }
}

TEST(Embedding, BadArguments) {
    Context ctx("cpu"), other("cpu");
    Tensor w = make_tensor(ctx, NM_DTYPE_F32, {32000, 4});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {5, 4});
    const int32_t ids[5] = {0, 1, 2, 31999, 7};
    EXPECT_NM_OK(nm_embedding(ctx, w, ids, 5, out));

    EXPECT_NM_ERROR(nm_embedding(nullptr, w, ids, 5, out), NM_ERR_INVALID_ARGUMENT, "ctx: context is NULL");
    EXPECT_NM_ERROR(nm_embedding(ctx, nullptr, ids, 5, out), NM_ERR_INVALID_ARGUMENT, "weight: tensor is NULL");
    EXPECT_NM_ERROR(nm_embedding(ctx, w, ids, 5, nullptr), NM_ERR_INVALID_ARGUMENT, "out: tensor is NULL");
    EXPECT_NM_ERROR(nm_embedding(ctx, w, nullptr, 5, out), NM_ERR_INVALID_ARGUMENT, "ids: is NULL");
    EXPECT_NM_ERROR(nm_embedding(ctx, w, ids, 0, out), NM_ERR_INVALID_ARGUMENT, "count: must be >= 1, got 0");
    EXPECT_NM_ERROR(nm_embedding(ctx, w, ids, -3, out), NM_ERR_INVALID_ARGUMENT, "count: must be >= 1, got -3");
    const int32_t too_big[5] = {0, 1, 2, 50000, 7};
    EXPECT_NM_ERROR(nm_embedding(ctx, w, too_big, 5, out), NM_ERR_INVALID_ARGUMENT,
                    "ids: ids[3] = 50000 is out of range [0, 32000)");
    const int32_t negative[5] = {-1, 1, 2, 3, 7};
    EXPECT_NM_ERROR(nm_embedding(ctx, w, negative, 5, out), NM_ERR_INVALID_ARGUMENT,
                    "ids: ids[0] = -1 is out of range [0, 32000)");

    Tensor w_int = make_tensor(ctx, NM_DTYPE_I32, {10, 4});
    EXPECT_NM_ERROR(nm_embedding(ctx, w_int, ids, 5, out), NM_ERR_DTYPE,
                    "weight: expected float32, float16 or bfloat16, got int32");
    Tensor out_int = make_tensor(ctx, NM_DTYPE_I32, {5, 4});
    EXPECT_NM_ERROR(nm_embedding(ctx, w, ids, 5, out_int), NM_ERR_DTYPE,
                    "out: expected float32, float16 or bfloat16, got int32");
    Tensor w_1d = make_tensor(ctx, NM_DTYPE_F32, {40});
    EXPECT_NM_ERROR(nm_embedding(ctx, w_1d, ids, 5, out), NM_ERR_SHAPE, "weight: expected 2 dims, got 1");
    Tensor out_h = make_tensor(ctx, NM_DTYPE_F32, {4, 5});
    EXPECT_NM_ERROR(nm_embedding(ctx, w, ids, 5, out_h), NM_ERR_SHAPE, "out: last dim must be 4");
    EXPECT_NM_ERROR(nm_embedding(ctx, w, ids, 4, out), NM_ERR_SHAPE,
                    "out: shape [5, 4] has 20 elements, expected count * H = 4 * 4 = 16");
    Tensor w_other = make_tensor(other, NM_DTYPE_F32, {10, 4});
    EXPECT_NM_ERROR(nm_embedding(ctx, w_other, ids, 5, out), NM_ERR_DEVICE,
                    "weight: tensor belongs to another context");
    Tensor out_other = make_tensor(other, NM_DTYPE_F32, {5, 4});
    EXPECT_NM_ERROR(nm_embedding(ctx, w, ids, 5, out_other), NM_ERR_DEVICE, "out: tensor belongs to another context");
    Tensor square = make_tensor(ctx, NM_DTYPE_F32, {1, 4});
    const int32_t zero = 0;
    EXPECT_NM_ERROR(nm_embedding(ctx, square, &zero, 1, square), NM_ERR_INVALID_ARGUMENT,
                    "out: must not be the same tensor as weight");
}

TEST(Embedding, CudaMatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    const std::vector<int32_t> ids = random_ids(77, 500, 93);
    expect_cuda_matches_cpu([&](nm_context* ctx, nm_dtype dt) {
        Tensor w = make_tensor(ctx, dt, {500, 129}, random_floats(500 * 129, 94));
        Tensor out = make_tensor(ctx, NM_DTYPE_F32, {7, 11, 129});
        EXPECT_NM_OK(nm_embedding(ctx, w, ids.data(), int64_t(ids.size()), out));
        return download(ctx, out);
    });
}
