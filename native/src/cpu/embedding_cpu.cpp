// embedding_cpu.cpp — token embedding lookup of the CPU backend.
//
//   out[i, :] = weight[ids[i], :]
//
// A row copy (memcpy) when weight and out share a dtype, otherwise an
// elementwise float conversion. The API layer has checked every id against
// the vocabulary. OpenMP over tokens for large lookups.
#include <cstring>

#include "cpu_backend.h"
#include "cpu_common.h"

namespace nm {

nm_status CpuBackend::embedding(const EmbeddingArgs& args) {
    const int64_t hidden = args.hidden;
    const bool same_dtype = args.weight.dtype == args.out.dtype;
    const size_t row_bytes = size_t(hidden) * nm_dtype_size(args.out.dtype);
#pragma omp parallel for schedule(static) if (args.count * hidden >= cpu::kParallelMinElements)
    for (int64_t i = 0; i < args.count; ++i) {
        const int64_t src = int64_t(args.ids[i]) * hidden, dst = i * hidden;
        if (same_dtype) {
            std::memcpy(static_cast<char*>(args.out.data) + size_t(i) * row_bytes,
                        static_cast<const char*>(args.weight.data) + size_t(args.ids[i]) * row_bytes, row_bytes);
        } else {
            for (int64_t j = 0; j < hidden; ++j)
                store_float(args.out.data, args.out.dtype, dst + j,
                            load_float(args.weight.data, args.weight.dtype, src + j));
        }
    }
    return NM_OK;
}

}  // namespace nm
