// selective_scan_bench.cpp — times nm_selective_scan (prefill) and
// nm_selective_state_update (decode) through the public C ABI.
//
//   selective_scan_bench [--backend cuda] [--quick] [--repeats R] [--md FILE] [--csv FILE]
//
// For each shape: warm-up, then R timed calls (each followed by
// nm_context_synchronize, timed with a steady host clock), median reported.
// Bytes = every input read once + every output written once:
//   prefill: u, delta, z (B*L*D elements), B, C (B*L*N), A (D*N float32),
//            D skip and delta_bias (D), out (B*L*D), final_state (B*D*N float32)
//   decode:  x, dt, z, out (B*D), B, C (B*N), A, state read and written (B*D*N float32)
// and GB/s is bytes / median time. "% copy" relates it to a device-to-device
// nm_tensor_copy of a 1 GiB tensor (read + write counted) on the same context.
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

struct Row {
    std::string kind, dtype;
    int64_t batch, length, channels, state;
    double ms, gbps, pct;
};

}  // namespace

int main(int argc, char** argv) {
    const char* backend = "cuda";
    const char* md_path = nullptr;
    const char* csv_path = nullptr;
    bool quick = false;
    int repeats = 10;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--backend") && i + 1 < argc) backend = argv[++i];
        else if (!std::strcmp(argv[i], "--md") && i + 1 < argc) md_path = argv[++i];
        else if (!std::strcmp(argv[i], "--csv") && i + 1 < argc) csv_path = argv[++i];
        else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--quick")) quick = true;
        else {
            std::fprintf(stderr, "usage: %s [--backend cuda|cpu] [--quick] [--repeats R] [--md FILE] [--csv FILE]\n", argv[0]);
            return 2;
        }
    }
    nm_context* ctx = nullptr;
    check(nm_context_create(backend, &ctx), "nm_context_create");
    const double copy_gbps = copy_bandwidth(ctx, repeats);
    std::fprintf(stderr, "device-to-device copy: %.1f GB/s\n", copy_gbps);

    const int64_t N = 16;
    std::vector<int64_t> batches = quick ? std::vector<int64_t>{1, 4} : std::vector<int64_t>{1, 4, 16};
    std::vector<int64_t> dims = quick ? std::vector<int64_t>{1536} : std::vector<int64_t>{1536, 2560, 5120};
    std::vector<int64_t> lengths = quick ? std::vector<int64_t>{512, 2048} : std::vector<int64_t>{512, 2048, 16384};
    const double max_bytes = 24e9;  // skip shapes whose tensors would exceed this
    std::vector<Row> rows;

    for (nm_dtype dtype : {NM_DTYPE_BF16, NM_DTYPE_F32}) {
        const double es = double(nm_dtype_size(dtype));
        for (int64_t B : batches)
            for (int64_t D : dims)
                for (int64_t L : lengths) {
                    const double tokens = double(B) * double(L) * double(D);
                    const double bytes = 4 * tokens * es + 2 * double(B) * double(L) * N * es + double(D) * N * 4 +
                                         2 * double(D) * es + double(B) * double(D) * N * 4;
                    if (bytes > max_bytes) continue;
                    Handle u, delta, z, a, bm, cm, skip, bias, out, fin;
                    make(ctx, u, dtype, {B, L, D}, -1.f, 1.f);
                    make(ctx, delta, dtype, {B, L, D}, -3.f, 0.5f);
                    make(ctx, z, dtype, {B, L, D}, -2.f, 2.f);
                    make(ctx, a, NM_DTYPE_F32, {D, N}, -2.f, -0.2f);
                    make(ctx, bm, dtype, {B, L, 1, N}, -1.f, 1.f);
                    make(ctx, cm, dtype, {B, L, 1, N}, -1.f, 1.f);
                    make(ctx, skip, dtype, {D}, -1.f, 1.f);
                    make(ctx, bias, dtype, {D}, -0.5f, 0.5f);
                    make(ctx, out, dtype, {B, L, D}, 0.f, 0.f);
                    make(ctx, fin, NM_DTYPE_F32, {B, D, N}, 0.f, 0.f);
                    nm_ssm_options opt{skip.t, z.t, bias.t, 1};
                    const double ms = median_ms(ctx, repeats, [&] {
                        check(nm_selective_scan(ctx, u.t, delta.t, a.t, bm.t, cm.t, &opt, nullptr, out.t, fin.t),
                              "nm_selective_scan");
                    });
                    const double gbps = bytes / (ms * 1e6);
                    rows.push_back({"prefill", nm_dtype_name(dtype), B, L, D, N, ms, gbps, 100.0 * gbps / copy_gbps});
                    std::fprintf(stderr, "prefill %s B=%lld L=%lld D=%lld: %.3f ms\n", nm_dtype_name(dtype),
                                 (long long)B, (long long)L, (long long)D, ms);
                }
        for (int64_t B : {int64_t(1), int64_t(16), int64_t(64)})
            for (int64_t D : {int64_t(1536), int64_t(5120)}) {
                Handle state, x, dt, z, a, bm, cm, skip, bias, out;
                make(ctx, state, NM_DTYPE_F32, {B, D, N}, -1.f, 1.f);
                make(ctx, x, dtype, {B, D}, -1.f, 1.f);
                make(ctx, dt, dtype, {B, D}, -3.f, 0.5f);
                make(ctx, z, dtype, {B, D}, -2.f, 2.f);
                make(ctx, a, NM_DTYPE_F32, {D, N}, -2.f, -0.2f);
                make(ctx, bm, dtype, {B, 1, N}, -1.f, 1.f);
                make(ctx, cm, dtype, {B, 1, N}, -1.f, 1.f);
                make(ctx, skip, dtype, {D}, -1.f, 1.f);
                make(ctx, bias, dtype, {D}, -0.5f, 0.5f);
                make(ctx, out, dtype, {B, D}, 0.f, 0.f);
                nm_ssm_options opt{skip.t, z.t, bias.t, 1};
                const double ms = median_ms(ctx, std::max(repeats, 50), [&] {
                    check(nm_selective_state_update(ctx, state.t, x.t, dt.t, a.t, bm.t, cm.t, &opt, out.t),
                          "nm_selective_state_update");
                });
                const double bytes = 4 * double(B) * double(D) * es + 2 * double(B) * N * es + double(D) * N * 4 +
                                     2 * double(D) * es + 2 * double(B) * double(D) * N * 4;
                const double gbps = bytes / (ms * 1e6);
                rows.push_back({"decode", nm_dtype_name(dtype), B, 1, D, N, ms, gbps, 100.0 * gbps / copy_gbps});
            }
    }

    std::string md = "| op | dtype | B | L | D | N | ms | GB/s | % of copy |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
    std::string csv = "op,dtype,B,L,D,N,ms,gbps,pct_copy\n";
    char line[256];
    for (const Row& r : rows) {
        std::snprintf(line, sizeof line, "| %s | %s | %lld | %lld | %lld | %lld | %.4f | %.1f | %.1f |\n",
                      r.kind.c_str(), r.dtype.c_str(), (long long)r.batch, (long long)r.length,
                      (long long)r.channels, (long long)r.state, r.ms, r.gbps, r.pct);
        md += line;
        std::snprintf(line, sizeof line, "%s,%s,%lld,%lld,%lld,%lld,%.5f,%.2f,%.2f\n", r.kind.c_str(),
                      r.dtype.c_str(), (long long)r.batch, (long long)r.length, (long long)r.channels,
                      (long long)r.state, r.ms, r.gbps, r.pct);
        csv += line;
    }
    std::snprintf(line, sizeof line, "\nDevice-to-device copy (nm_tensor_copy, 1 GiB, read + write): %.1f GB/s\n", copy_gbps);
    md += line;
    std::fputs(md.c_str(), stdout);
    if (md_path) {
        FILE* f = std::fopen(md_path, "w");
        if (f) { std::fputs(md.c_str(), f); std::fclose(f); }
    }
    if (csv_path) {
        FILE* f = std::fopen(csv_path, "w");
        if (f) { std::fputs(csv.c_str(), f); std::fclose(f); }
    }
    nm_context_destroy(ctx);
    return 0;
}
