// test_selective_scan.cpp — nm_selective_scan and nm_selective_state_update
// against a naive double-precision recurrence; chunked prefill and
// prefill-then-decode against one long prefill; shared state tensors;
// goldens from the authors' reference (tests/fixtures/selective_scan);
// argument checks; CUDA against CPU (skipped without a GPU).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "golden_fixture.h"
#include "test_util.h"

using namespace nmtest;

namespace {

struct ScanCase {
    int64_t batch = 2, length = 7, channels = 4, state = 16, groups = 1;
    bool per_channel = false;  // B, C [D, N] instead of [B, L, G, N]
    bool z = false, d_skip = false, delta_bias = false, softplus = false, initial_state = false;
    nm_dtype dtype = NM_DTYPE_F32;  // of u, delta, B, C, z, d_skip, delta_bias, out
};

std::string describe(const ScanCase& c) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "B=%lld L=%lld D=%lld N=%lld G=%lld %s z=%d skip=%d bias=%d softplus=%d init=%d %s",
                  (long long)c.batch, (long long)c.length, (long long)c.channels, (long long)c.state,
                  (long long)c.groups, c.per_channel ? "per-channel" : "input-dependent", c.z, c.d_skip,
                  c.delta_bias, c.softplus, c.initial_state, nm_dtype_name(c.dtype));
    return buf;
}

// Host values of every input, already rounded to the dtypes they are stored in.
struct ScanInputs {
    std::vector<float> u, delta, a, b, c, z, d_skip, delta_bias, h0;
};

std::vector<int64_t> bc_shape(const ScanCase& c) {
    if (c.per_channel) return {c.channels, c.state};
    return {c.batch, c.length, c.groups, c.state};
}

ScanInputs make_inputs(const ScanCase& c, uint32_t seed) {
    const size_t tokens = size_t(c.batch * c.length * c.channels);
    const size_t bc = c.per_channel ? size_t(c.channels * c.state) : size_t(c.batch * c.length * c.groups * c.state);
    ScanInputs in;
    in.u = round_to(c.dtype, random_floats(tokens, seed));
    // dt stays positive and moderate so long sequences neither blow up nor vanish.
    in.delta = round_to(c.dtype, c.softplus ? random_floats(tokens, seed + 1, -3.f, 0.5f)
                                            : random_floats(tokens, seed + 1, 0.01f, 0.4f));
    in.a = random_floats(size_t(c.channels * c.state), seed + 2, -2.f, -0.2f);
    in.b = round_to(c.dtype, random_floats(bc, seed + 3));
    in.c = round_to(c.dtype, random_floats(bc, seed + 4));
    if (c.z) in.z = round_to(c.dtype, random_floats(tokens, seed + 5, -2.f, 2.f));
    if (c.d_skip) in.d_skip = round_to(c.dtype, random_floats(size_t(c.channels), seed + 6));
    if (c.delta_bias)
        in.delta_bias = round_to(c.dtype, c.softplus ? random_floats(size_t(c.channels), seed + 7, -0.5f, 0.5f)
                                                     : random_floats(size_t(c.channels), seed + 7, 0.f, 0.1f));
    if (c.initial_state) in.h0 = random_floats(size_t(c.batch * c.channels * c.state), seed + 8);
    return in;
}

struct ScanResult {
    std::vector<float> out;          // [B, L, D]
    std::vector<float> final_state;  // [B, D, N]
};

double softplus_ref(double x) { return x > 20.0 ? x : std::log1p(std::exp(x)); }

// The definition, step by step, in double precision.
ScanResult scan_reference(const ScanCase& c, const ScanInputs& in) {
    const int64_t B = c.batch, L = c.length, D = c.channels, N = c.state, G = c.groups;
    ScanResult r{std::vector<float>(size_t(B * L * D)), std::vector<float>(size_t(B * D * N))};
    for (int64_t b = 0; b < B; ++b) {
        for (int64_t d = 0; d < D; ++d) {
            const int64_t g = d / (D / G);
            std::vector<double> h(size_t(N), 0.0);
            if (!in.h0.empty())
                for (int64_t n = 0; n < N; ++n) h[size_t(n)] = in.h0[size_t((b * D + d) * N + n)];
            for (int64_t t = 0; t < L; ++t) {
                const size_t i = size_t((b * L + t) * D + d);
                double dt = in.delta[i] + (in.delta_bias.empty() ? 0.0 : in.delta_bias[size_t(d)]);
                if (c.softplus) dt = softplus_ref(dt);
                const double u = in.u[i];
                double y = 0.0;
                for (int64_t n = 0; n < N; ++n) {
                    const size_t k = c.per_channel ? size_t(d * N + n) : size_t(((b * L + t) * G + g) * N + n);
                    h[size_t(n)] = std::exp(dt * in.a[size_t(d * N + n)]) * h[size_t(n)] + dt * in.b[k] * u;
                    y += in.c[k] * h[size_t(n)];
                }
                if (!in.d_skip.empty()) y += in.d_skip[size_t(d)] * u;
                if (!in.z.empty()) y *= in.z[i] / (1.0 + std::exp(-double(in.z[i])));
                r.out[i] = float(y);
            }
            for (int64_t n = 0; n < N; ++n) r.final_state[size_t((b * D + d) * N + n)] = float(h[size_t(n)]);
        }
    }
    return r;
}

// Runs nm_selective_scan on `spec` ("cpu" or "cuda").
ScanResult run_scan(const char* spec, const ScanCase& c, const ScanInputs& in) {
    Context ctx(spec);
    EXPECT_NE(ctx.p, nullptr) << nm_last_error();
    const int64_t B = c.batch, L = c.length, D = c.channels, N = c.state;
    const nm_dtype dt = c.dtype;
    Tensor u = make_tensor(ctx, dt, {B, L, D}, in.u);
    Tensor delta = make_tensor(ctx, dt, {B, L, D}, in.delta);
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {D, N}, in.a);
    Tensor bm = make_tensor(ctx, dt, bc_shape(c), in.b);
    Tensor cm = make_tensor(ctx, dt, bc_shape(c), in.c);
    Tensor z = c.z ? make_tensor(ctx, dt, {B, L, D}, in.z) : Tensor();
    Tensor skip = c.d_skip ? make_tensor(ctx, dt, {D}, in.d_skip) : Tensor();
    Tensor bias = c.delta_bias ? make_tensor(ctx, dt, {D}, in.delta_bias) : Tensor();
    Tensor h0 = c.initial_state ? make_tensor(ctx, NM_DTYPE_F32, {B, D, N}, in.h0) : Tensor();
    Tensor out = make_tensor(ctx, dt, {B, L, D});
    Tensor fin = make_tensor(ctx, NM_DTYPE_F32, {B, D, N});
    nm_ssm_options opt{skip, z, bias, c.softplus ? 1 : 0};
    EXPECT_NM_OK(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, h0, out, fin));
    return ScanResult{download(ctx, out), download(ctx, fin)};
}

// |got - want| <= tol * (1 + |want|) everywhere; reports the worst element.
void expect_close(const std::vector<float>& got, const std::vector<float>& want, double tol, const char* what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double e = std::fabs(double(got[i]) - want[i]) / (1.0 + std::fabs(double(want[i])));
        if (!(e <= worst)) {  // catches NaN
            worst = std::isnan(e) ? INFINITY : e;
            at = i;
        }
    }
    EXPECT_LE(worst, tol) << what << ": worst at " << at << ": got " << got[at] << ", want " << want[at];
}

double tolerance(nm_dtype dtype) { return dtype == NM_DTYPE_F32 ? 2e-5 : dtype == NM_DTYPE_F16 ? 2e-3 : 1e-2; }

void expect_scan_matches(const ScanCase& c, uint32_t seed) {
    SCOPED_TRACE(describe(c));
    const ScanInputs in = make_inputs(c, seed);
    const ScanResult got = run_scan("cpu", c, in);
    const ScanResult want = scan_reference(c, in);
    // Long sequences add float32 rounding of many steps.
    const double tol = tolerance(c.dtype) * (c.length > 1000 ? 5.0 : 1.0);
    expect_close(got.out, round_to(c.dtype, want.out), tol, "out");
    expect_close(got.final_state, want.final_state, c.length > 1000 ? 1e-4 : 2e-5, "final_state");
}

}  // namespace

TEST(SelectiveScan, MatchesReferenceAllOptions) {
    uint32_t seed = 1;
    for (bool per_channel : {false, true})
        for (bool z : {false, true})
            for (bool skip : {false, true})
                for (bool bias : {false, true})
                    for (bool softplus : {false, true})
                        for (bool init : {false, true}) {
                            ScanCase c;
                            c.batch = 2, c.length = 7, c.channels = 4, c.state = 16;
                            c.per_channel = per_channel, c.z = z, c.d_skip = skip, c.delta_bias = bias;
                            c.softplus = softplus, c.initial_state = init;
                            expect_scan_matches(c, seed++);
                        }
}

TEST(SelectiveScan, ShapesStateSizesAndGroups) {
    uint32_t seed = 100;
    for (int64_t N : {1, 16, 64, 128})
        for (int64_t G : {1, 2})
            for (int64_t L : {1, 7, 33}) {
                ScanCase c;
                c.batch = N >= 64 ? 1 : 3, c.length = L, c.channels = 6, c.state = N, c.groups = G;
                c.z = c.d_skip = c.delta_bias = c.softplus = c.initial_state = true;
                expect_scan_matches(c, seed++);
            }
    // B = 1, D = 1 and per-channel B/C with N = 1.
    ScanCase one;
    one.batch = 1, one.length = 1, one.channels = 1, one.state = 1, one.per_channel = true;
    expect_scan_matches(one, seed++);
}

TEST(SelectiveScan, LongSequences) {
    uint32_t seed = 200;
    for (int64_t L : {2048, 2049, 10000}) {
        ScanCase c;
        c.batch = L > 5000 ? 1 : 2, c.length = L, c.channels = L > 5000 ? 3 : 8, c.state = 16, c.groups = 1;
        c.z = c.d_skip = c.delta_bias = c.softplus = c.initial_state = true;
        expect_scan_matches(c, seed++);
        c.per_channel = true, c.z = false, c.softplus = false;
        expect_scan_matches(c, seed++);
    }
}

TEST(SelectiveScan, HalfDtypes) {
    uint32_t seed = 300;
    for (nm_dtype dtype : {NM_DTYPE_BF16, NM_DTYPE_F16})
        for (bool per_channel : {false, true}) {
            ScanCase c;
            c.batch = 2, c.length = 19, c.channels = 4, c.state = 16, c.groups = per_channel ? 1 : 2;
            c.per_channel = per_channel, c.dtype = dtype;
            c.z = c.d_skip = c.delta_bias = c.softplus = c.initial_state = true;
            expect_scan_matches(c, seed++);
        }
}

TEST(SelectiveScan, MixedDtypes) {
    // bf16 u/delta, f16 B/C and z, f32 out: the reference sees the stored values.
    Context ctx("cpu");
    ScanCase c;
    c.batch = 1, c.length = 5, c.channels = 4, c.state = 8;
    c.z = true, c.softplus = true;
    ScanInputs in = make_inputs(c, 350);
    in.u = round_to(NM_DTYPE_BF16, in.u);
    in.delta = round_to(NM_DTYPE_BF16, in.delta);
    in.b = round_to(NM_DTYPE_F16, in.b);
    in.c = round_to(NM_DTYPE_F16, in.c);
    in.z = round_to(NM_DTYPE_F16, in.z);
    Tensor u = make_tensor(ctx, NM_DTYPE_BF16, {1, 5, 4}, in.u);
    Tensor delta = make_tensor(ctx, NM_DTYPE_BF16, {1, 5, 4}, in.delta);
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {4, 8}, in.a);
    Tensor bm = make_tensor(ctx, NM_DTYPE_F16, {1, 5, 1, 8}, in.b);
    Tensor cm = make_tensor(ctx, NM_DTYPE_F16, {1, 5, 1, 8}, in.c);
    Tensor z = make_tensor(ctx, NM_DTYPE_F16, {1, 5, 4}, in.z);
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {1, 5, 4});
    nm_ssm_options opt{nullptr, z, nullptr, 1};
    EXPECT_NM_OK(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, nullptr, out, nullptr));
    expect_close(download(ctx, out), scan_reference(c, in).out, 2e-5, "out");
}

TEST(SelectiveScan, ChunkedPrefillEqualsWholePrefill) {
    // Two calls carrying the state through final_state -> initial_state give the one-call result.
    ScanCase c;
    c.batch = 2, c.length = 37, c.channels = 6, c.state = 16, c.groups = 2;
    c.z = c.d_skip = c.delta_bias = c.softplus = c.initial_state = true;
    const ScanInputs in = make_inputs(c, 400);
    const ScanResult whole = run_scan("cpu", c, in);

    const int64_t L1 = 20, L2 = c.length - L1;
    auto slice = [&](const std::vector<float>& v, int64_t row, int64_t t0, int64_t len) {  // [B, L, row]
        std::vector<float> r;
        for (int64_t b = 0; b < c.batch; ++b)
            r.insert(r.end(), v.begin() + (b * c.length + t0) * row, v.begin() + (b * c.length + t0 + len) * row);
        return r;
    };
    const int64_t D = c.channels, bc_row = c.groups * c.state;
    ScanCase c1 = c, c2 = c;
    c1.length = L1, c2.length = L2;
    ScanInputs in1 = in, in2 = in;
    in1.u = slice(in.u, D, 0, L1), in2.u = slice(in.u, D, L1, L2);
    in1.delta = slice(in.delta, D, 0, L1), in2.delta = slice(in.delta, D, L1, L2);
    in1.z = slice(in.z, D, 0, L1), in2.z = slice(in.z, D, L1, L2);
    in1.b = slice(in.b, bc_row, 0, L1), in2.b = slice(in.b, bc_row, L1, L2);
    in1.c = slice(in.c, bc_row, 0, L1), in2.c = slice(in.c, bc_row, L1, L2);
    const ScanResult first = run_scan("cpu", c1, in1);
    in2.h0 = first.final_state;
    const ScanResult second = run_scan("cpu", c2, in2);

    std::vector<float> joined;
    for (int64_t b = 0; b < c.batch; ++b) {
        joined.insert(joined.end(), first.out.begin() + b * L1 * D, first.out.begin() + (b + 1) * L1 * D);
        joined.insert(joined.end(), second.out.begin() + b * L2 * D, second.out.begin() + (b + 1) * L2 * D);
    }
    EXPECT_EQ(joined, whole.out);  // same float32 operations in the same order
    EXPECT_EQ(second.final_state, whole.final_state);
}

TEST(SelectiveScan, SameTensorForInitialAndFinalState) {
    Context ctx("cpu");
    ScanCase c;
    c.batch = 2, c.length = 9, c.channels = 5, c.state = 4, c.initial_state = true;
    const ScanInputs in = make_inputs(c, 500);
    Tensor u = make_tensor(ctx, NM_DTYPE_F32, {2, 9, 5}, in.u);
    Tensor delta = make_tensor(ctx, NM_DTYPE_F32, {2, 9, 5}, in.delta);
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {5, 4}, in.a);
    Tensor bm = make_tensor(ctx, NM_DTYPE_F32, bc_shape(c), in.b);
    Tensor cm = make_tensor(ctx, NM_DTYPE_F32, bc_shape(c), in.c);
    Tensor state = make_tensor(ctx, NM_DTYPE_F32, {2, 5, 4}, in.h0);
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, 9, 5});
    nm_ssm_options opt{};
    EXPECT_NM_OK(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state, out, state));
    const ScanResult want = scan_reference(c, in);
    expect_close(download(ctx, out), want.out, 2e-5, "out");
    expect_close(download(ctx, state), want.final_state, 2e-5, "state");
}

namespace {

// Prefill of the first `prefix` steps, then one nm_selective_state_update per
// remaining step, on `spec`; returns the concatenated outputs and the state.
ScanResult prefill_then_decode(const char* spec, const ScanCase& c, const ScanInputs& in, int64_t prefix) {
    Context ctx(spec);
    EXPECT_NE(ctx.p, nullptr) << nm_last_error();
    const int64_t B = c.batch, L = c.length, D = c.channels, N = c.state, G = c.groups;
    const nm_dtype dt = c.dtype;
    auto step_rows = [&](const std::vector<float>& v, int64_t row, int64_t t0, int64_t len) {
        std::vector<float> r;
        for (int64_t b = 0; b < B; ++b)
            r.insert(r.end(), v.begin() + (b * L + t0) * row, v.begin() + (b * L + t0 + len) * row);
        return r;
    };
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {D, N}, in.a);
    Tensor skip = c.d_skip ? make_tensor(ctx, dt, {D}, in.d_skip) : Tensor();
    Tensor bias = c.delta_bias ? make_tensor(ctx, dt, {D}, in.delta_bias) : Tensor();
    Tensor state = c.initial_state ? make_tensor(ctx, NM_DTYPE_F32, {B, D, N}, in.h0)
                                   : make_tensor(ctx, NM_DTYPE_F32, {B, D, N}, std::vector<float>(size_t(B * D * N)));
    std::vector<std::vector<float>> outs(static_cast<size_t>(B));  // per batch, [t, D]
    if (prefix > 0) {
        Tensor u = make_tensor(ctx, dt, {B, prefix, D}, step_rows(in.u, D, 0, prefix));
        Tensor delta = make_tensor(ctx, dt, {B, prefix, D}, step_rows(in.delta, D, 0, prefix));
        Tensor bm = make_tensor(ctx, dt, {B, prefix, G, N}, step_rows(in.b, G * N, 0, prefix));
        Tensor cm = make_tensor(ctx, dt, {B, prefix, G, N}, step_rows(in.c, G * N, 0, prefix));
        Tensor z = c.z ? make_tensor(ctx, dt, {B, prefix, D}, step_rows(in.z, D, 0, prefix)) : Tensor();
        Tensor out = make_tensor(ctx, dt, {B, prefix, D});
        nm_ssm_options opt{skip, z, bias, c.softplus ? 1 : 0};
        EXPECT_NM_OK(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state, out, state));
        const auto o = download(ctx, out);
        for (int64_t b = 0; b < B; ++b)
            outs[size_t(b)].insert(outs[size_t(b)].end(), o.begin() + b * prefix * D, o.begin() + (b + 1) * prefix * D);
    }
    for (int64_t t = prefix; t < L; ++t) {
        Tensor x = make_tensor(ctx, dt, {B, D}, step_rows(in.u, D, t, 1));
        Tensor delta = make_tensor(ctx, dt, {B, D}, step_rows(in.delta, D, t, 1));
        Tensor bm = make_tensor(ctx, dt, {B, G, N}, step_rows(in.b, G * N, t, 1));
        Tensor cm = make_tensor(ctx, dt, {B, G, N}, step_rows(in.c, G * N, t, 1));
        Tensor z = c.z ? make_tensor(ctx, dt, {B, D}, step_rows(in.z, D, t, 1)) : Tensor();
        Tensor out = make_tensor(ctx, dt, {B, D});
        nm_ssm_options opt{skip, z, bias, c.softplus ? 1 : 0};
        EXPECT_NM_OK(nm_selective_state_update(ctx, state, x, delta, a, bm, cm, &opt, out));
        const auto o = download(ctx, out);
        for (int64_t b = 0; b < B; ++b) outs[size_t(b)].insert(outs[size_t(b)].end(), o.begin() + b * D, o.begin() + (b + 1) * D);
    }
    ScanResult r;
    for (auto& o : outs) r.out.insert(r.out.end(), o.begin(), o.end());
    r.final_state = download(ctx, state);
    return r;
}

}  // namespace

TEST(SelectiveStateUpdate, DecodeStepsAfterPrefillEqualLongPrefill) {
    ScanCase c;
    c.batch = 2, c.length = 12, c.channels = 6, c.state = 16, c.groups = 2;
    c.z = c.d_skip = c.delta_bias = c.softplus = c.initial_state = true;
    const ScanInputs in = make_inputs(c, 600);
    const ScanResult whole = run_scan("cpu", c, in);
    for (int64_t prefix : {int64_t(0), int64_t(1), int64_t(8)}) {
        SCOPED_TRACE(testing::Message() << "prefix " << prefix);
        const ScanResult steps = prefill_then_decode("cpu", c, in, prefix);
        EXPECT_EQ(steps.out, whole.out);  // one step of the same recurrence, same float32 operations
        EXPECT_EQ(steps.final_state, whole.final_state);
    }
}

TEST(SelectiveStateUpdate, MatchesReference) {
    uint32_t seed = 700;
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16, NM_DTYPE_F16})
        for (int64_t N : {1, 16, 64})
            for (bool extras : {false, true}) {
                ScanCase c;
                c.batch = 3, c.length = 3, c.channels = 4, c.state = N, c.groups = 2, c.dtype = dtype;
                c.z = c.d_skip = c.delta_bias = c.softplus = extras;
                c.initial_state = true;
                SCOPED_TRACE(describe(c));
                const ScanInputs in = make_inputs(c, seed++);
                const ScanResult got = prefill_then_decode("cpu", c, in, 0);
                const ScanResult want = scan_reference(c, in);
                expect_close(got.out, round_to(dtype, want.out), tolerance(dtype), "out");
                expect_close(got.final_state, want.final_state, 2e-5, "state");
            }
}

TEST(SelectiveScan, BadInput) {
    Context ctx("cpu");
    Context other("cpu");
    const int64_t B = 2, L = 5, D = 4, N = 3;
    Tensor u = make_tensor(ctx, NM_DTYPE_F32, {B, L, D});
    Tensor delta = make_tensor(ctx, NM_DTYPE_BF16, {B, L, D});
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {D, N});
    Tensor bm = make_tensor(ctx, NM_DTYPE_F32, {B, L, 2, N});
    Tensor cm = make_tensor(ctx, NM_DTYPE_F16, {B, L, 2, N});
    Tensor z = make_tensor(ctx, NM_DTYPE_F32, {B, L, D});
    Tensor skip = make_tensor(ctx, NM_DTYPE_F32, {D});
    Tensor bias = make_tensor(ctx, NM_DTYPE_F32, {D});
    Tensor state = make_tensor(ctx, NM_DTYPE_F32, {B, D, N});
    Tensor state2 = make_tensor(ctx, NM_DTYPE_F32, {B, D, N});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {B, L, D});
    nm_ssm_options opt{skip, z, bias, 1};
    EXPECT_NM_OK(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state, out, state2));
    EXPECT_NM_OK(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state, out, state));

    Tensor ints = make_tensor(ctx, NM_DTYPE_I32, {B, L, D});
    Tensor a_half = make_tensor(ctx, NM_DTYPE_F16, {D, N});
    Tensor a_bad = make_tensor(ctx, NM_DTYPE_F32, {D + 1, N});
    Tensor a_big = make_tensor(ctx, NM_DTYPE_F32, {D, 300});
    Tensor u2d = make_tensor(ctx, NM_DTYPE_F32, {B, D});
    Tensor delta_bad = make_tensor(ctx, NM_DTYPE_F32, {B, L + 1, D});
    Tensor b_g3 = make_tensor(ctx, NM_DTYPE_F32, {B, L, 3, N});
    Tensor b_len = make_tensor(ctx, NM_DTYPE_F32, {B, L - 1, 2, N});
    Tensor b_3d = make_tensor(ctx, NM_DTYPE_F32, {B, L, N});
    Tensor bc_pc = make_tensor(ctx, NM_DTYPE_F32, {D, N});
    Tensor c_g1 = make_tensor(ctx, NM_DTYPE_F32, {B, L, 1, N});
    Tensor vec_bad = make_tensor(ctx, NM_DTYPE_F32, {D + 1});
    Tensor z_bad = make_tensor(ctx, NM_DTYPE_F32, {B, L, D + 1});
    Tensor state_half = make_tensor(ctx, NM_DTYPE_F16, {B, D, N});
    Tensor state_bad = make_tensor(ctx, NM_DTYPE_F32, {B, D, N + 1});
    Tensor out_bad = make_tensor(ctx, NM_DTYPE_F32, {B, L, D + 1});
    Tensor foreign = make_tensor(other, NM_DTYPE_F32, {B, L, D});
    Tensor foreign_vec = make_tensor(other, NM_DTYPE_F32, {D});
    nm_ssm_options none{};

    EXPECT_NM_ERROR(nm_selective_scan(nullptr, u, delta, a, bm, cm, &opt, state, out, state), NM_ERR_INVALID_ARGUMENT, "ctx");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, nullptr, delta, a, bm, cm, &opt, state, out, state), NM_ERR_INVALID_ARGUMENT, "u: tensor is NULL");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, nullptr, a, bm, cm, &opt, state, out, state), NM_ERR_INVALID_ARGUMENT, "delta: tensor is NULL");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, nullptr, bm, cm, &opt, state, out, state), NM_ERR_INVALID_ARGUMENT, "A: tensor is NULL");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, nullptr, cm, &opt, state, out, state), NM_ERR_INVALID_ARGUMENT, "B: tensor is NULL");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, nullptr, &opt, state, out, state), NM_ERR_INVALID_ARGUMENT, "C: tensor is NULL");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, nullptr, state, out, state), NM_ERR_INVALID_ARGUMENT, "options: is NULL");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state, nullptr, state), NM_ERR_INVALID_ARGUMENT, "out: tensor is NULL");

    EXPECT_NM_ERROR(nm_selective_scan(ctx, ints, delta, a, bm, cm, &opt, state, out, state), NM_ERR_DTYPE, "u: expected float32, float16 or bfloat16, got int32");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, ints, a, bm, cm, &opt, state, out, state), NM_ERR_DTYPE, "delta: expected float32, float16 or bfloat16, got int32");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a_half, bm, cm, &opt, state, out, state), NM_ERR_DTYPE, "A: expected float32, got float16");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state_half, out, nullptr), NM_ERR_DTYPE, "initial_state: expected float32, got float16");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, nullptr, out, state_half), NM_ERR_DTYPE, "final_state: expected float32, got float16");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state, ints, nullptr), NM_ERR_DTYPE, "out: expected float32, float16 or bfloat16, got int32");
    {
        nm_ssm_options o{skip, ints, bias, 0};
        EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &o, state, out, state), NM_ERR_DTYPE, "options->z: expected float32");
    }

    EXPECT_NM_ERROR(nm_selective_scan(ctx, foreign, delta, a, bm, cm, &opt, state, out, state), NM_ERR_DEVICE, "u: tensor belongs to another context");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state, foreign, state), NM_ERR_DEVICE, "out: tensor belongs to another context");
    {
        nm_ssm_options o{foreign_vec, z, bias, 0};
        EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &o, state, out, state), NM_ERR_DEVICE, "options->d_skip: tensor belongs to another context");
    }

    EXPECT_NM_ERROR(nm_selective_scan(ctx, u2d, delta, a, bm, cm, &none, nullptr, out, nullptr), NM_ERR_SHAPE, "u: expected 3 dims, got 2");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta_bad, a, bm, cm, &opt, state, out, state), NM_ERR_SHAPE, "delta: shape [2, 6, 4] does not match u shape [2, 5, 4]");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a_bad, bm, cm, &opt, state, out, state), NM_ERR_SHAPE, "A: expected shape [D, N] [4, 3], got [5, 3]");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a_big, bm, cm, &none, nullptr, out, nullptr), NM_ERR_SHAPE, "A: state size N = 300 is out of range");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, b_g3, cm, &opt, state, out, state), NM_ERR_SHAPE, "B: G = 3 groups must divide D = 4 channels");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, b_len, cm, &opt, state, out, state), NM_ERR_SHAPE, "B: expected shape [B, L, G, N] [2, 5, 2, 3], got [2, 4, 2, 3]");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, b_3d, cm, &opt, state, out, state), NM_ERR_SHAPE, "B: expected 2 dims [D, N] or 4 dims [B, L, G, N], got 3");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, bc_pc, &opt, state, out, state), NM_ERR_SHAPE, "C: expected shape [B, L, G, N] [2, 5, 2, 3] like B");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, c_g1, &opt, state, out, state), NM_ERR_SHAPE, "C: expected shape [B, L, G, N] [2, 5, 2, 3], got [2, 5, 1, 3]");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bc_pc, cm, &opt, state, out, state), NM_ERR_SHAPE, "C: expected shape [D, N] [4, 3] like B");
    {
        nm_ssm_options o{vec_bad, z, bias, 0};
        EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &o, state, out, state), NM_ERR_SHAPE, "options->d_skip: expected shape [D] [4], got [5]");
    }
    {
        nm_ssm_options o{skip, z, vec_bad, 0};
        EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &o, state, out, state), NM_ERR_SHAPE, "options->delta_bias: expected shape [D] [4], got [5]");
    }
    {
        nm_ssm_options o{skip, z_bad, bias, 0};
        EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &o, state, out, state), NM_ERR_SHAPE, "options->z: shape [2, 5, 5] does not match u shape [2, 5, 4]");
    }
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state_bad, out, nullptr), NM_ERR_SHAPE, "initial_state: expected shape [B, D, N] [2, 4, 3], got [2, 4, 4]");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, nullptr, out, state_bad), NM_ERR_SHAPE, "final_state: expected shape [B, D, N] [2, 4, 3], got [2, 4, 4]");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state, out_bad, state), NM_ERR_SHAPE, "out: shape [2, 5, 5] does not match u shape [2, 5, 4]");

    // Aliasing: out may not be an input; final_state may be initial_state only.
    Tensor u_f32 = make_tensor(ctx, NM_DTYPE_F32, {B, L, D});
    Tensor delta_f32 = make_tensor(ctx, NM_DTYPE_F32, {B, L, D});
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state, u, state), NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as u");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta_f32, a, bm, cm, &opt, state, delta_f32, state), NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as delta");
    EXPECT_NM_ERROR(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state, z, state), NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as options->z");
    {
        Tensor sq = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 3});      // [B, L, D] == [B, D, N] with B=2, D=N=3
        Tensor sq_a = make_tensor(ctx, NM_DTYPE_F32, {3, 3});
        Tensor sq_out = make_tensor(ctx, NM_DTYPE_F32, {2, 3, 3});
        EXPECT_NM_ERROR(nm_selective_scan(ctx, sq, sq, sq_a, sq_a, sq_a, &none, nullptr, sq_out, sq), NM_ERR_INVALID_ARGUMENT, "final_state: must not be the same tensor as u");
        EXPECT_NM_ERROR(nm_selective_scan(ctx, sq, sq, sq_a, sq_a, sq_a, &none, nullptr, sq_out, sq_out), NM_ERR_INVALID_ARGUMENT, "final_state: must not be the same tensor as out");
        EXPECT_NM_ERROR(nm_selective_scan(ctx, sq, sq, sq_a, sq_a, sq_a, &none, sq_out, sq_out, nullptr), NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as initial_state");
        EXPECT_NM_ERROR(nm_selective_scan(ctx, sq, sq, sq_a, sq_a, sq_a, &none, nullptr, sq_a, nullptr), NM_ERR_SHAPE, "out: shape [3, 3] does not match u shape [2, 3, 3]");
    }
}

TEST(SelectiveStateUpdate, BadInput) {
    Context ctx("cpu");
    Context other("cpu");
    const int64_t B = 2, D = 4, N = 3;
    Tensor state = make_tensor(ctx, NM_DTYPE_F32, {B, D, N});
    Tensor x = make_tensor(ctx, NM_DTYPE_BF16, {B, D});
    Tensor dt = make_tensor(ctx, NM_DTYPE_F32, {B, D});
    Tensor a = make_tensor(ctx, NM_DTYPE_F32, {D, N});
    Tensor bm = make_tensor(ctx, NM_DTYPE_F32, {B, 2, N});
    Tensor cm = make_tensor(ctx, NM_DTYPE_F32, {B, 2, N});
    Tensor z = make_tensor(ctx, NM_DTYPE_F32, {B, D});
    Tensor skip = make_tensor(ctx, NM_DTYPE_F32, {D});
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, {B, D});
    nm_ssm_options opt{skip, z, skip, 1};
    EXPECT_NM_OK(nm_selective_state_update(ctx, state, x, dt, a, bm, cm, &opt, out));

    Tensor ints = make_tensor(ctx, NM_DTYPE_I32, {B, D});
    Tensor state_half = make_tensor(ctx, NM_DTYPE_F16, {B, D, N});
    Tensor state_bad = make_tensor(ctx, NM_DTYPE_F32, {B, D + 1, N});
    Tensor x3d = make_tensor(ctx, NM_DTYPE_F32, {B, 1, D});
    Tensor dt_bad = make_tensor(ctx, NM_DTYPE_F32, {B, D + 1});
    Tensor a_bad = make_tensor(ctx, NM_DTYPE_F32, {D, N + 1});
    Tensor b_g3 = make_tensor(ctx, NM_DTYPE_F32, {B, 3, N});
    Tensor b_2d = make_tensor(ctx, NM_DTYPE_F32, {B, N});
    Tensor c_g1 = make_tensor(ctx, NM_DTYPE_F32, {B, 1, N});
    Tensor z_bad = make_tensor(ctx, NM_DTYPE_F32, {B + 1, D});
    Tensor foreign = make_tensor(other, NM_DTYPE_F32, {B, D, N});

    EXPECT_NM_ERROR(nm_selective_state_update(nullptr, state, x, dt, a, bm, cm, &opt, out), NM_ERR_INVALID_ARGUMENT, "ctx");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, nullptr, x, dt, a, bm, cm, &opt, out), NM_ERR_INVALID_ARGUMENT, "state: tensor is NULL");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, nullptr, dt, a, bm, cm, &opt, out), NM_ERR_INVALID_ARGUMENT, "x: tensor is NULL");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, nullptr, a, bm, cm, &opt, out), NM_ERR_INVALID_ARGUMENT, "dt: tensor is NULL");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, nullptr, bm, cm, &opt, out), NM_ERR_INVALID_ARGUMENT, "A: tensor is NULL");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, a, nullptr, cm, &opt, out), NM_ERR_INVALID_ARGUMENT, "B: tensor is NULL");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, a, bm, nullptr, &opt, out), NM_ERR_INVALID_ARGUMENT, "C: tensor is NULL");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, a, bm, cm, nullptr, out), NM_ERR_INVALID_ARGUMENT, "options: is NULL");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, a, bm, cm, &opt, nullptr), NM_ERR_INVALID_ARGUMENT, "out: tensor is NULL");

    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state_half, x, dt, a, bm, cm, &opt, out), NM_ERR_DTYPE, "state: expected float32, got float16");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, ints, dt, a, bm, cm, &opt, out), NM_ERR_DTYPE, "x: expected float32, float16 or bfloat16, got int32");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, ints, a, bm, cm, &opt, out), NM_ERR_DTYPE, "dt: expected float32, float16 or bfloat16, got int32");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, a, bm, cm, &opt, ints), NM_ERR_DTYPE, "out: expected float32, float16 or bfloat16, got int32");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, foreign, x, dt, a, bm, cm, &opt, out), NM_ERR_DEVICE, "state: tensor belongs to another context");

    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x3d, dt, a, bm, cm, &opt, out), NM_ERR_SHAPE, "x: expected 2 dims, got 3");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt_bad, a, bm, cm, &opt, out), NM_ERR_SHAPE, "dt: shape [2, 5] does not match x shape [2, 4]");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, a_bad, bm, cm, &opt, out), NM_ERR_SHAPE, "state: expected shape [B, D, N] [2, 4, 4], got [2, 4, 3]");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state_bad, x, dt, a, bm, cm, &opt, out), NM_ERR_SHAPE, "state: expected shape [B, D, N] [2, 4, 3], got [2, 5, 3]");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, a, b_g3, cm, &opt, out), NM_ERR_SHAPE, "B: G = 3 groups must divide D = 4 channels");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, a, b_2d, cm, &opt, out), NM_ERR_SHAPE, "B: expected 3 dims, got 2");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, a, bm, c_g1, &opt, out), NM_ERR_SHAPE, "C: expected shape [B, G, N] (G of B) [2, 2, 3], got [2, 1, 3]");
    {
        nm_ssm_options o{skip, z_bad, nullptr, 0};
        EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, a, bm, cm, &o, out), NM_ERR_SHAPE, "options->z: shape [3, 4] does not match x shape [2, 4]");
    }
    Tensor xf = make_tensor(ctx, NM_DTYPE_F32, {B, D});
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, xf, dt, a, bm, cm, &opt, xf), NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as x");
    EXPECT_NM_ERROR(nm_selective_state_update(ctx, state, x, dt, a, bm, cm, &opt, dt), NM_ERR_INVALID_ARGUMENT, "out: must not be the same tensor as dt");
}

// ------------------------------------------------------ authors' reference

namespace {

// A fixture file (see tests/fixtures/selective_scan/README.md, format in
// golden_fixture.h). Shapes are token-major (ours).
using Fixture = GoldenFixture;

bool read_fixture(const std::string& path, Fixture* f) { return read_golden_fixture(path, "NMSSGLD1", f); }

const char* const kGoldenCases[] = {"basic",        "z_skip_bias_softplus", "per_channel_bc",
                                    "groups2_state", "long_chunked",        "n1_short"};

std::string fixture_path(const char* name) {
    return std::string(NM_TEST_FIXTURES_DIR) + "/selective_scan/" + name + ".bin";
}

// Runs one golden case on `spec` and checks out (and last_state when present).
void expect_golden(const char* spec, const char* name) {
    SCOPED_TRACE(std::string(spec) + " " + name);
    Fixture f;
    ASSERT_TRUE(read_fixture(fixture_path(name), &f)) << "cannot read " << fixture_path(name);
    Context ctx(spec);
    ASSERT_NE(ctx.p, nullptr) << nm_last_error();
    auto tensor = [&](const char* n) {
        return f.has(n) ? make_tensor(ctx, NM_DTYPE_F32, f.shape[n], f.data[n]) : Tensor();
    };
    Tensor u = tensor("u"), delta = tensor("delta"), a = tensor("A"), bm = tensor("B"), cm = tensor("C");
    Tensor skip = tensor("D"), z = tensor("z"), bias = tensor("delta_bias");
    ASSERT_TRUE(u.p && delta.p && a.p && bm.p && cm.p && f.has("out"));
    const bool softplus = f.has("delta_softplus") && f.data["delta_softplus"][0] != 0.f;
    const bool want_state = f.has("last_state");
    Tensor out = make_tensor(ctx, NM_DTYPE_F32, f.shape["u"]);
    Tensor fin = want_state ? make_tensor(ctx, NM_DTYPE_F32, f.shape["last_state"]) : Tensor();
    nm_ssm_options opt{skip, z, bias, softplus ? 1 : 0};
    EXPECT_NM_OK(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, nullptr, out, fin));
    expect_close(download(ctx, out), f.data["out"], 1e-5, "out");
    if (want_state) expect_close(download(ctx, fin), f.data["last_state"], 1e-5, "last_state");
}

}  // namespace

TEST(SelectiveScan, MatchesAuthorsReferenceGoldens) {
    for (const char* name : kGoldenCases) expect_golden("cpu", name);
}

// ------------------------------------------------------------ CUDA vs CPU

namespace {

void expect_cuda_matches_cpu(const ScanCase& c, uint32_t seed) {
    SCOPED_TRACE(describe(c));
    const ScanInputs in = make_inputs(c, seed);
    const ScanResult cpu = run_scan("cpu", c, in);
    const ScanResult gpu = run_scan("cuda", c, in);
    // exp2 vs exp, and a different summation order over time (chunk scan).
    const double tol = (c.dtype == NM_DTYPE_F32 ? 2e-5 : tolerance(c.dtype)) * (c.length > 1000 ? 5.0 : 1.0);
    expect_close(gpu.out, cpu.out, tol, "out");
    expect_close(gpu.final_state, cpu.final_state, c.length > 1000 ? 1e-4 : 2e-5, "final_state");
}

}  // namespace

TEST(SelectiveScanCuda, MatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    uint32_t seed = 900;
    // The chunked kernel (D a multiple of 8 per group, L >= 16) and the simple one.
    for (int64_t L : {1, 7, 16, 511, 512, 513, 2049, 10000})
        for (int64_t D : {8, 24, 6})
            for (bool per_channel : {false, true}) {
                ScanCase c;
                c.batch = L > 5000 ? 1 : 2, c.length = L, c.channels = D, c.state = 16;
                c.groups = (!per_channel && D % 16 == 0) ? 2 : 1;
                c.per_channel = per_channel;
                c.z = c.d_skip = c.delta_bias = c.softplus = c.initial_state = true;
                expect_cuda_matches_cpu(c, seed++);
            }
    for (int64_t N : {1, 5, 16, 64, 128, 256})
        for (int64_t G : {1, 2}) {
            ScanCase c;
            c.batch = 2, c.length = 600, c.channels = 16, c.state = N, c.groups = G;
            c.d_skip = c.softplus = c.initial_state = true;
            expect_cuda_matches_cpu(c, seed++);
        }
    for (nm_dtype dtype : {NM_DTYPE_BF16, NM_DTYPE_F16})
        for (bool per_channel : {false, true}) {
            ScanCase c;
            c.batch = 3, c.length = 1030, c.channels = 40, c.state = 16, c.per_channel = per_channel;
            c.z = c.d_skip = c.delta_bias = c.softplus = true, c.dtype = dtype;
            expect_cuda_matches_cpu(c, seed++);
        }
    // Options off, no initial state.
    ScanCase plain;
    plain.batch = 1, plain.length = 700, plain.channels = 32, plain.state = 16;
    expect_cuda_matches_cpu(plain, seed++);
}

TEST(SelectiveScanCuda, SameTensorForInitialAndFinalState) {
    NM_SKIP_WITHOUT_CUDA();
    for (int64_t L : {3, 1500}) {
        ScanCase c;
        c.batch = 2, c.length = L, c.channels = 16, c.state = 16, c.initial_state = true;
        SCOPED_TRACE(describe(c));
        const ScanInputs in = make_inputs(c, 950);
        Context ctx("cuda");
        ASSERT_NE(ctx.p, nullptr) << nm_last_error();
        Tensor u = make_tensor(ctx, NM_DTYPE_F32, {2, L, 16}, in.u);
        Tensor delta = make_tensor(ctx, NM_DTYPE_F32, {2, L, 16}, in.delta);
        Tensor a = make_tensor(ctx, NM_DTYPE_F32, {16, 16}, in.a);
        Tensor bm = make_tensor(ctx, NM_DTYPE_F32, bc_shape(c), in.b);
        Tensor cm = make_tensor(ctx, NM_DTYPE_F32, bc_shape(c), in.c);
        Tensor state = make_tensor(ctx, NM_DTYPE_F32, {2, 16, 16}, in.h0);
        Tensor out = make_tensor(ctx, NM_DTYPE_F32, {2, L, 16});
        nm_ssm_options opt{};
        EXPECT_NM_OK(nm_selective_scan(ctx, u, delta, a, bm, cm, &opt, state, out, state));
        const ScanResult want = run_scan("cpu", c, in);
        expect_close(download(ctx, out), want.out, 5e-5, "out");
        expect_close(download(ctx, state), want.final_state, 5e-5, "state");
    }
}

TEST(SelectiveStateUpdateCuda, MatchesCpu) {
    NM_SKIP_WITHOUT_CUDA();
    uint32_t seed = 1000;
    for (nm_dtype dtype : {NM_DTYPE_F32, NM_DTYPE_BF16})
        for (int64_t N : {1, 7, 16, 64, 256}) {
            ScanCase c;
            c.batch = 3, c.length = 20, c.channels = 12, c.state = N, c.groups = 2, c.dtype = dtype;
            c.z = c.d_skip = c.delta_bias = c.softplus = c.initial_state = true;
            SCOPED_TRACE(describe(c));
            const ScanInputs in = make_inputs(c, seed++);
            // Prefill of 17 steps (the chunked kernel), then 3 decode steps.
            const ScanResult cpu = prefill_then_decode("cpu", c, in, 17);
            const ScanResult gpu = prefill_then_decode("cuda", c, in, 17);
            expect_close(gpu.out, cpu.out, dtype == NM_DTYPE_F32 ? 2e-5 : tolerance(dtype), "out");
            expect_close(gpu.final_state, cpu.final_state, 2e-5, "state");
        }
}

TEST(SelectiveScanCuda, MatchesAuthorsReferenceGoldens) {
    NM_SKIP_WITHOUT_CUDA();
    for (const char* name : kGoldenCases) expect_golden("cuda", name);
}
