"""Helpers shared by the examples: interleaved median timings, readable units,
command-line size lists and random rows."""

import time
import timeit

import numpy as np


def median_times(funcs, clock=time.perf_counter, repeat=7, min_time=0.02):
    """Median seconds per call of each function in ``funcs``, read on ``clock``.

    Each timing runs a function ``number`` times, ``number`` chosen so that
    it lasts at least ``min_time`` seconds; every round times each function
    once, in turn, so a slow spell of a shared machine falls on all of them
    alike, and the median of the ``repeat`` rounds drops the outliers.
    """
    timers = [timeit.Timer(func, timer=clock) for func in funcs]
    numbers = []
    for timer in timers:
        timer.timeit(1)  # warm-up: first-call allocations, thread start
        number = 1
        while timer.timeit(number) < min_time:
            number *= 2
        numbers.append(number)
    rounds = [[timer.timeit(number) / number for timer, number in zip(timers, numbers)]
              for _ in range(repeat)]
    return np.median(rounds, axis=0)


def fmt_time(seconds):
    """Seconds as "1.23 s" or "4.56 ms"."""
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.3g} ms"


def fmt_ratio(ratio):
    """Two significant digits below 10 (0.043x, 1.9x), none above (23x)."""
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.2g}x"


def parse_ints(text):
    """"64,256" -> [64, 256] (command-line size lists)."""
    return [int(v) for v in text.split(",") if v]


def random_rows(rng, shape, dtype):
    """Gaussian rows of ``dtype`` (both parts random when complex)."""
    rows = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        rows = rows + 1j * rng.standard_normal(shape)
    return rows.astype(dtype)
