// Driver (baseline instruction set, part of kmatrix_core). May include:
// the standard library. Never included by the per-ISA kernels.
//
// Per-thread scratch memory: the buffers a call (or a helper thread's share
// of it) works in, kept between calls. Separate from the thread team
// (driver_pool.hpp): any thread may own scratch, the team only trims its
// helpers' scratch after each job.
#ifndef KMATRIX_DRIVER_SCRATCH_HPP
#define KMATRIX_DRIVER_SCRATCH_HPP

#include <cstddef>

namespace kmatrix {

// A 64-byte aligned buffer of at least `bytes` bytes owned by the calling
// thread and reused across calls (slot 0: per-worker tiles, slot 1: a call's
// shared buffers, slot 2: the vjp's pass-ordered twiddles and gradient
// slots); its contents are not kept. Null if allocation fails. Reuse spares
// repeated calls (a training loop) the page faults of fresh buffers.
constexpr int kScratchSlots = 3;
void* thread_scratch(int slot, std::size_t bytes);

// Frees this thread's scratch buffers above the size kept between calls.
void trim_thread_scratch();

}  // namespace kmatrix

#endif  // KMATRIX_DRIVER_SCRATCH_HPP
