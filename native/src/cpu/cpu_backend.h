// cpu_backend.h — the CPU backend: OpenMP for loops, OpenBLAS for GEMM.
//
// It is a real backend (the default without a GPU) and the reference the
// CUDA kernels are tested against. Each operator family lives in its own
// file beside this one (gemm_cpu.cpp, norm_cpu.cpp, ...).
#pragma once

#include "../core/backend.h"

namespace nm {

class CpuBackend final : public Backend {
public:
    nm_backend_kind kind() const override { return NM_BACKEND_CPU; }
    int32_t device() const override { return 0; }

    nm_status alloc(size_t bytes, void** out) override;
    void release(void* ptr) override;
    nm_status upload(void* dst, const void* host_src, size_t bytes) override;
    nm_status download(void* host_dst, const void* src, size_t bytes) override;
    nm_status copy(void* dst, const void* src, size_t bytes) override;
    nm_status zero(void* dst, size_t bytes) override;
    nm_status synchronize() override { return NM_OK; }

    nm_status gemm(const GemmArgs& args) override;                    // gemm_cpu.cpp
    nm_status embedding(const EmbeddingArgs& args) override;          // embedding_cpu.cpp
    nm_status rmsnorm(const RmsNormArgs& args) override;              // norm_cpu.cpp
    nm_status rmsnorm_gated(const RmsNormGatedArgs& args) override;   // norm_cpu.cpp
    nm_status l2norm(const L2NormArgs& args) override;                // norm_cpu.cpp
    nm_status unary(const UnaryArgs& args) override;                  // elementwise_cpu.cpp
    nm_status swiglu(const SwigluArgs& args) override;                // elementwise_cpu.cpp
    nm_status binary(const BinaryArgs& args) override;                // elementwise_cpu.cpp
    nm_status convert(const ConvertArgs& args) override;              // elementwise_cpu.cpp
    nm_status softmax(const SoftmaxArgs& args) override;              // softmax_cpu.cpp
    nm_status rope(const RopeArgs& args) override;                    // rope_cpu.cpp
    nm_status conv1d_causal(const Conv1dArgs& args) override;         // conv1d_cpu.cpp
    nm_status conv1d_update(const Conv1dUpdateArgs& args) override;   // conv1d_cpu.cpp
    nm_status sample(const SampleArgs& args) override;                // sample_cpu.cpp
    nm_status selective_scan(const SelectiveScanArgs& args) override;  // selective_scan_cpu.cpp
    nm_status selective_state_update(const SelectiveStateUpdateArgs& args) override;  // selective_scan_cpu.cpp
    nm_status attention(const AttentionArgs& args) override;          // attention_cpu.cpp
    nm_status kv_cache_append(const KvCacheAppendArgs& args) override;  // kv_cache_cpu.cpp
    nm_status attention_decode(const AttentionDecodeArgs& args) override;  // attention_cpu.cpp
};

}  // namespace nm
