// cuda_backend.h — the CUDA backend: one device, one non-blocking stream.
//
// Everything a context does is queued on its stream in call order, so
// operators need no synchronisation among themselves. Each method first makes
// the backend's device current (one thread may drive contexts on several
// devices). The operators live in one file per family beside this one
// (gemm.cu, norm.cu, ...); this class holds the resources they share:
//  - the stream and a cuBLAS handle bound to it (created on first gemm);
//  - a device workspace, grown on demand, for small per-call inputs copied
//    from the host (token ids, positions, frequencies) and sampling scratch.
//    It is only ever used by work on this stream, so reusing it from one call
//    to the next is ordered; growing it waits for the stream first.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "../core/backend.h"

namespace nm {

class CudaBackend final : public Backend {
public:
    // Creates the stream on `device` (the caller checked the device exists).
    static nm_status create(int32_t device, CudaBackend** out);
    ~CudaBackend() override;
    CudaBackend(const CudaBackend&) = delete;
    CudaBackend& operator=(const CudaBackend&) = delete;

    nm_backend_kind kind() const override { return NM_BACKEND_CUDA; }
    int32_t device() const override { return device_; }

    nm_status alloc(size_t bytes, void** out) override;
    void release(void* ptr) override;
    nm_status upload(void* dst, const void* host_src, size_t bytes) override;
    nm_status download(void* host_dst, const void* src, size_t bytes) override;
    nm_status copy(void* dst, const void* src, size_t bytes) override;
    nm_status zero(void* dst, size_t bytes) override;
    nm_status synchronize() override;

    nm_status gemm(const GemmArgs& args) override;                    // gemm.cu
    nm_status embedding(const EmbeddingArgs& args) override;          // embedding.cu
    nm_status rmsnorm(const RmsNormArgs& args) override;              // norm.cu
    nm_status rmsnorm_gated(const RmsNormGatedArgs& args) override;   // norm.cu
    nm_status l2norm(const L2NormArgs& args) override;                // norm.cu
    nm_status unary(const UnaryArgs& args) override;                  // elementwise.cu
    nm_status swiglu(const SwigluArgs& args) override;                // elementwise.cu
    nm_status binary(const BinaryArgs& args) override;                // elementwise.cu
    nm_status convert(const ConvertArgs& args) override;              // elementwise.cu
    nm_status softmax(const SoftmaxArgs& args) override;              // softmax.cu
    nm_status rope(const RopeArgs& args) override;                    // rope.cu
    nm_status conv1d_causal(const Conv1dArgs& args) override;         // conv1d.cu
    nm_status conv1d_update(const Conv1dUpdateArgs& args) override;   // conv1d.cu
    nm_status sample(const SampleArgs& args) override;                // sample.cu
    nm_status selective_scan(const SelectiveScanArgs& args) override;  // selective_scan.cu
    nm_status selective_state_update(const SelectiveStateUpdateArgs& args) override;  // selective_scan.cu
    nm_status attention(const AttentionArgs& args) override;          // attention.cu
    nm_status kv_cache_append(const KvCacheAppendArgs& args) override;  // kv_cache.cu
    nm_status attention_decode(const AttentionDecodeArgs& args) override;  // attention.cu

private:
    explicit CudaBackend(int32_t device) : device_(device) {}

    // cudaSetDevice(device_): the first thing every method does.
    nm_status activate();
    // A device buffer of at least `bytes` bytes, valid until the next call.
    nm_status workspace(size_t bytes, void** out);
    // Queues a copy from caller-owned host memory to device memory such that
    // the host memory may be reused as soon as this returns (see .cu).
    nm_status copy_from_host(void* dst, const void* host_src, size_t bytes);
    // The cuBLAS handle, created on first use and bound to stream_.
    nm_status cublas(cublasHandle_t* out);

    int32_t device_ = 0;
    cudaStream_t stream_ = nullptr;
    cublasHandle_t cublas_ = nullptr;
    void* workspace_ = nullptr;
    size_t workspace_bytes_ = 0;
};

}  // namespace nm
