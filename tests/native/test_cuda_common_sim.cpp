// test_cuda_common_sim.cpp — the block and warp reductions of
// native/src/cuda/cuda_common.cuh (which softmax, the norms and others are
// built on) run under the CUDA simulator: every block size the kernels use
// (block_for_cols: 32 to 1024), several rows per block (the grid-stride row
// loop) and back-to-back reductions on one scratch array.
#include "cuda_sim.h"  // first: the CUDA names the kernel source uses

#include "cuda/cuda_common.cuh"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace {

// Per row: the block sum and max of x, each thread's columns strided by
// blockDim.x, reduced back to back with one scratch array as softmax does;
// every thread records what it got.
__global__ void reduce_kernel(const float* x, int64_t rows, int64_t cols, float* sums, float* maxes) {
    __shared__ float scratch[33];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        float s = 0.f, m = -INFINITY;
        for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) {
            s += x[r * cols + j];
            m = fmaxf(m, x[r * cols + j]);
        }
        const float mx = nm::cu::block_max(m, scratch);
        const float sum = nm::cu::block_sum(s, scratch);
        sums[r * blockDim.x + threadIdx.x] = sum;
        maxes[r * blockDim.x + threadIdx.x] = mx;
    }
}

TEST(CudaCommonSim, BlockReductions) {
    std::mt19937 rng(4);
    for (int64_t cols : {1, 31, 32, 33, 100, 257, 1000, 1024, 3000}) {
        const int64_t rows = 5;
        std::vector<float> x(size_t(rows * cols));
        for (auto& v : x) v = float(int(rng() % 2001) - 1000) / 8.f;  // exact sums in float
        const int block = nm::cu::block_for_cols(cols);
        sim::DeviceBuffer dx(x.size() * 4), sums(size_t(rows * block) * 4), maxes(size_t(rows * block) * 4);
        std::memcpy(dx.data(), x.data(), x.size() * 4);
        try {
            // Fewer blocks than rows: the grid-stride row loop runs.
            sim::launch(reduce_kernel, dim3(2), dim3(unsigned(block)), 0, dx.as<const float>(), rows, cols,
                        sums.as<float>(), maxes.as<float>());
        } catch (const sim::Error& e) {
            FAIL() << e.what();
        }
        for (int64_t r = 0; r < rows; ++r) {
            double s = 0;
            float m = -INFINITY;
            for (int64_t j = 0; j < cols; ++j) s += x[size_t(r * cols + j)], m = std::max(m, x[size_t(r * cols + j)]);
            for (int t = 0; t < block; ++t) {
                ASSERT_EQ(sums.as<float>()[r * block + t], float(s)) << "cols " << cols << " row " << r << " thread " << t;
                ASSERT_EQ(maxes.as<float>()[r * block + t], m) << "cols " << cols << " row " << r << " thread " << t;
            }
        }
    }
}

TEST(CudaCommonSim, GridSizing) {
    EXPECT_EQ(nm::cu::block_for_cols(1), 32);
    EXPECT_EQ(nm::cu::block_for_cols(33), 64);
    EXPECT_EQ(nm::cu::block_for_cols(5000), 1024);
    EXPECT_EQ(nm::cu::grid_for(0, 256), 1u);
    EXPECT_EQ(nm::cu::grid_for(257, 256), 2u);
    EXPECT_EQ(nm::cu::grid_for(int64_t(1) << 40, 256), 1u << 20);
    EXPECT_EQ(nm::cu::grid_for_rows(0), 1u);
    EXPECT_EQ(nm::cu::grid_for_rows(int64_t(1) << 30), 65535u * 16);
}

}  // namespace
