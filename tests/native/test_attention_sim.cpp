// test_attention_sim.cpp — the CUDA attention kernels, run on the CPU under
// the warp-level simulator (cuda_sim/), against the CPU backend on the same
// inputs: flash_kernel<T, D> (mma.sync / ldmatrix / cp.async, float16 and
// bfloat16, D = 64, 128, 256), tile_kernel<false> (float32 and odd head dims
// prefill), tile_kernel<true> + combine_kernel (split-KV decode).
//
// Every launch is configured by the same host helpers CudaBackend uses
// (attention_kernels.cuh: offsets, kernel choice, parameters, grid, block,
// shared memory), on an sm_80-class device. Outputs start as NaN, so an
// element a kernel never writes fails the comparison.
#include "cuda_sim.h"  // first: the CUDA names the kernel source uses

#include "cuda/attention_kernels.cuh"

#include <cstdio>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "test_reference.h"
#include "sim_test_util.h"
#include "test_util.h"

using namespace nmtest;

namespace {

std::vector<int32_t> offsets_of(const std::vector<int32_t>& lens) {
    std::vector<int32_t> cu(1, 0);
    for (int32_t l : lens) cu.push_back(cu.back() + l);
    return cu;
}

// Largest |got - want| relative to max(1, |want|); both -inf counts as equal.
double worst_error(const std::vector<float>& got, const std::vector<float>& want, size_t* at) {
    double worst = 0;
    *at = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (std::isinf(want[i]) && got[i] == want[i]) continue;
        const double e = std::fabs(double(got[i]) - want[i]) / std::max(1.0, std::fabs(double(want[i])));
        if (!(e <= worst)) {  // NaN too
            worst = std::isnan(e) ? INFINITY : e;
            *at = i;
        }
    }
    return worst;
}

struct AttnCase {
    std::string name;
    std::vector<int32_t> lq, lk;  // per sequence
    int64_t hq = 2, hkv = 1;
    bool causal = false;
    int32_t wl = -1, wr = -1;
    float scale = 0.f;  // 0: 1 / sqrt(d)
    bool lse = true;
};

struct AttnOut {
    std::vector<float> out, lse;
};

struct AttnData {
    std::vector<float> q, k, v;  // rounded to the dtype
};

AttnData make_data(const AttnCase& c, nm_dtype dtype, int64_t d, uint32_t seed) {
    const int64_t tq = offsets_of(c.lq).back(), tk = offsets_of(c.lk).back();
    AttnData x;
    x.q = round_to(dtype, random_floats(size_t(tq * c.hq * d), seed, -1.5f, 1.5f));
    x.k = round_to(dtype, random_floats(size_t(tk * c.hkv * d), seed + 1, -1.5f, 1.5f));
    x.v = round_to(dtype, random_floats(size_t(tk * c.hkv * d), seed + 2));
    return x;
}

nm_attention_params params_of(const AttnCase& c) {
    nm_attention_params p{};
    p.softmax_scale = c.scale;
    p.causal = c.causal;
    p.window_left = c.wl;
    p.window_right = c.wr;
    return p;
}

AttnOut run_cpu(const AttnCase& c, nm_dtype dtype, int64_t d, const AttnData& x) {
    Context ctx("cpu");
    const auto cq = offsets_of(c.lq), ck = offsets_of(c.lk);
    const int64_t tq = cq.back(), tk = ck.back();
    Tensor q = make_tensor(ctx, dtype, {tq, c.hq, d}, x.q);
    Tensor k = make_tensor(ctx, dtype, {tk, c.hkv, d}, x.k);
    Tensor v = make_tensor(ctx, dtype, {tk, c.hkv, d}, x.v);
    Tensor out = make_tensor(ctx, dtype, {tq, c.hq, d});
    Tensor lse = make_tensor(ctx, NM_DTYPE_F32, {c.hq, tq});
    const nm_attention_params p = params_of(c);
    EXPECT_NM_OK(nm_attention(ctx, q, k, v, cq.data(), ck.data(), int32_t(c.lq.size()), out, c.lse ? lse.p : nullptr,
                              &p));
    AttnOut r;
    r.out = download(ctx, out);
    if (c.lse) r.lse = download(ctx, lse);
    return r;
}

// The arguments CudaBackend::attention receives for this case (as the API resolves them).
nm::AttentionArgs args_of(const AttnCase& c, nm_dtype dtype, int64_t d, void* q, void* k, void* v, void* out,
                          void* lse, const std::vector<int32_t>& cq, const std::vector<int32_t>& ck) {
    nm::AttentionArgs a;
    const int64_t tq = cq.back(), tk = ck.back();
    a.q = sim_view(dtype, {tq, c.hq, d}, q);
    a.k = sim_view(dtype, {tk, c.hkv, d}, k);
    a.v = sim_view(dtype, {tk, c.hkv, d}, v);
    a.out = sim_view(dtype, {tq, c.hq, d}, out);
    if (lse) a.lse = sim_view(NM_DTYPE_F32, {c.hq, tq}, lse);
    a.batch = int32_t(c.lq.size());
    a.cu_seqlens_q = a.batch > 1 ? cq.data() : nullptr;
    a.cu_seqlens_k = a.batch > 1 ? ck.data() : nullptr;
    a.total_q = tq, a.total_k = tk, a.heads_q = c.hq, a.heads_kv = c.hkv, a.head_dim = d;
    a.softmax_scale = c.scale > 0.f ? c.scale : float(1.0 / std::sqrt(double(d)));
    a.causal = c.causal;
    a.window_left = c.wl;
    a.window_right = c.causal ? 0 : c.wr;
    return a;
}

// The prefill path CudaBackend::attention takes on a device of compute
// capability cc_major.x, run under the simulator.
// grid_z > 0 replaces the grid's z (sequences per CTA > 1 without 65536 sequences).
AttnOut run_sim(const AttnCase& c, nm_dtype dtype, int64_t d, const AttnData& x, int cc_major, bool expect_flash,
                unsigned grid_z = 0) {
    const auto cq = offsets_of(c.lq), ck = offsets_of(c.lk);
    const int64_t tq = cq.back();
    sim::DeviceBuffer q = sim_upload(dtype, x.q), k = sim_upload(dtype, x.k), v = sim_upload(dtype, x.v);
    sim::DeviceBuffer out(size_t(tq * c.hq * d) * size_t(nm_dtype_size(dtype)));
    sim::DeviceBuffer lse(size_t(c.hq * tq) * sizeof(float));
    const nm::AttentionArgs a =
        args_of(c, dtype, d, q.data(), k.data(), v.data(), out.data(), c.lse ? lse.data() : nullptr, cq, ck);

    const nm::AttentionOffsets off = nm::attention_offsets(a);
    sim::DeviceBuffer cu(off.cu.size() * sizeof(int32_t));  // the workspace copy
    std::memcpy(cu.data(), off.cu.data(), off.cu.size() * sizeof(int32_t));
    const int32_t* cu_q = cu.as<int32_t>();
    const int32_t* cu_k = cu_q + a.batch + 1;
    EXPECT_EQ(nm::use_flash(a, cc_major), expect_flash);
    if (nm::use_flash(a, cc_major)) {
        const nm::FlashParams fp = nm::flash_params(a, cu_q, cu_k);
        nm::FlashLaunch l = nm::flash_launch(dtype, d, fp, off.max_lq);
        if (grid_z) l.grid.z = grid_z;
        sim::launch(l.kernel, l.grid, l.block, l.smem, fp);
    } else {
        nm::TileLaunch l = nm::tile_prefill_launch(a, off.max_lq);
        if (grid_z) l.grid.z = grid_z;
        sim::launch(l.kernel, l.grid, l.block, l.smem, nm::tile_prefill_params(a, cu_q, cu_k));
    }
    AttnOut r;
    r.out = sim_read_back(dtype, out, size_t(tq * c.hq * d));
    if (c.lse) r.lse = sim_read_back(NM_DTYPE_F32, lse, size_t(c.hq * tq));
    return r;
}

// Output tolerance (relative to max(1, |want|)) against the CPU backend: the
// kernel rounds P to the input dtype before P V, and both outputs are rounded.
double out_tolerance(nm_dtype dtype) {
    switch (dtype) {
        case NM_DTYPE_F16: return 1.5e-3;  // 1 ulp seen
        case NM_DTYPE_BF16: return 1e-2;   // 1 ulp seen
        default: return 2e-5;
    }
}
// lse comes from unrounded float32 scores and sums on both sides.
// (3e-7 seen on the default cases; float32 dot products of 96 terms with scores near 20: 2.4e-6.)
constexpr double kLseTolerance = 1e-5;

void check_prefill(const AttnCase& c, nm_dtype dtype, int64_t d, bool expect_flash, int cc_major = 8,
                   unsigned grid_z = 0, uint32_t seed = 7) {
    SCOPED_TRACE(c.name + " " + nm_dtype_name(dtype) + " d=" + std::to_string(d) + " sm_" + std::to_string(cc_major) +
                 "x");
    const AttnData x = make_data(c, dtype, d, seed);
    const AttnOut want = run_cpu(c, dtype, d, x);
    AttnOut got;
    try {
        got = run_sim(c, dtype, d, x, cc_major, expect_flash, grid_z);
    } catch (const sim::Error& e) {
        FAIL() << e.what();
    }
    size_t at = 0;
    const double e_out = worst_error(got.out, want.out, &at);
    if (std::getenv("NM_SIM_VERBOSE")) std::printf("%-24s %-8s d=%-3lld out %.3g", c.name.c_str(), nm_dtype_name(dtype), (long long)d, e_out);
    EXPECT_LE(e_out, out_tolerance(dtype)) << "out[" << at << "]: got " << got.out[at] << ", want " << want.out[at];
    if (c.lse) {
        const double e_lse = worst_error(got.lse, want.lse, &at);
        if (std::getenv("NM_SIM_VERBOSE")) std::printf(" lse %.3g", e_lse);
        EXPECT_LE(e_lse, kLseTolerance) << "lse[" << at << "]: got " << got.lse[at] << ", want " << want.lse[at];
    }
    if (std::getenv("NM_SIM_VERBOSE")) std::printf("\n");
}

// Partial query tiles (64 rows per CTA) and key tiles (64 keys; 32 for
// D = 256), several key tiles per CTA, bottom-right causal alignment with
// Lq < Lk and Lq > Lk (rows and whole CTAs that see no key), windows, GQA,
// ragged batches.
const std::vector<AttnCase>& flash_cases() {
    static const std::vector<AttnCase> cases = {
        {"causal", {100}, {100}, 2, 1, true},
        {"bidirectional Lq<Lk", {37}, {150}, 2, 2, false, -1, -1, 0.35f},
        {"causal Lq<Lk GQA", {50}, {170}, 4, 2, true},
        {"window", {130}, {130}, 1, 1, false, 24, 7, 0.3f},
        {"ragged causal", {70, 1, 150}, {70, 90, 20}, 3, 1, true},
        {"causal sliding window", {150}, {150}, 2, 1, true, 40, -1},
        {"peaky window Lq>Lk", {100}, {60}, 2, 2, false, 10, 30, 1.0f},
    };
    return cases;
}

class FlashSim : public ::testing::TestWithParam<std::tuple<nm_dtype, int>> {};

TEST_P(FlashSim, MatchesCpuBackend) {
    const nm_dtype dtype = std::get<0>(GetParam());
    const int d = std::get<1>(GetParam());
    for (const AttnCase& c : flash_cases()) check_prefill(c, dtype, d, true);
}

INSTANTIATE_TEST_SUITE_P(Sim, FlashSim,
                         ::testing::Combine(::testing::Values(NM_DTYPE_F16, NM_DTYPE_BF16), ::testing::Values(64, 128, 256)),
                         [](const auto& info) {
                             return std::string(nm_dtype_name(std::get<0>(info.param))) + "_d" +
                                    std::to_string(std::get<1>(info.param));
                         });

// The other schedules: warps (and lanes) in reverse order, cp.async copies
// landing at once (which exposes a buffer refilled while another warp still
// reads it, where deferred copies expose reads before the wait), and
// shuffled orders with copies landing at random.
TEST(FlashSim, OtherSchedules) {
    std::vector<sim::Options> schedules(5);
    schedules[0].reverse = true;
    schedules[1].eager_cp_async = true;
    schedules[2].reverse = schedules[2].eager_cp_async = true;
    schedules[3].shuffle_seed = 1;
    schedules[4].shuffle_seed = 2;
    for (const sim::Options& o : schedules) {
        sim::ScopedOptions scoped(o);
        SCOPED_TRACE(std::string(o.reverse ? "reverse" : "forward") + (o.eager_cp_async ? ", eager cp.async" : "") +
                     (o.shuffle_seed ? ", shuffle " + std::to_string(o.shuffle_seed) : ""));
        check_prefill(flash_cases()[0], NM_DTYPE_F16, 128, true);
        check_prefill(flash_cases()[4], NM_DTYPE_BF16, 64, true);
        check_prefill(flash_cases()[3], NM_DTYPE_F16, 256, true);
        check_prefill(flash_cases()[4], NM_DTYPE_F32, 64, false);
    }
}

// Random shapes: NM_SIM_RANDOM_CASES (default 6) draws, from seed
// NM_SIM_RANDOM_SEED, of batch, lengths (empty sequences too), heads, causal,
// windows and scale, on the flash kernel and the tile kernel alike.
int random_cases() {
    const char* env = std::getenv("NM_SIM_RANDOM_CASES");
    return env ? std::atoi(env) : 6;
}
uint32_t random_seed() {
    const char* env = std::getenv("NM_SIM_RANDOM_SEED");
    return env ? uint32_t(std::strtoul(env, nullptr, 10)) : 2024u;
}

AttnCase random_case(std::mt19937& rng) {
    auto pick = [&](int lo, int hi) { return lo + int(rng() % uint32_t(hi - lo + 1)); };
    AttnCase c;
    const int batch = pick(1, 3);
    for (int b = 0; b < batch; ++b) {
        c.lq.push_back(pick(0, 9) == 0 ? 0 : pick(1, 140));
        c.lk.push_back(pick(0, 9) == 0 ? 0 : pick(1, 200));
    }
    if (offsets_of(c.lq).back() == 0) c.lq[0] = pick(1, 140);  // tensors have at least one row
    if (offsets_of(c.lk).back() == 0) c.lk[0] = pick(1, 200);
    c.hkv = pick(1, 2);
    c.hq = c.hkv * pick(1, 3);
    c.causal = pick(0, 1);
    c.wl = pick(0, 2) == 0 ? pick(0, 80) : -1;
    c.wr = !c.causal && pick(0, 2) == 0 ? pick(0, 80) : -1;
    c.scale = pick(0, 1) ? 0.f : 0.05f * float(pick(1, 20));
    c.lse = pick(0, 3) != 0;
    c.name = "random";
    for (size_t b = 0; b < c.lq.size(); ++b) c.name += " " + std::to_string(c.lq[b]) + "/" + std::to_string(c.lk[b]);
    c.name += " h" + std::to_string(c.hq) + "/" + std::to_string(c.hkv) + (c.causal ? " causal" : "") + " w" +
              std::to_string(c.wl) + "," + std::to_string(c.wr) + " s" + std::to_string(c.scale);
    return c;
}

TEST(FlashSim, RandomShapes) {
    std::mt19937 rng(random_seed());
    const int n = random_cases();
    for (int i = 0; i < n; ++i) {
        const AttnCase c = random_case(rng);
        const nm_dtype dtype = rng() % 2 ? NM_DTYPE_F16 : NM_DTYPE_BF16;
        const int d = 64 << (rng() % 3);
        check_prefill(c, dtype, d, true, 8, 0, 100 + uint32_t(i));
        check_prefill(c, rng() % 2 ? NM_DTYPE_F32 : dtype, 4 * int(1 + rng() % 24), false, 7, 0, 200 + uint32_t(i));
    }
}

// A CTA that walks several sequences (gridDim.z < batch, which the host
// only chooses beyond 65535 sequences): its shared Q tile is reloaded.
TEST(FlashSim, SequencesPerCta) {
    const AttnCase c{"5 sequences on 2 z-slices", {70, 3, 64, 0, 90}, {70, 50, 100, 20, 30}, 2, 1, true};
    check_prefill(c, NM_DTYPE_F16, 64, true, 8, 2);
    check_prefill(c, NM_DTYPE_F32, 64, false, 8, 2);
}

// tile_kernel<false>: float32, head dims the flash kernel does not take, and
// float16 / bfloat16 on devices before sm_80.
struct TileConfig {
    nm_dtype dtype;
    int d;
    int cc_major;
};

class TileSim : public ::testing::TestWithParam<TileConfig> {};

TEST_P(TileSim, MatchesCpuBackend) {
    const TileConfig t = GetParam();
    for (const AttnCase& c : flash_cases()) check_prefill(c, t.dtype, t.d, false, t.cc_major);
}

INSTANTIATE_TEST_SUITE_P(Sim, TileSim,
                         ::testing::Values(TileConfig{NM_DTYPE_F32, 64, 8}, TileConfig{NM_DTYPE_F32, 40, 8},
                                           TileConfig{NM_DTYPE_F32, 256, 9}, TileConfig{NM_DTYPE_F16, 36, 8},
                                           TileConfig{NM_DTYPE_BF16, 96, 8}, TileConfig{NM_DTYPE_F16, 64, 7},
                                           TileConfig{NM_DTYPE_BF16, 128, 7}),
                         [](const auto& info) {
                             return std::string(nm_dtype_name(info.param.dtype)) + "_d" + std::to_string(info.param.d) +
                                    "_sm" + std::to_string(info.param.cc_major) + "x";
                         });

// ------------------------------------------------------------------ decode

struct DecodeCase {
    std::string name;
    std::vector<int32_t> lens, slots;  // per sequence
    int32_t queries = 1;
    int64_t num_slots = 3, capacity = 0, hq = 8, hkv = 2;
    bool causal = false;
    int32_t wl = -1, wr = -1;
};

// CudaBackend::attention_decode on a device with `sms` multiprocessors
// (which sets the number of key splits), against the CPU backend.
void check_decode(const DecodeCase& c, nm_dtype dtype, int64_t d, int sms, bool expect_splits) {
    SCOPED_TRACE(c.name + " " + nm_dtype_name(dtype) + " d=" + std::to_string(d) + " sms=" + std::to_string(sms));
    const int32_t batch = int32_t(c.lens.size());
    const int64_t rows = int64_t(batch) * c.queries;
    const size_t cache_n = size_t(c.num_slots * c.capacity * c.hkv * d);
    const std::vector<float> kc = round_to(dtype, random_floats(cache_n, 11, -1.5f, 1.5f));
    const std::vector<float> vc = round_to(dtype, random_floats(cache_n, 12));
    const std::vector<float> qv = round_to(dtype, random_floats(size_t(rows * c.hq * d), 13, -1.5f, 1.5f));
    nm_attention_params p{};
    p.causal = c.causal;
    p.window_left = c.wl;
    p.window_right = c.wr;

    std::vector<float> want;
    {
        Context ctx("cpu");
        Tensor q = make_tensor(ctx, dtype, {rows, c.hq, d}, qv);
        Tensor k = make_tensor(ctx, dtype, {c.num_slots, c.capacity, c.hkv, d}, kc);
        Tensor v = make_tensor(ctx, dtype, {c.num_slots, c.capacity, c.hkv, d}, vc);
        Tensor out = make_tensor(ctx, dtype, {rows, c.hq, d});
        EXPECT_NM_OK(nm_attention_decode(ctx, q, k, v, c.slots.data(), c.lens.data(), batch, c.queries, out, &p));
        want = download(ctx, out);
    }

    // Cache rows past a sequence's length are NaN on the simulated device: reading one shows.
    std::vector<float> kc_dev = kc, vc_dev = vc;
    for (int32_t b = 0; b < batch; ++b)
        for (int64_t pos = c.lens[size_t(b)]; pos < c.capacity; ++pos)
            for (int64_t e = 0; e < c.hkv * d; ++e) {
                const size_t i = size_t((c.slots[size_t(b)] * c.capacity + pos) * c.hkv * d + e);
                kc_dev[i] = vc_dev[i] = NAN;
            }
    sim::DeviceBuffer q = sim_upload(dtype, qv), k = sim_upload(dtype, kc_dev), v = sim_upload(dtype, vc_dev);
    sim::DeviceBuffer out(size_t(rows * c.hq * d) * size_t(nm_dtype_size(dtype)));
    nm::AttentionDecodeArgs a;
    a.q = sim_view(dtype, {rows, c.hq, d}, q.data());
    a.k_cache = sim_view(dtype, {c.num_slots, c.capacity, c.hkv, d}, k.data());
    a.v_cache = sim_view(dtype, {c.num_slots, c.capacity, c.hkv, d}, v.data());
    a.out = sim_view(dtype, {rows, c.hq, d}, out.data());
    a.slots = c.slots.data();
    a.cache_lens = c.lens.data();
    a.batch = batch, a.queries = c.queries;
    a.num_slots = c.num_slots, a.capacity = c.capacity, a.heads_q = c.hq, a.heads_kv = c.hkv, a.head_dim = d;
    a.softmax_scale = float(1.0 / std::sqrt(double(d)));
    a.causal = c.causal;
    a.window_left = c.wl;
    a.window_right = c.causal ? 0 : c.wr;

    const nm::DecodePlan pl = nm::decode_plan(a, sms);
    EXPECT_EQ(pl.splits > 1, expect_splits) << pl.splits << " splits";
    sim::DeviceBuffer ws(pl.workspace_bytes);
    std::memcpy(ws.data(), c.slots.data(), size_t(batch) * sizeof(int32_t));
    std::memcpy(ws.as<char>() + size_t(batch) * sizeof(int32_t), c.lens.data(), size_t(batch) * sizeof(int32_t));
    try {
        const nm::TileParams tp = nm::decode_params(a, pl, ws.as<char>());
        const nm::TileLaunch l = nm::decode_launch(a, pl);
        sim::launch(l.kernel, l.grid, l.block, l.smem, tp);
        if (pl.splits > 1) {
            const nm::CombineLaunch cl = nm::combine_launch(pl);
            sim::launch(cl.kernel, cl.grid, cl.block, 0, tp.part_o, tp.part_lse, a.out.data, a.out.dtype,
                        pl.rows_total, a.head_dim, int(pl.splits));
        }
    } catch (const sim::Error& e) {
        FAIL() << e.what();
    }
    const std::vector<float> got = sim_read_back(dtype, out, size_t(rows * c.hq * d));
    size_t at = 0;
    const double e = worst_error(got, want, &at);
    if (std::getenv("NM_SIM_VERBOSE"))
        std::printf("%-24s %-8s d=%-3lld sms=%-3d splits %lld out %.3g\n", c.name.c_str(), nm_dtype_name(dtype),
                    (long long)d, sms, (long long)pl.splits, e);
    EXPECT_LE(e, out_tolerance(dtype)) << "out[" << at << "]: got " << got[at] << ", want " << want[at];
}

const std::vector<DecodeCase>& decode_cases() {
    static const std::vector<DecodeCase> cases = {
        {"one query GQA", {700, 17, 129}, {2, 0, 1}, 1, 3, 720, 8, 2},
        {"4 queries causal", {300, 4, 190}, {1, 2, 0}, 4, 3, 320, 4, 1, true},
        {"sliding window", {500, 60}, {0, 1}, 2, 2, 512, 2, 2, true, 90},
    };
    return cases;
}

class DecodeSim : public ::testing::TestWithParam<std::tuple<nm_dtype, int>> {};

TEST_P(DecodeSim, MatchesCpuBackend) {
    const nm_dtype dtype = std::get<0>(GetParam());
    const int d = std::get<1>(GetParam());
    for (const DecodeCase& c : decode_cases()) {
        check_decode(c, dtype, d, 132, true);  // H100: keys split over CTAs, then combined
        check_decode(c, dtype, d, 1, false);   // one multiprocessor: one split
    }
}

TEST(DecodeSim, RandomShapes) {
    std::mt19937 rng(random_seed() + 1);
    auto pick = [&](int lo, int hi) { return lo + int(rng() % uint32_t(hi - lo + 1)); };
    const int n = random_cases();
    for (int i = 0; i < n; ++i) {
        DecodeCase c;
        const int batch = pick(1, 4);
        c.queries = pick(1, 5);
        c.capacity = pick(c.queries, 900);
        c.num_slots = batch + pick(0, 2);
        std::vector<int32_t> slots(size_t(c.num_slots));
        std::iota(slots.begin(), slots.end(), 0);
        std::shuffle(slots.begin(), slots.end(), rng);
        for (int b = 0; b < batch; ++b) {
            c.slots.push_back(slots[size_t(b)]);
            c.lens.push_back(pick(c.queries, int(c.capacity)));
        }
        c.hkv = pick(1, 3);
        c.hq = c.hkv * pick(1, 6);
        c.causal = pick(0, 1);
        c.wl = pick(0, 2) == 0 ? pick(0, 300) : -1;
        c.wr = !c.causal && pick(0, 3) == 0 ? pick(0, 3) : -1;
        c.name = "random decode";
        const nm_dtype dtype = kFloatDtypes[rng() % 3];
        const int d = 4 * pick(4, 40);
        for (int sms : {132, pick(1, 40)}) {
            const nm::AttentionDecodeArgs probe = [&] {
                nm::AttentionDecodeArgs a;
                a.batch = batch, a.queries = c.queries, a.heads_q = c.hq, a.heads_kv = c.hkv, a.head_dim = d;
                a.cache_lens = c.lens.data();
                return a;
            }();
            check_decode(c, dtype, d, sms, nm::decode_plan(probe, sms).splits > 1);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Sim, DecodeSim,
                         ::testing::Combine(::testing::Values(NM_DTYPE_F32, NM_DTYPE_F16, NM_DTYPE_BF16),
                                            ::testing::Values(64, 36)),
                         [](const auto& info) {
                             return std::string(nm_dtype_name(std::get<0>(info.param))) + "_d" +
                                    std::to_string(std::get<1>(info.param));
                         });

}  // namespace
