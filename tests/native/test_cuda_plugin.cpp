// test_cuda_plugin.cpp — the CUDA backend plugin itself: probe, device info,
// contexts, memory and copies on the GPU, asynchrony, error reporting.
// Operator results are compared with the CPU in the operator tests; the one
// operator test here targets edge cases of the GPU's radix-select sampling.
// Every GPU test starts with NM_SKIP_WITHOUT_CUDA(); ProbeWithoutGpuSaysWhy is
// the one that runs (only) without a GPU.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

using namespace nmtest;

namespace {

int32_t cuda_device_count() {
    int32_t count = 0;
    if (nm_backend_probe(NM_BACKEND_CUDA, &count) != NM_OK) return 0;
    return count;
}

std::vector<unsigned char> byte_pattern(size_t n, unsigned seed) {
    std::vector<unsigned char> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<unsigned char>((i * 131u + seed * 17u + (i >> 8)) & 0xffu);
    return v;
}

std::vector<unsigned char> download_bytes(nm_context* ctx, const nm_tensor* t) {
    nm_tensor_info info{};
    EXPECT_NM_OK(nm_tensor_get_info(t, &info));
    std::vector<unsigned char> out(info.nbytes);
    EXPECT_NM_OK(nm_tensor_download(t, 0, out.data(), out.size()));
    EXPECT_NM_OK(nm_context_synchronize(ctx));
    return out;
}

}  // namespace

TEST(CudaPlugin, ProbeWithoutGpuSaysWhy) {
    int32_t count = -1;
    const nm_status st = nm_backend_probe(NM_BACKEND_CUDA, &count);
    if (st == NM_OK) GTEST_SKIP() << "a CUDA device is present (" << count << ")";
    EXPECT_EQ(st, NM_ERR_BACKEND_UNAVAILABLE) << nm_status_name(st);
    const std::string why = nm_last_error();
    EXPECT_EQ(why.rfind("cuda: ", 0), 0u) << why;
    EXPECT_EQ(count, 0);
    // The same reason comes back on every call (the plugin is loaded once).
    EXPECT_EQ(nm_backend_probe(NM_BACKEND_CUDA, &count), NM_ERR_BACKEND_UNAVAILABLE);
    EXPECT_EQ(std::string(nm_last_error()), why);
}

TEST(CudaPlugin, ProbeCountsDevices) {
    NM_SKIP_WITHOUT_CUDA();
    int32_t count = 0;
    EXPECT_NM_OK(nm_backend_probe(NM_BACKEND_CUDA, &count));
    EXPECT_GE(count, 1);
    EXPECT_STREQ(nm_last_error(), "");
}

TEST(CudaPlugin, BuildInfoDescribesCuda) {
    NM_SKIP_WITHOUT_CUDA();
    const std::string info = nm_build_info();
    EXPECT_NE(info.find("CUDA "), std::string::npos) << info;
    EXPECT_NE(info.find("cuBLAS "), std::string::npos) << info;
    EXPECT_NE(info.find("archs "), std::string::npos) << info;
}

TEST(CudaPlugin, DeviceInfoIsSane) {
    NM_SKIP_WITHOUT_CUDA();
    const int32_t count = cuda_device_count();
    for (int32_t d = 0; d < count; ++d) {
        nm_device_info info;
        std::memset(&info, 0xab, sizeof info);
        ASSERT_EQ(nm_cuda_device_info(d, &info), NM_OK) << nm_last_error();
        EXPECT_GT(std::strlen(info.name), 0u);
        EXPECT_LT(std::strlen(info.name), sizeof info.name);
        EXPECT_GT(info.total_memory_bytes, uint64_t(256) << 20) << info.name;
        EXPECT_GT(info.free_memory_bytes, 0u);
        EXPECT_LE(info.free_memory_bytes, info.total_memory_bytes);
        EXPECT_GE(info.compute_capability_major, 3);
        EXPECT_GE(info.compute_capability_minor, 0);
        EXPECT_GT(info.multiprocessor_count, 0);
        EXPECT_GE(info.runtime_version, 11000);
        EXPECT_GT(info.driver_version, 0);
        // Minor-version compatibility: the driver's major CUDA version is at least the runtime's.
        EXPECT_GE(info.driver_version / 1000, info.runtime_version / 1000);
        for (int32_t r : info.reserved) EXPECT_EQ(r, 0);
    }
    nm_device_info info;
    EXPECT_NM_ERROR(nm_cuda_device_info(count, &info), NM_ERR_INVALID_ARGUMENT, "out of range");
    EXPECT_NM_ERROR(nm_cuda_device_info(-1, &info), NM_ERR_INVALID_ARGUMENT, "out of range");
}

TEST(CudaPlugin, ContextOnMissingDeviceNamesTheCount) {
    NM_SKIP_WITHOUT_CUDA();
    const int32_t count = cuda_device_count();
    if (count > 99) GTEST_SKIP() << "this machine has a device 99";
    nm_context* ctx = nullptr;
    const std::string expected = "only " + std::to_string(count) + " CUDA device";
    EXPECT_NM_ERROR(nm_context_create("cuda:99", &ctx), NM_ERR_BACKEND_UNAVAILABLE, expected);
    EXPECT_NE(std::string(nm_last_error()).find("99"), std::string::npos) << nm_last_error();
    EXPECT_EQ(ctx, nullptr);
}

TEST(CudaPlugin, ContextReportsItsDevice) {
    NM_SKIP_WITHOUT_CUDA();
    for (const char* spec : {"cuda", "cuda:0", "auto"}) {
        Context ctx(spec);
        ASSERT_NE(ctx.p, nullptr) << spec << ": " << nm_last_error();
        nm_backend_kind kind = NM_BACKEND_CPU;
        int32_t device = -1;
        EXPECT_NM_OK(nm_context_backend(ctx, &kind, &device));
        EXPECT_EQ(kind, NM_BACKEND_CUDA) << spec;
        EXPECT_EQ(device, 0) << spec;
        EXPECT_NM_OK(nm_context_synchronize(ctx));
    }
    const int32_t count = cuda_device_count();
    const std::string last = "cuda:" + std::to_string(count - 1);
    Context ctx(last.c_str());
    ASSERT_NE(ctx.p, nullptr) << last << ": " << nm_last_error();
    int32_t device = -1;
    EXPECT_NM_OK(nm_context_backend(ctx, nullptr, &device));
    EXPECT_EQ(device, count - 1);
}

TEST(CudaPlugin, NewTensorIsZeroAndInfoNamesCuda) {
    NM_SKIP_WITHOUT_CUDA();
    Context ctx("cuda");
    ASSERT_NE(ctx.p, nullptr) << nm_last_error();
    Tensor t = make_tensor(ctx, NM_DTYPE_BF16, {3, 1000, 7});
    ASSERT_NE(t.p, nullptr);
    nm_tensor_info info{};
    EXPECT_NM_OK(nm_tensor_get_info(t, &info));
    EXPECT_EQ(info.backend, NM_BACKEND_CUDA);
    EXPECT_EQ(info.device, 0);
    EXPECT_EQ(info.nbytes, uint64_t(3 * 1000 * 7 * 2));
    for (unsigned char b : download_bytes(ctx, t)) ASSERT_EQ(b, 0);
}

TEST(CudaPlugin, UploadDownloadCopyRoundTrip) {
    NM_SKIP_WITHOUT_CUDA();
    Context ctx("cuda"), cpu("cpu");
    ASSERT_NE(ctx.p, nullptr) << nm_last_error();
    unsigned seed = 1;
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_F16, NM_DTYPE_BF16, NM_DTYPE_I32}) {
        for (int64_t n : {int64_t(1), int64_t(7), int64_t(4099), int64_t(1) << 20}) {
            SCOPED_TRACE(std::string(nm_dtype_name(dtype)) + " n=" + std::to_string(n));
            const size_t bytes = size_t(n) * nm_dtype_size(dtype);
            const std::vector<unsigned char> data = byte_pattern(bytes, seed++);
            Tensor a = make_tensor(ctx, dtype, {n});
            Tensor b = make_tensor(ctx, dtype, {n});
            ASSERT_NE(a.p, nullptr);
            ASSERT_NE(b.p, nullptr);
            EXPECT_NM_OK(nm_tensor_upload(a, 0, data.data(), bytes));
            EXPECT_EQ(download_bytes(ctx, a), data);
            // Device to device.
            EXPECT_NM_OK(nm_tensor_copy(b, a));
            EXPECT_EQ(download_bytes(ctx, b), data);
            // Across contexts: CUDA -> CPU -> CUDA.
            Tensor h = make_tensor(cpu, dtype, {n});
            EXPECT_NM_OK(nm_tensor_copy(h, a));
            EXPECT_EQ(download_bytes(cpu, h), data);
            EXPECT_NM_OK(nm_tensor_zero(b));
            EXPECT_NM_OK(nm_tensor_copy(b, h));
            EXPECT_EQ(download_bytes(ctx, b), data);
            // Zero, then a partial upload and a partial download at an offset.
            EXPECT_NM_OK(nm_tensor_zero(a));
            std::vector<unsigned char> expected(bytes, 0);
            const size_t offset = bytes / 3, len = bytes - offset - bytes / 5;
            EXPECT_NM_OK(nm_tensor_upload(a, offset, data.data() + offset, len));
            std::copy(data.begin() + long(offset), data.begin() + long(offset + len), expected.begin() + long(offset));
            EXPECT_EQ(download_bytes(ctx, a), expected);
            if (len > 0) {
                std::vector<unsigned char> part(len, 0xee);
                EXPECT_NM_OK(nm_tensor_download(a, offset, part.data(), len));
                EXPECT_NM_OK(nm_context_synchronize(ctx));
                EXPECT_TRUE(std::equal(part.begin(), part.end(), data.begin() + long(offset)));
            }
        }
    }
}

// Uploads may reuse their host buffer at once; downloads are complete after
// nm_context_synchronize. Many queued copies of a large tensor, then one sync.
TEST(CudaPlugin, AsyncCopiesThenSynchronize) {
    NM_SKIP_WITHOUT_CUDA();
    Context ctx("cuda");
    ASSERT_NE(ctx.p, nullptr) << nm_last_error();
    const int64_t n = int64_t(1) << 22;  // 16 MiB of float32
    const int kCopies = 8;
    std::vector<Tensor> tensors;
    std::vector<std::vector<unsigned char>> expected;
    std::vector<unsigned char> host(size_t(n) * 4);
    for (int c = 0; c < kCopies; ++c) {
        tensors.push_back(make_tensor(ctx, NM_DTYPE_F32, {n}));
        ASSERT_NE(tensors.back().p, nullptr);
        expected.push_back(byte_pattern(host.size(), unsigned(100 + c)));
        host = expected.back();
        EXPECT_NM_OK(nm_tensor_upload(tensors.back(), 0, host.data(), host.size()));
        std::fill(host.begin(), host.end(), 0x5a);  // reusing the buffer right away must be safe
    }
    // A device-to-device chain queued behind the uploads: t[c] <- t[c-1] for odd c.
    for (int c = 1; c < kCopies; c += 2) {
        EXPECT_NM_OK(nm_tensor_copy(tensors[size_t(c)], tensors[size_t(c - 1)]));
        expected[size_t(c)] = expected[size_t(c - 1)];
    }
    std::vector<std::vector<unsigned char>> out(kCopies, std::vector<unsigned char>(host.size(), 0x11));
    for (int c = 0; c < kCopies; ++c)
        EXPECT_NM_OK(nm_tensor_download(tensors[size_t(c)], 0, out[size_t(c)].data(), out[size_t(c)].size()));
    EXPECT_NM_OK(nm_context_synchronize(ctx));
    for (int c = 0; c < kCopies; ++c) EXPECT_TRUE(out[size_t(c)] == expected[size_t(c)]) << "copy " << c;
}

TEST(CudaPlugin, TensorMemoryAccounting) {
    NM_SKIP_WITHOUT_CUDA();
    Context ctx("cuda");
    ASSERT_NE(ctx.p, nullptr) << nm_last_error();
    uint64_t now = 1, peak = 1;
    EXPECT_NM_OK(nm_context_memory(ctx, &now, &peak));
    EXPECT_EQ(now, 0u);
    EXPECT_EQ(peak, 0u);
    {
        Tensor a = make_tensor(ctx, NM_DTYPE_F32, {1024, 1024});
        Tensor b = make_tensor(ctx, NM_DTYPE_F16, {10});
        EXPECT_NM_OK(nm_context_memory(ctx, &now, &peak));
        EXPECT_EQ(now, uint64_t(4 << 20) + 20);
        EXPECT_EQ(peak, uint64_t(4 << 20) + 20);
        { Tensor moved = std::move(a); }
        EXPECT_NM_OK(nm_context_memory(ctx, &now, &peak));
        EXPECT_EQ(now, 20u);
        EXPECT_EQ(peak, uint64_t(4 << 20) + 20);
    }
    EXPECT_NM_OK(nm_context_memory(ctx, &now, &peak));
    EXPECT_EQ(now, 0u);
    EXPECT_EQ(peak, uint64_t(4 << 20) + 20);
}

TEST(CudaPlugin, OutOfMemoryNamesSizeAndDevice) {
    NM_SKIP_WITHOUT_CUDA();
    Context ctx("cuda");
    ASSERT_NE(ctx.p, nullptr) << nm_last_error();
    const int64_t shape[2] = {int64_t(1) << 24, int64_t(1) << 24};  // 2^48 float32 = 1 PiB
    nm_tensor* t = nullptr;
    EXPECT_NM_ERROR(nm_tensor_create(ctx, NM_DTYPE_F32, 2, shape, &t), NM_ERR_OUT_OF_MEMORY, "cudaMalloc");
    EXPECT_NE(std::string(nm_last_error()).find("device 0"), std::string::npos) << nm_last_error();
    EXPECT_NE(std::string(nm_last_error()).find("1125899906842624"), std::string::npos) << nm_last_error();
    EXPECT_EQ(t, nullptr);
    uint64_t now = 1;
    EXPECT_NM_OK(nm_context_memory(ctx, &now, nullptr));
    EXPECT_EQ(now, 0u);
    // The context stays usable.
    Tensor ok = make_tensor(ctx, NM_DTYPE_F32, {16}, std::vector<float>(16, 2.f));
    EXPECT_EQ(download(ctx, ok), std::vector<float>(16, 2.f));
}

// Two contexts used alternately from one thread (on two devices when there
// are two): each call must select its own device and stream.
TEST(CudaPlugin, ContextsInterleaveOnOneThread) {
    NM_SKIP_WITHOUT_CUDA();
    const int32_t count = cuda_device_count();
    const std::string second = count > 1 ? "cuda:1" : "cuda:0";
    Context c0("cuda:0"), c1(second.c_str());
    ASSERT_NE(c0.p, nullptr) << nm_last_error();
    ASSERT_NE(c1.p, nullptr) << nm_last_error();
    const std::vector<float> x = random_floats(4096, 7);
    std::vector<float> y = x;
    for (auto& v : y) v *= 3.f;
    Tensor a0 = make_tensor(c0, NM_DTYPE_F32, {4096}, x), a1 = make_tensor(c1, NM_DTYPE_F32, {4096}, x);
    Tensor b0 = make_tensor(c0, NM_DTYPE_F32, {4096}), b1 = make_tensor(c1, NM_DTYPE_F32, {4096});
    for (int i = 0; i < 3; ++i) {
        EXPECT_NM_OK(nm_scale(c0, a0, b0, 3.f));
        EXPECT_NM_OK(nm_scale(c1, a1, b1, 3.f));
    }
    EXPECT_EQ(download(c1, b1), y);
    EXPECT_EQ(download(c0, b0), y);
    // A tensor of one context is refused by the other.
    if (c0.p != c1.p) EXPECT_EQ(nm_scale(c0, a1, b0, 1.f), NM_ERR_DEVICE);
}

TEST(CudaPlugin, SampleRowWithoutFiniteValueIsNamed) {
    NM_SKIP_WITHOUT_CUDA();
    Context ctx("cuda");
    ASSERT_NE(ctx.p, nullptr) << nm_last_error();
    const int64_t V = 3000;
    std::vector<float> logits(size_t(3 * V), 0.5f);
    for (int64_t i = 0; i < V; ++i) logits[size_t(2 * V + i)] = (i % 2) ? -INFINITY : NAN;
    Tensor t = make_tensor(ctx, NM_DTYPE_F32, {3, V}, logits);
    int32_t tokens[3] = {0, 0, 0};
    for (float temperature : {0.f, 1.f}) {
        const nm_sampling_params p{temperature, 0, 1.f};
        EXPECT_NM_ERROR(nm_sample(ctx, t, &p, 1, 2, tokens, 3), NM_ERR_INVALID_ARGUMENT,
                        "logits: row 2 has no finite value");
    }
    // The context is fine afterwards.
    const nm_sampling_params greedy{0.f, 0, 1.f};
    Tensor ok = make_tensor(ctx, NM_DTYPE_F32, {2, V}, std::vector<float>(logits.begin(), logits.begin() + 2 * V));
    EXPECT_NM_OK(nm_sample(ctx, ok, &greedy, 1, 2, tokens, 2));
    EXPECT_EQ(tokens[0], 0);
    EXPECT_EQ(tokens[1], 0);
}

// Values that stress the GPU's key mapping and radix selection: ties across
// bins, -0 next to +0, +inf, -inf and NaN, vocabularies that are not a
// multiple of the block size or smaller than it, top_k >= V.
TEST(CudaPlugin, SampleEdgeValuesMatchCpu) {
    NM_SKIP_WITHOUT_CUDA();
    Context cpu("cpu"), cuda("cuda");
    ASSERT_NE(cuda.p, nullptr) << nm_last_error();
    for (int64_t V : {int64_t(1), int64_t(5), int64_t(1000), int64_t(1025), int64_t(50021)}) {
        const int64_t B = 5;
        std::vector<float> logits = random_floats(size_t(B * V), unsigned(V), -4.f, 4.f);
        for (int64_t i = 0; i < V; ++i) {
            logits[size_t(0 * V + i)] = float(int(logits[size_t(i)]));  // row 0: a few distinct integers, many ties
            logits[size_t(1 * V + i)] = (i % 3 == 0) ? 0.f : (i % 3 == 1 ? -0.f : -1e-30f);  // row 1: signed zeros
            if (i % 7 == 1) logits[size_t(2 * V + i)] = NAN;                    // row 2: NaN and -inf holes
            if (i % 11 == 2) logits[size_t(2 * V + i)] = -INFINITY;
        }
        logits[size_t(3 * V + V / 2)] = INFINITY;  // row 3: one +inf
        logits[size_t(4 * V + V - 1)] = 1e30f;     // row 4: one huge value at the end
        const nm_sampling_params cases[] = {
            {1.f, 0, 1.f},   {0.5f, 3, 1.f},  {1.f, 0, 0.5f},  {2.f, 10, 0.9f},  {1.f, int32_t(V), 1.f},
            {1.f, int32_t(V + 5), 0.3f}, {1e-3f, 0, 1.f}, {INFINITY, 0, 1.f}, {INFINITY, 4, 0.7f}, {0.f, 2, 0.5f}};
        for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16}) {
            Tensor on_cpu = make_tensor(cpu, dtype, {B, V}, logits), on_cuda = make_tensor(cuda, dtype, {B, V}, logits);
            for (const auto& p : cases) {
                for (uint64_t seed = 0; seed < 16; ++seed) {
                    std::vector<int32_t> a(size_t(B), -7), b(size_t(B), -9);
                    EXPECT_NM_OK(nm_sample(cpu, on_cpu, &p, seed, 11, a.data(), B));
                    EXPECT_NM_OK(nm_sample(cuda, on_cuda, &p, seed, 11, b.data(), B));
                    ASSERT_EQ(a, b) << nm_dtype_name(dtype) << " V=" << V << " T=" << p.temperature
                                    << " k=" << p.top_k << " p=" << p.top_p << " seed=" << seed;
                }
            }
        }
    }
}
