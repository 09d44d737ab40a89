// selective_scan.cu — Mamba-1 selective scan (prefill) and state update
// (decode): the CUDA runtime side. The kernels, their design and every
// launch decision are in selective_scan_kernels.cuh.
#include "cuda_backend.h"
#include "cuda_error.h"
#include "selective_scan_kernels.cuh"

namespace nm {

static nm_status launch_simple(const ScanParams& p, cudaStream_t stream) {
    const SimpleLaunch l = simple_launch(p);
    if (!l.kernel)
        return cuda_fail(NM_ERR_INTERNAL, "cuda: selective scan: state size %lld not supported", (long long)p.state);
    l.kernel<<<l.grid, l.block, 0, stream>>>(p, l.lanes);
    CUDA_CHECK_LAUNCH("selective_scan simple kernel");
    return NM_OK;
}

nm_status CudaBackend::selective_scan(const SelectiveScanArgs& args) {
    NM_TRY(activate());
    if (args.batch <= 0 || args.channels <= 0 || args.length <= 0) return NM_OK;
    const ScanParams p = selective_scan_params(args);
    if (!use_chunked(p)) return launch_simple(p, stream_);

    const ChunkedLaunch l = chunked_launch(p);
    if (l.blocks > 0x7fffffff) return cuda_fail(NM_ERR_SHAPE, "cuda: selective scan: too many channel tiles");
    CUDA_TRY(cudaFuncSetAttribute(l.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(l.smem)));
    l.kernel<<<unsigned(l.blocks), l.block, l.smem, stream_>>>(p);
    CUDA_CHECK_LAUNCH("selective_scan chunked kernel");
    return NM_OK;
}

nm_status CudaBackend::selective_state_update(const SelectiveStateUpdateArgs& args) {
    NM_TRY(activate());
    if (args.batch <= 0 || args.channels <= 0) return NM_OK;
    return launch_simple(state_update_params(args), stream_);
}

}  // namespace nm
