// sim_test_util.h — helpers the simulator tests (test_*_sim.cpp) share: a
// TensorView over simulator device memory, and float vectors stored into /
// read back from device buffers in any float dtype. Include after cuda_sim.h.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/backend.h"
#include "core/half.h"
#include "cuda_sim.h"

namespace nmtest {

inline nm::TensorView sim_view(nm_dtype dtype, std::vector<int64_t> shape, void* data) {
    nm::TensorView v;
    v.dtype = dtype;
    v.ndim = int32_t(shape.size());
    for (size_t i = 0; i < shape.size(); ++i) v.shape[i] = shape[i];
    v.data = data;
    return v;
}

// A device buffer (at least one element) holding `values` stored as `dtype`.
inline sim::DeviceBuffer sim_upload(nm_dtype dtype, const std::vector<float>& values) {
    sim::DeviceBuffer b(std::max<size_t>(1, values.size()) * size_t(nm_dtype_size(dtype)));
    for (size_t i = 0; i < values.size(); ++i) nm::store_float(b.data(), dtype, int64_t(i), values[i]);
    return b;
}

inline std::vector<float> sim_read_back(nm_dtype dtype, const void* p, size_t n) {
    std::vector<float> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = nm::load_float(p, dtype, int64_t(i));
    return out;
}

inline std::vector<float> sim_read_back(nm_dtype dtype, const sim::DeviceBuffer& b, size_t n) {
    return sim_read_back(dtype, b.data(), n);
}

}  // namespace nmtest
