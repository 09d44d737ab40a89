// test_core.cpp — versions, errors, contexts and tensors through the C ABI.
#include "test_util.h"

using namespace nmtest;

TEST(Core, AbiVersionMatchesHeader) { EXPECT_EQ(nm_abi_version(), uint32_t(NM_ABI_VERSION)); }

TEST(Core, VersionAndBuildInfo) {
    EXPECT_STRNE(nm_version(), "");
    EXPECT_NE(std::string(nm_build_info()).find("cpu:"), std::string::npos);
}

TEST(Core, StatusNames) {
    EXPECT_STREQ(nm_status_name(NM_ERR_SHAPE), "NM_ERR_SHAPE");
    EXPECT_STREQ(nm_status_name(nm_status(999)), "NM_ERR_UNKNOWN");
}

TEST(Core, DtypeNamesAndSizes) {
    EXPECT_STREQ(nm_dtype_name(NM_DTYPE_BF16), "bfloat16");
    EXPECT_EQ(nm_dtype_size(NM_DTYPE_F16), 2u);
    EXPECT_EQ(nm_dtype_size(nm_dtype(42)), 0u);
}

TEST(Core, CpuContext) {
    Context ctx("cpu");
    ASSERT_NE(ctx.p, nullptr) << nm_last_error();
    nm_backend_kind kind;
    int32_t dev = -1;
    EXPECT_NM_OK(nm_context_backend(ctx, &kind, &dev));
    EXPECT_EQ(kind, NM_BACKEND_CPU);
    EXPECT_EQ(dev, 0);
    EXPECT_NM_OK(nm_context_synchronize(ctx));
}

TEST(Core, AutoContextAlwaysWorks) {
    Context ctx("auto");
    ASSERT_NE(ctx.p, nullptr) << nm_last_error();
    Context null_spec(nullptr);
    ASSERT_NE(null_spec.p, nullptr) << nm_last_error();
}

TEST(Core, BadSpecIsNamed) {
    nm_context* ctx = nullptr;
    EXPECT_NM_ERROR(nm_context_create("gpu", &ctx), NM_ERR_INVALID_ARGUMENT, "unknown backend 'gpu'");
    EXPECT_EQ(ctx, nullptr);
    EXPECT_NM_ERROR(nm_context_create("cuda:x", &ctx), NM_ERR_INVALID_ARGUMENT, "cuda:x");
    EXPECT_NM_ERROR(nm_context_create("cpu", nullptr), NM_ERR_INVALID_ARGUMENT, "out");
}

TEST(Core, CudaUnavailableSaysWhy) {
    std::string why;
    if (cuda_available(&why)) GTEST_SKIP() << "a CUDA device is present";
    EXPECT_NE(why.find("cuda:"), std::string::npos) << why;
    nm_context* ctx = nullptr;
    EXPECT_EQ(nm_context_create("cuda", &ctx), NM_ERR_BACKEND_UNAVAILABLE);
    EXPECT_EQ(std::string(nm_last_error()), why);
    nm_device_info info;
    EXPECT_EQ(nm_cuda_device_info(0, &info), NM_ERR_BACKEND_UNAVAILABLE);
}

TEST(Core, SuccessClearsError) {
    nm_context* ctx = nullptr;
    EXPECT_NE(nm_context_create("nope", &ctx), NM_OK);
    EXPECT_STRNE(nm_last_error(), "");
    Context ok("cpu");
    EXPECT_STREQ(nm_last_error(), "");
}

TEST(Core, DestroyAcceptsNull) {
    nm_context_destroy(nullptr);
    nm_tensor_destroy(nullptr);
}

TEST(Core, TensorRoundTripAndInfo) {
    Context ctx("cpu");
    Tensor t = make_tensor(ctx, NM_DTYPE_F32, {2, 3}, {1, 2, 3, 4, 5, 6});
    nm_tensor_info info{};
    EXPECT_NM_OK(nm_tensor_get_info(t, &info));
    EXPECT_EQ(info.ndim, 2);
    EXPECT_EQ(info.shape[0], 2);
    EXPECT_EQ(info.shape[1], 3);
    EXPECT_EQ(info.numel, 6u);
    EXPECT_EQ(info.nbytes, 24u);
    EXPECT_EQ(download(ctx, t), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    uint64_t bytes = 0, peak = 0;
    EXPECT_NM_OK(nm_context_memory(ctx, &bytes, &peak));
    EXPECT_EQ(bytes, 24u);
    EXPECT_GE(peak, 24u);
}

TEST(Core, TensorIsZeroFilled) {
    Context ctx("cpu");
    Tensor t = make_tensor(ctx, NM_DTYPE_BF16, {5});
    EXPECT_EQ(download(ctx, t), std::vector<float>(5, 0.f));
}

TEST(Core, TensorBadShapes) {
    Context ctx("cpu");
    nm_tensor* t = nullptr;
    int64_t zero[] = {2, 0};
    EXPECT_NM_ERROR(nm_tensor_create(ctx, NM_DTYPE_F32, 2, zero, &t), NM_ERR_SHAPE, "dim 1 must be >= 1");
    int64_t ok[] = {2};
    EXPECT_NM_ERROR(nm_tensor_create(ctx, NM_DTYPE_F32, 0, ok, &t), NM_ERR_SHAPE, "ndim");
    EXPECT_NM_ERROR(nm_tensor_create(ctx, nm_dtype(9), 1, ok, &t), NM_ERR_DTYPE, "dtype");
    EXPECT_NM_ERROR(nm_tensor_create(nullptr, NM_DTYPE_F32, 1, ok, &t), NM_ERR_INVALID_ARGUMENT, "ctx");
    int64_t huge[] = {int64_t(1) << 40, int64_t(1) << 40};
    EXPECT_NM_ERROR(nm_tensor_create(ctx, NM_DTYPE_F32, 2, huge, &t), NM_ERR_SHAPE, "too many");
}

TEST(Core, ReshapeKeepsElementCount) {
    Context ctx("cpu");
    Tensor t = make_tensor(ctx, NM_DTYPE_F32, {2, 6});
    int64_t s3[] = {3, 4};
    EXPECT_NM_OK(nm_tensor_reshape(t, 2, s3));
    int64_t bad[] = {5, 5};
    EXPECT_NM_ERROR(nm_tensor_reshape(t, 2, bad), NM_ERR_SHAPE, "cannot reshape [3, 4]");
}

TEST(Core, CopyRangeIsChecked) {
    Context ctx("cpu");
    Tensor t = make_tensor(ctx, NM_DTYPE_F32, {4});
    float buf[8] = {};
    EXPECT_NM_ERROR(nm_tensor_upload(t, 8, buf, 16), NM_ERR_INVALID_ARGUMENT, "outside the tensor's 16 bytes");
    EXPECT_NM_ERROR(nm_tensor_download(t, 0, nullptr, 4), NM_ERR_INVALID_ARGUMENT, "dst");
    EXPECT_NM_OK(nm_tensor_upload(t, 4, buf, 12));
}

TEST(Core, TensorCopyChecksDtypeAndCount) {
    Context ctx("cpu");
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {2, 2}, {1, 2, 3, 4});
    Tensor b = make_tensor(ctx, NM_DTYPE_F32, {4});
    Tensor c = make_tensor(ctx, NM_DTYPE_F16, {4});
    Tensor d = make_tensor(ctx, NM_DTYPE_F32, {3});
    EXPECT_NM_OK(nm_tensor_copy(b, a));
    EXPECT_EQ(download(ctx, b), (std::vector<float>{1, 2, 3, 4}));
    EXPECT_NM_ERROR(nm_tensor_copy(c, a), NM_ERR_DTYPE, "dst: expected float32");
    EXPECT_NM_ERROR(nm_tensor_copy(d, a), NM_ERR_SHAPE, "dst: has 3 elements");
    EXPECT_NM_OK(nm_tensor_zero(b));
    EXPECT_EQ(download(ctx, b), std::vector<float>(4, 0.f));
}

TEST(Core, CopyAcrossContexts) {
    Context one("cpu"), two("cpu");
    Tensor a = make_tensor(one, NM_DTYPE_F32, {3}, {7, 8, 9});
    Tensor b = make_tensor(two, NM_DTYPE_F32, {3});
    EXPECT_NM_OK(nm_tensor_copy(b, a));
    EXPECT_EQ(download(two, b), (std::vector<float>{7, 8, 9}));
}

TEST(Core, CopyBytesBetweenRangesAndContexts) {
    Context one("cpu"), two("cpu");
    Tensor a = make_tensor(one, NM_DTYPE_F32, {2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor b = make_tensor(one, NM_DTYPE_F32, {4});
    Tensor c = make_tensor(two, NM_DTYPE_F32, {3});
    EXPECT_NM_OK(nm_tensor_copy_bytes(b, 4, a, 12, 8));  // b[1..2] = a row 1, first two
    EXPECT_EQ(download(one, b), (std::vector<float>{0, 4, 5, 0}));
    EXPECT_NM_OK(nm_tensor_copy_bytes(c, 0, a, 0, 12));  // across contexts, through host memory
    EXPECT_EQ(download(two, c), (std::vector<float>{1, 2, 3}));
    EXPECT_NM_OK(nm_tensor_copy_bytes(a, 0, a, 12, 12));  // within one tensor, disjoint
    EXPECT_EQ(download(one, a), (std::vector<float>{4, 5, 6, 4, 5, 6}));
    EXPECT_NM_OK(nm_tensor_copy_bytes(b, 16, a, 24, 0));  // empty ranges at the ends are fine
    EXPECT_NM_OK(nm_tensor_zero_bytes(a, 4, 8));
    EXPECT_EQ(download(one, a), (std::vector<float>{4, 0, 0, 4, 5, 6}));
}

TEST(Core, CopyBytesChecksRanges) {
    Context ctx("cpu");
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {4});
    Tensor b = make_tensor(ctx, NM_DTYPE_F16, {4});
    EXPECT_NM_ERROR(nm_tensor_copy_bytes(b, 4, a, 0, 8), NM_ERR_INVALID_ARGUMENT,
                    "dst_offset: range [4, 12) is outside the tensor's 8 bytes");
    EXPECT_NM_ERROR(nm_tensor_copy_bytes(a, 0, b, 6, 4), NM_ERR_INVALID_ARGUMENT,
                    "src_offset: range [6, 10) is outside the tensor's 8 bytes");
    EXPECT_NM_ERROR(nm_tensor_copy_bytes(a, 4, a, 0, 8), NM_ERR_INVALID_ARGUMENT, "overlaps the source range [0, 8)");
    EXPECT_NM_ERROR(nm_tensor_copy_bytes(nullptr, 0, a, 0, 4), NM_ERR_INVALID_ARGUMENT, "dst");
    EXPECT_NM_ERROR(nm_tensor_zero_bytes(a, 12, 8), NM_ERR_INVALID_ARGUMENT,
                    "offset: range [12, 20) is outside the tensor's 16 bytes");
    EXPECT_NM_ERROR(nm_tensor_zero_bytes(a, ~0ull, 2), NM_ERR_INVALID_ARGUMENT, "outside the tensor's 16 bytes");
}

TEST(Core, CopyBytesOnCuda) {
    std::string why;
    if (!cuda_available(&why)) GTEST_SKIP() << why;
    Context gpu("cuda"), cpu("cpu");
    Tensor a = make_tensor(gpu, NM_DTYPE_F32, {2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor b = make_tensor(gpu, NM_DTYPE_F32, {4});
    Tensor c = make_tensor(cpu, NM_DTYPE_F32, {3});
    EXPECT_NM_OK(nm_tensor_copy_bytes(b, 4, a, 12, 8));
    EXPECT_NM_OK(nm_tensor_zero_bytes(a, 4, 8));
    EXPECT_NM_OK(nm_tensor_copy_bytes(c, 0, a, 12, 12));  // device to host context
    EXPECT_EQ(download(gpu, b), (std::vector<float>{0, 4, 5, 0}));
    EXPECT_EQ(download(gpu, a), (std::vector<float>{1, 0, 0, 4, 5, 6}));
    EXPECT_EQ(download(cpu, c), (std::vector<float>{4, 5, 6}));
}

TEST(Core, CpuThreads) {
    EXPECT_NM_OK(nm_cpu_set_num_threads(1));
    EXPECT_EQ(nm_cpu_num_threads(), 1);
    EXPECT_NM_OK(nm_cpu_set_num_threads(0));
    EXPECT_GE(nm_cpu_num_threads(), 1);
}

TEST(Half, RoundTripsAndRounding) {
    for (float v : {0.f, 1.f, -2.5f, 65504.f, 6.1035156e-05f, 5.9604645e-08f}) {
        EXPECT_EQ(nm::f16_to_float(nm::float_to_f16(v)), v) << v;
    }
    EXPECT_TRUE(std::isinf(nm::f16_to_float(nm::float_to_f16(70000.f))));
    EXPECT_EQ(nm::bf16_to_float(nm::float_to_bf16(1.f + 1.f / 256.f)), 1.f);  // ties to even
    EXPECT_EQ(nm::bf16_to_float(nm::float_to_bf16(3.f)), 3.f);
    EXPECT_TRUE(std::isnan(nm::bf16_to_float(nm::float_to_bf16(NAN))));
}

TEST(Half, MatchesExhaustiveF16Decode) {
    // Every finite f16 value survives float -> f16 -> float exactly.
    for (uint32_t h = 0; h < 0x10000; ++h) {
        float f = nm::f16_to_float(uint16_t(h));
        if (std::isnan(f)) continue;
        EXPECT_EQ(nm::float_to_f16(f), uint16_t(h)) << h;
    }
}

TEST(Core, CudaPluginLoadsWhenBuilt) {
#if defined(NM_TEST_EXPECT_CUDA_PLUGIN)
    // Without a GPU the probe fails, but it must be the plugin's own answer
    // (no driver / no GPU), not a failure to load the plugin itself.
    std::string why;
    if (cuda_available(&why)) GTEST_SKIP() << "a CUDA device is present: the plugin loaded";
    EXPECT_EQ(why.find("cannot load the CUDA backend"), std::string::npos) << why;
    EXPECT_EQ(why.find("has no CUDA backend"), std::string::npos) << why;
    EXPECT_EQ(why.find("ABI mismatch"), std::string::npos) << why;
    EXPECT_NE(std::string(nm_build_info()).find("cuda: CUDA"), std::string::npos) << nm_build_info();
#else
    GTEST_SKIP() << "this build has no CUDA plugin";
#endif
}
