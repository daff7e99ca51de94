// Driver (baseline instruction set, part of kmatrix_core). May include:
// kernel_interface.hpp, the standard library. Never included by the
// per-ISA kernels.
//
// The planners' tools (apply and vjp): the stages in the order they
// apply, what each stage's blocks look like, and how stages fuse into
// passes. The kernels receive the plans as plain arrays.
#ifndef KMATRIX_DRIVER_STAGES_HPP
#define KMATRIX_DRIVER_STAGES_HPP

#include <algorithm>
#include <complex>
#include <utility>
#include <vector>

#include "kernel_interface.hpp"

namespace kmatrix {

template <class T>
struct StageRef {
    const T* twiddles;  // N/2 blocks of 4
    int bit;
};

// Stage (i, h, k) of the twiddle layout mixes bit L-1-k (h = 0, the B*
// half) or k (h = 1, the B half); the stages apply in flat (i, h, k) order,
// reversed for TRANS_T / TRANS_H, and the other way round for the inverse.
template <class T>
std::vector<StageRef<T>> stage_order(const T* twiddles, index_t width, int L, int trans,
                                     bool inverse = false) {
    const index_t n_stages = width * 2 * L;
    const index_t stage_size = (index_t(1) << (L - 1)) * 4;
    std::vector<StageRef<T>> stages(static_cast<std::size_t>(n_stages));
    for (index_t s = 0; s < n_stages; ++s) {
        const index_t q = (trans == TRANS_N) != inverse ? s : n_stages - 1 - s;
        const int half = int((q / L) % 2);
        const int k = int(q % L);
        stages[std::size_t(s)] = {twiddles + q * stage_size, half == 0 ? L - 1 - k : k};
    }
    return stages;
}

// The kind (StageKind) of one stage's N/2 blocks as applied with `trans`;
// butterfly: also look for the DIT/DIF kinds. Exact comparisons: a stage of
// a kind computes the same products as the general arithmetic, without the
// multiplications by 0 and 1. Stops at the first block that does not fit.
template <class T>
int classify_stage(const T* blocks, index_t n_pairs, int trans, bool butterfly) {
    const bool swapped = trans != TRANS_N;  // T and H exchange b and c
    const auto entries = [&](index_t p, T& a, T& b, T& c, T& d) {
        a = blocks[4 * p];
        b = blocks[4 * p + (swapped ? 2 : 1)];
        c = blocks[4 * p + (swapped ? 1 : 2)];
        d = blocks[4 * p + 3];
    };
    const T one(1), zero(0);
    const auto all = [&](auto&& fits) {
        for (index_t p = 0; p < n_pairs; ++p) {
            T a, b, c, d;
            entries(p, a, b, c, d);
            if (!fits(a, b, c, d)) return false;
        }
        return true;
    };
    const auto is_identity = [&](T a, T b, T c, T d) {
        return a == one && b == zero && c == zero && d == one;
    };
    const auto is_swap = [&](T a, T b, T c, T d) {
        return a == zero && b == one && c == one && d == zero;
    };
    if (all(is_identity)) return KIND_IDENTITY;
    if (all([&](T a, T b, T c, T d) { return is_identity(a, b, c, d) || is_swap(a, b, c, d); }))
        return KIND_PERM;
    if (!butterfly) return KIND_GENERAL;
    if (all([&](T a, T b, T c, T d) { return a == one && c == one && d == -b; })) return KIND_DIT;
    if (all([&](T a, T b, T c, T d) { return b == one && d == one && c == -a; })) return KIND_DITC;
    if (all([&](T a, T b, T c, T d) { return a == one && b == one && d == -c; })) return KIND_DIF;
    if (all([&](T a, T b, T c, T d) { return c == one && d == one && b == -a; })) return KIND_DIFR;
    return KIND_GENERAL;
}

// Contents of positions after a permutation stage (identity or swap blocks):
// where[u] is what position u holds; swapped pairs exchange their entries.
template <class T>
void permute_by_stage(const StageRef<T>& st, index_t N, std::vector<index_t>& where) {
    const index_t s = index_t(1) << st.bit;
    for (index_t p = 0; p < N / 2; ++p) {
        if (st.twiddles[4 * p] == T(0)) {  // a swap (a is 0 exactly then)
            const index_t u = ((p >> st.bit) << (st.bit + 1)) | (p & (s - 1));
            std::swap(where[std::size_t(u)], where[std::size_t(u + s)]);
        }
    }
}

// Consecutive stages on consecutive bits (and of one kind) fused into
// groups of at most max_size stages.
template <class T>
std::vector<StageGroup<T>> group_stages(const StageRef<T>* stages, const int* kinds, index_t n,
                                        int max_size) {
    std::vector<StageGroup<T>> groups;
    StageGroup<T> cur{0, false, 0, KIND_GENERAL, {nullptr, nullptr, nullptr, nullptr}};
    int last_bit = -1;
    for (index_t i = 0; i < n; ++i) {
        const int bit = stages[i].bit;
        const int kind = kinds ? kinds[i] : KIND_GENERAL;
        const bool extends =
            cur.size > 0 && cur.size < max_size && kind == cur.kind &&
            ((cur.size == 1 && (bit == last_bit - 1 || bit == last_bit + 1)) ||
             (cur.size > 1 && cur.descending && bit == last_bit - 1) ||
             (cur.size > 1 && !cur.descending && bit == last_bit + 1));
        if (extends) {
            if (cur.size == 1) cur.descending = bit < last_bit;
            cur.twiddles[cur.size++] = stages[i].twiddles;
            if (bit < cur.low_bit) cur.low_bit = bit;
        } else {
            if (cur.size > 0) groups.push_back(cur);
            cur = StageGroup<T>{1, false, bit, kind, {stages[i].twiddles, nullptr, nullptr, nullptr}};
        }
        last_bit = bit;
    }
    if (cur.size > 0) groups.push_back(cur);
    return groups;
}

// log2 of the positions (tile rows or row entries) whose data fill about
// `bytes`, clamped to [lo, hi].
inline int bits_for_bytes(double bytes, double bytes_per_position, int lo, int hi) {
    int b = lo;
    while (b < hi && double(index_t(1) << (b + 1)) * bytes_per_position <= bytes) ++b;
    return b;
}

// Rows at or beyond 2^kLongRowBits positions are shared by all threads
// phase by phase, so that two threads stream the twiddles once between them.
constexpr int kLongRowBits = 15;

inline int log2_floor(index_t n) {
    int b = 0;
    while ((index_t(1) << (b + 1)) <= n) ++b;
    return b;
}

// Positions per load / store unit when nt threads share a row's phases:
// about four units per thread, whole vectors of `lanes`; one unit (all N)
// on one thread.
inline index_t io_block_for(index_t N, index_t lanes, int nt) {
    return nt == 1 ? N : std::max<index_t>(lanes, (N / (4 * nt) + lanes - 1) / lanes * lanes);
}

}  // namespace kmatrix

#endif  // KMATRIX_DRIVER_STAGES_HPP
