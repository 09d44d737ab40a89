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

#include "nativemodels.h"

namespace {

struct Handle {
    nm_tensor* t = nullptr;
    Handle() = default;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { nm_tensor_destroy(t); }
};

void check(nm_status st, const char* what) {
    if (st != NM_OK) {
        std::fprintf(stderr, "%s failed: %s: %s\n", what, nm_status_name(st), nm_last_error());
        std::exit(1);
    }
}

// A tensor of `dtype` filled with small values v (so the recurrence stays finite).
void make(nm_context* ctx, Handle& h, nm_dtype dtype, std::vector<int64_t> shape, float lo, float hi) {
    check(nm_tensor_create(ctx, dtype, int32_t(shape.size()), shape.data(), &h.t), "nm_tensor_create");
    nm_tensor_info info{};
    check(nm_tensor_get_info(h.t, &info), "nm_tensor_get_info");
    // Upload a 1 MiB pattern repeatedly (cheap for multi-GiB tensors).
    const size_t es = nm_dtype_size(dtype);
    const size_t pattern_elems = std::min<size_t>(size_t(info.numel), size_t(1) << 18);
    std::vector<unsigned char> pattern(pattern_elems * es);
    uint32_t s = 12345u;
    for (size_t i = 0; i < pattern_elems; ++i) {
        s = s * 1664525u + 1013904223u;
        const float v = lo + (hi - lo) * float(s >> 8) / float(1u << 24);
        if (dtype == NM_DTYPE_F32) {
            std::memcpy(&pattern[i * 4], &v, 4);
        } else {
            uint32_t bits;
            std::memcpy(&bits, &v, 4);
            uint16_t half;
            if (dtype == NM_DTYPE_BF16) {
                half = uint16_t((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
            } else {  // float16, values are small and normal: truncating conversion is enough here
                const int32_t e = int32_t((bits >> 23) & 0xff) - 127 + 15;
                half = uint16_t(((bits >> 16) & 0x8000u) | (e <= 0 ? 0u : (uint32_t(e) << 10) | ((bits >> 13) & 0x3ffu)));
            }
            std::memcpy(&pattern[i * 2], &half, 2);
        }
    }
    for (uint64_t off = 0; off < info.nbytes; off += pattern.size()) {
        const uint64_t n = std::min<uint64_t>(pattern.size(), info.nbytes - off);
        check(nm_tensor_upload(h.t, off, pattern.data(), n), "nm_tensor_upload");
    }
}

template <class F>
double median_ms(nm_context* ctx, int repeats, F&& call) {
    for (int i = 0; i < 2; ++i) call();  // warm-up
    check(nm_context_synchronize(ctx), "nm_context_synchronize");
    std::vector<double> ms;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        call();
        check(nm_context_synchronize(ctx), "nm_context_synchronize");
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

// Device-to-device copy bandwidth in GB/s (bytes read + bytes written).
double copy_bandwidth(nm_context* ctx, int repeats) {
    const int64_t n = int64_t(1) << 28;  // 2^28 float32 = 1 GiB
    Handle a, b;
    make(ctx, a, NM_DTYPE_F32, {n}, 0.f, 1.f);
    make(ctx, b, NM_DTYPE_F32, {n}, 0.f, 1.f);
    const double ms = median_ms(ctx, repeats, [&] { check(nm_tensor_copy(b.t, a.t), "nm_tensor_copy"); });
    return 2.0 * double(n) * 4.0 / (ms * 1e6);
}

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
