// sample.cu — nm_sample on the GPU: the CUDA runtime side. The kernel (the
// algorithm of docs/sampling.md, drawing the same tokens as the CPU backend)
// and its launch configuration are in sample_kernel.cuh.
#include <vector>

#include "cuda_backend.h"
#include "cuda_error.h"
#include "sample_kernel.cuh"

namespace nm {

nm_status CudaBackend::sample(const SampleArgs& args) {
    NM_TRY(activate());
    const int64_t rows = args.rows;
    if (rows <= 0) return NM_OK;
    if (args.vocab <= 0 || args.vocab > INT32_MAX)
        return cuda_fail(NM_ERR_SHAPE, "logits: vocabulary size %lld is outside [1, 2^31)", (long long)args.vocab);

    void* ws = nullptr;
    NM_TRY(workspace(size_t(rows) * 2 * sizeof(int32_t), &ws));
    const SampleParams p = sample_params(args, static_cast<int32_t*>(ws));
    const SampleLaunch l = sample_launch(args);
    l.kernel<<<l.grid, l.block, 0, stream_>>>(p);
    CUDA_CHECK_LAUNCH("sample kernel");

    std::vector<int32_t> host(size_t(rows) * 2);
    CUDA_TRY(cudaMemcpyAsync(host.data(), ws, host.size() * sizeof(int32_t), cudaMemcpyDeviceToHost, stream_));
    CUDA_TRY(cudaStreamSynchronize(stream_));
    for (int64_t r = 0; r < rows; ++r)
        if (host[size_t(rows + r)] != 0)
            return cuda_fail(NM_ERR_INVALID_ARGUMENT, "logits: row %lld has no finite value", (long long)r);
    for (int64_t r = 0; r < rows; ++r) args.tokens[r] = host[size_t(r)];
    return NM_OK;
}

}  // namespace nm
