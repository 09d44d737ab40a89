/*
 * nativemodels.h — the whole C ABI of the NativeModels native library.
 *
 * Conventions (read once, they hold for every function below):
 *  - Every function that can fail returns nm_status. On failure it leaves a
 *    thread-local message, read with nm_last_error(), that names the argument
 *    and the problem ("q: expected bfloat16, got float32"). The message stays
 *    valid until the next nm_* call on the same thread. Success clears it.
 *  - No C++ exception ever crosses this boundary.
 *  - Handles are opaque. Every *_destroy accepts NULL and does nothing then.
 *  - Lifetimes: a tensor belongs to the context it was created in and must be
 *    destroyed before that context. A context may be used from one thread at
 *    a time (calls on different contexts may run concurrently).
 *  - Asynchrony: on the CUDA backend, operators and copies are queued on the
 *    context's stream and return before the work is done; host buffers passed
 *    to nm_tensor_download must stay alive until nm_context_synchronize.
 *    Host buffers passed to nm_tensor_upload may be reused as soon as the call
 *    returns. On the CPU backend everything completes before returning.
 *  - Tensors are dense and row-major (last dimension contiguous), at most
 *    NM_MAX_DIMS dimensions. Floating-point tensors of one operator may mix
 *    float32 / float16 / bfloat16 unless the operator says otherwise; all
 *    arithmetic accumulates in float32.
 *  - The ABI version changes whenever a signature or struct layout changes.
 *    Bindings must compare nm_abi_version() with the version they were built
 *    against and refuse to run on a mismatch.
 */
#ifndef NATIVEMODELS_H
#define NATIVEMODELS_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(NM_BUILDING_LIBRARY)
#    define NM_API __declspec(dllexport)
#  else
#    define NM_API __declspec(dllimport)
#  endif
#else
#  define NM_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define NM_ABI_VERSION 1
#define NM_MAX_DIMS 8

/* ------------------------------------------------------------------ status */

typedef enum nm_status {
    NM_OK = 0,
    NM_ERR_INVALID_ARGUMENT = 1,   /* NULL pointer, bad enum, bad parameter value */
    NM_ERR_SHAPE = 2,              /* shapes that do not fit together */
    NM_ERR_DTYPE = 3,              /* unsupported or mismatched data type */
    NM_ERR_DEVICE = 4,             /* tensor from another context / backend */
    NM_ERR_OUT_OF_MEMORY = 5,
    NM_ERR_BACKEND_UNAVAILABLE = 6,/* backend not built, driver/GPU/library missing */
    NM_ERR_CUDA = 7,               /* a CUDA or cuBLAS call failed */
    NM_ERR_INTERNAL = 8
} nm_status;

/* Message for the last failed call on this thread; "" if it succeeded. Never NULL. */
NM_API const char* nm_last_error(void);
/* Short constant name of a status ("NM_ERR_SHAPE"). Never NULL. */
NM_API const char* nm_status_name(nm_status status);

/* ------------------------------------------------------------- versioning */

NM_API uint32_t nm_abi_version(void);
/* Library version, "MAJOR.MINOR.PATCH". Static string. */
NM_API const char* nm_version(void);
/* One line describing how the library was built (compiler, BLAS, CUDA version
 * and architectures of the CUDA backend if built). Static string. */
NM_API const char* nm_build_info(void);

/* ---------------------------------------------------------------- enums */

typedef enum nm_dtype {
    NM_DTYPE_F32 = 0,
    NM_DTYPE_F16 = 1,
    NM_DTYPE_BF16 = 2,
    NM_DTYPE_I32 = 3
} nm_dtype;

typedef enum nm_backend_kind {
    NM_BACKEND_CPU = 0,
    NM_BACKEND_CUDA = 1
} nm_backend_kind;

/* "float32", "float16", "bfloat16", "int32"; "invalid" otherwise. */
NM_API const char* nm_dtype_name(nm_dtype dtype);
/* Bytes per element; 0 for an invalid dtype. */
NM_API size_t nm_dtype_size(nm_dtype dtype);

/* ------------------------------------------------------------- backends */

typedef struct nm_device_info {
    char name[256];
    uint64_t total_memory_bytes;
    uint64_t free_memory_bytes;
    int32_t compute_capability_major;
    int32_t compute_capability_minor;
    int32_t multiprocessor_count;
    int32_t driver_version;   /* e.g. 12040 for 12.4; from cudaDriverGetVersion */
    int32_t runtime_version;  /* CUDA runtime the backend was built with */
    int32_t reserved[7];
} nm_device_info;

/* Whether a backend can be used here. NM_OK and *device_count set (CPU: 1),
 * or NM_ERR_BACKEND_UNAVAILABLE with the reason in nm_last_error(), e.g.
 * "cuda: no CUDA driver found (libcuda.so.1)". */
NM_API nm_status nm_backend_probe(nm_backend_kind kind, int32_t* device_count);
/* Properties of CUDA device `device`. */
NM_API nm_status nm_cuda_device_info(int32_t device, nm_device_info* out);
/* Threads used by the CPU backend (OpenMP and OpenBLAS). n <= 0 restores the default. */
NM_API nm_status nm_cpu_set_num_threads(int32_t n);
NM_API int32_t nm_cpu_num_threads(void);

/* -------------------------------------------------------------- context */

typedef struct nm_context nm_context;

/* spec: "auto" (CUDA if usable, else CPU), "cpu", "cuda" (= "cuda:0"), "cuda:N".
 * NULL means "auto". */
NM_API nm_status nm_context_create(const char* spec, nm_context** out);
NM_API void nm_context_destroy(nm_context* ctx);
NM_API nm_status nm_context_backend(const nm_context* ctx, nm_backend_kind* kind, int32_t* device);
/* Waits for all work queued on the context. Reports asynchronous CUDA errors. */
NM_API nm_status nm_context_synchronize(nm_context* ctx);
/* Bytes currently held by tensors of this context, and the most ever held. */
NM_API nm_status nm_context_memory(const nm_context* ctx, uint64_t* tensor_bytes, uint64_t* peak_tensor_bytes);

/* --------------------------------------------------------------- tensor */

typedef struct nm_tensor nm_tensor;

typedef struct nm_tensor_info {
    nm_dtype dtype;
    int32_t ndim;
    int64_t shape[NM_MAX_DIMS];
    uint64_t numel;
    uint64_t nbytes;
    nm_backend_kind backend;
    int32_t device;
} nm_tensor_info;

/* Allocates a zero-filled tensor on the context's device. Every dimension must be >= 1. */
NM_API nm_status nm_tensor_create(nm_context* ctx, nm_dtype dtype, int32_t ndim,
                                  const int64_t* shape, nm_tensor** out);
NM_API void nm_tensor_destroy(nm_tensor* t);
NM_API nm_status nm_tensor_get_info(const nm_tensor* t, nm_tensor_info* out);
/* Changes the shape in place; the element count must stay the same. */
NM_API nm_status nm_tensor_reshape(nm_tensor* t, int32_t ndim, const int64_t* shape);
/* Copies `bytes` bytes from host memory into the tensor at byte `offset`. */
NM_API nm_status nm_tensor_upload(nm_tensor* t, uint64_t offset, const void* src, uint64_t bytes);
/* Copies `bytes` bytes from the tensor at byte `offset` into host memory
 * (asynchronous on CUDA: call nm_context_synchronize before reading dst). */
NM_API nm_status nm_tensor_download(const nm_tensor* t, uint64_t offset, void* dst, uint64_t bytes);
/* dst = src. Same dtype and element count; may be in different contexts
 * (then it goes through host memory and synchronises both). */
NM_API nm_status nm_tensor_copy(nm_tensor* dst, const nm_tensor* src);
NM_API nm_status nm_tensor_zero(nm_tensor* t);
/* Byte ranges of tensors (any dtype): copies `bytes` bytes from src at byte
 * `src_offset` to dst at byte `dst_offset`. Within one context the copy stays
 * on the device (stream-ordered, asynchronous on CUDA); across contexts it goes
 * through host memory and synchronises both. Both ranges must lie inside their
 * tensors; two ranges of the same tensor must not overlap. */
NM_API nm_status nm_tensor_copy_bytes(nm_tensor* dst, uint64_t dst_offset, const nm_tensor* src,
                                      uint64_t src_offset, uint64_t bytes);
/* Sets `bytes` bytes at byte `offset` to zero (stream-ordered on CUDA). */
NM_API nm_status nm_tensor_zero_bytes(nm_tensor* t, uint64_t offset, uint64_t bytes);

/* ------------------------------------------------------------ operators */
/* All operators: ctx must be the context of every tensor passed. `out` may be
 * the same tensor as an input where the operator says "in place allowed". */

/* General matrix multiply, fp32 accumulation (cuBLAS on CUDA, OpenBLAS on CPU):
 *   c = alpha * op(a) @ op(b) + beta * c  (+ bias broadcast over rows)
 * op(x) = x or its transpose over the last two dims.
 *  - b 2-D and trans_a == 0: a is [..., K] (leading dims flattened into M),
 *    b is [K, N] ([N, K] if trans_b), c is [..., N] with a's leading dims.
 *  - otherwise batched: a [batch, M, K] ([batch, K, M] if trans_a) or 2-D
 *    (broadcast over the batch), b [batch, K, N] ([batch, N, K]) or 2-D,
 *    c [batch, M, N]; a 2-D a and 2-D b give c [M, N].
 * a and b share a dtype; c has that dtype or float32; bias [N] is any float
 * dtype or NULL. */
NM_API nm_status nm_gemm(nm_context* ctx, const nm_tensor* a, const nm_tensor* b,
                         const nm_tensor* bias, nm_tensor* c,
                         int32_t trans_a, int32_t trans_b, float alpha, float beta);

/* out[i, :] = weight[ids[i], :]. weight [V, H]; ids: host array of `count`
 * token ids, each in [0, V); out has count*H elements and last dim H. */
NM_API nm_status nm_embedding(nm_context* ctx, const nm_tensor* weight,
                              const int32_t* ids, int64_t count, nm_tensor* out);

/* RMSNorm over the last dim H: out = x / sqrt(mean(x^2) + eps) * w', where
 * w' = weight (plain) or 1 + weight (zero_centered != 0). weight [H] or NULL
 * (no scaling). out has x's shape. In place allowed. */
NM_API nm_status nm_rmsnorm(nm_context* ctx, const nm_tensor* x, const nm_tensor* weight,
                            nm_tensor* out, float eps, int32_t zero_centered);

/* Gated RMSNorm: out = weight * rmsnorm(x) * silu(z)  (gate_before_norm == 0),
 * or out = weight * rmsnorm(x * silu(z))              (gate_before_norm != 0).
 * The norm runs over groups of `group_size` consecutive elements of the last
 * dim (0 = the whole last dim; H must be a multiple). x, z, out same shape;
 * weight [H] or NULL. In place allowed. */
NM_API nm_status nm_rmsnorm_gated(nm_context* ctx, const nm_tensor* x, const nm_tensor* z,
                                  const nm_tensor* weight, nm_tensor* out, float eps,
                                  int64_t group_size, int32_t gate_before_norm);

/* out = x * sigmoid(x). In place allowed. */
NM_API nm_status nm_silu(nm_context* ctx, const nm_tensor* x, nm_tensor* out);
/* GELU: exact erf form (tanh_approx == 0) or the tanh approximation. In place allowed. */
NM_API nm_status nm_gelu(nm_context* ctx, const nm_tensor* x, nm_tensor* out, int32_t tanh_approx);
/* out = silu(gate) * up. If up is NULL, gate is [..., 2F] holding gate in its
 * first F and up in its last F columns, and out is [..., F]. */
NM_API nm_status nm_swiglu(nm_context* ctx, const nm_tensor* gate, const nm_tensor* up, nm_tensor* out);

/* Softmax over the last dim of scale * x. In place allowed. */
NM_API nm_status nm_softmax(nm_context* ctx, const nm_tensor* x, nm_tensor* out, float scale);

/* Elementwise with suffix broadcasting: b's shape must equal a's, or equal a
 * suffix of a's shape (b is repeated over a's leading dims), or b has one
 * element. out has a's shape. In place allowed (out == a). */
NM_API nm_status nm_add(nm_context* ctx, const nm_tensor* a, const nm_tensor* b, nm_tensor* out);
NM_API nm_status nm_mul(nm_context* ctx, const nm_tensor* a, const nm_tensor* b, nm_tensor* out);
/* out = alpha * x. In place allowed. */
NM_API nm_status nm_scale(nm_context* ctx, const nm_tensor* x, nm_tensor* out, float alpha);

/* L2 normalisation over the last dim: out = x / sqrt(sum(x^2) + eps). In place allowed. */
NM_API nm_status nm_l2norm(nm_context* ctx, const nm_tensor* x, nm_tensor* out, float eps);

typedef struct nm_rope_params {
    int32_t rotary_dim;       /* even, <= head_dim; dims past it are copied unchanged. 0 = head_dim */
    float theta;              /* base; inv_freq[i] = theta^(-2i/rotary_dim) when inv_freq is NULL */
    float attention_scaling;  /* cos and sin are multiplied by it (1 for plain RoPE; YaRN/longrope mscale) */
    int32_t interleaved;      /* 0: NeoX rotate-half pairs (i, i + rotary_dim/2); 1: GPT-J pairs (2i, 2i+1) */
    const nm_tensor* inv_freq;/* optional float32 [rotary_dim/2], for scaled variants (llama3, linear, ...) */
} nm_rope_params;

/* Rotary position embedding. x is [..., heads, head_dim]; positions is a host
 * array with one position per token, count = numel(x) / (heads * head_dim).
 * angle = position * inv_freq[i]. out has x's shape. In place allowed. */
NM_API nm_status nm_rope(nm_context* ctx, const nm_tensor* x, const int32_t* positions,
                         int64_t count, nm_tensor* out, const nm_rope_params* params);

typedef enum nm_activation {
    NM_ACTIVATION_NONE = 0,
    NM_ACTIVATION_SILU = 1
} nm_activation;

/* Depthwise causal conv1d over a sequence (prefill), channels last:
 *   x [B, L, D]; weight [D, K] or [D, 1, K]; bias [D] or NULL;
 *   initial_state [B, D, K-1] or NULL (zeros): the K-1 inputs before x[:, 0];
 *   out [B, L, D]: out[b,t,d] = act(bias[d] + sum_k weight[d,k] * xin[b, t+k, d])
 *     where xin is initial_state followed by x along time;
 *   final_state [B, D, K-1] or NULL: receives the last K-1 inputs of xin.
 * initial_state and final_state may be the same tensor. out may not alias x. */
NM_API nm_status nm_conv1d_causal(nm_context* ctx, const nm_tensor* x, const nm_tensor* weight,
                                  const nm_tensor* bias, const nm_tensor* initial_state,
                                  nm_tensor* out, nm_tensor* final_state, nm_activation activation);

/* One decoding step of the same convolution: x [B, D]; conv_state [B, D, K-1]
 * is read as the previous K-1 inputs, then rolled left by one with x appended.
 * out [B, D]. out may alias x. */
NM_API nm_status nm_conv1d_update(nm_context* ctx, const nm_tensor* x, nm_tensor* conv_state,
                                  const nm_tensor* weight, const nm_tensor* bias,
                                  nm_tensor* out, nm_activation activation);

/* dst = src converted elementwise between float32 / float16 / bfloat16
 * (round to nearest even). Same element count. */
NM_API nm_status nm_convert(nm_context* ctx, const nm_tensor* src, nm_tensor* dst);

typedef struct nm_sampling_params {
    float temperature;  /* <= 0: greedy argmax (lowest index wins ties) */
    int32_t top_k;      /* 0: off. Keeps every token whose logit >= the k-th largest (ties kept) */
    float top_p;        /* >= 1: off. Keeps the most probable tokens whose mass reaches top_p */
} nm_sampling_params;

/* Draws one token per row of logits ([V] or [B, V], any float dtype) into the
 * host array tokens[B]. Synchronous. Reproducible: the same logits, params,
 * seed and step give the same tokens on every backend. The random stream is
 * counter-based: row r of call (seed, step) uses counter (seed, step, r).
 * The exact algorithm is specified in docs/sampling.md. */
NM_API nm_status nm_sample(nm_context* ctx, const nm_tensor* logits, const nm_sampling_params* params,
                           uint64_t seed, uint64_t step, int32_t* tokens, int64_t tokens_count);

/* ------------------------------------------------ selective state spaces */
/* Mamba-1 (Gu & Dao 2023), token-major layout. See docs/selective-scan.md.  */

typedef struct nm_ssm_options {
    const nm_tensor* d_skip;      /* [D] or NULL: y += d_skip[d] * u */
    const nm_tensor* z;           /* gate, like u ([B, L, D] / [B, D]), or NULL: y *= silu(z) */
    const nm_tensor* delta_bias;  /* [D] or NULL: added to delta before the softplus */
    int32_t delta_softplus;       /* != 0: delta = softplus(delta) = log1p(exp(delta)), identity above 20 */
} nm_ssm_options;

/* Selective scan over a sequence, for every batch b, channel d and state n:
 *   dt = softplus?(delta[b,t,d] + delta_bias[d])
 *   h[n] = exp(dt * A[d,n]) * h[n] + dt * B[.., n] * u[b,t,d]
 *   y[b,t,d] = (sum_n C[.., n] * h[n] + d_skip[d] * u[b,t,d]) * silu?(z[b,t,d])
 * u, delta, out: [B, L, D]. A: float32 [D, N] (real; Mamba stores A = -exp(A_log)).
 * B, C: [D, N] (time-invariant, per channel) or [B, L, G, N] (input-dependent;
 *   G divides D and channel d reads group d / (D / G)).
 * initial_state: float32 [B, D, N] or NULL (zeros); final_state: float32
 *   [B, D, N] or NULL, receives h after the last step (may be initial_state).
 * B and C are both per-channel or both input-dependent (same G).
 * options is required (a zeroed struct means none of its extras).
 * Any L >= 1; state and accumulation are float32. out may not alias an input. */
NM_API nm_status nm_selective_scan(nm_context* ctx, const nm_tensor* u, const nm_tensor* delta,
                                   const nm_tensor* A, const nm_tensor* B, const nm_tensor* C,
                                   const nm_ssm_options* options, const nm_tensor* initial_state,
                                   nm_tensor* out, nm_tensor* final_state);

/* One decoding step of the same recurrence for a batch of states:
 * state float32 [B, D, N] (read, then overwritten with the new state);
 * x, dt, out: [B, D]; z (in options): [B, D] or NULL; A: float32 [D, N];
 * B, C: [B, G, N], channel d reading group d / (D / G) as in the scan.
 * Costs O(D * N) per sequence whatever the context length. */
NM_API nm_status nm_selective_state_update(nm_context* ctx, nm_tensor* state, const nm_tensor* x,
                                           const nm_tensor* dt, const nm_tensor* A, const nm_tensor* B,
                                           const nm_tensor* C, const nm_ssm_options* options, nm_tensor* out);

/* ------------------------------------------------------------- attention */
/* Flash-style attention. See docs/attention.md.                            */

typedef struct nm_attention_params {
    float softmax_scale;    /* <= 0: 1 / sqrt(head_dim) */
    int32_t causal;         /* != 0: causal, bottom-right aligned (see below) */
    int32_t window_left;    /* >= 0: keys more than window_left before the aligned position are masked; -1: no limit */
    int32_t window_right;   /* >= 0: keys more than window_right after it are masked; -1: no limit (causal forces 0) */
} nm_attention_params;

/* Attention over a batch of variable-length sequences packed along tokens:
 *   q [Tq, Hq, Dh]; k, v [Tk, Hkv, Dh] with Hkv dividing Hq (query head h uses
 *   KV head h / (Hq / Hkv)); out [Tq, Hq, Dh]; q, k, v, out share a float dtype.
 *   cu_seqlens_q, cu_seqlens_k: host arrays of batch + 1 increasing offsets
 *   (first 0, last Tq / Tk); both NULL with batch == 1 means one sequence.
 *   Query i of a sequence with Lq queries and Lk keys sits at aligned position
 *   p = i + Lk - Lq and sees key j iff (!causal || j <= p) and the window allows.
 *   A query that sees no key gets out = 0 and lse = -inf.
 *   lse: float32 [Hq, Tq] or NULL: log-sum-exp of the scaled scores per query. */
NM_API nm_status nm_attention(nm_context* ctx, const nm_tensor* q, const nm_tensor* k, const nm_tensor* v,
                              const int32_t* cu_seqlens_q, const int32_t* cu_seqlens_k, int32_t batch,
                              nm_tensor* out, nm_tensor* lse, const nm_attention_params* params);

/* Writes new keys/values into a preallocated cache. k_cache, v_cache:
 * [slots, capacity, Hkv, Dh]; k, v: [count, Hkv, Dh], same dtype as the cache;
 * row i goes to cache[slots[i], positions[i]] (host arrays of count entries,
 * slot < slots, position < capacity). */
NM_API nm_status nm_kv_cache_append(nm_context* ctx, nm_tensor* k_cache, nm_tensor* v_cache,
                                    const nm_tensor* k, const nm_tensor* v, const int32_t* slots,
                                    const int32_t* positions, int64_t count);

/* Decode attention against the cache (split-KV, flash-decoding). q, out:
 * [batch * queries, Hq, Dh]: sequence b's `queries` newest tokens, whose keys
 * are already in the cache; sequence b lives in slot slots[b] and has
 * cache_lens[b] >= queries valid positions (host arrays of batch entries).
 * Same masking as nm_attention with Lq = queries, Lk = cache_lens[b]. */
NM_API nm_status nm_attention_decode(nm_context* ctx, const nm_tensor* q, const nm_tensor* k_cache,
                                     const nm_tensor* v_cache, const int32_t* slots, const int32_t* cache_lens,
                                     int32_t batch, int32_t queries, nm_tensor* out,
                                     const nm_attention_params* params);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* NATIVEMODELS_H */
