// test_simulator_sim.cpp — the CUDA simulator itself (cuda_sim/): the
// documented use of ldmatrix + mma.sync (A row-major, B as rows of n, V as
// rows of k through .trans) computes a matrix product; shuffles, ballot and
// barrier reductions follow the CUDA semantics; cp.async lands no earlier
// than its wait_group; the schedule runs a warp ahead of the others; misuse
// (deadlock, divergent collectives, bad addresses) is reported.
#include "cuda_sim.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"

namespace {

// ------------------------------------------------------------ tensor cores

// C[16][8] = A[16][16] (row-major) x B, with B given either as Bt[8][16]
// (row n holds column n of B: the "col" operand, read by plain ldmatrix) or
// as B[16][8] (row k, read by ldmatrix.trans). One warp.
__global__ void mma_kernel(const uint16_t* a, const uint16_t* b, bool b_is_k_by_n, bool bf16, float* c) {
    uint16_t* s = sim::dynamic_shared<uint16_t>();
    uint16_t* sa = s;        // 16 x 16
    uint16_t* sb = s + 256;  // 8 x 16 or 16 x 8 (padded to 16 columns)
    const int lane = threadIdx.x;
    for (int i = lane; i < 256; i += 32) sa[i] = a[i];
    for (int i = lane; i < 128; i += 32) {
        if (b_is_k_by_n) sb[(i / 8) * 16 + i % 8] = b[i];  // row k, 8 columns n, pitch 16
        else sb[i] = b[i];                                  // row n, 16 columns k
    }
    __syncwarp();
    uint32_t fa[4], fb[4];
    // A: matrices (rows 0-7, k 0-7), (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15).
    sim::ldmatrix_x4(fa, sa + (lane & 15) * 16 + (lane >> 4) * 8, false);
    if (b_is_k_by_n) {
        // .trans of (k 0-7, n 0-7) and (k 8-15, n 0-7); lanes 16-31 repeat them.
        sim::ldmatrix_x4(fb, sb + (lane & 15) * 16, true);
    } else {
        // (n 0-7, k 0-7) and (n 0-7, k 8-15); lanes 16-31 repeat them.
        sim::ldmatrix_x4(fb, sb + (lane & 7) * 16 + ((lane >> 3) & 1) * 8, false);
    }
    float acc[4] = {0.5f, 0.5f, 0.5f, 0.5f};  // C = 0.5 everywhere
    sim::mma_m16n8k16(acc, fa, fb[0], fb[1], bf16 ? sim::MmaType::BF16 : sim::MmaType::F16);
    // D fragment: rows lane / 4 (+ 8 for elements 2, 3), columns 2 (lane % 4) + (element & 1).
    for (int e = 0; e < 4; ++e) c[(lane / 4 + (e >= 2 ? 8 : 0)) * 8 + 2 * (lane % 4) + (e & 1)] = acc[e];
}

TEST(SimulatorSim, LdmatrixAndMmaComputeAProduct) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> dist(-2.f, 2.f);
    for (bool bf16 : {false, true})
        for (bool k_by_n : {false, true}) {
            sim::DeviceBuffer a(256 * 2), b(128 * 2), c(128 * 4);
            std::vector<float> fa(256), fb(128);  // fb as B[k][n]
            auto store = [&](float x) { return bf16 ? nm::float_to_bf16(x) : nm::float_to_f16(x); };
            auto load = [&](uint16_t h) { return bf16 ? nm::bf16_to_float(h) : nm::f16_to_float(h); };
            for (int i = 0; i < 256; ++i) {
                a.as<uint16_t>()[i] = store(dist(rng));
                fa[size_t(i)] = load(a.as<uint16_t>()[i]);
            }
            for (int k = 0; k < 16; ++k)
                for (int n = 0; n < 8; ++n) {
                    const uint16_t h = store(dist(rng));
                    fb[size_t(k * 8 + n)] = load(h);
                    b.as<uint16_t>()[k_by_n ? k * 8 + n : n * 16 + k] = h;
                }
            sim::launch(mma_kernel, dim3(1), dim3(32), 512 * 2, a.as<const uint16_t>(), b.as<const uint16_t>(),
                        k_by_n, bf16, c.as<float>());
            for (int m = 0; m < 16; ++m)
                for (int n = 0; n < 8; ++n) {
                    double want = 0.5;
                    for (int k = 0; k < 16; ++k) want += double(fa[size_t(m * 16 + k)]) * fb[size_t(k * 8 + n)];
                    EXPECT_NEAR(c.as<float>()[m * 8 + n], want, 1e-5 * (1 + std::fabs(want)))
                        << "m=" << m << " n=" << n << (bf16 ? " bf16" : " f16") << (k_by_n ? " trans" : "");
                }
        }
}

// ------------------------------------------------------------ shuffles

__global__ void shuffle_kernel(int width, int* out) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int* o = out + warp * 32 * 6 + lane * 6;
    const int v = 100 * warp + lane;
    o[0] = __shfl_sync(0xffffffffu, v, 3, width);
    o[1] = __shfl_up_sync(0xffffffffu, v, 2, width);
    o[2] = __shfl_down_sync(0xffffffffu, v, 3, width);
    o[3] = __shfl_xor_sync(0xffffffffu, v, 5, width);
    o[4] = int(__ballot_sync(0xffffffffu, lane % 3 == 0));
    o[5] = __syncthreads_count(lane < 10);
}

TEST(SimulatorSim, ShuffleSemantics) {
    for (int width : {2, 8, 16, 32}) {
        sim::DeviceBuffer out(2 * 32 * 6 * sizeof(int));
        sim::launch(shuffle_kernel, dim3(1), dim3(64), 0, width, out.as<int>());
        for (int warp = 0; warp < 2; ++warp)
            for (int lane = 0; lane < 32; ++lane) {
                const int* o = out.as<int>() + warp * 32 * 6 + lane * 6;
                const int seg = lane & ~(width - 1), pos = lane & (width - 1), base = 100 * warp;
                SCOPED_TRACE("width " + std::to_string(width) + " lane " + std::to_string(lane));
                EXPECT_EQ(o[0], base + seg + 3 % width);
                EXPECT_EQ(o[1], base + (pos >= 2 ? lane - 2 : lane));
                EXPECT_EQ(o[2], base + (pos + 3 < width ? lane + 3 : lane));
                const int x = lane ^ 5;
                EXPECT_EQ(o[3], base + (x < seg + width ? x : lane));  // later segments: own value
                EXPECT_EQ(unsigned(o[4]), 0x49249249u);
                EXPECT_EQ(o[5], 20);
            }
    }
}

// ------------------------------------------------------------ cp.async

__global__ void cp_async_kernel(const uint4* src, uint32_t* seen) {
    uint4* s = sim::dynamic_shared<uint4>();
    const int t = threadIdx.x;
    sim::cp_async16(s + t, src + t, t == 1 ? 6 : 16);  // thread 1: 6 bytes, the rest zero-filled
    sim::cp_async_commit();
    seen[t * 3 + 0] = s[t].x;  // before the wait: not landed yet (deferred)
    sim::cp_async_wait(0);
    seen[t * 3 + 1] = s[t].x;
    seen[t * 3 + 2] = s[t].w;
}

TEST(SimulatorSim, CpAsyncLandsAtItsWait) {
    for (bool eager : {false, true}) {
        sim::Options o;
        o.eager_cp_async = eager;
        sim::ScopedOptions scoped(o);
        sim::DeviceBuffer src(2 * 16), seen(2 * 3 * 4);
        for (int i = 0; i < 8; ++i) src.as<uint32_t>()[i] = 0x1000u + uint32_t(i);
        sim::launch(cp_async_kernel, dim3(1), dim3(2), 64, src.as<const uint4>(), seen.as<uint32_t>());
        const uint32_t* s = seen.as<uint32_t>();
        EXPECT_EQ(s[0], eager ? 0x1000u : 0xffffffffu);  // shared memory starts as 0xff bytes
        EXPECT_EQ(s[1], 0x1000u);
        EXPECT_EQ(s[2], 0x1003u);
        EXPECT_EQ(s[4], 0x1004u);
        EXPECT_EQ(s[5], 0u);  // past src-size: zeros
    }
}

// ------------------------------------------------------------ schedule

// Warp 1 writes, warp 0 reads without a barrier: the forward schedule runs
// warp 0 to its end first, so the read sees shared memory's initial bytes.
__global__ void missing_barrier_kernel(uint32_t* seen) {
    uint32_t* s = sim::dynamic_shared<uint32_t>();
    if (threadIdx.x == 32) s[0] = 42;
    __syncwarp();
    if (threadIdx.x == 0) seen[0] = s[0];
    __syncthreads();
    if (threadIdx.x == 0) seen[1] = s[0];
}

TEST(SimulatorSim, WarpsRunAheadOfEachOther) {
    sim::DeviceBuffer seen(8);
    sim::launch(missing_barrier_kernel, dim3(1), dim3(64), 16, seen.as<uint32_t>());
    EXPECT_EQ(seen.as<uint32_t>()[0], 0xffffffffu);
    EXPECT_EQ(seen.as<uint32_t>()[1], 42u);
}

// ------------------------------------------------------------ misuse

__global__ void deadlock_kernel() {
    if (threadIdx.x < 16) __syncwarp(0xffffffffu);  // lanes 16-31 never arrive
}
__global__ void divergent_kernel() {
    if (threadIdx.x < 16) __syncwarp();
    else (void)__shfl_sync(0xffffffffu, 1, 0);
}
__global__ void exit_before_barrier_kernel() {
    if (threadIdx.x == 5) return;
    __syncthreads();
}
__global__ void misaligned_ldmatrix_kernel() {
    uint32_t r[4];
    sim::ldmatrix_x4(r, sim::dynamic_shared<char>() + 8, false);
}
__global__ void outside_mask_kernel() {
    (void)__shfl_sync(0x0000ffffu, 1, 20);  // lanes 0-15 read lane 20
}
__global__ void bad_source_kernel(const char* p) {
    sim::cp_async16(sim::dynamic_shared<char>(), p, 16);
}

__global__ void smem_overrun_kernel() { sim::dynamic_shared<float>()[threadIdx.x] = 1.f; }
__global__ void global_overrun_kernel(float* p) { p[threadIdx.x] = 1.f; }

void expect_error(const std::function<void()>& launch, const char* needle) {
    try {
        launch();
        ADD_FAILURE() << "no error; expected one mentioning " << needle;
    } catch (const sim::Error& e) {
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

TEST(SimulatorSim, ReportsMisuse) {
    expect_error([] { sim::launch(deadlock_kernel, dim3(1), dim3(32), 0); }, "exited while lanes");
    expect_error([] { sim::launch(divergent_kernel, dim3(1), dim3(32), 0); }, "divergent collectives");
    expect_error([] { sim::launch(exit_before_barrier_kernel, dim3(1), dim3(64), 0); }, "__syncthreads");
    expect_error([] { sim::launch(misaligned_ldmatrix_kernel, dim3(1), dim3(32), 64); }, "not 16-byte aligned");
    expect_error([] { sim::launch(outside_mask_kernel, dim3(1), dim3(16), 0); }, "not in mask");
    sim::DeviceBuffer small(16);
    expect_error([&] { sim::launch(bad_source_kernel, dim3(1), dim3(1), 16, small.as<const char>() + 16); },
                 "outside every device buffer");
    expect_error([] { sim::launch(deadlock_kernel, dim3(1), dim3(2048), 0); }, "invalid block");
    expect_error([] { sim::launch(smem_overrun_kernel, dim3(1), dim3(33), 128); }, "shared memory written outside");
    {
        sim::DeviceBuffer out(100 * sizeof(float));
        expect_error([&] { sim::launch(global_overrun_kernel, dim3(1), dim3(101), 0, out.as<float>()); },
                     "wrote outside the 400-byte device buffer");
    }
}

}  // namespace
