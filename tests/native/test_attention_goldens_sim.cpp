// test_attention_goldens_sim.cpp — the CUDA attention kernels (flash_kernel on
// the sm_80 path, tile_kernel on the pre-sm_80 / float32 path), run under the
// CUDA simulator (tests/native/cuda_sim), against the FlashAttention authors'
// attention_ref goldens of tests/fixtures/attention — the same fixtures and
// tolerances as the C API test (test_attention_goldens.cpp), CUDA column.
#include "cuda_sim.h"  // first: the CUDA names the kernel source uses

#include "cuda/attention_kernels.cuh"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "attention_golden_fixture.h"
#include "core/half.h"
#include "sim_test_util.h"
#include "test_util.h"

using namespace nmtest;
using namespace nmtest::attention_goldens;

namespace {

// One fixture through the kernel the host code picks for a device of compute capability `cc_major`.
void expect_golden_sim(nm_dtype dtype, const char* name, int cc_major) {
    SCOPED_TRACE(std::string(nm_dtype_name(dtype)) + " " + name + " sm" + std::to_string(cc_major) + "x");
    Fixture f;
    ASSERT_TRUE(read_fixture(fixture_path(name), &f)) << "cannot read " << fixture_path(name);
    const std::vector<int32_t> cq = to_offsets(f.data["cu_seqlens_q"]), ck = to_offsets(f.data["cu_seqlens_k"]);
    const auto& qs = f.shape["q"];
    const auto& ks = f.shape["k"];
    const int64_t tq = qs[0], hq = qs[1], d = qs[2], tk = ks[0], hkv = ks[1];
    sim::DeviceBuffer q = sim_upload(dtype, f.data["q"]), k = sim_upload(dtype, f.data["k"]), v = sim_upload(dtype, f.data["v"]);
    sim::DeviceBuffer out(size_t(tq * hq * d) * size_t(nm_dtype_size(dtype)));
    sim::DeviceBuffer lse(size_t(hq * tq) * sizeof(float));
    nm::AttentionArgs a;
    a.q = sim_view(dtype, {tq, hq, d}, q.data());
    a.k = sim_view(dtype, {tk, hkv, d}, k.data());
    a.v = sim_view(dtype, {tk, hkv, d}, v.data());
    a.out = sim_view(dtype, {tq, hq, d}, out.data());
    a.lse = sim_view(NM_DTYPE_F32, {hq, tq}, lse.data());
    a.batch = int32_t(cq.size()) - 1;
    a.cu_seqlens_q = cq.data();
    a.cu_seqlens_k = ck.data();
    a.total_q = tq;
    a.total_k = tk;
    a.heads_q = hq;
    a.heads_kv = hkv;
    a.head_dim = d;
    const float scale = f.data["softmax_scale"][0];
    a.softmax_scale = scale > 0.f ? scale : float(1.0 / std::sqrt(double(d)));
    // What the API layer does before dispatch: causal becomes window_right = 0.
    a.causal = f.data["causal"][0] != 0.f;
    a.window_left = int32_t(f.data["window"][0]);
    a.window_right = a.causal ? 0 : int32_t(f.data["window"][1]);
    const nm::AttentionOffsets off = nm::attention_offsets(a);
    sim::DeviceBuffer cu(off.cu.size() * sizeof(int32_t));
    std::memcpy(cu.data(), off.cu.data(), off.cu.size() * sizeof(int32_t));
    const int32_t* cu_q = cu.as<int32_t>();
    const int32_t* cu_k = cu_q + a.batch + 1;
    try {
        if (nm::use_flash(a, cc_major)) {
            const nm::FlashParams fp = nm::flash_params(a, cu_q, cu_k);
            nm::FlashLaunch l = nm::flash_launch(dtype, d, fp, off.max_lq);
            sim::launch(l.kernel, l.grid, l.block, l.smem, fp);
        } else {
            nm::TileLaunch l = nm::tile_prefill_launch(a, off.max_lq);
            sim::launch(l.kernel, l.grid, l.block, l.smem, nm::tile_prefill_params(a, cu_q, cu_k));
        }
    } catch (const sim::Error& e) {
        FAIL() << e.what();
    }
    const Tolerance tol = tolerance(dtype, /*cuda=*/true);
    expect_near_all(sim_read_back(dtype, out, size_t(tq * hq * d)), f.data["out"], tol.out, "out");
    expect_near_all(sim_read_back(NM_DTYPE_F32, lse, size_t(hq * tq)), f.data["lse"], tol.lse, "lse");
}

}  // namespace

TEST(AttentionGoldensSim, Float32) {
    for (const char* name : kCases) expect_golden_sim(NM_DTYPE_F32, name, 8);
}

TEST(AttentionGoldensSim, HalfOnTensorCores) {
    for (nm_dtype dtype : {NM_DTYPE_F16, NM_DTYPE_BF16})
        for (const char* name : kCases) expect_golden_sim(dtype, name, 8);
}

TEST(AttentionGoldensSim, HalfBeforeSm80) {
    for (nm_dtype dtype : {NM_DTYPE_F16, NM_DTYPE_BF16})
        for (const char* name : kCases) expect_golden_sim(dtype, name, 7);
}
