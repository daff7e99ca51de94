// Driver (baseline instruction set, part of kmatrix_core). May include:
// driver_scratch.hpp, the standard library.
//
// Per-thread scratch memory; see driver_scratch.hpp.
#include "driver_scratch.hpp"

#include <cstdlib>

namespace kmatrix {
namespace {

// Scratch kept per thread between calls; larger buffers are freed.
constexpr std::size_t kKeepScratch = std::size_t(64) << 20;

struct ThreadScratch {
    void* p[kScratchSlots] = {};
    std::size_t cap[kScratchSlots] = {};
    ~ThreadScratch() {
        for (void* q : p) std::free(q);
    }
};
thread_local ThreadScratch tls_scratch;

}  // namespace

void* thread_scratch(int slot, std::size_t bytes) {
    ThreadScratch& s = tls_scratch;
    if (bytes == 0) bytes = 64;
    if (s.cap[slot] < bytes) {
        std::free(s.p[slot]);
        const std::size_t rounded = (bytes + 63) / 64 * 64;
        s.p[slot] = std::aligned_alloc(64, rounded);
        s.cap[slot] = s.p[slot] != nullptr ? rounded : 0;
    }
    return s.p[slot];
}

void trim_thread_scratch() {
    ThreadScratch& s = tls_scratch;
    for (int slot = 0; slot < kScratchSlots; ++slot) {
        if (s.cap[slot] > kKeepScratch) {
            std::free(s.p[slot]);
            s.p[slot] = nullptr;
            s.cap[slot] = 0;
        }
    }
}

}  // namespace kmatrix
