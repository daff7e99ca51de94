// Driver (baseline instruction set, part of kmatrix_core). May include:
// types.hpp, the standard library. Never included by the per-ISA kernels.
//
// What the planners know of the machine: its data cache sizes, read once
// from the operating system (sysconf, else Linux's sysfs), and the block
// sizes derived from them, so that tiles are sized for the processor the
// library runs on rather than for the one it was tuned on. The sizes are
// the same for every call of a process: plans, and so results, never
// depend on the thread count.
#ifndef KMATRIX_DRIVER_MACHINE_HPP
#define KMATRIX_DRIVER_MACHINE_HPP

#include "types.hpp"

namespace kmatrix {

struct MachineCaches {
    index_t l1d = 0, l2 = 0, l3 = 0;  // bytes per core (L3: per package); 0: unknown
    bool from_os = false;             // false: none was found, the defaults below serve
};

// The caches, read on first use. Unknown levels take the defaults 32 KiB
// (L1d) and 1 MiB (L2).
const MachineCaches& machine_caches();

// Bytes of tile rows a PHASE_RUN block of the batched apply holds (half of
// L2: the block's twiddles stream beside it), within [128 KiB, 2 MiB].
double tile_block_bytes();
// Bytes of row entries a PHASE_RUN block of the row path holds (a
// sixteenth of L2), within [32 KiB, 256 KiB].
double row_block_bytes();

}  // namespace kmatrix

#endif  // KMATRIX_DRIVER_MACHINE_HPP
