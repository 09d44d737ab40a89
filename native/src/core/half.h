// half.h — float16 / bfloat16 storage conversions usable on host and device.
//
// Bit-exact and identical on both sides so the CPU backend can serve as the
// reference for CUDA: round-to-nearest-even, NaN kept quiet, overflow to inf.
#pragma once

#include <cstdint>
#include <cstring>

#include "nativemodels.h"

#if defined(__CUDACC__)
#define NM_HD __host__ __device__ __forceinline__
#else
#define NM_HD inline
#endif

namespace nm {

NM_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
#endif
}

NM_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    std::memcpy(&f, &u, 4);
    return f;
#endif
}

NM_HD float bf16_to_float(uint16_t h) { return bits_float(uint32_t(h) << 16); }

NM_HD uint16_t float_to_bf16(float f) {
    uint32_t u = float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
}

NM_HD float f16_to_float(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        if (mant == 0) return bits_float(sign);
        // subnormal: value = mant * 2^-24
        float v = float(mant) * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exp == 31) return bits_float(sign | 0x7f800000u | (mant << 13));
    return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

NM_HD uint16_t float_to_f16(float f) {
    uint32_t u = float_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return uint16_t(sign | 0x7e00u);   // NaN
    if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to >= 65520: inf
    if (abs < 0x38800000u) {                                   // below 2^-14: subnormal or zero
        if (abs < 0x33000000u) return uint16_t(sign);          // below half of the smallest subnormal
        uint32_t exp = abs >> 23;
        uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - exp;  // 14..24
        uint32_t half = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1u);
        uint32_t mid = 1u << (shift - 1u);
        if (rem > mid || (rem == mid && (half & 1u))) ++half;
        return uint16_t(sign | half);
    }
    uint32_t r = abs - 0x38000000u;  // rebias exponent 127 → 15
    r += 0xfffu + ((r >> 13) & 1u);
    return uint16_t(sign | (r >> 13));
}

// Loads element i of a float tensor of any float dtype as float32.
NM_HD float load_float(const void* p, nm_dtype dtype, int64_t i) {
    switch (dtype) {
        case NM_DTYPE_F16: return f16_to_float(static_cast<const uint16_t*>(p)[i]);
        case NM_DTYPE_BF16: return bf16_to_float(static_cast<const uint16_t*>(p)[i]);
        default: return static_cast<const float*>(p)[i];
    }
}

// Stores v at element i of a float tensor of any float dtype.
NM_HD void store_float(void* p, nm_dtype dtype, int64_t i, float v) {
    switch (dtype) {
        case NM_DTYPE_F16: static_cast<uint16_t*>(p)[i] = float_to_f16(v); break;
        case NM_DTYPE_BF16: static_cast<uint16_t*>(p)[i] = float_to_bf16(v); break;
        default: static_cast<float*>(p)[i] = v; break;
    }
}

}  // namespace nm
