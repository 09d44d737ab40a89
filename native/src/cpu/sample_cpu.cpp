// sample_cpu.cpp — token sampling on the CPU, exactly as docs/sampling.md says
// (the CUDA backend implements the same steps and must pick the same tokens).
//
// Per row: NaN counts as -inf; greedy (temperature <= 0 or top_k == 1) is the
// argmax with the lowest index winning ties. Otherwise every token gets an
// integer mass q_i = floor(exp((l_i - max) / T) * 2^32), computed in double,
// and the kept set is {i : l_i >= tau}: top-k and top-p each only raise the
// threshold tau (tau_p is a logit of a token top-k kept, so tau_p >= tau_k).
// Integer sums make the result independent of summation order. The draw is
// t = (rng(seed, step, row) * Qk) >> 64 and the token is the first kept index
// whose running mass exceeds t.
//
// Two cases the document leaves open are pinned down here: a token equal to
// the maximum always has weight 1 (so a +inf logit does not give inf - inf),
// and a weight that is still NaN (+inf logits with an infinite temperature)
// counts as 0.
//
// Rows are independent and run in parallel. Errors are collected per row and
// reported after the loop, because nm::set_error writes a thread-local
// message that must be set on the calling thread.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "cpu_backend.h"
#include "../core/error.h"
#include "../core/half.h"
#include "../core/sample_rng.h"

namespace nm {

namespace {

constexpr int64_t kParallelElements = 1 << 15;  // below this, threads cost more than they save
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Per-thread buffers, reused across rows.
struct Scratch {
    std::vector<float> logits;       // the row as float32, NaN replaced by -inf
    std::vector<uint64_t> mass;      // q_i
    std::vector<float> sorted;       // top-k selection
    std::vector<int64_t> candidates; // top-p: kept indices with q_i > 0, by logit descending
};

// Step 4: the top_k-th largest logit, counting duplicates.
float top_k_threshold(const std::vector<float>& logits, int64_t k, std::vector<float>& sorted) {
    sorted = logits;
    std::nth_element(sorted.begin(), sorted.begin() + (k - 1), sorted.end(), std::greater<float>());
    return sorted[size_t(k - 1)];
}

// Step 5: the largest logit v among kept tokens (l >= tau) whose mass at or above v reaches P.
float top_p_threshold(const std::vector<float>& l, const std::vector<uint64_t>& q, float tau, float top_p,
                      std::vector<int64_t>& candidates) {
    uint64_t total = 0;
    candidates.clear();
    for (size_t i = 0; i < l.size(); ++i) {
        if (l[i] < tau) continue;
        total += q[i];
        if (q[i] > 0) candidates.push_back(int64_t(i));  // q_i = 0 tokens never change the running mass
    }
    const uint64_t needed = uint64_t(std::ceil(double(top_p) * double(total)));
    std::sort(candidates.begin(), candidates.end(), [&](int64_t a, int64_t b) { return l[size_t(a)] > l[size_t(b)]; });
    uint64_t mass_above = 0;
    for (size_t j = 0; j < candidates.size();) {
        const float v = l[size_t(candidates[j])];
        for (; j < candidates.size() && l[size_t(candidates[j])] == v; ++j) mass_above += q[size_t(candidates[j])];
        if (mass_above >= needed) return v;
    }
    return tau;  // unreachable: needed <= total
}

// Samples row r into *token. False when the row has no finite value.
bool sample_row(const SampleArgs& a, int64_t r, Scratch& s, int32_t* token) {
    const int64_t V = a.vocab;
    s.logits.resize(size_t(V));
    int64_t best = 0;
    for (int64_t i = 0; i < V; ++i) {
        const float v = load_float(a.logits.data, a.logits.dtype, r * V + i);
        s.logits[size_t(i)] = std::isnan(v) ? kNegInf : v;
        if (s.logits[size_t(i)] > s.logits[size_t(best)]) best = i;
    }
    const float max = s.logits[size_t(best)];
    if (max == kNegInf) return false;                                             // step 1
    if (a.temperature <= 0.f || a.top_k == 1) { *token = int32_t(best); return true; }  // step 2

    s.mass.resize(size_t(V));  // step 3
    for (int64_t i = 0; i < V; ++i) {
        const float l = s.logits[size_t(i)];
        double w = 0.0;
        if (l == max) w = 1.0;
        else if (l != kNegInf) w = std::exp((double(l) - double(max)) / double(a.temperature));
        s.mass[size_t(i)] = std::isnan(w) ? 0 : mass_of_weight(w);
    }

    float tau = kNegInf;  // kept set: l_i >= tau
    if (a.top_k > 0 && a.top_k < V) tau = top_k_threshold(s.logits, a.top_k, s.sorted);  // step 4
    if (a.top_p < 1.f) tau = top_p_threshold(s.logits, s.mass, tau, a.top_p, s.candidates);           // step 5

    uint64_t kept_mass = 0;  // step 6
    for (int64_t i = 0; i < V; ++i)
        if (s.logits[size_t(i)] >= tau) kept_mass += s.mass[size_t(i)];
    const uint64_t target = scale_to_range(sample_rng(a.seed, a.step, uint64_t(r)), kept_mass);
    uint64_t running = 0;
    for (int64_t i = 0; i < V; ++i) {
        if (s.logits[size_t(i)] < tau) continue;
        running += s.mass[size_t(i)];
        if (running > target) { *token = int32_t(i); return true; }
    }
    *token = int32_t(best);  // unreachable: running reaches kept_mass > target
    return true;
}

}  // namespace

nm_status CpuBackend::sample(const SampleArgs& a) {
    std::vector<unsigned char> row_ok(size_t(a.rows), 1);
    const bool parallel = a.rows > 1 && a.rows * a.vocab >= kParallelElements;
#pragma omp parallel if (parallel)
    {
        Scratch scratch;
#pragma omp for schedule(dynamic, 1)
        for (int64_t r = 0; r < a.rows; ++r) row_ok[size_t(r)] = sample_row(a, r, scratch, &a.tokens[r]) ? 1 : 0;
    }
    for (int64_t r = 0; r < a.rows; ++r)
        if (!row_ok[size_t(r)])
            return set_error(NM_ERR_INVALID_ARGUMENT, "logits: row %lld has no finite value", (long long)r);
    return NM_OK;
}

}  // namespace nm
