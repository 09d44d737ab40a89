// test_selective_scan_sim.cpp — the CUDA selective-scan kernels, run on the
// CPU under the warp-level simulator (cuda_sim/), against the CPU backend on
// the same inputs: selective_scan_chunked_kernel (per-channel and
// input-dependent B/C, several chunks, partial chunks and channel tiles,
// partial state tiles), selective_scan_simple_kernel (every states-per-lane
// instantiation, lane groups narrower than a warp, partial warps) and the
// state update (the simple kernel with L = 1, state in place).
//
// Launches are configured by the host helpers CudaBackend uses
// (selective_scan_kernels.cuh). Outputs and final states start as NaN.
#include "cuda_sim.h"  // first: the CUDA names the kernel source uses

#include "cuda/selective_scan_kernels.cuh"

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "test_reference.h"
#include "sim_test_util.h"
#include "test_util.h"

using namespace nmtest;

namespace {

// Largest |got - want| / (1 + |want|); NaN counts as infinite.
double worst_error(const std::vector<float>& got, const std::vector<float>& want, size_t* at) {
    double worst = 0;
    *at = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double e = std::fabs(double(got[i]) - want[i]) / (1.0 + std::fabs(double(want[i])));
        if (!(e <= worst)) {
            worst = std::isnan(e) ? INFINITY : e;
            *at = i;
        }
    }
    return worst;
}

struct ScanCase {
    std::string name;
    int64_t batch = 1, length = 1, channels = 1, state = 1;
    int64_t groups = 0;  // 0: per-channel B, C [D, N]; else [B, L, G, N]
    bool d_skip = true, z = true, bias = true, softplus = true, h0 = true;
    bool expect_chunked = false;
};

struct ScanData {
    std::vector<float> u, delta, a, b, c, d_skip, z, bias, h0;
};

std::vector<int64_t> bc_shape(const ScanCase& c) {
    if (c.groups == 0) return {c.channels, c.state};
    return {c.batch, c.length, c.groups, c.state};
}

ScanData make_data(const ScanCase& c, nm_dtype dtype, uint32_t seed) {
    const size_t bld = size_t(c.batch * c.length * c.channels), dn = size_t(c.channels * c.state);
    const size_t bc = size_t(product(bc_shape(c)));
    ScanData x;
    x.u = round_to(dtype, random_floats(bld, seed));
    // Without softplus delta is used as is: keep it positive (a step size).
    x.delta = round_to(dtype, c.softplus ? random_floats(bld, seed + 1, -2.f, 1.f) : random_floats(bld, seed + 1, 0.01f, 0.6f));
    x.a = random_floats(dn, seed + 2, -1.f, 1.f);
    for (float& v : x.a) v = -std::exp(v);  // Mamba's A = -exp(A_log)
    x.b = round_to(dtype, random_floats(bc, seed + 3));
    x.c = round_to(dtype, random_floats(bc, seed + 4));
    x.d_skip = round_to(dtype, random_floats(size_t(c.channels), seed + 5));
    x.z = round_to(dtype, random_floats(bld, seed + 6, -2.f, 2.f));
    // float32: mixed dtypes. Without softplus dt = delta + bias must stay positive (a decay, not a growth).
    x.bias = c.softplus ? random_floats(size_t(c.channels), seed + 7, -1.f, 0.5f)
                        : random_floats(size_t(c.channels), seed + 7, 0.f, 0.3f);
    x.h0 = random_floats(size_t(c.batch * c.channels * c.state), seed + 8);
    return x;
}

struct ScanOut {
    std::vector<float> out, state;
};

ScanOut run_cpu(const ScanCase& c, nm_dtype dtype, const ScanData& x) {
    Context ctx("cpu");
    const int64_t B = c.batch, L = c.length, D = c.channels, N = c.state;
    Tensor u = make_tensor(ctx, dtype, {B, L, D}, x.u);
    Tensor delta = make_tensor(ctx, dtype, {B, L, D}, x.delta);
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {D, N}, x.a);
    Tensor bm = make_tensor(ctx, dtype, bc_shape(c), x.b);
    Tensor cm = make_tensor(ctx, dtype, bc_shape(c), x.c);
    Tensor z = c.z ? make_tensor(ctx, dtype, {B, L, D}, x.z) : Tensor();
    Tensor skip = c.d_skip ? make_tensor(ctx, dtype, {D}, x.d_skip) : Tensor();
    Tensor bias = c.bias ? make_tensor(ctx, NM_DTYPE_F32, {D}, x.bias) : Tensor();
    Tensor h0 = c.h0 ? make_tensor(ctx, NM_DTYPE_F32, {B, D, N}, x.h0) : Tensor();
    Tensor out = make_tensor(ctx, dtype, {B, L, D});
    Tensor fin = make_tensor(ctx, NM_DTYPE_F32, {B, D, N});
    nm_ssm_options opt{skip, z, bias, c.softplus ? 1 : 0};
    EXPECT_NM_OK(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, h0, out, fin));
    return ScanOut{download(ctx, out), download(ctx, fin)};
}

// CudaBackend::selective_scan under the simulator. grid > 0 replaces the
// simple kernel's grid (the grid-stride loop then takes several turns).
ScanOut run_sim(const ScanCase& c, nm_dtype dtype, const ScanData& x, unsigned grid = 0) {
    const int64_t B = c.batch, L = c.length, D = c.channels, N = c.state;
    sim::DeviceBuffer u = sim_upload(dtype, x.u), delta = sim_upload(dtype, x.delta), a = sim_upload(NM_DTYPE_F32, x.a);
    sim::DeviceBuffer bm = sim_upload(dtype, x.b), cm = sim_upload(dtype, x.c), z = sim_upload(dtype, x.z);
    sim::DeviceBuffer skip = sim_upload(dtype, x.d_skip), bias = sim_upload(NM_DTYPE_F32, x.bias);
    sim::DeviceBuffer h0 = sim_upload(NM_DTYPE_F32, x.h0);
    sim::DeviceBuffer out(size_t(B * L * D) * size_t(nm_dtype_size(dtype)));
    sim::DeviceBuffer fin(size_t(B * D * N) * sizeof(float));

    nm::SelectiveScanArgs args;
    args.u = sim_view(dtype, {B, L, D}, u.data());
    args.delta = sim_view(dtype, {B, L, D}, delta.data());
    args.a = sim_view(NM_DTYPE_F32, {D, N}, a.data());
    args.b_mat = sim_view(dtype, bc_shape(c), bm.data());
    args.c_mat = sim_view(dtype, bc_shape(c), cm.data());
    if (c.d_skip) args.d_skip = sim_view(dtype, {D}, skip.data());
    if (c.z) args.z = sim_view(dtype, {B, L, D}, z.data());
    if (c.bias) args.delta_bias = sim_view(NM_DTYPE_F32, {D}, bias.data());
    if (c.h0) args.initial_state = sim_view(NM_DTYPE_F32, {B, D, N}, h0.data());
    args.out = sim_view(dtype, {B, L, D}, out.data());
    args.final_state = sim_view(NM_DTYPE_F32, {B, D, N}, fin.data());
    args.batch = B, args.length = L, args.channels = D, args.state_size = N;
    args.groups = c.groups ? c.groups : 1;
    args.per_channel_bc = c.groups == 0;
    args.delta_softplus = c.softplus;

    const nm::ScanParams p = nm::selective_scan_params(args);
    EXPECT_EQ(nm::use_chunked(p), c.expect_chunked);
    if (nm::use_chunked(p)) {
        const nm::ChunkedLaunch l = nm::chunked_launch(p);
        sim::launch(l.kernel, dim3(unsigned(l.blocks)), dim3(unsigned(l.block)), l.smem, p);
    } else {
        const nm::SimpleLaunch l = nm::simple_launch(p);
        EXPECT_NE(l.kernel, nullptr);
        if (l.kernel) sim::launch(l.kernel, dim3(grid ? grid : l.grid), dim3(unsigned(l.block)), 0, p, l.lanes);
    }
    return ScanOut{sim_read_back(dtype, out.data(), size_t(B * L * D)), sim_read_back(NM_DTYPE_F32, fin.data(), size_t(B * D * N))};
}

double out_tolerance(nm_dtype dtype) {
    switch (dtype) {
        case NM_DTYPE_F16: return 2e-3;
        case NM_DTYPE_BF16: return 1.6e-2;
        default: return 2e-5;
    }
}
constexpr double kStateTolerance = 2e-5;

void check_scan(const ScanCase& c, nm_dtype dtype, uint32_t seed = 5, unsigned grid = 0) {
    SCOPED_TRACE(c.name + " " + nm_dtype_name(dtype));
    const ScanData x = make_data(c, dtype, seed);
    const ScanOut want = run_cpu(c, dtype, x);
    ScanOut got;
    try {
        got = run_sim(c, dtype, x, grid);
    } catch (const sim::Error& e) {
        FAIL() << e.what();
    }
    size_t at = 0;
    const double e_out = worst_error(got.out, want.out, &at);
    EXPECT_LE(e_out, out_tolerance(dtype)) << "out[" << at << "]: got " << got.out[at] << ", want " << want.out[at];
    size_t at_h = 0;
    const double e_h = worst_error(got.state, want.state, &at_h);
    EXPECT_LE(e_h, kStateTolerance) << "final_state[" << at_h << "]: got " << got.state[at_h] << ", want "
                                    << want.state[at_h];
    if (std::getenv("NM_SIM_VERBOSE"))
        std::printf("%-34s %-8s out %.3g state %.3g\n", c.name.c_str(), nm_dtype_name(dtype), e_out, e_h);
}

// Chunks are 512 steps (32 lanes x 16), channel tiles 8 channels (one warp
// each), input-dependent B/C staged 8 states at a time.
const std::vector<ScanCase>& chunked_cases() {
    static const std::vector<ScanCase> cases = {
        // 2 chunks (the second partial), 2 channel tiles (the second with 4 idle warps).
        {"per-channel L=600 D=12 N=16", 2, 600, 12, 16, 0, true, true, true, true, true, true},
        // Input-dependent, one group per tile, a partial state tile (12 = 8 + 4), no extras.
        {"groups L=530 D=16 G=2 N=12", 1, 530, 16, 12, 2, false, false, false, false, false, true},
        // Shortest chunked length, N beyond a warp's 32 lanes in the carried state.
        {"per-channel L=16 D=8 N=40", 3, 16, 8, 40, 0, true, false, true, true, true, true},
        {"groups L=40 D=24 G=1 N=64", 2, 40, 24, 64, 1, true, true, false, true, true, true},
    };
    return cases;
}

// The simple kernel: short sequences, groups narrower than a channel tile.
const std::vector<ScanCase>& simple_cases() {
    static const std::vector<ScanCase> cases = {
        {"per-channel L=15 N=16 (16 lanes, 1 state each)", 2, 15, 5, 16, 0, true, true, true, true, true, false},
        {"groups G=3 D=12 L=40 N=3 (2 lanes, 2 states)", 2, 40, 12, 3, 3, true, true, false, true, true, false},
        {"groups L=5 N=64 (32 lanes, 2 states)", 1, 5, 20, 64, 4, false, true, true, false, true, false},
        {"per-channel L=3 N=200 (32 lanes, 8 states)", 1, 3, 3, 200, 0, true, false, true, true, false, false},
        {"per-channel L=9 N=1 (1 lane), 33 rows", 3, 9, 11, 1, 0, true, true, true, true, true, false},
    };
    return cases;
}

class ScanSim : public ::testing::TestWithParam<nm_dtype> {};

TEST_P(ScanSim, ChunkedMatchesCpuBackend) {
    for (const ScanCase& c : chunked_cases()) check_scan(c, GetParam());
}

TEST_P(ScanSim, SimpleMatchesCpuBackend) {
    for (const ScanCase& c : simple_cases()) check_scan(c, GetParam());
}

INSTANTIATE_TEST_SUITE_P(Sim, ScanSim, ::testing::Values(NM_DTYPE_F32, NM_DTYPE_F16, NM_DTYPE_BF16),
                         [](const auto& info) { return std::string(nm_dtype_name(info.param)); });

// One block for many (b, d) rows: the simple kernel's grid-stride loop takes
// several turns, the last with a partly active warp (a narrower mask).
TEST(ScanSim, SimpleGridStride) {
    const ScanCase c{"grid-stride B=2 D=100 N=3 (2 lanes)", 2, 12, 100, 3, 0, true, true, true, true, true, false};
    check_scan(c, NM_DTYPE_F32, 5, 1);
    const ScanCase g{"grid-stride B=1 D=20 N=64 (32 lanes)", 1, 5, 20, 64, 4, true, true, true, true, true, false};
    check_scan(g, NM_DTYPE_BF16, 6, 1);
}

// Warps and lanes in reverse order, and shuffled.
TEST(ScanSim, OtherSchedules) {
    std::vector<sim::Options> schedules(3);
    schedules[0].reverse = true;
    schedules[1].shuffle_seed = 1;
    schedules[2].shuffle_seed = 2;
    for (const sim::Options& o : schedules) {
        sim::ScopedOptions scoped(o);
        SCOPED_TRACE(o.reverse ? "reverse" : "shuffle " + std::to_string(o.shuffle_seed));
        check_scan(chunked_cases()[0], NM_DTYPE_F32);
        check_scan(chunked_cases()[1], NM_DTYPE_BF16);
        check_scan(simple_cases()[1], NM_DTYPE_F32);
    }
}

// Random shapes: NM_SIM_RANDOM_CASES (default 6) draws from seed
// NM_SIM_RANDOM_SEED of sizes, groups and options.
TEST(ScanSim, RandomShapes) {
    const char* n_env = std::getenv("NM_SIM_RANDOM_CASES");
    const char* seed_env = std::getenv("NM_SIM_RANDOM_SEED");
    std::mt19937 rng(seed_env ? uint32_t(std::strtoul(seed_env, nullptr, 10)) : 2024u);
    auto pick = [&](int lo, int hi) { return int64_t(lo + int(rng() % uint32_t(hi - lo + 1))); };
    const int n = n_env ? std::atoi(n_env) : 6;
    for (int i = 0; i < n; ++i) {
        ScanCase c;
        c.batch = pick(1, 3);
        c.length = pick(0, 2) ? pick(1, 40) : pick(1, 1100);
        c.state = pick(0, 3) ? pick(1, 32) : pick(1, 256);
        const int64_t width = pick(0, 1) ? 8 * pick(1, 3) : pick(1, 12);  // channels per group
        const int64_t groups = pick(1, 3);
        c.channels = width * groups;
        c.groups = pick(0, 2) ? groups : 0;
        c.d_skip = pick(0, 1), c.z = pick(0, 1), c.bias = pick(0, 1), c.softplus = pick(0, 1), c.h0 = pick(0, 1);
        c.expect_chunked = c.length >= 16 && (c.groups == 0 || width % 8 == 0);
        c.name = "random B" + std::to_string(c.batch) + " L" + std::to_string(c.length) + " D" +
                 std::to_string(c.channels) + " G" + std::to_string(c.groups) + " N" + std::to_string(c.state);
        check_scan(c, kFloatDtypes[rng() % 3], 300 + uint32_t(i));
    }
}

// ---------------------------------------------------------- state update

struct UpdateCase {
    std::string name;
    int64_t batch, channels, state, groups;
    bool extras;
};

void check_update(const UpdateCase& c, nm_dtype dtype) {
    SCOPED_TRACE(c.name + " " + nm_dtype_name(dtype));
    const int64_t B = c.batch, D = c.channels, N = c.state, G = c.groups;
    const std::vector<float> x = round_to(dtype, random_floats(size_t(B * D), 21));
    const std::vector<float> dt = round_to(dtype, random_floats(size_t(B * D), 22, -2.f, 1.f));
    std::vector<float> a = random_floats(size_t(D * N), 23);
    for (float& v : a) v = -std::exp(v);
    const std::vector<float> bm = round_to(dtype, random_floats(size_t(B * G * N), 24));
    const std::vector<float> cm = round_to(dtype, random_floats(size_t(B * G * N), 25));
    const std::vector<float> skip = round_to(dtype, random_floats(size_t(D), 26));
    const std::vector<float> z = round_to(dtype, random_floats(size_t(B * D), 27, -2.f, 2.f));
    const std::vector<float> bias = round_to(dtype, random_floats(size_t(D), 28));
    const std::vector<float> h = random_floats(size_t(B * D * N), 29);

    std::vector<float> want_out, want_state;
    {
        Context ctx("cpu");
        Tensor st = make_tensor(ctx, NM_DTYPE_F32, {B, D, N}, h);
        Tensor tx = make_tensor(ctx, dtype, {B, D}, x), tdt = make_tensor(ctx, dtype, {B, D}, dt);
        Tensor ta = make_tensor(ctx, NM_DTYPE_F32, {D, N}, a);
        Tensor tb = make_tensor(ctx, dtype, {B, G, N}, bm), tc = make_tensor(ctx, dtype, {B, G, N}, cm);
        Tensor tskip = c.extras ? make_tensor(ctx, dtype, {D}, skip) : Tensor();
        Tensor tz = c.extras ? make_tensor(ctx, dtype, {B, D}, z) : Tensor();
        Tensor tbias = c.extras ? make_tensor(ctx, dtype, {D}, bias) : Tensor();
        Tensor out = make_tensor(ctx, dtype, {B, D});
        nm_ssm_options opt{tskip, tz, tbias, c.extras ? 1 : 0};
        EXPECT_NM_OK(nm_selective_state_update(ctx, st, tx, tdt, ta, tb, tc, &opt, out));
        want_out = download(ctx, out);
        want_state = download(ctx, st);
    }

    sim::DeviceBuffer st = sim_upload(NM_DTYPE_F32, h), tx = sim_upload(dtype, x), tdt = sim_upload(dtype, dt);
    sim::DeviceBuffer ta = sim_upload(NM_DTYPE_F32, a), tb = sim_upload(dtype, bm), tc = sim_upload(dtype, cm);
    sim::DeviceBuffer tskip = sim_upload(dtype, skip), tz = sim_upload(dtype, z), tbias = sim_upload(dtype, bias);
    sim::DeviceBuffer out(size_t(B * D) * size_t(nm_dtype_size(dtype)));
    nm::SelectiveStateUpdateArgs args;
    args.state = sim_view(NM_DTYPE_F32, {B, D, N}, st.data());
    args.x = sim_view(dtype, {B, D}, tx.data());
    args.dt = sim_view(dtype, {B, D}, tdt.data());
    args.a = sim_view(NM_DTYPE_F32, {D, N}, ta.data());
    args.b_mat = sim_view(dtype, {B, G, N}, tb.data());
    args.c_mat = sim_view(dtype, {B, G, N}, tc.data());
    if (c.extras) {
        args.d_skip = sim_view(dtype, {D}, tskip.data());
        args.z = sim_view(dtype, {B, D}, tz.data());
        args.delta_bias = sim_view(dtype, {D}, tbias.data());
    }
    args.out = sim_view(dtype, {B, D}, out.data());
    args.batch = B, args.channels = D, args.state_size = N, args.groups = G;
    args.delta_softplus = c.extras;
    const nm::ScanParams p = nm::state_update_params(args);
    const nm::SimpleLaunch l = nm::simple_launch(p);
    try {
        ASSERT_NE(l.kernel, nullptr);
        sim::launch(l.kernel, dim3(l.grid), dim3(unsigned(l.block)), 0, p, l.lanes);
    } catch (const sim::Error& e) {
        FAIL() << e.what();
    }
    size_t at = 0;
    const std::vector<float> got_out = sim_read_back(dtype, out.data(), size_t(B * D));
    const std::vector<float> got_state = sim_read_back(NM_DTYPE_F32, st.data(), size_t(B * D * N));
    const double e_out = worst_error(got_out, want_out, &at);
    EXPECT_LE(e_out, out_tolerance(dtype)) << "out[" << at << "]: got " << got_out[at] << ", want " << want_out[at];
    const double e_h = worst_error(got_state, want_state, &at);
    EXPECT_LE(e_h, kStateTolerance) << "state[" << at << "]: got " << got_state[at] << ", want " << want_state[at];
    if (std::getenv("NM_SIM_VERBOSE"))
        std::printf("%-34s %-8s out %.3g state %.3g\n", c.name.c_str(), nm_dtype_name(dtype), e_out, e_h);
}

TEST_P(ScanSim, StateUpdateMatchesCpuBackend) {
    const std::vector<UpdateCase> cases = {
        {"update N=16 G=2", 3, 10, 16, 2, true},
        {"update N=128 G=1", 2, 6, 128, 1, false},
        {"update N=5 G=3", 4, 9, 5, 3, true},
    };
    for (const UpdateCase& c : cases) check_update(c, GetParam());
}

}  // namespace
