// Small helpers shared by the drivers (apply.cpp, vjp.cpp).
#ifndef KALEIDO_DRIVER_HPP
#define KALEIDO_DRIVER_HPP

#include <atomic>
#include <type_traits>

#include "kernels.hpp"

namespace kaleido {

template <class T>
constexpr bool is_complex_v = !std::is_same<typename real_of<T>::type, T>::value;

// The first failure (a Status) reported by any task of a call.
struct Failure {
    std::atomic<int> status{STATUS_OK};
    void set(int s) {
        int expected = STATUS_OK;
        status.compare_exchange_strong(expected, s);
    }
    bool failed() const { return status.load(std::memory_order_relaxed) != STATUS_OK; }
};

}  // namespace kaleido

#endif  // KALEIDO_DRIVER_HPP
