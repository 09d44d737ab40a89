// error.h — the thread-local error message behind nm_last_error().
//
// Every nm_* entry point runs its body through nm::guard(), which clears the
// message, turns any escaping C++ exception into a status (std::bad_alloc →
// NM_ERR_OUT_OF_MEMORY, anything else → NM_ERR_INTERNAL), so no exception
// crosses the C boundary.
#pragma once

#include <new>
#include <exception>

#include "nativemodels.h"

namespace nm {

// Records a printf-style message for nm_last_error() and returns `status`.
nm_status set_error(nm_status status, const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void clear_error();
const char* last_error();

// The sink handed to backends that live in another shared library.
void error_sink(nm_status status, const char* message);

template <class F>
nm_status guard(F&& body) noexcept {
    clear_error();
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return set_error(NM_ERR_OUT_OF_MEMORY, "out of host memory");
    } catch (const std::exception& e) {
        return set_error(NM_ERR_INTERNAL, "internal error: %s", e.what());
    } catch (...) {
        return set_error(NM_ERR_INTERNAL, "internal error: unknown exception");
    }
}

}  // namespace nm

// Evaluates an nm_status expression and returns it from the caller on failure.
#define NM_TRY(expr)                              \
    do {                                          \
        nm_status nm_try_status_ = (expr);        \
        if (nm_try_status_ != NM_OK) return nm_try_status_; \
    } while (0)
