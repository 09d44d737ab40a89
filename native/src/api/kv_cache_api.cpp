// kv_cache_api.cpp — nm_kv_cache_append: validation of the cache, the new
// rows and their (slot, position) destinations, resolved into KvCacheAppendArgs.
#include "validate.h"

using namespace nm;

extern "C" NM_API nm_status nm_kv_cache_append(nm_context* ctx, nm_tensor* k_cache, nm_tensor* v_cache,
                                               const nm_tensor* k, const nm_tensor* v, const int32_t* slots,
                                               const int32_t* positions, int64_t count) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        KvCacheAppendArgs args;
        NM_TRY(require(ctx, k_cache, "k_cache", &args.k_cache));
        NM_TRY(require(ctx, v_cache, "v_cache", &args.v_cache));
        NM_TRY(require(ctx, k, "k", &args.k));
        NM_TRY(require(ctx, v, "v", &args.v));

        NM_TRY(check_float(args.k_cache, "k_cache"));
        NM_TRY(check_rank(args.k_cache, "k_cache", 4, 4));
        NM_TRY(check_same_shape(args.k_cache, "k_cache", args.v_cache, "v_cache"));
        NM_TRY(check_same_dtype(args.k_cache, "k_cache", args.v_cache, "v_cache"));
        NM_TRY(check_same_dtype(args.k_cache, "k_cache", args.k, "k"));
        NM_TRY(check_same_dtype(args.k_cache, "k_cache", args.v, "v"));
        if (k_cache == v_cache)
            return set_error(NM_ERR_INVALID_ARGUMENT, "v_cache: must not be the same tensor as k_cache");
        args.num_slots = args.k_cache.shape[0];
        args.capacity = args.k_cache.shape[1];
        args.heads_kv = args.k_cache.shape[2];
        args.head_dim = args.k_cache.shape[3];

        if (count < 0) return set_error(NM_ERR_INVALID_ARGUMENT, "count: must be >= 0, got %lld", (long long)count);
        int64_t expected[3] = {count, args.heads_kv, args.head_dim};
        NM_TRY(check_shape(args.k, "k", 3, expected, "[count, Hkv, Dh]"));
        NM_TRY(check_shape(args.v, "v", 3, expected, "[count, Hkv, Dh]"));
        if (count > 0) {
            NM_TRY(check_not_null(slots, "slots"));
            NM_TRY(check_not_null(positions, "positions"));
        }
        for (int64_t i = 0; i < count; ++i) {
            if (slots[i] < 0 || int64_t(slots[i]) >= args.num_slots)
                return set_error(NM_ERR_INVALID_ARGUMENT, "slots: entry %lld (%d) is outside [0, %lld)", (long long)i,
                                 slots[i], (long long)args.num_slots);
            if (positions[i] < 0 || int64_t(positions[i]) >= args.capacity)
                return set_error(NM_ERR_INVALID_ARGUMENT, "positions: entry %lld (%d) is outside [0, %lld)",
                                 (long long)i, positions[i], (long long)args.capacity);
        }
        args.slots = slots;
        args.positions = positions;
        args.count = count;
        return ctx->backend->kv_cache_append(args);
    });
}
