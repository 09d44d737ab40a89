// error.cpp — thread-local error message storage and the status names.
#include "error.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace nm {
namespace {
thread_local char g_message[1024] = "";
}

nm_status set_error(nm_status status, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(g_message, sizeof g_message, fmt, args);
    va_end(args);
    return status;
}

void clear_error() { g_message[0] = '\0'; }

const char* last_error() { return g_message; }

void error_sink(nm_status /*status*/, const char* message) {
    std::snprintf(g_message, sizeof g_message, "%s", message ? message : "");
}

}  // namespace nm

extern "C" {

NM_API const char* nm_last_error(void) { return nm::last_error(); }

NM_API const char* nm_status_name(nm_status status) {
    switch (status) {
        case NM_OK: return "NM_OK";
        case NM_ERR_INVALID_ARGUMENT: return "NM_ERR_INVALID_ARGUMENT";
        case NM_ERR_SHAPE: return "NM_ERR_SHAPE";
        case NM_ERR_DTYPE: return "NM_ERR_DTYPE";
        case NM_ERR_DEVICE: return "NM_ERR_DEVICE";
        case NM_ERR_OUT_OF_MEMORY: return "NM_ERR_OUT_OF_MEMORY";
        case NM_ERR_BACKEND_UNAVAILABLE: return "NM_ERR_BACKEND_UNAVAILABLE";
        case NM_ERR_CUDA: return "NM_ERR_CUDA";
        case NM_ERR_INTERNAL: return "NM_ERR_INTERNAL";
    }
    return "NM_ERR_UNKNOWN";
}

}  // extern "C"
