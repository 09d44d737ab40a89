// attention_bench.cpp — times nm_attention (varlen prefill) and
// nm_attention_decode (split-KV against the cache) through the public C ABI.
//
//   attention_bench [--backend cuda] [--quick] [--repeats R] [--md FILE] [--csv FILE]
//
// Prefill: bfloat16, head_dim 64 and 128, causal and not, sequence length L
// from 512 to 16384; batch * L = 16384 tokens and Hq = Hkv = 2048 / head_dim
// heads (a 2048-wide model), so every shape fills the GPU with the same work
// per token. FLOPs = 4 * L * L * Dh * heads * batch, halved when causal (the
// usual FlashAttention convention); TFLOP/s = FLOPs / median time.
// Decode: bfloat16, Hq = 32, Hkv = 8, Dh = 128, batch 8, one query per
// sequence, context 1k..32k; GB/s counts the K and V bytes read
// (2 * batch * context * Hkv * Dh * 2) and is compared with the bandwidth of a
// device-to-device nm_tensor_copy of 1 GiB (read + write counted).
// Each row: 2 warm-up calls, then R timed calls, each followed by
// nm_context_synchronize (steady host clock); the median is reported.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"
#include "nativemodels.h"

namespace {

using bench::check;
using bench::copy_bandwidth;
using bench::Handle;
using bench::make;
using bench::median_ms;

}  // namespace

int main(int argc, char** argv) {
    std::string backend = "cuda", md, csv;
    bool quick = false;
    int repeats = 10;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--backend" && i + 1 < argc) backend = argv[++i];
        else if (a == "--quick") quick = true;
        else if (a == "--repeats" && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
        else if (a == "--md" && i + 1 < argc) md = argv[++i];
        else if (a == "--csv" && i + 1 < argc) csv = argv[++i];
        else {
            std::fprintf(stderr, "usage: %s [--backend cuda|cpu] [--quick] [--repeats R] [--md FILE] [--csv FILE]\n",
                         argv[0]);
            return 2;
        }
    }
    nm_context* ctx = nullptr;
    check(nm_context_create(backend.c_str(), &ctx), "nm_context_create");
    const nm_dtype dtype = NM_DTYPE_BF16;

    std::string table = "| kind | causal | Dh | L / context | batch | Hq | Hkv | ms | TFLOP/s | GB/s | % of copy |\n"
                        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    std::string rows_csv = "kind,causal,head_dim,length,batch,heads_q,heads_kv,ms,tflops,gbps,pct_copy\n";
    auto add = [&](const char* kind, int causal, int64_t d, int64_t L, int64_t B, int64_t hq, int64_t hkv, double ms,
                   double tflops, double gbps, double pct) {
        char line[512];
        std::snprintf(line, sizeof line, "| %s | %s | %lld | %lld | %lld | %lld | %lld | %.3f | %s | %s | %s |\n", kind,
                      causal ? "yes" : "no", (long long)d, (long long)L, (long long)B, (long long)hq, (long long)hkv, ms,
                      tflops > 0 ? std::to_string(tflops).substr(0, 6).c_str() : "",
                      gbps > 0 ? std::to_string(gbps).substr(0, 7).c_str() : "",
                      pct > 0 ? std::to_string(pct).substr(0, 5).c_str() : "");
        table += line;
        std::snprintf(line, sizeof line, "%s,%d,%lld,%lld,%lld,%lld,%lld,%.4f,%.3f,%.1f,%.1f\n", kind, causal,
                      (long long)d, (long long)L, (long long)B, (long long)hq, (long long)hkv, ms, tflops, gbps, pct);
        rows_csv += line;
    };

    // ---- prefill
    const std::vector<int64_t> lengths = quick ? std::vector<int64_t>{512, 2048} :
                                                 std::vector<int64_t>{512, 1024, 2048, 4096, 8192, 16384};
    const int64_t tokens = 16384;
    for (int64_t d : {64, 128}) {
        const int64_t heads = 2048 / d;
        Handle q, k, v, out;
        make(ctx, q, dtype, {tokens, heads, d});
        make(ctx, k, dtype, {tokens, heads, d});
        make(ctx, v, dtype, {tokens, heads, d});
        make(ctx, out, dtype, {tokens, heads, d});
        for (int64_t L : lengths) {
            const int64_t B = tokens / L;
            std::vector<int32_t> cu(static_cast<size_t>(B) + 1);
            for (int64_t b = 0; b <= B; ++b) cu[size_t(b)] = int32_t(b * L);
            for (int causal : {0, 1}) {
                nm_attention_params p{0.f, causal, -1, -1};
                const double ms = median_ms(ctx, repeats, [&] {
                    check(nm_attention(ctx, q.t, k.t, v.t, cu.data(), cu.data(), int32_t(B), out.t, nullptr, &p),
                          "nm_attention");
                });
                double flops = 4.0 * double(L) * double(L) * double(d) * double(heads) * double(B);
                if (causal) flops /= 2;
                add("prefill", causal, d, L, B, heads, heads, ms, flops / (ms * 1e9), 0, 0);
                std::fprintf(stderr, "prefill d=%lld L=%lld causal=%d: %.3f ms, %.1f TFLOP/s\n", (long long)d,
                             (long long)L, causal, ms, flops / (ms * 1e9));
            }
        }
    }

    // ---- decode
    const double copy_gbps = backend == "cpu" ? 0 : copy_bandwidth(ctx, repeats);
    std::fprintf(stderr, "device-to-device copy: %.1f GB/s\n", copy_gbps);
    const int64_t B = 8, hq = 32, hkv = 8, d = 128;
    const std::vector<int64_t> contexts = quick ? std::vector<int64_t>{1024, 8192} :
                                                  std::vector<int64_t>{1024, 2048, 4096, 8192, 16384, 32768};
    const int64_t capacity = contexts.back();
    Handle kc, vc, q, out;
    make(ctx, kc, dtype, {B, capacity, hkv, d});
    make(ctx, vc, dtype, {B, capacity, hkv, d});
    make(ctx, q, dtype, {B, hq, d});
    make(ctx, out, dtype, {B, hq, d});
    std::vector<int32_t> slots(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) slots[size_t(b)] = int32_t(b);
    for (int64_t ctx_len : contexts) {
        std::vector<int32_t> lens(static_cast<size_t>(B), int32_t(ctx_len));
        nm_attention_params p{0.f, 1, -1, -1};
        const double ms = median_ms(ctx, std::max(repeats, 50), [&] {
            check(nm_attention_decode(ctx, q.t, kc.t, vc.t, slots.data(), lens.data(), int32_t(B), 1, out.t, &p),
                  "nm_attention_decode");
        });
        const double bytes = 2.0 * double(B) * double(ctx_len) * double(hkv) * double(d) * 2.0;
        const double gbps = bytes / (ms * 1e6);
        add("decode", 1, d, ctx_len, B, hq, hkv, ms, 0, gbps, copy_gbps > 0 ? 100.0 * gbps / copy_gbps : 0);
        std::fprintf(stderr, "decode context=%lld: %.3f ms, %.1f GB/s\n", (long long)ctx_len, ms, gbps);
    }

    std::printf("%s", table.c_str());
    if (!md.empty()) {
        FILE* f = std::fopen(md.c_str(), "w");
        if (f) {
            std::fprintf(f, "device-to-device copy: %.1f GB/s\n\n%s", copy_gbps, table.c_str());
            std::fclose(f);
        }
    }
    if (!csv.empty()) {
        FILE* f = std::fopen(csv.c_str(), "w");
        if (f) {
            std::fputs(rows_csv.c_str(), f);
            std::fclose(f);
        }
    }
    nm_context_destroy(ctx);
    return 0;
}
