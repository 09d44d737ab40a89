// cuda_sim.h — a warp-level CUDA simulator on the CPU, for running the real
// kernel source of native/src/cuda in the native tests (no GPU, g++ only).
//
// How: the shim headers in shim/ (cuda_runtime.h, cuda_fp16.h, cuda_bf16.h)
// include this file instead of the CUDA toolkit's, so a kernel body compiles
// as ordinary C++ (__global__/__device__/... are no-ops, __CUDA_ARCH__ is
// 800 so the sm_80 paths are the ones compiled). sim::launch() runs the grid
// one block at a time; every CUDA thread of a block is a fiber (its own
// stack, cooperatively scheduled on the calling OS thread). A fiber runs
// until it reaches a synchronising operation (__syncthreads, a warp
// collective such as __shfl_*_sync / __syncwarp / __ballot_sync / ldmatrix /
// mma.sync), then the next one runs. The order is adversarial on purpose:
// a warp runs as far as it can before the next warp starts, so a thread
// that reads shared memory another warp writes without a barrier in between
// reads stale data. cp.async copies are queued per thread and performed
// only when a cp.async.wait_group forces them (or, in eager mode, at once),
// and dynamic shared memory starts every block filled with 0xff bytes (NaN
// in every float format), so reading what was never written shows up.
// Inline-PTX emulations (ldmatrix, mma.sync, cp.async) follow the PTX ISA
// fragment layouts; see cuda_sim.cpp.
//
// Misuse a GPU would only answer with garbage (a collective some lanes of its
// mask never reach, divergent __syncthreads, misaligned or non-shared
// ldmatrix / cp.async addresses, shuffles from lanes outside the mask, writes
// just outside shared memory or a device buffer) makes sim::launch throw
// sim::Error.
#pragma once

#ifndef NM_CUDA_SIM
#define NM_CUDA_SIM 1
#endif
// The device pass of an sm_80 compile: the kernels' `__CUDA_ARCH__ >= 800` paths.
#ifndef __CUDA_ARCH__
#define __CUDA_ARCH__ 800
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

// ------------------------------------------------------------ qualifiers

// `unused`: a kernel or device function a test does not call is no warning.
#define __global__ __attribute__((unused))
#define __device__ __attribute__((unused))
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
// Blocks run one after another on one OS thread, so one static instance per
// declaration is the block's shared variable (thread_local: launches on
// different OS threads do not share it). Not reset between blocks.
#define __shared__ static thread_local

// ------------------------------------------------------------ vector types

struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct alignas(8) uint2 {
    unsigned x, y;
};
struct alignas(16) uint4 {
    unsigned x, y, z, w;
};
struct alignas(8) int2 {
    int x, y;
};
struct alignas(16) int4 {
    int x, y, z, w;
};
struct alignas(8) float2 {
    float x, y;
};
struct alignas(16) float4 {
    float x, y, z, w;
};

constexpr int warpSize = 32;

// The built-in variables of the running CUDA thread (set by the scheduler
// before it resumes a fiber).
inline thread_local uint3 threadIdx{0, 0, 0};
inline thread_local uint3 blockIdx{0, 0, 0};
inline thread_local dim3 blockDim{1, 1, 1};
inline thread_local dim3 gridDim{1, 1, 1};

// ------------------------------------------------------------ intrinsics

inline unsigned __float_as_uint(float f) {
    unsigned u;
    std::memcpy(&u, &f, 4);
    return u;
}
inline float __uint_as_float(unsigned u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline int __float_as_int(float f) { return int(__float_as_uint(f)); }
inline float __int_as_float(int i) { return __uint_as_float(unsigned(i)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x ? __builtin_clz(unsigned(x)) : 32; }
inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned((uint64_t(a) * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)((static_cast<unsigned __int128>(a) * b) >> 64);
}
// Fast-math intrinsics: the hardware versions are approximate; exact is within their error bounds.
inline float __expf(float x) { return std::exp(x); }
inline float __exp10f(float x) { return std::pow(10.f, x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __powf(float a, float b) { return std::pow(a, b); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanhf(float x) { return std::tanh(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.f / x; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : (x == x ? x : 0.f)); }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline float exp10f(float x) { return std::pow(10.f, x); }

// CUDA's min/max overloads for mixed integer and float arguments (usual arithmetic conversions).
template <class A, class B, class = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
constexpr std::common_type_t<A, B> min(A a, B b) {
    using C = std::common_type_t<A, B>;
    return C(b) < C(a) ? C(b) : C(a);
}
template <class A, class B, class = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
constexpr std::common_type_t<A, B> max(A a, B b) {
    using C = std::common_type_t<A, B>;
    return C(a) < C(b) ? C(b) : C(a);
}

// ------------------------------------------------------------ the simulator

namespace sim {

struct Error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// How a launch is scheduled (tests set these through ScopedOptions).
struct Options {
    // Warps (and lanes within a warp) run highest index first instead of lowest first.
    bool reverse = false;
    // cp.async copies are performed when issued instead of as late as a wait_group allows.
    bool eager_cp_async = false;
    // Nonzero: warps and lanes run in an order drawn from this seed, and each
    // cp.async lands either at issue or at its wait_group, also drawn.
    uint64_t shuffle_seed = 0;
    // Opt-in dynamic shared memory limit per block (sm_80: 163 KiB; sm_86 / sm_89: 99 KiB).
    size_t max_dynamic_smem = 99 * 1024;
};
Options& options();

class ScopedOptions {
public:
    explicit ScopedOptions(const Options& o) : saved_(options()) { options() = o; }
    ~ScopedOptions() { options() = saved_; }
    ScopedOptions(const ScopedOptions&) = delete;
    ScopedOptions& operator=(const ScopedOptions&) = delete;

private:
    Options saved_;
};

// Counters over every launch since the last reset (for reporting).
struct Stats {
    uint64_t launches = 0, blocks = 0, threads = 0, switches = 0, barriers = 0, collectives = 0, mma = 0,
             ldmatrix = 0, cp_async = 0;
};
Stats& stats();

// Host memory standing in for device memory: 256-byte aligned (like
// cudaMalloc), filled with 0xff (NaN in every float format), and registered
// so that cp.async sources outside every live buffer are reported, and so
// that a launch that wrote into the 256 bytes before or after it fails.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(size_t bytes);
    ~DeviceBuffer();
    DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr, o.n_ = 0; }
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    void* data() const { return p_; }
    size_t size() const { return n_; }
    template <class T>
    T* as() const { return static_cast<T*>(p_); }

private:
    void* p_ = nullptr;
    size_t n_ = 0;
};

// Runs `body` as every thread of every block of the grid (blocks in x, y, z
// order). Throws sim::Error on misuse or deadlock, or what the body threw.
void run_grid(dim3 grid, dim3 block, size_t dynamic_smem, const std::function<void()>& body);

// kernel<<<grid, block, dynamic_smem>>>(args...): each thread gets its own
// copy of the parameters, converted to the kernel's parameter types.
template <class... P, class... A>
void launch(void (*kernel)(P...), dim3 grid, dim3 block, size_t dynamic_smem, A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "wrong number of kernel arguments");
    const std::tuple<std::decay_t<P>...> params(std::forward<A>(args)...);
    run_grid(grid, block, dynamic_smem, [&] {
        std::tuple<std::decay_t<P>...> mine = params;
        std::apply(kernel, mine);
    });
}

// The running block's dynamic shared memory.
void* dynamic_shared_base();
template <class T>
T* dynamic_shared() {
    return static_cast<T*>(dynamic_shared_base());
}
// Offset of p in the block's shared memory (what cvta.to.shared gives).
size_t shared_offset(const void* p);

// Block barrier (bar.sync 0).
void syncthreads();
// bar.sync with a predicate reduction: count / and / or over the block.
int syncthreads_reduce(int pred, int op);
// Warp barrier among the lanes of mask (bar.warp.sync).
void syncwarp(unsigned mask);
// vote.sync.ballot.
unsigned ballot(unsigned mask, bool pred);

enum class Shfl : int { Idx = 0, Up = 1, Down = 2, Xor = 3 };
// shfl.sync on up to 8 bytes; `param` is srcLane, delta or laneMask.
uint64_t shfl(unsigned mask, uint64_t bits, int param, int width, Shfl kind);

// cp.async.cg.shared.global [smem], [gmem], 16, src_bytes.
void cp_async16(void* smem, const void* gmem, int src_bytes);
// cp.async.commit_group.
void cp_async_commit();
// cp.async.wait_group n.
void cp_async_wait(int n);
// ldmatrix.sync.aligned.m8n8.x4{.trans}.shared.b16.
void ldmatrix_x4(uint32_t (&r)[4], const void* smem, bool trans);
enum class MmaType : int { F16 = 0, BF16 = 1 };
// mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.{f16,bf16}.f32 with d = c.
void mma_m16n8k16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1, MmaType type);

template <class T>
uint64_t to_bits(T v) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffles move at most 8 bytes");
    uint64_t b = 0;
    std::memcpy(&b, &v, sizeof(T));
    return b;
}
template <class T>
T from_bits(uint64_t b) {
    T v;
    std::memcpy(&v, &b, sizeof(T));
    return v;
}

}  // namespace sim

// ------------------------------------------------------------ CUDA device API

inline void __syncthreads() { sim::syncthreads(); }
inline int __syncthreads_count(int pred) { return sim::syncthreads_reduce(pred, 0); }
inline int __syncthreads_and(int pred) { return sim::syncthreads_reduce(pred, 1); }
inline int __syncthreads_or(int pred) { return sim::syncthreads_reduce(pred, 2); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { sim::syncwarp(mask); }
inline unsigned __ballot_sync(unsigned mask, int pred) { return sim::ballot(mask, pred != 0); }
inline int __any_sync(unsigned mask, int pred) { return sim::ballot(mask, pred != 0) != 0; }
inline int __all_sync(unsigned mask, int pred) { return sim::ballot(mask, pred != 0) == mask; }
inline void __threadfence() {}
inline void __threadfence_block() {}

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize) {
    return sim::from_bits<T>(sim::shfl(mask, sim::to_bits(var), src_lane, width, sim::Shfl::Idx));
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
    return sim::from_bits<T>(sim::shfl(mask, sim::to_bits(var), int(delta), width, sim::Shfl::Up));
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize) {
    return sim::from_bits<T>(sim::shfl(mask, sim::to_bits(var), int(delta), width, sim::Shfl::Down));
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize) {
    return sim::from_bits<T>(sim::shfl(mask, sim::to_bits(var), lane_mask, width, sim::Shfl::Xor));
}

// Fibers are not preempted, so a read-modify-write is atomic by construction.
template <class T>
T atomicAdd(T* address, T val) {
    const T old = *address;
    *address = old + val;
    return old;
}
template <class T>
T atomicSub(T* address, T val) {
    const T old = *address;
    *address = old - val;
    return old;
}
template <class T>
T atomicMax(T* address, T val) {
    const T old = *address;
    if (old < val) *address = val;
    return old;
}
template <class T>
T atomicMin(T* address, T val) {
    const T old = *address;
    if (val < old) *address = val;
    return old;
}
template <class T>
T atomicExch(T* address, T val) {
    const T old = *address;
    *address = val;
    return old;
}
template <class T>
T atomicCAS(T* address, T compare, T val) {
    const T old = *address;
    if (old == compare) *address = val;
    return old;
}

inline size_t __cvta_generic_to_shared(const void* p) { return sim::shared_offset(p); }

// ------------------------------------------------------------ half types
// Storage types with the conversions the kernels use; round-to-nearest-even
// like cvt.rn (core/half.h). may_alias: kernels reinterpret them as uint32_t.

#include "core/half.h"

struct __attribute__((may_alias)) __half {
    unsigned short __x;
};
struct __attribute__((may_alias)) __nv_bfloat16 {
    unsigned short __x;
};
struct __attribute__((may_alias, aligned(4))) __half2 {
    __half x, y;
};
struct __attribute__((may_alias, aligned(4))) __nv_bfloat162 {
    __nv_bfloat16 x, y;
};

inline __half __float2half(float f) { return __half{nm::float_to_f16(f)}; }
inline __half __float2half_rn(float f) { return __float2half(f); }
inline float __half2float(__half h) { return nm::f16_to_float(h.__x); }
inline __half2 __floats2half2_rn(float a, float b) { return __half2{__float2half(a), __float2half(b)}; }
inline __half2 __float2half2_rn(float a) { return __floats2half2_rn(a, a); }
inline float __low2float(__half2 h) { return __half2float(h.x); }
inline float __high2float(__half2 h) { return __half2float(h.y); }
inline float2 __half22float2(__half2 h) { return float2{__half2float(h.x), __half2float(h.y)}; }

inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16{nm::float_to_bf16(f)}; }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __float2bfloat16(f); }
inline float __bfloat162float(__nv_bfloat16 h) { return nm::bf16_to_float(h.__x); }
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) {
    return __nv_bfloat162{__float2bfloat16(a), __float2bfloat16(b)};
}
inline __nv_bfloat162 __float2bfloat162_rn(float a) { return __floats2bfloat162_rn(a, a); }
inline float __low2float(__nv_bfloat162 h) { return __bfloat162float(h.x); }
inline float __high2float(__nv_bfloat162 h) { return __bfloat162float(h.y); }
inline float2 __bfloat1622float2(__nv_bfloat162 h) { return float2{__bfloat162float(h.x), __bfloat162float(h.y)}; }

// ------------------------------------------------------------ host-side API
// What the kernel headers' host helpers may mention (no runtime behind it).

using cudaStream_t = struct CUstream_st*;
using cudaError_t = int;
constexpr cudaError_t cudaSuccess = 0;
