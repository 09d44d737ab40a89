// attention_api.cpp — nm_attention (varlen prefill) and nm_attention_decode
// (against the KV cache): validation of tensors, sequence offsets and masking
// parameters, resolved into AttentionArgs / AttentionDecodeArgs.
//
// Resolution rules (docs/attention.md): softmax_scale <= 0 becomes
// 1 / sqrt(head_dim); causal forces window_right = 0, so backends only look at
// the two window bounds.
#include <cmath>

#include "validate.h"

using namespace nm;

namespace {

// softmax_scale, causal and the window, resolved; params must not be NULL.
nm_status resolve_params(const nm_attention_params* params, int64_t head_dim, float* scale, bool* causal,
                         int32_t* window_left, int32_t* window_right) {
    NM_TRY(check_not_null(params, "params"));
    if (std::isnan(params->softmax_scale) || std::isinf(params->softmax_scale))
        return set_error(NM_ERR_INVALID_ARGUMENT, "params->softmax_scale: must be finite, got %g",
                         params->softmax_scale);
    if (params->window_left < -1)
        return set_error(NM_ERR_INVALID_ARGUMENT, "params->window_left: must be >= 0 or -1 (no limit), got %d",
                         params->window_left);
    if (params->window_right < -1)
        return set_error(NM_ERR_INVALID_ARGUMENT, "params->window_right: must be >= 0 or -1 (no limit), got %d",
                         params->window_right);
    *scale = params->softmax_scale > 0.f ? params->softmax_scale : float(1.0 / std::sqrt(double(head_dim)));
    *causal = params->causal != 0;
    *window_left = params->window_left;
    *window_right = *causal ? 0 : params->window_right;
    return NM_OK;
}

// q-like tensors [T, H, Dh] with T >= 0 and H, Dh >= 1.
nm_status check_tokens_heads_dim(const TensorView& t, const char* name, const char* what) {
    NM_TRY(check_float(t, name));
    NM_TRY(check_rank(t, name, 3, 3));
    if (t.shape[1] < 1 || t.shape[2] < 1)
        return set_error(NM_ERR_SHAPE, "%s: heads and head_dim must be >= 1, got shape %s %s", name,
                         shape_string(t).c_str(), what);
    return NM_OK;
}

nm_status check_heads(int64_t heads_q, int64_t heads_kv, const char* kv_name) {
    if (heads_q % heads_kv != 0)
        return set_error(NM_ERR_SHAPE, "%s: %lld KV heads do not divide the %lld query heads", kv_name,
                         (long long)heads_kv, (long long)heads_q);
    return NM_OK;
}

nm_status check_distinct(const nm_tensor* a, const char* an, const nm_tensor* b, const char* bn) {
    if (a && a == b) return set_error(NM_ERR_INVALID_ARGUMENT, "%s: must not be the same tensor as %s", an, bn);
    return NM_OK;
}

// batch + 1 offsets: first 0, non-decreasing, last == total.
nm_status check_cu_seqlens(const int32_t* cu, const char* name, int32_t batch, int64_t total, const char* what) {
    if (cu[0] != 0) return set_error(NM_ERR_INVALID_ARGUMENT, "%s: entry 0 must be 0, got %d", name, cu[0]);
    for (int32_t i = 1; i <= batch; ++i)
        if (cu[i] < cu[i - 1])
            return set_error(NM_ERR_INVALID_ARGUMENT, "%s: offsets must be non-decreasing, entry %d (%d) < entry %d (%d)",
                             name, i, cu[i], i - 1, cu[i - 1]);
    if (int64_t(cu[batch]) != total)
        return set_error(NM_ERR_INVALID_ARGUMENT, "%s: last entry (%d) must equal %s (%lld)", name, cu[batch], what,
                         (long long)total);
    return NM_OK;
}

}  // namespace

extern "C" {

NM_API nm_status nm_attention(nm_context* ctx, const nm_tensor* q, const nm_tensor* k, const nm_tensor* v,
                              const int32_t* cu_seqlens_q, const int32_t* cu_seqlens_k, int32_t batch,
                              nm_tensor* out, nm_tensor* lse, const nm_attention_params* params) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        AttentionArgs args;
        NM_TRY(require(ctx, q, "q", &args.q));
        NM_TRY(require(ctx, k, "k", &args.k));
        NM_TRY(require(ctx, v, "v", &args.v));
        NM_TRY(require(ctx, out, "out", &args.out));
        NM_TRY(optional(ctx, lse, "lse", &args.lse));

        NM_TRY(check_tokens_heads_dim(args.q, "q", "[Tq, Hq, Dh]"));
        NM_TRY(check_tokens_heads_dim(args.k, "k", "[Tk, Hkv, Dh]"));
        NM_TRY(check_same_dtype(args.q, "q", args.k, "k"));
        NM_TRY(check_same_dtype(args.q, "q", args.v, "v"));
        NM_TRY(check_same_dtype(args.q, "q", args.out, "out"));
        args.total_q = args.q.shape[0];
        args.heads_q = args.q.shape[1];
        args.head_dim = args.q.shape[2];
        args.total_k = args.k.shape[0];
        args.heads_kv = args.k.shape[1];
        if (args.k.shape[2] != args.head_dim)
            return set_error(NM_ERR_SHAPE, "k: head_dim %lld does not match q head_dim %lld (shape %s)",
                             (long long)args.k.shape[2], (long long)args.head_dim, shape_string(args.k).c_str());
        NM_TRY(check_heads(args.heads_q, args.heads_kv, "k"));
        NM_TRY(check_same_shape(args.k, "k", args.v, "v"));
        NM_TRY(check_same_shape(args.q, "q", args.out, "out"));
        if (args.lse.present()) {
            NM_TRY(check_dtype(args.lse, "lse", NM_DTYPE_F32));
            int64_t expected[2] = {args.heads_q, args.total_q};
            NM_TRY(check_shape(args.lse, "lse", 2, expected, "[Hq, Tq]"));
        }
        // Output blocks are written while other blocks still read k and v.
        NM_TRY(check_distinct(out, "out", k, "k"));
        NM_TRY(check_distinct(out, "out", v, "v"));

        if (batch < 1) return set_error(NM_ERR_INVALID_ARGUMENT, "batch: must be >= 1, got %d", batch);
        if (!cu_seqlens_q && !cu_seqlens_k) {
            if (batch != 1)
                return set_error(NM_ERR_INVALID_ARGUMENT,
                                 "cu_seqlens_q: is NULL (one sequence) but batch is %d; pass offsets or batch = 1",
                                 batch);
        } else {
            if (!cu_seqlens_q)
                return set_error(NM_ERR_INVALID_ARGUMENT, "cu_seqlens_q: is NULL but cu_seqlens_k is not (pass both or neither)");
            if (!cu_seqlens_k)
                return set_error(NM_ERR_INVALID_ARGUMENT, "cu_seqlens_k: is NULL but cu_seqlens_q is not (pass both or neither)");
            NM_TRY(check_cu_seqlens(cu_seqlens_q, "cu_seqlens_q", batch, args.total_q, "Tq"));
            NM_TRY(check_cu_seqlens(cu_seqlens_k, "cu_seqlens_k", batch, args.total_k, "Tk"));
        }
        if (args.total_q > INT32_MAX || args.total_k > INT32_MAX)
            return set_error(NM_ERR_SHAPE, "q: at most 2^31-1 tokens per call, got Tq = %lld, Tk = %lld",
                             (long long)args.total_q, (long long)args.total_k);
        NM_TRY(resolve_params(params, args.head_dim, &args.softmax_scale, &args.causal, &args.window_left,
                              &args.window_right));
        args.cu_seqlens_q = cu_seqlens_q;
        args.cu_seqlens_k = cu_seqlens_k;
        args.batch = batch;
        return ctx->backend->attention(args);
    });
}

NM_API nm_status nm_attention_decode(nm_context* ctx, const nm_tensor* q, const nm_tensor* k_cache,
                                     const nm_tensor* v_cache, const int32_t* slots, const int32_t* cache_lens,
                                     int32_t batch, int32_t queries, nm_tensor* out,
                                     const nm_attention_params* params) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        AttentionDecodeArgs args;
        NM_TRY(require(ctx, q, "q", &args.q));
        NM_TRY(require(ctx, k_cache, "k_cache", &args.k_cache));
        NM_TRY(require(ctx, v_cache, "v_cache", &args.v_cache));
        NM_TRY(require(ctx, out, "out", &args.out));

        if (batch < 1) return set_error(NM_ERR_INVALID_ARGUMENT, "batch: must be >= 1, got %d", batch);
        if (queries < 1) return set_error(NM_ERR_INVALID_ARGUMENT, "queries: must be >= 1, got %d", queries);
        NM_TRY(check_tokens_heads_dim(args.q, "q", "[batch * queries, Hq, Dh]"));
        if (args.q.shape[0] != int64_t(batch) * queries)
            return set_error(NM_ERR_SHAPE, "q: dim 0 must be batch * queries = %lld, got shape %s",
                             (long long)(int64_t(batch) * queries), shape_string(args.q).c_str());
        NM_TRY(check_float(args.k_cache, "k_cache"));
        NM_TRY(check_rank(args.k_cache, "k_cache", 4, 4));
        NM_TRY(check_same_dtype(args.q, "q", args.k_cache, "k_cache"));
        NM_TRY(check_same_dtype(args.q, "q", args.v_cache, "v_cache"));
        NM_TRY(check_same_dtype(args.q, "q", args.out, "out"));
        args.heads_q = args.q.shape[1];
        args.head_dim = args.q.shape[2];
        args.num_slots = args.k_cache.shape[0];
        args.capacity = args.k_cache.shape[1];
        args.heads_kv = args.k_cache.shape[2];
        if (args.heads_kv < 1)
            return set_error(NM_ERR_SHAPE, "k_cache: Hkv must be >= 1, got shape %s", shape_string(args.k_cache).c_str());
        if (args.k_cache.shape[3] != args.head_dim)
            return set_error(NM_ERR_SHAPE, "k_cache: head_dim %lld does not match q head_dim %lld (shape %s)",
                             (long long)args.k_cache.shape[3], (long long)args.head_dim,
                             shape_string(args.k_cache).c_str());
        NM_TRY(check_heads(args.heads_q, args.heads_kv, "k_cache"));
        NM_TRY(check_same_shape(args.k_cache, "k_cache", args.v_cache, "v_cache"));
        NM_TRY(check_same_shape(args.q, "q", args.out, "out"));
        NM_TRY(check_distinct(out, "out", k_cache, "k_cache"));
        NM_TRY(check_distinct(out, "out", v_cache, "v_cache"));

        NM_TRY(check_not_null(slots, "slots"));
        NM_TRY(check_not_null(cache_lens, "cache_lens"));
        for (int32_t b = 0; b < batch; ++b) {
            if (slots[b] < 0 || int64_t(slots[b]) >= args.num_slots)
                return set_error(NM_ERR_INVALID_ARGUMENT, "slots: entry %d (%d) is outside [0, %lld)", b, slots[b],
                                 (long long)args.num_slots);
            if (cache_lens[b] < queries || int64_t(cache_lens[b]) > args.capacity)
                return set_error(NM_ERR_INVALID_ARGUMENT,
                                 "cache_lens: entry %d (%d) is outside [queries, capacity] = [%d, %lld]", b,
                                 cache_lens[b], queries, (long long)args.capacity);
        }
        NM_TRY(resolve_params(params, args.head_dim, &args.softmax_scale, &args.causal, &args.window_left,
                              &args.window_right));
        args.slots = slots;
        args.cache_lens = cache_lens;
        args.batch = batch;
        args.queries = queries;
        return ctx->backend->attention_decode(args);
    });
}

}  // extern "C"
