// attention_window.h — which keys a query sees, shared by both backends.
//
// Query i of a sequence with Lq queries and Lk keys sits at the aligned
// position p = i + Lk - Lq (bottom-right alignment). The API resolves causal
// into window_right = 0, so a backend only needs the two window bounds:
//   lo(p) = window_left  < 0 ? 0      : max(0, p - window_left)
//   hi(p) = window_right < 0 ? Lk - 1 : min(Lk - 1, p + window_right)
// and the query sees keys [lo, hi] (none when lo > hi). Both bounds are
// non-decreasing in p, which is what lets the kernels skip whole key tiles.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define NM_ATTN_HD __host__ __device__ __forceinline__
#else
#define NM_ATTN_HD inline
#endif

namespace nm {

NM_ATTN_HD int64_t attn_key_lo(int64_t p, int32_t window_left) {
    if (window_left < 0) return 0;
    const int64_t lo = p - window_left;
    return lo > 0 ? lo : 0;
}

NM_ATTN_HD int64_t attn_key_hi(int64_t p, int32_t window_right, int64_t lk) {
    if (window_right < 0) return lk - 1;
    const int64_t hi = p + window_right;
    return hi < lk - 1 ? hi : lk - 1;
}

}  // namespace nm
