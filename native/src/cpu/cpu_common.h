// cpu_common.h — helpers shared by the CPU operator files.
//
// Element access with a compile-time all-float32 fast path: kernels are
// written once as templates on `bool F32` and instantiated twice, so the
// common float32 case is plain loads and stores the compiler can vectorise,
// while mixed float16/bfloat16 tensors go through nm::load_float/store_float.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "../core/backend.h"
#include "../core/half.h"

namespace nm {
namespace cpu {

// Loops over fewer elements than this stay on one thread: spawning an OpenMP
// team costs more than the work.
constexpr int64_t kParallelMinElements = int64_t(1) << 15;

template <bool F32>
inline float load(const TensorView& t, int64_t i) {
    if constexpr (F32) return static_cast<const float*>(t.data)[i];
    else return load_float(t.data, t.dtype, i);
}

template <bool F32>
inline void store(const TensorView& t, int64_t i, float v) {
    if constexpr (F32) static_cast<float*>(t.data)[i] = v;
    else store_float(t.data, t.dtype, i, v);
}

// True when every present tensor in the list is float32 (absent ones are ignored).
inline bool all_f32(std::initializer_list<const TensorView*> views) {
    for (const TensorView* v : views)
        if (v->present() && v->dtype != NM_DTYPE_F32) return false;
    return true;
}

}  // namespace cpu
}  // namespace nm
