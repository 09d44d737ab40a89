// embedding_api.cpp — nm_embedding: checks the table, the host ids and out.
#include "validate.h"

using namespace nm;

extern "C" {

NM_API nm_status nm_embedding(nm_context* ctx, const nm_tensor* weight, const int32_t* ids, int64_t count,
                              nm_tensor* out) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        EmbeddingArgs e;
        NM_TRY(require(ctx, weight, "weight", &e.weight));
        NM_TRY(require(ctx, out, "out", &e.out));
        if (out == weight)
            return set_error(NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as weight");
        NM_TRY(check_float(e.weight, "weight"));
        NM_TRY(check_float(e.out, "out"));
        NM_TRY(check_rank(e.weight, "weight", 2, 2));
        if (count < 1) return set_error(NM_ERR_INVALID_ARGUMENT, "count: must be >= 1, got %lld", (long long)count);
        NM_TRY(check_not_null(ids, "ids"));

        const int64_t vocab = e.weight.shape[0], hidden = e.weight.shape[1];
        NM_TRY(check_last_dim(e.out, "out", hidden, "the hidden size of weight"));
        if (e.out.numel() != count * hidden)
            return set_error(NM_ERR_SHAPE, "out: shape %s has %lld elements, expected count * H = %lld * %lld = %lld",
                             shape_string(e.out).c_str(), (long long)e.out.numel(), (long long)count,
                             (long long)hidden, (long long)(count * hidden));
        for (int64_t i = 0; i < count; ++i)
            if (ids[i] < 0 || ids[i] >= vocab)
                return set_error(NM_ERR_INVALID_ARGUMENT, "ids: ids[%lld] = %d is out of range [0, %lld)",
                                 (long long)i, ids[i], (long long)vocab);
        e.ids = ids;
        e.count = count;
        e.hidden = hidden;
        return ctx->backend->embedding(e);
    });
}

}  // extern "C"
