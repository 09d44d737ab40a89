// cuda_fp16.h — stands in for the CUDA toolkit header when kernel sources are
// compiled for the CPU simulator (this directory is on the include path of
// the simulator tests only).
#pragma once
#include "../cuda_sim.h"
