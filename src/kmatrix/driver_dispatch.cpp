// Driver (baseline instruction set, part of kmatrix_core): the one driver
// unit that names the per-ISA kernel tables (their declarations in
// kernel_interface.hpp). May include: driver_dispatch.hpp, butterfly.hpp.
//
// Picks the instruction set of the kernels once, at the first call, from
// what the processor supports and the build compiled (KMATRIX_X86_LEVELS:
// the x86-64-v3 and -v4 variants exist).
#include "driver_dispatch.hpp"

#include <atomic>

#include "butterfly.hpp"

namespace kmatrix {
namespace {

bool cpu_runs(int isa) {
    if (isa == ISA_BASE) return true;
#if defined(KMATRIX_X86_LEVELS) && (defined(__x86_64__) || defined(_M_X64))
    __builtin_cpu_init();
#if defined(__clang__)
    const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
    const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
    const bool v3 = __builtin_cpu_supports("x86-64-v3");
    const bool v4 = __builtin_cpu_supports("x86-64-v4");
#endif
    if (isa == ISA_V3) return v3;
    if (isa == ISA_V4) return v4;
#endif
    return false;
}

int detect() {
    if (cpu_runs(ISA_V4)) return ISA_V4;
    if (cpu_runs(ISA_V3)) return ISA_V3;
    return ISA_BASE;
}

std::atomic<int> g_isa{-1};

}  // namespace

int kernel_isa() {
    int isa = g_isa.load(std::memory_order_relaxed);
    if (isa < 0) {
        isa = detect();
        g_isa.store(isa, std::memory_order_relaxed);
    }
    return isa;
}

bool isa_available(int isa) { return isa >= ISA_BASE && isa <= ISA_V4 && cpu_runs(isa); }

int set_kernel_isa(int isa) {
    if (!isa_available(isa)) return STATUS_BAD_ARGUMENT;
    g_isa.store(isa, std::memory_order_relaxed);
    return STATUS_OK;
}

template <class T>
const ApplyKernels<T>& selected_apply_kernels() {
    switch (kernel_isa()) {
#if defined(KMATRIX_X86_LEVELS)
        case ISA_V4: return isa_v4::apply_kernels<T>();
        case ISA_V3: return isa_v3::apply_kernels<T>();
#endif
        default: return isa_base::apply_kernels<T>();
    }
}

template <class T>
const VjpKernels<T>& selected_vjp_kernels() {
    switch (kernel_isa()) {
#if defined(KMATRIX_X86_LEVELS)
        case ISA_V4: return isa_v4::vjp_kernels<T>();
        case ISA_V3: return isa_v3::vjp_kernels<T>();
#endif
        default: return isa_base::vjp_kernels<T>();
    }
}

template <class T>
void kmatrix_kernel_shape(int* lanes, int* max_group, int* max_vjp_group, int* small_max) {
    const ApplyKernels<T>& K = selected_apply_kernels<T>();
    *lanes = K.lanes;
    *max_group = K.max_group;
    *max_vjp_group = selected_vjp_kernels<T>().max_group;
    *small_max = K.small_max;
}
template void kmatrix_kernel_shape<float>(int*, int*, int*, int*);
template void kmatrix_kernel_shape<double>(int*, int*, int*, int*);
template void kmatrix_kernel_shape<std::complex<float>>(int*, int*, int*, int*);
template void kmatrix_kernel_shape<std::complex<double>>(int*, int*, int*, int*);

template const ApplyKernels<float>& selected_apply_kernels<float>();
template const ApplyKernels<double>& selected_apply_kernels<double>();
template const ApplyKernels<std::complex<float>>& selected_apply_kernels<std::complex<float>>();
template const ApplyKernels<std::complex<double>>& selected_apply_kernels<std::complex<double>>();
template const VjpKernels<float>& selected_vjp_kernels<float>();
template const VjpKernels<double>& selected_vjp_kernels<double>();
template const VjpKernels<std::complex<float>>& selected_vjp_kernels<std::complex<float>>();
template const VjpKernels<std::complex<double>>& selected_vjp_kernels<std::complex<double>>();

}  // namespace kmatrix
