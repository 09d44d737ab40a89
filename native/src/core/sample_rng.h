// sample_rng.h — the counter-based random numbers of nm_sample (docs/sampling.md),
// shared by the CPU and CUDA backends so both draw the same numbers.
#pragma once

#include <cstdint>

#include "half.h"  // NM_HD

namespace nm {

NM_HD uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

NM_HD uint64_t sample_rng(uint64_t seed, uint64_t step, uint64_t row) {
    return splitmix64(splitmix64(splitmix64(seed) ^ step) ^ row);
}

// floor(x * total / 2^64): a uniform draw in [0, total).
NM_HD uint64_t scale_to_range(uint64_t x, uint64_t total) {
#if defined(__CUDA_ARCH__)
    return __umul64hi(x, total);
#else
    return uint64_t((static_cast<unsigned __int128>(x) * total) >> 64);
#endif
}

// Integer probability mass of weight w in [0, 1] (docs/sampling.md step 3).
NM_HD uint64_t mass_of_weight(double w) { return static_cast<uint64_t>(w * 4294967296.0); }

}  // namespace nm
