// backend.h — the interface between the C ABI layer and a compute backend.
//
// The API layer (native/src/api/*.cpp) validates every argument, resolves
// shapes into the plain numbers below and only then calls a Backend method,
// so backends never see NULL where a tensor is required, mismatched shapes or
// unsupported dtypes. Two implementations: CpuBackend (native/src/cpu/, in the
// main library) and CudaBackend (native/src/cuda/, in the plugin
// libnativemodels_cuda.so, loaded with dlopen so that a machine without a
// driver or cuBLAS can still load the main library).
//
// Backends report failures by returning a status after calling the error sink
// with a message (nm::set_error in the main library; the plugin gets the sink
// through CudaPluginApi::set_error_sink). No exception may leave a method.
#pragma once

#include <cstddef>
#include <cstdint>

#include "nativemodels.h"

namespace nm {

// A validated, dense, row-major tensor as a backend sees it. An absent
// optional tensor has data == nullptr (a present one never does).
struct TensorView {
    nm_dtype dtype = NM_DTYPE_F32;
    int32_t ndim = 0;
    int64_t shape[NM_MAX_DIMS] = {};
    void* data = nullptr;

    bool present() const { return data != nullptr; }
    int64_t numel() const {
        int64_t n = 1;
        for (int i = 0; i < ndim; ++i) n *= shape[i];
        return n;
    }
};

// c = alpha * op(a) @ op(b) + beta * c (+ bias[n] on every row).
// Row-major matrices; op(a) is [M, K], op(b) is [K, N], c is [M, N].
// stride_* is the element distance between batch items (0: broadcast).
struct GemmArgs {
    TensorView a, b, c, bias;
    bool trans_a = false, trans_b = false;
    float alpha = 1.f, beta = 0.f;
    int64_t batch = 1, m = 0, n = 0, k = 0;
    int64_t stride_a = 0, stride_b = 0, stride_c = 0;
};

struct EmbeddingArgs {
    TensorView weight, out;
    const int32_t* ids = nullptr;  // host memory, validated to be in [0, vocab)
    int64_t count = 0, hidden = 0;
};

struct RmsNormArgs {
    TensorView x, weight, out;  // weight may be absent
    int64_t rows = 0, cols = 0;
    float eps = 1e-6f;
    bool zero_centered = false;
};

struct RmsNormGatedArgs {
    TensorView x, z, weight, out;  // weight may be absent
    int64_t rows = 0, cols = 0;
    int64_t group_size = 0;  // resolved: > 0 and divides cols
    float eps = 1e-6f;
    bool gate_before_norm = false;
};

enum class UnaryOp { Silu, GeluErf, GeluTanh, Scale };

struct UnaryArgs {
    TensorView x, out;
    int64_t n = 0;
    UnaryOp op = UnaryOp::Silu;
    float alpha = 1.f;  // Scale only
};

// out[r, j] = silu(gate[r, j]) * up[r, j], j < cols. When up is absent, gate
// rows hold 2*cols values: gate in [0, cols), up in [cols, 2*cols).
struct SwigluArgs {
    TensorView gate, up, out;
    int64_t rows = 0, cols = 0;
};

struct SoftmaxArgs {
    TensorView x, out;
    int64_t rows = 0, cols = 0;
    float scale = 1.f;
};

enum class BinaryOp { Add, Mul };

// out[i] = a[i] op b[i % nb]  (suffix broadcasting reduces to a modulo).
struct BinaryArgs {
    TensorView a, b, out;
    int64_t n = 0, nb = 0;
    BinaryOp op = BinaryOp::Add;
};

struct L2NormArgs {
    TensorView x, out;
    int64_t rows = 0, cols = 0;
    float eps = 1e-6f;
};

// x, out are [tokens, heads, head_dim]. inv_freq (float32 [rotary_dim/2]) may
// be absent: then inv_freq[i] = theta^(-2i/rotary_dim).
struct RopeArgs {
    TensorView x, out, inv_freq;
    const int32_t* positions = nullptr;  // host memory, `tokens` entries
    int64_t tokens = 0, heads = 0, head_dim = 0, rotary_dim = 0;
    float theta = 10000.f, attention_scaling = 1.f;
    bool interleaved = false;
};

// x, out [B, L, D]; weight [D, K]; bias [D]; states [B, D, K-1] (optional each).
struct Conv1dArgs {
    TensorView x, weight, bias, initial_state, out, final_state;
    int64_t batch = 0, length = 0, channels = 0, kernel = 0;
    nm_activation activation = NM_ACTIVATION_NONE;
};

// x, out [B, D]; conv_state [B, D, K-1] updated in place.
struct Conv1dUpdateArgs {
    TensorView x, conv_state, weight, bias, out;
    int64_t batch = 0, channels = 0, kernel = 0;
    nm_activation activation = NM_ACTIVATION_NONE;
};

struct ConvertArgs {
    TensorView src, dst;
    int64_t n = 0;
};

// See docs/sampling.md for the exact algorithm both backends implement.
struct SampleArgs {
    TensorView logits;  // [rows, vocab]
    int64_t rows = 0, vocab = 0;
    float temperature = 0.f;
    int32_t top_k = 0;
    float top_p = 1.f;
    uint64_t seed = 0, step = 0;
    int32_t* tokens = nullptr;  // host memory, `rows` entries
};

// Selective scan, token-major. u, delta, out [B, L, D]; A float32 [D, N];
// b_mat / c_mat either [D, N] (per_channel_bc) or [B, L, G, N]; optional
// d_skip [D], z [B, L, D], delta_bias [D]; states float32 [B, D, N].
struct SelectiveScanArgs {
    TensorView u, delta, a, b_mat, c_mat, d_skip, z, delta_bias, initial_state, out, final_state;
    int64_t batch = 0, length = 0, channels = 0, state_size = 0, groups = 1;
    bool per_channel_bc = false;
    bool delta_softplus = false;
};

// One decode step: state float32 [B, D, N] in place; x, dt, out, z [B, D];
// A float32 [D, N]; b_mat, c_mat [B, G, N].
struct SelectiveStateUpdateArgs {
    TensorView state, x, dt, a, b_mat, c_mat, d_skip, z, delta_bias, out;
    int64_t batch = 0, channels = 0, state_size = 0, groups = 1;
    bool delta_softplus = false;
};

// Varlen attention. q, out [Tq, Hq, Dh]; k, v [Tk, Hkv, Dh]; lse float32 [Hq, Tq]
// or absent. cu_seqlens_* are host arrays of batch + 1 validated offsets.
struct AttentionArgs {
    TensorView q, k, v, out, lse;
    const int32_t* cu_seqlens_q = nullptr;
    const int32_t* cu_seqlens_k = nullptr;
    int32_t batch = 1;
    int64_t total_q = 0, total_k = 0, heads_q = 0, heads_kv = 0, head_dim = 0;
    float softmax_scale = 1.f;  // resolved (> 0)
    bool causal = false;
    int32_t window_left = -1, window_right = -1;  // resolved: causal => window_right == 0
};

// k_cache, v_cache [slots, capacity, Hkv, Dh]; k, v [count, Hkv, Dh].
struct KvCacheAppendArgs {
    TensorView k_cache, v_cache, k, v;
    const int32_t* slots = nullptr;      // host, count entries, validated
    const int32_t* positions = nullptr;  // host, count entries, validated
    int64_t count = 0, num_slots = 0, capacity = 0, heads_kv = 0, head_dim = 0;
};

// q, out [batch * queries, Hq, Dh] against the cache of each sequence's slot.
struct AttentionDecodeArgs {
    TensorView q, k_cache, v_cache, out;
    const int32_t* slots = nullptr;       // host, batch entries, validated
    const int32_t* cache_lens = nullptr;  // host, batch entries, validated
    int32_t batch = 0, queries = 0;
    int64_t num_slots = 0, capacity = 0, heads_q = 0, heads_kv = 0, head_dim = 0;
    float softmax_scale = 1.f;
    bool causal = false;
    int32_t window_left = -1, window_right = -1;
};

class Backend {
public:
    virtual ~Backend() = default;

    virtual nm_backend_kind kind() const = 0;
    virtual int32_t device() const = 0;

    // Memory. alloc returns device memory for CUDA, host memory for the CPU.
    virtual nm_status alloc(size_t bytes, void** out) = 0;
    virtual void release(void* ptr) = 0;
    virtual nm_status upload(void* dst, const void* host_src, size_t bytes) = 0;
    virtual nm_status download(void* host_dst, const void* src, size_t bytes) = 0;
    virtual nm_status copy(void* dst, const void* src, size_t bytes) = 0;
    virtual nm_status zero(void* dst, size_t bytes) = 0;
    virtual nm_status synchronize() = 0;

    // Operators.
    virtual nm_status gemm(const GemmArgs& args) = 0;
    virtual nm_status embedding(const EmbeddingArgs& args) = 0;
    virtual nm_status rmsnorm(const RmsNormArgs& args) = 0;
    virtual nm_status rmsnorm_gated(const RmsNormGatedArgs& args) = 0;
    virtual nm_status unary(const UnaryArgs& args) = 0;
    virtual nm_status swiglu(const SwigluArgs& args) = 0;
    virtual nm_status softmax(const SoftmaxArgs& args) = 0;
    virtual nm_status binary(const BinaryArgs& args) = 0;
    virtual nm_status l2norm(const L2NormArgs& args) = 0;
    virtual nm_status rope(const RopeArgs& args) = 0;
    virtual nm_status conv1d_causal(const Conv1dArgs& args) = 0;
    virtual nm_status conv1d_update(const Conv1dUpdateArgs& args) = 0;
    virtual nm_status convert(const ConvertArgs& args) = 0;
    virtual nm_status sample(const SampleArgs& args) = 0;

    // Selective state spaces (Mamba).
    virtual nm_status selective_scan(const SelectiveScanArgs& args) = 0;
    virtual nm_status selective_state_update(const SelectiveStateUpdateArgs& args) = 0;

    // Attention.
    virtual nm_status attention(const AttentionArgs& args) = 0;
    virtual nm_status kv_cache_append(const KvCacheAppendArgs& args) = 0;
    virtual nm_status attention_decode(const AttentionDecodeArgs& args) = 0;
};

// How a backend living in another shared library reports errors.
using ErrorSink = void (*)(nm_status status, const char* message);

// Entry point of libnativemodels_cuda.so: `nm_cuda_plugin_api()` returns this.
// Changes to Backend or to the Args structs must bump kCudaPluginAbi.
constexpr uint32_t kCudaPluginAbi = 2;

struct CudaPluginApi {
    uint32_t plugin_abi;
    void (*set_error_sink)(ErrorSink sink);
    // NM_OK with the device count (>= 1), or NM_ERR_BACKEND_UNAVAILABLE with the reason.
    nm_status (*probe)(int32_t* device_count);
    nm_status (*device_info)(int32_t device, nm_device_info* out);
    nm_status (*create_backend)(int32_t device, Backend** out);
    // "CUDA 11.8, sm_80 sm_86 sm_89 sm_90 + PTX, cuBLAS 11.11.3"
    const char* (*build_info)();
};

}  // namespace nm
