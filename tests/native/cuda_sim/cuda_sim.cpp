// cuda_sim.cpp — the block scheduler, warp collectives and inline-PTX
// emulations behind cuda_sim.h.
//
// Scheduling: each CUDA thread of the running block is a fiber with its own
// stack (mmap'ed with a guard page, pooled across blocks). The scheduler
// resumes fibers warp by warp: all runnable lanes of warp 0 (lane 0 first)
// until none of them can run, then warp 1, ...; Options::reverse flips both
// orders. A fiber gives control back only when it must wait: at
// __syncthreads (until every thread of the block has arrived) or at a warp
// collective (until every lane of the collective's mask has arrived). The
// last lane to arrive at a collective computes every participant's result
// from the values all of them deposited, as the hardware instruction would.
//
// PTX emulations, from the PTX ISA (not from the kernels' comments):
//  - mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}: "Matrix Fragments for
//    mma.m16n8k16 with floating point type". With groupID = lane >> 2 and
//    tig = lane % 4: A (16x16, row) element a_i of the 8 per lane (two per
//    .b32 register, low half first) is at row groupID (+8 for i in 2,3,6,7),
//    column 2 tig + (i & 1) (+8 for i >= 4); B (16x8, col) element b_i at
//    row 2 tig + (i & 1) (+8 for i >= 2), column groupID; C/D element c_i at
//    row groupID (+8 for i >= 2), column 2 tig + (i & 1). D = A B + C is
//    computed exactly (products and sum in double) and rounded once to f32.
//  - ldmatrix.sync.aligned.m8n8.x4{.trans}.shared.b16: lanes 8j..8j+7 give
//    the row addresses of matrix j (16 bytes each, 16-byte aligned, in shared
//    memory); register j of lane l receives elements (l / 4, 2 (l % 4)) and
//    (l / 4, 2 (l % 4) + 1) of matrix j, low half first; with .trans the
//    matrix is read column-major, i.e. elements (2 (l % 4), l / 4) and
//    (2 (l % 4) + 1, l / 4).
//  - cp.async.cg.shared.global 16, src-size: src-size bytes copied, the rest
//    of the 16 zero-filled. commit_group closes the thread's open copies into
//    a group; wait_group N completes all but the N most recent groups. The
//    writes become visible no earlier than the PTX ISA allows: the copies are
//    queued and performed by the wait_group that must complete them (open
//    and still pending ones at thread exit), or at issue with
//    Options::eager_cp_async, which exposes write-after-read hazards instead.
#include "cuda_sim.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <new>
#include <numeric>
#include <random>
#include <vector>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace sim {

// NM_CUDA_SIM_SCHEDULE (words "reverse", "eager", "shuffle=<seed>") sets the
// defaults, so that a whole test run can use another schedule.
Options& options() {
    static Options o = [] {
        Options d;
        if (const char* env = std::getenv("NM_CUDA_SIM_SCHEDULE")) {
            const std::string s = env;
            d.reverse = s.find("reverse") != std::string::npos;
            d.eager_cp_async = s.find("eager") != std::string::npos;
            const size_t at = s.find("shuffle=");
            if (at != std::string::npos) d.shuffle_seed = std::strtoull(s.c_str() + at + 8, nullptr, 10);
        }
        return d;
    }();
    return o;
}

Stats& stats() {
    static Stats s;
    return s;
}

namespace {

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

// ------------------------------------------------------------ contexts

#if defined(__x86_64__)
// A context is a saved stack pointer; the callee-saved registers live on the
// stack. (swapcontext would also save the signal mask: a system call per switch.)
extern "C" void nm_sim_switch(void** save_sp, void* to_sp);
asm(R"(
    .text
    .p2align 4
    .type nm_sim_switch, @function
nm_sim_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size nm_sim_switch, .-nm_sim_switch
)");

struct Context {
    void* sp = nullptr;
};

void context_init(Context& c, char* stack, size_t bytes, void (*entry)()) {
    uintptr_t top = (reinterpret_cast<uintptr_t>(stack) + bytes) & ~uintptr_t(15);
    void** sp = reinterpret_cast<void**>(top);
    *--sp = nullptr;                          // entry's return address: it never returns
    *--sp = reinterpret_cast<void*>(entry);   // where nm_sim_switch's ret goes
    for (int i = 0; i < 6; ++i) *--sp = nullptr;  // rbp, rbx, r12-r15
    c.sp = sp;
}

void context_switch(Context& from, Context& to) { nm_sim_switch(&from.sp, to.sp); }
#else
struct Context {
    ucontext_t uc;
};

void context_init(Context& c, char* stack, size_t bytes, void (*entry)()) {
    getcontext(&c.uc);
    c.uc.uc_stack.ss_sp = stack;
    c.uc.uc_stack.ss_size = bytes;
    c.uc.uc_link = nullptr;
    makecontext(&c.uc, entry, 0);
}

void context_switch(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
#endif

constexpr size_t kStackBytes = 256 * 1024;
// Bytes around dynamic shared memory and device buffers that must keep
// their 0xff fill: a kernel writing just outside its memory shows.
constexpr size_t kGuard = 256;

// First byte in [p, p + n) that is not 0xff, or nullptr.
const unsigned char* first_written(const unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != 0xff) return p + i;
    return nullptr;
}

// Fiber stacks, reused by every block and launch on this OS thread.
class StackPool {
public:
    ~StackPool() {
        for (char* s : stacks_) munmap(s - page(), kStackBytes + page());
    }
    char* get(size_t i) {
        while (stacks_.size() <= i) {
            void* p = mmap(nullptr, kStackBytes + page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) throw Error("cuda_sim: cannot map a fiber stack");
            mprotect(p, page(), PROT_NONE);  // overflow faults instead of corrupting the neighbour
            stacks_.push_back(static_cast<char*>(p) + page());
        }
        return stacks_[i];
    }

private:
    static size_t page() { return size_t(sysconf(_SC_PAGESIZE)); }
    std::vector<char*> stacks_;
};

// ------------------------------------------------------------ block state

enum class State : uint8_t { Runnable, Barrier, Warp, Done };

struct Copy {
    unsigned char* dst;
    const unsigned char* src;
    int bytes;
};

struct SimThread {
    Context ctx;
    State state = State::Runnable;
    uint3 idx{0, 0, 0};
    int linear = 0, warp = 0, lane = 0;
    std::vector<Copy> open;                // issued cp.async, not yet committed
    std::deque<std::vector<Copy>> groups;  // committed, not yet complete
};

struct alignas(16) Slot {
    unsigned char b[64];
};

enum Op : int { kSyncwarp, kBallot, kShfl, kLdmatrix, kLdmatrixTrans, kMmaF16, kMmaBF16 };

const char* op_name(int op) {
    switch (op) {
        case kSyncwarp: return "__syncwarp";
        case kBallot: return "__ballot_sync";
        case kShfl: return "__shfl_*_sync";
        case kLdmatrix: return "ldmatrix.x4";
        case kLdmatrixTrans: return "ldmatrix.x4.trans";
        case kMmaF16: return "mma.sync.m16n8k16.f16";
        case kMmaBF16: return "mma.sync.m16n8k16.bf16";
        default: return "?";
    }
}

struct WarpState {
    unsigned present = 0;  // lanes that exist in this block
    unsigned exited = 0;
    unsigned expect = 0;   // mask of the collective in progress; 0: none
    unsigned arrived = 0;
    int op = -1;
    Slot in[32], out[32];
};

struct BlockState {
    std::vector<SimThread> threads;
    std::vector<WarpState> warps;
    int live = 0, exited = 0, at_barrier = 0;
    int bar_count = 0, bar_and = 1, bar_or = 0;  // predicate reductions of the barrier in progress
    int bar_result[3] = {0, 0, 0};
    unsigned char* smem_raw = nullptr;  // kGuard bytes, then smem_capacity bytes, then kGuard bytes
    unsigned char* smem = nullptr;
    size_t smem_bytes = 0, smem_capacity = 0;
    bool failed = false;
    std::string error;
    std::mt19937_64 rng;  // the shuffled schedule's draws
    const std::function<void()>* body = nullptr;
    Context sched;
    StackPool stacks;

    ~BlockState() { ::operator delete(smem_raw, std::align_val_t(128)); }
    void fail(const std::string& msg) {
        if (!failed) error = msg;
        failed = true;
    }
};

thread_local BlockState* g_block = nullptr;
thread_local SimThread* g_cur = nullptr;

BlockState& block() {
    if (!g_block || !g_cur) throw Error("cuda_sim: device function called outside sim::launch");
    return *g_block;
}

std::string where(const SimThread& t) {
    return format("block (%u,%u,%u) thread (%u,%u,%u) [warp %d lane %d]: ", blockIdx.x, blockIdx.y, blockIdx.z,
                  t.idx.x, t.idx.y, t.idx.z, t.warp, t.lane);
}

[[noreturn]] void fail(const std::string& msg) { throw Error(msg); }

// Gives control back to the scheduler until woken.
void wait_as(State s) {
    SimThread& t = *g_cur;
    t.state = s;
    context_switch(t.ctx, g_block->sched);
}

void perform(const Copy& c) {
    if (c.bytes > 0) std::memcpy(c.dst, c.src, size_t(c.bytes));
    if (c.bytes < 16) std::memset(c.dst + c.bytes, 0, size_t(16 - c.bytes));
}

void thread_exit(BlockState& b, SimThread& t) {
    // Copies still in flight land eventually (their data is not observable by this thread any more).
    for (const auto& g : t.groups)
        for (const Copy& c : g) perform(c);
    for (const Copy& c : t.open) perform(c);
    t.groups.clear();
    t.open.clear();
    WarpState& w = b.warps[size_t(t.warp)];
    const unsigned bit = 1u << t.lane;
    w.exited |= bit;
    if (w.expect & bit)
        b.fail(where(t) + format("exited while lanes 0x%08x of its warp wait for it in %s (mask 0x%08x)", w.arrived,
                                 op_name(w.op), w.expect));
    if (b.at_barrier > 0)
        b.fail(where(t) + format("exited while %d threads wait at __syncthreads", b.at_barrier));
    --b.live;
    ++b.exited;
}

void fiber_entry() {
    BlockState& b = *g_block;
    SimThread& t = *g_cur;
    try {
        (*b.body)();
    } catch (const std::exception& e) {
        b.fail(where(t) + e.what());
    } catch (...) {
        b.fail(where(t) + "unknown exception");
    }
    thread_exit(b, t);
    t.state = State::Done;
    context_switch(t.ctx, b.sched);
    std::abort();  // a finished fiber is never resumed
}

void resume(BlockState& b, SimThread& t) {
    g_cur = &t;
    threadIdx = t.idx;
    ++stats().switches;
    context_switch(b.sched, t.ctx);
    g_cur = nullptr;
}

std::string deadlock_report(const BlockState& b) {
    int at_barrier = 0, done = 0;
    std::string warps;
    for (const SimThread& t : b.threads) {
        if (t.state == State::Barrier) ++at_barrier;
        if (t.state == State::Done) ++done;
    }
    for (size_t w = 0; w < b.warps.size(); ++w)
        if (b.warps[w].expect)
            warps += format("; warp %zu: lanes 0x%08x of mask 0x%08x in %s", w, b.warps[w].arrived,
                            b.warps[w].expect, op_name(b.warps[w].op));
    return format("deadlock: %d threads at __syncthreads, %d exited, of %zu", at_barrier, done, b.threads.size()) +
           warps;
}

void run_block(BlockState& b) {
    const int n = int(b.threads.size());
    const int nwarps = int(b.warps.size());
    const bool rev = options().reverse;
    const uint64_t seed = options().shuffle_seed;
    if (seed) b.rng.seed(seed * 0x9E3779B97F4A7C15ull + stats().blocks);
    std::vector<int> warp_order(static_cast<size_t>(nwarps)), lane_order(32);
    std::iota(warp_order.begin(), warp_order.end(), 0);
    std::iota(lane_order.begin(), lane_order.end(), 0);
    if (rev) {
        std::reverse(warp_order.begin(), warp_order.end());
        std::reverse(lane_order.begin(), lane_order.end());
    }
    b.live = n;
    b.exited = 0;
    b.at_barrier = 0;
    b.bar_count = 0, b.bar_and = 1, b.bar_or = 0;
    b.failed = false;
    b.error.clear();
    for (WarpState& w : b.warps) w.exited = 0, w.expect = 0, w.arrived = 0, w.op = -1;
    // NaN in every float format: unwritten data shows. The guards around it too.
    std::memset(b.smem_raw, 0xff, b.smem_capacity + 2 * kGuard);
    for (int i = 0; i < n; ++i) {
        SimThread& t = b.threads[size_t(i)];
        t.state = State::Runnable;
        t.open.clear();
        t.groups.clear();
        context_init(t.ctx, b.stacks.get(size_t(i)), kStackBytes, fiber_entry);
    }
    ++stats().blocks;
    stats().threads += uint64_t(n);

    for (;;) {
        bool progress = false;
        if (seed) std::shuffle(warp_order.begin(), warp_order.end(), b.rng);
        for (int wi = 0; wi < nwarps && !b.failed; ++wi) {
            const int w = warp_order[size_t(wi)];
            const int first = w * 32, count = std::min(32, n - first);
            for (bool any = true; any && !b.failed;) {
                any = false;
                if (seed) std::shuffle(lane_order.begin(), lane_order.end(), b.rng);
                for (int li = 0; li < 32 && !b.failed; ++li) {
                    if (lane_order[size_t(li)] >= count) continue;
                    SimThread& t = b.threads[size_t(first + lane_order[size_t(li)])];
                    if (t.state != State::Runnable) continue;
                    resume(b, t);
                    any = progress = true;
                }
            }
        }
        if (b.failed || !progress) break;
    }
    if (!b.failed && b.live > 0) b.fail(deadlock_report(b));
    if (b.failed) return;
    const unsigned char* below = first_written(b.smem_raw, kGuard);
    const unsigned char* above = first_written(b.smem + b.smem_bytes, kGuard);
    if (below || above)
        b.fail(format("shared memory written outside its %zu bytes, at offset %td", b.smem_bytes,
                      (below ? below : above) - b.smem));
}

// A warp collective: deposits `in`, waits for every lane of `mask`, and
// returns this lane's result, which the last lane to arrive computed with `finish`.
const Slot& collective(int op, unsigned mask, const void* in, size_t n, void (*finish)(WarpState&, unsigned)) {
    BlockState& b = block();
    SimThread& t = *g_cur;
    WarpState& w = b.warps[size_t(t.warp)];
    const unsigned bit = 1u << t.lane;
    if (!(mask & bit)) fail(format("%s: mask 0x%08x does not include the calling lane", op_name(op), mask));
    if (mask & ~w.present)
        fail(format("%s: mask 0x%08x names lanes that do not exist (warp has 0x%08x)", op_name(op), mask, w.present));
    if (mask & w.exited)
        fail(format("%s: mask 0x%08x names lanes that have exited (0x%08x)", op_name(op), mask, mask & w.exited));
    if (w.expect == 0) {
        w.expect = mask;
        w.op = op;
        w.arrived = 0;
    } else if (w.expect != mask || w.op != op) {
        fail(format("%s with mask 0x%08x while lanes 0x%08x wait in %s with mask 0x%08x (divergent collectives)",
                    op_name(op), mask, w.arrived, op_name(w.op), w.expect));
    }
    if (n) std::memcpy(w.in[t.lane].b, in, n);
    w.arrived |= bit;
    if (w.arrived == mask) {
        ++stats().collectives;
        finish(w, mask);
        w.expect = 0;
        w.op = -1;
        for (int l = 0; l < 32; ++l)
            if ((mask >> l) & 1u) {
                SimThread& o = b.threads[size_t(t.warp * 32 + l)];
                if (o.state == State::Warp) o.state = State::Runnable;
            }
    } else {
        wait_as(State::Warp);
    }
    return w.out[t.lane];
}

// ------------------------------------------------------------ memory checks

std::mutex g_buffers_mutex;
std::map<uintptr_t, size_t>& buffers() {
    static std::map<uintptr_t, size_t> m;
    return m;
}

void check_shared(const void* p, size_t bytes, const char* what) {
    const BlockState& b = block();
    const auto a = reinterpret_cast<uintptr_t>(p), lo = reinterpret_cast<uintptr_t>(b.smem);
    if (a < lo || a + bytes > lo + b.smem_bytes)
        fail(format("%s %p is not in the block's %zu bytes of dynamic shared memory", what, p, b.smem_bytes));
    if (a % 16) fail(format("%s %p is not 16-byte aligned", what, p));
}

void check_global(const void* p, size_t bytes, const char* what) {
    std::lock_guard<std::mutex> lock(g_buffers_mutex);
    const auto& m = buffers();
    if (m.empty()) return;  // the test registered no buffers: nothing to check against
    const auto a = reinterpret_cast<uintptr_t>(p);
    auto it = m.upper_bound(a);
    if (it != m.begin()) {
        --it;
        if (a >= it->first && a + bytes <= it->first + it->second) return;
    }
    fail(format("%s [%p, +%zu) is outside every device buffer", what, p, bytes));
}

// ------------------------------------------------------------ collectives' results

void finish_nothing(WarpState&, unsigned) {}

void finish_ballot(WarpState& w, unsigned mask) {
    unsigned r = 0;
    for (int l = 0; l < 32; ++l)
        if (((mask >> l) & 1u) && w.in[l].b[0]) r |= 1u << l;
    for (int l = 0; l < 32; ++l)
        if ((mask >> l) & 1u) std::memcpy(w.out[l].b, &r, 4);
}

struct ShflIn {
    uint64_t bits;
    int param, width, kind;
};

void finish_shfl(WarpState& w, unsigned mask) {
    ShflIn first{};
    bool have = false;
    for (int l = 0; l < 32; ++l) {
        if (!((mask >> l) & 1u)) continue;
        ShflIn s;
        std::memcpy(&s, w.in[l].b, sizeof s);
        if (!have) first = s, have = true;
        if (s.kind != first.kind || s.width != first.width)
            fail(format("__shfl_*_sync: lanes of mask 0x%08x disagree on the kind or width", mask));
        const int width = s.width;
        if (width < 1 || width > 32 || (width & (width - 1)))
            fail(format("__shfl_*_sync: width %d is not a power of two in [1, 32]", width));
        const int seg = l & ~(width - 1), pos = l & (width - 1);
        int src = l;
        switch (Shfl(s.kind)) {
            case Shfl::Idx: src = seg + (s.param & (width - 1)); break;
            case Shfl::Up: src = (s.param >= 0 && pos >= s.param) ? l - s.param : l; break;
            case Shfl::Down: src = (s.param >= 0 && pos + s.param < width) ? l + s.param : l; break;
            case Shfl::Xor:
                src = l ^ (s.param & 31);
                if (src >= seg + width) src = l;  // a later segment: own value
                break;
        }
        if (!((mask >> src) & 1u))
            fail(format("__shfl_*_sync: lane %d reads lane %d, which is not in mask 0x%08x", l, src, mask));
        std::memcpy(w.out[l].b, w.in[src].b, 8);  // bits is the first member
    }
}

struct LdmIn {
    const unsigned char* row;
};

template <bool kTrans>
void finish_ldmatrix(WarpState& w, unsigned) {
    for (int j = 0; j < 4; ++j) {
        uint16_t m[8][8];
        for (int r = 0; r < 8; ++r) {
            LdmIn in;
            std::memcpy(&in, w.in[j * 8 + r].b, sizeof in);
            std::memcpy(m[r], in.row, 16);
        }
        for (int l = 0; l < 32; ++l) {
            const int g = l >> 2, c = 2 * (l & 3);
            const uint16_t lo = kTrans ? m[c][g] : m[g][c];
            const uint16_t hi = kTrans ? m[c + 1][g] : m[g][c + 1];
            const uint32_t v = uint32_t(lo) | (uint32_t(hi) << 16);
            std::memcpy(w.out[l].b + 4 * j, &v, 4);
        }
    }
}

struct MmaIn {
    uint32_t a[4];
    uint32_t b[2];
    float c[4];
};

template <MmaType kType>
float element(uint32_t reg, int half) {
    const uint16_t h = uint16_t(reg >> (16 * half));
    return kType == MmaType::F16 ? nm::f16_to_float(h) : nm::bf16_to_float(h);
}

template <MmaType kType>
void finish_mma(WarpState& w, unsigned) {
    float A[16][16], B[16][8], C[16][8];
    for (int l = 0; l < 32; ++l) {
        MmaIn in;
        std::memcpy(&in, w.in[l].b, sizeof in);
        const int g = l >> 2, tig = l & 3;
        for (int i = 0; i < 8; ++i) {  // a_i: register i / 2, half i % 2
            const int row = g + ((i == 2 || i == 3 || i == 6 || i == 7) ? 8 : 0);
            const int col = 2 * tig + (i & 1) + (i >= 4 ? 8 : 0);
            A[row][col] = element<kType>(in.a[i >> 1], i & 1);
        }
        for (int i = 0; i < 4; ++i) {  // b_i: register i / 2, half i % 2
            const int row = 2 * tig + (i & 1) + (i >= 2 ? 8 : 0);
            B[row][g] = element<kType>(in.b[i >> 1], i & 1);
        }
        for (int i = 0; i < 4; ++i) C[g + (i >= 2 ? 8 : 0)][2 * tig + (i & 1)] = in.c[i];
    }
    for (int l = 0; l < 32; ++l) {
        const int g = l >> 2, tig = l & 3;
        float d[4];
        for (int i = 0; i < 4; ++i) {
            const int row = g + (i >= 2 ? 8 : 0), col = 2 * tig + (i & 1);
            double acc = C[row][col];
            for (int k = 0; k < 16; ++k) acc += double(A[row][k]) * double(B[k][col]);
            d[i] = float(acc);
        }
        std::memcpy(w.out[l].b, d, sizeof d);
    }
}

}  // namespace

// ------------------------------------------------------------ public API

// Layout: kGuard bytes, the buffer (256-byte aligned), padding to a multiple
// of 256 and kGuard more bytes; all 0xff.
DeviceBuffer::DeviceBuffer(size_t bytes) : n_(bytes) {
    const size_t alloc = kGuard + (bytes + 255) / 256 * 256 + kGuard;
    void* raw = std::aligned_alloc(256, alloc);
    if (!raw) throw std::bad_alloc();
    std::memset(raw, 0xff, alloc);
    p_ = static_cast<unsigned char*>(raw) + kGuard;
    std::lock_guard<std::mutex> lock(g_buffers_mutex);
    buffers()[reinterpret_cast<uintptr_t>(p_)] = bytes;
}

DeviceBuffer::~DeviceBuffer() {
    if (!p_) return;
    {
        std::lock_guard<std::mutex> lock(g_buffers_mutex);
        buffers().erase(reinterpret_cast<uintptr_t>(p_));
    }
    std::free(static_cast<unsigned char*>(p_) - kGuard);
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
        DeviceBuffer tmp(std::move(*this));
        p_ = o.p_, n_ = o.n_;
        o.p_ = nullptr, o.n_ = 0;
    }
    return *this;
}

namespace {

// After a launch: the guards around every device buffer still hold 0xff.
void check_buffer_guards() {
    std::lock_guard<std::mutex> lock(g_buffers_mutex);
    for (const auto& [start, bytes] : buffers()) {
        const auto* p = reinterpret_cast<const unsigned char*>(start);
        const size_t tail = (bytes + 255) / 256 * 256 - bytes + kGuard;
        const unsigned char* below = first_written(p - kGuard, kGuard);
        const unsigned char* above = first_written(p + bytes, tail);
        if (below || above)
            throw Error(format("cuda_sim: the kernel wrote outside the %zu-byte device buffer %p, at byte %td", bytes,
                               static_cast<const void*>(p), (below ? below : above) - p));
    }
}

}  // namespace

void run_grid(dim3 grid, dim3 blk, size_t dynamic_smem, const std::function<void()>& body) {
    const uint64_t nthreads = uint64_t(blk.x) * blk.y * blk.z;
    if (nthreads == 0 || nthreads > 1024 || blk.x > 1024 || blk.y > 1024 || blk.z > 64)
        throw Error(format("cuda_sim: invalid block (%u,%u,%u)", blk.x, blk.y, blk.z));
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535)
        throw Error(format("cuda_sim: invalid grid (%u,%u,%u)", grid.x, grid.y, grid.z));
    if (dynamic_smem > options().max_dynamic_smem)
        throw Error(format("cuda_sim: %zu bytes of dynamic shared memory exceed the limit of %zu", dynamic_smem,
                           options().max_dynamic_smem));
    if (g_block) throw Error("cuda_sim: launch from inside a kernel");

    static thread_local BlockState b;
    const int n = int(nthreads);
    b.threads.resize(size_t(n));
    b.warps.assign(size_t((n + 31) / 32), WarpState{});
    for (int i = 0; i < n; ++i) {
        SimThread& t = b.threads[size_t(i)];
        t.idx = uint3{unsigned(i) % blk.x, (unsigned(i) / blk.x) % blk.y, unsigned(i) / (blk.x * blk.y)};
        t.linear = i, t.warp = i / 32, t.lane = i % 32;
        b.warps[size_t(t.warp)].present |= 1u << t.lane;
    }
    const size_t cap = std::max<size_t>(dynamic_smem, 16);
    if (b.smem_capacity < cap) {
        ::operator delete(b.smem_raw, std::align_val_t(128));
        b.smem_raw = static_cast<unsigned char*>(::operator new(cap + 2 * kGuard, std::align_val_t(128)));
        b.smem = b.smem_raw + kGuard;
        b.smem_capacity = cap;
    }
    b.smem_bytes = dynamic_smem;
    b.body = &body;

    struct Reset {
        ~Reset() { g_block = nullptr, g_cur = nullptr; }
    } reset;
    g_block = &b;
    gridDim = grid;
    blockDim = blk;
    ++stats().launches;
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                blockIdx = uint3{x, y, z};
                run_block(b);
                if (b.failed) throw Error("cuda_sim: " + b.error);
            }
    check_buffer_guards();
}

void* dynamic_shared_base() { return block().smem; }

size_t shared_offset(const void* p) {
    const BlockState& b = block();
    const auto a = reinterpret_cast<uintptr_t>(p), lo = reinterpret_cast<uintptr_t>(b.smem);
    if (a < lo || a >= lo + b.smem_bytes) fail(format("cvta.to.shared: %p is not in dynamic shared memory", p));
    return size_t(a - lo);
}

void syncthreads() {
    BlockState& b = block();
    if (b.exited > 0) fail(format("__syncthreads after %d threads of the block exited", b.exited));
    if (++b.at_barrier == b.live) {
        ++stats().barriers;
        b.at_barrier = 0;
        for (SimThread& t : b.threads)
            if (t.state == State::Barrier) t.state = State::Runnable;
    } else {
        wait_as(State::Barrier);
    }
}

int syncthreads_reduce(int pred, int op) {
    BlockState& b = block();
    b.bar_count += pred != 0;
    b.bar_and &= pred != 0;
    b.bar_or |= pred != 0;
    if (b.at_barrier + 1 == b.live) {  // the last to arrive publishes the results before releasing
        b.bar_result[0] = b.bar_count, b.bar_result[1] = b.bar_and, b.bar_result[2] = b.bar_or;
        b.bar_count = 0, b.bar_and = 1, b.bar_or = 0;
    }
    syncthreads();
    return b.bar_result[op];
}

void syncwarp(unsigned mask) { collective(kSyncwarp, mask, nullptr, 0, finish_nothing); }

unsigned ballot(unsigned mask, bool pred) {
    const unsigned char in = pred;
    unsigned r;
    std::memcpy(&r, collective(kBallot, mask, &in, 1, finish_ballot).b, 4);
    return r;
}

uint64_t shfl(unsigned mask, uint64_t bits, int param, int width, Shfl kind) {
    const ShflIn in{bits, param, width, int(kind)};
    uint64_t r;
    std::memcpy(&r, collective(kShfl, mask, &in, sizeof in, finish_shfl).b, 8);
    return r;
}

void cp_async16(void* smem, const void* gmem, int src_bytes) {
    BlockState& b = block();
    check_shared(smem, 16, "cp.async destination");
    if (src_bytes < 0 || src_bytes > 16) fail(format("cp.async: src-size %d is not in [0, 16]", src_bytes));
    if (src_bytes > 0) {
        if (reinterpret_cast<uintptr_t>(gmem) % 16) fail(format("cp.async source %p is not 16-byte aligned", gmem));
        check_global(gmem, size_t(src_bytes), "cp.async source");
    }
    ++stats().cp_async;
    const Copy c{static_cast<unsigned char*>(smem), static_cast<const unsigned char*>(gmem), src_bytes};
    if (options().eager_cp_async || (options().shuffle_seed && (b.rng() & 1))) perform(c);
    else g_cur->open.push_back(c);
}

void cp_async_commit() {
    block();
    SimThread& t = *g_cur;
    t.groups.push_back(std::move(t.open));
    t.open.clear();
}

void cp_async_wait(int n) {
    block();
    SimThread& t = *g_cur;
    if (n < 0) fail("cp.async.wait_group: negative count");
    while (t.groups.size() > size_t(n)) {
        for (const Copy& c : t.groups.front()) perform(c);
        t.groups.pop_front();
    }
}

void ldmatrix_x4(uint32_t (&r)[4], const void* smem, bool trans) {
    BlockState& b = block();
    check_shared(smem, 16, trans ? "ldmatrix.trans row address" : "ldmatrix row address");
    ++stats().ldmatrix;
    const LdmIn in{static_cast<const unsigned char*>(smem)};
    const unsigned all = b.warps[size_t(g_cur->warp)].present;
    const Slot& out = trans ? collective(kLdmatrixTrans, all, &in, sizeof in, finish_ldmatrix<true>)
                            : collective(kLdmatrix, all, &in, sizeof in, finish_ldmatrix<false>);
    std::memcpy(r, out.b, sizeof r);
}

void mma_m16n8k16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1, MmaType type) {
    BlockState& b = block();
    if (b.warps[size_t(g_cur->warp)].present != 0xffffffffu) fail("mma.sync in a warp that is not full");
    ++stats().mma;
    MmaIn in;
    std::memcpy(in.a, a, sizeof in.a);
    in.b[0] = b0, in.b[1] = b1;
    std::memcpy(in.c, c, sizeof in.c);
    const Slot& out = type == MmaType::F16 ? collective(kMmaF16, 0xffffffffu, &in, sizeof in, finish_mma<MmaType::F16>)
                                           : collective(kMmaBF16, 0xffffffffu, &in, sizeof in, finish_mma<MmaType::BF16>);
    std::memcpy(c, out.b, sizeof c);
}

}  // namespace sim
