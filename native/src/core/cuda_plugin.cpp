// cuda_plugin.cpp — finds and loads libnativemodels_cuda.so on first use.
//
// The CUDA backend lives in its own shared library because it links cuBLAS
// dynamically: if the main library linked it, a machine without cuBLAS could
// not even load the CPU backend. The plugin is looked for next to this
// library, or at $NATIVEMODELS_CUDA_PLUGIN.
#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "context.h"
#include "error.h"

namespace nm {
namespace {

constexpr const char* kPluginName = "libnativemodels_cuda.so";

std::string this_library_dir() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&this_library_dir), &info) == 0 || !info.dli_fname) return ".";
    std::string path = info.dli_fname;
    auto slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}

struct PluginState {
    const CudaPluginApi* api = nullptr;
    std::string why;  // reason it is unusable, when api == nullptr
};

PluginState load() {
    PluginState st;
    const char* env = std::getenv("NATIVEMODELS_CUDA_PLUGIN");
    std::string path = (env && *env) ? std::string(env) : this_library_dir() + "/" + kPluginName;
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* err = dlerror();
        std::string reason = err ? err : "unknown dlopen error";
        if (reason.find(kPluginName) != std::string::npos && reason.find("No such file") != std::string::npos)
            st.why = "cuda: this build has no CUDA backend (" + path + " not found)";
        else
            st.why = "cuda: cannot load the CUDA backend " + path + ": " + reason;
        return st;
    }
    using EntryFn = const CudaPluginApi* (*)();
    auto entry = reinterpret_cast<EntryFn>(dlsym(handle, "nm_cuda_plugin_api"));
    if (!entry) {
        st.why = "cuda: " + path + " has no nm_cuda_plugin_api entry point";
        return st;
    }
    const CudaPluginApi* api = entry();
    if (!api || api->plugin_abi != kCudaPluginAbi) {
        st.why = "cuda: " + path + " was built for another version of libnativemodels (plugin ABI mismatch)";
        return st;
    }
    api->set_error_sink(&error_sink);
    st.api = api;  // the handle is never closed: backends may live until exit
    return st;
}

}  // namespace

const CudaPluginApi* cuda_plugin() {
    static std::once_flag once;
    static PluginState state;
    std::call_once(once, [] { state = load(); });
    if (!state.api) set_error(NM_ERR_BACKEND_UNAVAILABLE, "%s", state.why.c_str());
    return state.api;
}

}  // namespace nm
