// sample_api.cpp — nm_sample: validates logits and the sampling parameters;
// the algorithm itself (docs/sampling.md) lives in the backends.
#include <climits>
#include <cmath>

#include "validate.h"

using namespace nm;

namespace {

nm_status check_params(const nm_sampling_params& params) {
    if (std::isnan(params.temperature))
        return set_error(NM_ERR_INVALID_ARGUMENT, "params->temperature: is NaN (use <= 0 for greedy)");
    if (params.top_k < 0)
        return set_error(NM_ERR_INVALID_ARGUMENT, "params->top_k: must be >= 0 (0 = off), got %d", params.top_k);
    if (std::isnan(params.top_p) || params.top_p <= 0.f)
        return set_error(NM_ERR_INVALID_ARGUMENT, "params->top_p: must be > 0 (>= 1 = off), got %g",
                         double(params.top_p));
    return NM_OK;
}

}  // namespace

extern "C" NM_API nm_status nm_sample(nm_context* ctx, const nm_tensor* logits, const nm_sampling_params* params,
                                      uint64_t seed, uint64_t step, int32_t* tokens, int64_t tokens_count) {
    return guard([&]() -> nm_status {
        NM_TRY(check_context(ctx));
        SampleArgs args;
        NM_TRY(require(ctx, logits, "logits", &args.logits));
        NM_TRY(check_not_null(params, "params"));
        NM_TRY(check_not_null(tokens, "tokens"));
        NM_TRY(check_float(args.logits, "logits"));
        NM_TRY(check_rank(args.logits, "logits", 1, 2));
        rows_cols(args.logits, &args.rows, &args.vocab);
        if (args.vocab > INT32_MAX)
            return set_error(NM_ERR_SHAPE, "logits: vocabulary of %lld entries does not fit int32 token ids",
                             (long long)args.vocab);
        if (tokens_count != args.rows)
            return set_error(NM_ERR_INVALID_ARGUMENT, "tokens_count: expected %lld (one per row of logits %s), got %lld",
                             (long long)args.rows, shape_string(args.logits).c_str(), (long long)tokens_count);
        NM_TRY(check_params(*params));

        args.temperature = params->temperature;
        args.top_k = params->top_k;
        args.top_p = params->top_p;
        args.seed = seed;
        args.step = step;
        args.tokens = tokens;
        return ctx->backend->sample(args);
    });
}
