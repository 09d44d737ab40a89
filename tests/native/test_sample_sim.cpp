// test_sample_sim.cpp — the CUDA sampler (sample_kernel) run on the CPU
// under the warp-level simulator (cuda_sim/): its tokens must be exactly the
// CPU backend's (docs/sampling.md), for greedy, temperature, top-k (ties at
// the k-th value), top-p and both together, vocabularies smaller than the
// block, uneven per-thread chunks, every float dtype, special values (NaN,
// infinities, signed zeros) and rows without a finite value.
//
// The launch is configured by the host helpers CudaBackend::sample uses
// (sample_kernel.cuh).
#include "cuda_sim.h"  // first: the CUDA names the kernel source uses

#include "cuda/sample_kernel.cuh"

#include <string>
#include <vector>

#include "test_reference.h"
#include "test_util.h"

using namespace nmtest;

namespace {

struct Outcome {
    nm_status status = NM_OK;
    std::vector<int32_t> tokens;
};

Outcome run_cpu(nm_dtype dtype, int64_t rows, int64_t vocab, const std::vector<float>& logits,
                const nm_sampling_params& p, uint64_t seed, uint64_t step) {
    Context ctx("cpu");
    Tensor t = make_tensor(ctx, dtype, {rows, vocab}, logits);
    Outcome o;
    o.tokens.assign(size_t(rows), -7);
    o.status = nm_sample(ctx, t, &p, seed, step, o.tokens.data(), rows);
    return o;
}

// CudaBackend::sample under the simulator: status as the host code derives it.
Outcome run_sim(nm_dtype dtype, int64_t rows, int64_t vocab, const std::vector<float>& logits,
                const nm_sampling_params& p, uint64_t seed, uint64_t step) {
    sim::DeviceBuffer dev(size_t(rows * vocab) * size_t(nm_dtype_size(dtype)));
    for (size_t i = 0; i < logits.size(); ++i) nm::store_float(dev.data(), dtype, int64_t(i), logits[i]);
    sim::DeviceBuffer ws(size_t(rows) * 2 * sizeof(int32_t));
    nm::SampleArgs args;
    args.logits.dtype = dtype;
    args.logits.ndim = 2;
    args.logits.shape[0] = rows;
    args.logits.shape[1] = vocab;
    args.logits.data = dev.data();
    args.rows = rows, args.vocab = vocab;
    args.temperature = p.temperature, args.top_k = p.top_k, args.top_p = p.top_p;
    args.seed = seed, args.step = step;
    const nm::SampleParams sp = nm::sample_params(args, ws.as<int32_t>());
    const nm::SampleLaunch l = nm::sample_launch(args);
    sim::launch(l.kernel, l.grid, l.block, 0, sp);
    Outcome o;
    const int32_t* host = ws.as<int32_t>();
    for (int64_t r = 0; r < rows; ++r)
        if (host[rows + r] != 0) o.status = NM_ERR_INVALID_ARGUMENT;
    if (o.status == NM_OK) o.tokens.assign(host, host + rows);
    else o.tokens.assign(size_t(rows), -7);
    return o;
}

void check_same(const char* what, nm_dtype dtype, int64_t rows, int64_t vocab, const std::vector<float>& logits,
                const nm_sampling_params& p, uint64_t seed, uint64_t step) {
    SCOPED_TRACE(std::string(what) + " " + nm_dtype_name(dtype) + " V=" + std::to_string(vocab) +
                 " T=" + std::to_string(p.temperature) + " k=" + std::to_string(p.top_k) +
                 " p=" + std::to_string(p.top_p) + " seed=" + std::to_string(seed));
    const Outcome want = run_cpu(dtype, rows, vocab, logits, p, seed, step);
    Outcome got;
    try {
        got = run_sim(dtype, rows, vocab, logits, p, seed, step);
    } catch (const sim::Error& e) {
        FAIL() << e.what();
    }
    EXPECT_EQ(got.status, want.status);
    if (want.status == NM_OK) {
        EXPECT_EQ(got.tokens, want.tokens);  // on failure no token is specified
    }
}

// Logits with few distinct values (ties everywhere, also at the k-th value).
std::vector<float> quantised(size_t n, uint32_t seed, float step) {
    std::vector<float> v = random_floats(n, seed, -4.f, 4.f);
    for (float& x : v) x = std::round(x / step) * step;
    return v;
}

TEST(SampleSim, MatchesCpuBackendExactly) {
    const nm_sampling_params settings[] = {
        {0.f, 0, 1.f},      // greedy
        {1.f, 1, 1.f},      // top-k 1: greedy
        {1.f, 0, 1.f},      // plain temperature
        {0.7f, 5, 1.f},     // top-k
        {1.3f, 0, 0.9f},    // top-p
        {0.8f, 40, 0.5f},   // both
        {2.5f, 3, 0.05f},   // top-p keeps only the top
        {1.f, 1000000, 0.999f},  // k beyond the vocabulary
    };
    uint64_t seed = 1;
    for (int64_t vocab : {1, 7, 1024, 1500, 4099}) {
        const int64_t rows = 3;
        const std::vector<float> smooth = random_floats(size_t(rows * vocab), uint32_t(vocab), -6.f, 6.f);
        const std::vector<float> ties = quantised(size_t(rows * vocab), uint32_t(vocab) + 1, 0.5f);
        for (const nm_sampling_params& p : settings)
            for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16}) {
                check_same("smooth", dtype, rows, vocab, smooth, p, seed, 3);
                check_same("ties", dtype, rows, vocab, ties, p, seed + 100, 4);
                ++seed;
            }
    }
}

TEST(SampleSim, LargeVocabularyAndFloat16) {
    const int64_t rows = 2, vocab = 50000;
    const std::vector<float> logits = random_floats(size_t(rows * vocab), 77, -10.f, 10.f);
    for (const nm_sampling_params& p : {nm_sampling_params{1.f, 50, 0.9f}, nm_sampling_params{0.6f, 0, 0.95f},
                                        nm_sampling_params{1.f, 0, 1.f}})
        for (uint64_t seed : {11ull, 12ull}) check_same("large", NM_DTYPE_F16, rows, vocab, logits, p, seed, 9);
}

// The same logits in many rows: each row draws with its own counter, so the
// kept sets (thresholds of top-k and top-p) show in the tokens drawn.
TEST(SampleSim, ManyDrawsOfOneRow) {
    const int64_t rows = 48;
    for (int64_t vocab : {300, 1500}) {
        const std::vector<float> smooth = random_floats(size_t(vocab), 31, -3.f, 3.f);
        const std::vector<float> ties = quantised(size_t(vocab), 32, 0.25f);
        for (const auto* base : {&smooth, &ties}) {
            std::vector<float> logits;
            for (int64_t r = 0; r < rows; ++r) logits.insert(logits.end(), base->begin(), base->end());
            for (const nm_sampling_params& p : {nm_sampling_params{1.f, 7, 1.f}, nm_sampling_params{1.f, 0, 0.3f},
                                                nm_sampling_params{0.5f, 25, 0.8f}})
                check_same(base == &ties ? "many draws, ties" : "many draws", NM_DTYPE_F32, rows, vocab, logits, p,
                           42, 1);
        }
    }
}

// (seed 0, step) whose row 0 draws t == target out of `total` (inverting the
// counter-based generator of core/sample_rng.h).
uint64_t undo_xorshift(uint64_t y, int s) {
    uint64_t x = y;
    for (int i = 0; i < 64 / s + 1; ++i) x = y ^ (x >> s);
    return x;
}
uint64_t inverse_odd(uint64_t c) {
    uint64_t inv = c;
    for (int i = 0; i < 6; ++i) inv *= 2 - c * inv;
    return inv;
}
uint64_t unsplitmix64(uint64_t y) {
    y = undo_xorshift(y, 31) * inverse_odd(0x94D049BB133111EBull);
    y = undo_xorshift(y, 27) * inverse_odd(0xBF58476D1CE4E5B9ull);
    return undo_xorshift(y, 30) - 0x9E3779B97F4A7C15ull;
}
uint64_t step_for_draw(uint64_t target, uint64_t total) {
    const uint64_t x = uint64_t(((static_cast<unsigned __int128>(target) << 64) + total - 1) / total);
    return unsplitmix64(unsplitmix64(x) ^ 0) ^ nm::splitmix64(0);
}

// Draws that land exactly on the boundaries between tokens, and between the
// contiguous chunks of the 1024 threads (3 tokens each for V = 3000).
TEST(SampleSim, DrawsOnMassBoundaries) {
    const uint64_t unit = uint64_t(1) << 32;  // the mass of a token equal to the max
    const int64_t vocab = 3000;
    const std::vector<float> equal(size_t(vocab), 0.f);
    const uint64_t total = uint64_t(vocab) * unit;
    for (uint64_t t : {uint64_t(0), unit - 1, unit, 3 * unit - 1, 3 * unit, 3 * unit + 1, 6 * unit, 2999 * unit,
                       total - 1}) {
        const uint64_t step = step_for_draw(t, total);
        ASSERT_EQ(nm::scale_to_range(nm::sample_rng(0, step, 0), total), t);
        check_same("boundary", NM_DTYPE_F32, 1, vocab, equal, nm_sampling_params{1.f, 0, 1.f}, 0, step);
        const Outcome got = run_sim(NM_DTYPE_F32, 1, vocab, equal, nm_sampling_params{1.f, 0, 1.f}, 0, step);
        EXPECT_EQ(got.tokens, std::vector<int32_t>{int32_t(t / unit)}) << "t = " << t;
    }
}

// select_bin, the radix-select step of top-k and top-p, on its own: warp 0
// finds, scanning bins 255 down to 0, the first whose running sum reaches
// `need`. Sparse histograms put the answer on every lane boundary.
template <class T>
__global__ void select_bin_kernel(const T* hist, const T* needs, int n, uint32_t* digits, T* rest) {
    __shared__ uint32_t s_digit;
    __shared__ T s_rest;
    for (int i = 0; i < n; ++i) {
        nm::select_bin<T>(hist, needs[i], &s_digit, &s_rest);
        __syncwarp();
        if (threadIdx.x == 0) digits[i] = s_digit, rest[i] = s_rest;
        __syncwarp();
    }
}

template <class T>
void check_select_bin(const std::vector<T>& hist) {
    std::vector<T> needs;
    T total = 0;
    for (T h : hist) total += h;
    const T stride = total > 2000 ? total / 997 : 1;  // every need for small totals
    for (T need = 1; need <= total; need += stride) needs.push_back(need);
    sim::DeviceBuffer dh(hist.size() * sizeof(T)), dn(needs.size() * sizeof(T));
    sim::DeviceBuffer dd(needs.size() * sizeof(uint32_t)), dr(needs.size() * sizeof(T));
    std::memcpy(dh.data(), hist.data(), hist.size() * sizeof(T));
    std::memcpy(dn.data(), needs.data(), needs.size() * sizeof(T));
    try {
        sim::launch(select_bin_kernel<T>, dim3(1), dim3(32), 0, dh.as<const T>(), dn.as<const T>(), int(needs.size()),
                    dd.as<uint32_t>(), dr.as<T>());
    } catch (const sim::Error& e) {
        FAIL() << e.what();
    }
    for (size_t i = 0; i < needs.size(); ++i) {
        T above = 0;
        int d = 255;
        while (above + hist[size_t(d)] < needs[i]) above += hist[size_t(d--)];
        ASSERT_EQ(dd.as<uint32_t>()[i], uint32_t(d)) << "need " << needs[i];
        ASSERT_EQ(dr.as<T>()[i], needs[i] - above) << "need " << needs[i];
    }
}

TEST(SampleSim, SelectBin) {
    std::mt19937 rng(3);
    for (int trial = 0; trial < 6; ++trial) {
        std::vector<uint32_t> counts(256, 0);
        std::vector<unsigned long long> masses(256, 0);
        for (int b = 0; b < 256; ++b) {
            if (rng() % 4 == 0) counts[size_t(b)] = 1 + rng() % 3;
            if (rng() % 5 == 0) masses[size_t(b)] = (uint64_t(rng()) << 12) + rng() % 7;
        }
        if (trial == 0) counts.assign(256, 0), counts[7] = 5, counts[8] = 2, counts[200] = 1;  // lane-boundary gaps
        check_select_bin(counts);
        check_select_bin(masses);
    }
}

TEST(SampleSim, SpecialValues) {
    const float inf = INFINITY, nan = NAN;
    const int64_t vocab = 9;
    // Rows: NaN and -inf never drawn; +inf wins; -0 == +0 ties; no finite value fails.
    const std::vector<float> mixed = {
        nan,  -inf, 1.f,  0.5f, nan,  -0.f, 0.f,  1.f,  -inf,  //
        -inf, -inf, -inf, 3.f,  -inf, nan,  -inf, -inf, -inf,  //
        0.f,  inf,  2.f,  nan,  inf,  -inf, 1.f,  0.f,  -0.f,  //
        -0.f, 0.f,  -0.f, 0.f,  -0.f, 0.f,  -0.f, 0.f,  -0.f,  //
    };
    const nm_sampling_params settings[] = {{0.f, 0, 1.f}, {1.f, 0, 1.f}, {1.f, 2, 1.f}, {0.5f, 0, 0.6f},
                                           {inf, 0, 1.f}, {inf, 3, 0.7f}};
    for (const nm_sampling_params& p : settings)
        for (uint64_t seed : {5ull, 6ull, 7ull}) check_same("special", NM_DTYPE_F32, 4, vocab, mixed, p, seed, 0);

    std::vector<float> none = mixed;
    none[9 + 3] = -inf;  // row 1 now has no finite value
    check_same("no finite value", NM_DTYPE_F32, 4, vocab, none, nm_sampling_params{1.f, 0, 1.f}, 1, 0);
    check_same("no finite value, greedy", NM_DTYPE_F32, 4, vocab, none, nm_sampling_params{0.f, 0, 1.f}, 1, 0);
}

// Warps and lanes in reverse order, and shuffled.
TEST(SampleSim, OtherSchedules) {
    std::vector<sim::Options> schedules(3);
    schedules[0].reverse = true;
    schedules[1].shuffle_seed = 1;
    schedules[2].shuffle_seed = 2;
    const int64_t rows = 4, vocab = 2500;
    const std::vector<float> logits = quantised(size_t(rows * vocab), 9, 0.125f);
    for (const sim::Options& o : schedules) {
        sim::ScopedOptions scoped(o);
        for (const nm_sampling_params& p : {nm_sampling_params{0.9f, 30, 0.7f}, nm_sampling_params{0.f, 0, 1.f}})
            check_same("schedule", NM_DTYPE_BF16, rows, vocab, logits, p, 8, 2);
    }
}

}  // namespace
