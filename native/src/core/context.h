// context.h — what the opaque nm_context and nm_tensor handles hold.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "backend.h"

struct nm_context {
    std::unique_ptr<nm::Backend> backend;
    std::string name;  // "cpu" or "cuda:N", used in error messages
    std::atomic<uint64_t> tensor_bytes{0};
    std::atomic<uint64_t> peak_tensor_bytes{0};
};

struct nm_tensor {
    nm_context* ctx = nullptr;
    nm::TensorView view;  // view.data is owned: released with the tensor
    uint64_t nbytes = 0;
};

namespace nm {

// The CUDA plugin, loaded on first use. Returns nullptr and sets the error
// (NM_ERR_BACKEND_UNAVAILABLE, saying which piece is missing) if it cannot be used.
const CudaPluginApi* cuda_plugin();

// Creates the CPU backend (native/src/cpu/cpu_backend.cpp).
std::unique_ptr<Backend> make_cpu_backend();

}  // namespace nm
