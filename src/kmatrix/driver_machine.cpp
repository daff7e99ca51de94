// Driver (baseline instruction set, part of kmatrix_core). May include:
// driver_machine.hpp, butterfly.hpp, the standard library, the system's
// headers.
//
// The machine's data caches; see driver_machine.hpp.
#include "driver_machine.hpp"

#include "butterfly.hpp"

#include <algorithm>
#include <fstream>
#include <string>

#if defined(__linux__)
#include <unistd.h>
#endif

namespace kmatrix {
namespace {

constexpr index_t kDefaultL1 = index_t(32) << 10;
constexpr index_t kDefaultL2 = index_t(1) << 20;

#if defined(__linux__)
// sysfs: /sys/devices/system/cpu/cpu0/cache/index<i>/{level,type,size},
// size as "48K" or "1280K" or "32M"; 0 when absent or unreadable.
index_t sysfs_cache(int level) {
    for (int i = 0; i < 8; ++i) {
        const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i);
        std::ifstream lv(dir + "/level"), ty(dir + "/type"), sz(dir + "/size");
        int l = 0;
        std::string type, size;
        if (!(lv >> l) || !(ty >> type) || !(sz >> size) || l != level) continue;
        if (type != "Data" && type != "Unified") continue;
        index_t value = 0;
        std::size_t k = 0;
        while (k < size.size() && size[k] >= '0' && size[k] <= '9')
            value = value * 10 + (size[k++] - '0');
        if (k < size.size() && (size[k] == 'K' || size[k] == 'k')) value <<= 10;
        if (k < size.size() && (size[k] == 'M' || size[k] == 'm')) value <<= 20;
        return value;
    }
    return 0;
}

index_t os_cache(int level) {
    long v = -1;
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && \
    defined(_SC_LEVEL3_CACHE_SIZE)
    const int names[3] = {_SC_LEVEL1_DCACHE_SIZE, _SC_LEVEL2_CACHE_SIZE,
                          _SC_LEVEL3_CACHE_SIZE};
    v = sysconf(names[level - 1]);
#endif
    return v > 0 ? index_t(v) : sysfs_cache(level);
}
#else
index_t os_cache(int) { return 0; }
#endif

MachineCaches read_caches() {
    MachineCaches c;
    c.l1d = os_cache(1);
    c.l2 = os_cache(2);
    c.l3 = os_cache(3);
    c.from_os = c.l1d > 0 || c.l2 > 0;
    if (c.l1d <= 0) c.l1d = kDefaultL1;
    if (c.l2 <= 0) c.l2 = kDefaultL2;
    if (c.l3 < 0) c.l3 = 0;
    return c;
}

}  // namespace

const MachineCaches& machine_caches() {
    static const MachineCaches caches = read_caches();
    return caches;
}

double tile_block_bytes() {
    return std::clamp(double(machine_caches().l2) / 2, 128.0 * 1024, 2048.0 * 1024);
}

double row_block_bytes() {
    return std::clamp(double(machine_caches().l2) / 16, 32.0 * 1024, 256.0 * 1024);
}

void kmatrix_machine_tuning(index_t* caches, int* from_os, double* blocks) {
    const MachineCaches& c = machine_caches();
    caches[0] = c.l1d;
    caches[1] = c.l2;
    caches[2] = c.l3;
    *from_os = c.from_os ? 1 : 0;
    blocks[0] = tile_block_bytes();
    blocks[1] = row_block_bytes();
}

}  // namespace kmatrix
