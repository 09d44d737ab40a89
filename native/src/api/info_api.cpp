// info_api.cpp — versions, build description and CPU thread control.
#include <cblas.h>
#include <omp.h>

#include <mutex>
#include <string>

#include "validate.h"

#ifndef NM_VERSION_STRING
#define NM_VERSION_STRING "0.0.0"
#endif

namespace {

int default_threads() {
    static const int n = omp_get_max_threads();
    return n;
}

std::string describe_build() {
    std::string s = "nativemodels " NM_VERSION_STRING "; cpu: ";
#if defined(__clang__)
    s += "clang " __clang_version__;
#elif defined(__GNUC__)
    s += "gcc " __VERSION__;
#endif
    s += ", OpenMP, ";
    s += openblas_get_config();
    const nm::CudaPluginApi* api = nm::cuda_plugin();
    s += "; cuda: ";
    s += api ? api->build_info() : nm::last_error();
    nm::clear_error();
    return s;
}

}  // namespace

extern "C" {

NM_API uint32_t nm_abi_version(void) { return NM_ABI_VERSION; }

NM_API const char* nm_version(void) { return NM_VERSION_STRING; }

NM_API const char* nm_build_info(void) {
    static std::once_flag once;
    static std::string info;
    std::call_once(once, [] {
        try { info = describe_build(); } catch (...) { info = "nativemodels " NM_VERSION_STRING; }
    });
    return info.c_str();
}

NM_API nm_status nm_cpu_set_num_threads(int32_t n) {
    return nm::guard([&]() -> nm_status {
        int threads = n > 0 ? n : default_threads();
        omp_set_num_threads(threads);
        openblas_set_num_threads(threads);
        return NM_OK;
    });
}

NM_API int32_t nm_cpu_num_threads(void) { return omp_get_max_threads(); }

}  // extern "C"
