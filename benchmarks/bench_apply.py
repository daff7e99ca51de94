"""Benchmark ``KMatrix.apply`` against numpy's dense product and scipy.fft.

Prints, in one run, median wall times of

* ``K.apply(X)`` vs ``X @ W.T`` (W a dense random n x n matrix of the same
  dtype) and the ratio dense / kmatrix; at batch 1 the solver path,
  ``K @ x`` vs ``W @ x`` on one vector;
* ``K.apply(X)`` vs ``scipy.fft.fft(X, axis=1)`` on complex rows of the same
  length and precision (complex64 for float32 and complex64 operators) and
  the ratio kmatrix / fft;
* the time per vector at batch 1024 as n grows, and its "n log n efficiency":
  ``(t(n) / t(1024)) / ((n log2 n) / (1024 * 10))``, 1.0 meaning that the
  time grows exactly as n log n predicts;
* a PASS/FAIL summary of the performance bars of the issues (batched
  products, one vector, small sizes).

Machines are shared and noisy: only ratios measured in the same run mean
anything. Each method is timed in its own block after 0.5 s of warm-up calls,
so that one library's idle, spinning threads and fresh page faults do not
slow the next one down. See benchmarks/README.md.

Usage::

    python benchmarks/bench_apply.py            # full run (about 12 minutes on 2 cores)
    python benchmarks/bench_apply.py --quick    # about 2 minutes
"""

import argparse
import gc
import math
import os
import platform
import statistics
import sys
import time

import numpy as np
import scipy
import scipy.fft
from threadpoolctl import threadpool_info, threadpool_limits

import kmatrix as km
from kmatrix._core import _kernels

GiB = 1 << 30
DENSE_MAX_BYTES = 2 * GiB  # skip the dense baseline when W is larger than this
DENSE_MAX_SECONDS = 20.0  # ... or when one dense product would take longer
# timed runs of one method stop near this total: at least 3 runs (--quick: 1)
BUDGET_SECONDS = 10.0
QUICK_BUDGET_SECONDS = 4.0
MIN_SAMPLE_SECONDS = 2e-3  # fast calls are looped so that one sample lasts this long
WARMUP_SECONDS = 0.5  # untimed calls before each timed block (at least one call)
BASE_N = 1024  # reference size of the n log n efficiency

# the bars of the batched-products issue
BAR_DENSE_SPEEDUP = 40.0  # float32, n=4096, batch 1024: dense / kmatrix >= 40 (was 20)
BAR_FFT_RATIO = 6.0  # complex64, n=4096, batch 1024: kmatrix / fft <= 6
BAR_NLOGN = 1.5  # per-vector time 2**10 -> 2**16 <= 1.5x what n log n predicts
# the bars of the solver-path issue: one vector against a complex64 FFT of
# the same length, and small sizes against the dense product
BAR_ONE_VECTOR = {("float32", 4096): 1.0, ("complex64", 4096): 2.0,
                  ("float32", 65536): 1.5, ("complex64", 65536): 2.0}
BAR_SMALL = {32: 1.0, 64: 0.67}  # float32, batch 1024: kmatrix / dense <=

FULL = dict(sizes=[2**k for k in range(5, 17)], batches=[1, 4, 16, 64, 1024],
            repeat=7, dtypes=["float32", "float64", "complex64", "complex128"])
QUICK = dict(sizes=[32, 64, 1024, 4096, 65536], batches=[1, 1024], repeat=3,
             dtypes=["float32", "complex64"])


# ----------------------------------------------------------------- helpers --
def parse_sizes(text):
    """'256,1024,2**16' -> [256, 1024, 65536]."""
    sizes = []
    for token in text.split(","):
        token = token.strip()
        if "**" in token:
            base, exp = token.split("**")
            sizes.append(int(base) ** int(exp))
        elif token:
            sizes.append(int(token))
    if not sizes or min(sizes) < 2:
        raise argparse.ArgumentTypeError(f"sizes must be integers >= 2, got {text!r}")
    return sizes


def parse_ints(text):
    values = [int(t) for t in text.split(",") if t.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def parse_dtypes(text):
    dtypes = [t.strip() for t in text.split(",") if t.strip()]
    for name in dtypes:
        if name not in ("float32", "float64", "complex64", "complex128"):
            raise argparse.ArgumentTypeError(f"unsupported dtype {name!r}")
    return dtypes


def fmt_time(seconds):
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_bytes(nbytes):
    return f"{nbytes / GiB:.1f} GiB" if nbytes >= GiB else f"{nbytes / 2**20:.0f} MiB"


def random_array(rng, shape, dtype):
    """Standard normal entries drawn directly in ``dtype`` (no float64 temporary)."""
    dtype = np.dtype(dtype)
    out = np.empty(shape, dtype=dtype)
    real = np.finfo(dtype).dtype  # float32 for complex64, ...
    flat = out.view(real)  # complex: real and imaginary parts side by side
    rng.standard_normal(out=flat.reshape(-1), dtype=real)
    return out


def calls_per_sample(warm_seconds):
    """Loop fast calls so a sample lasts about MIN_SAMPLE_SECONDS."""
    if warm_seconds >= MIN_SAMPLE_SECONDS:
        return 1
    return min(1000, max(1, math.ceil(MIN_SAMPLE_SECONDS / max(warm_seconds, 1e-7))))


def time_blocks(funcs, repeat, budget, min_samples):
    """Median seconds per call of each function, one function at a time.

    Each function gets its own block: warm-up calls (untimed) for at least
    WARMUP_SECONDS, then the timed runs. The time of the last warm-up call
    sets how many calls make one sample and how many samples fit in
    ``budget`` seconds (at least ``min_samples``, at most ``repeat``).
    Returns {name: (median, n_samples)}.

    Why not interleave the methods, and why warm up for a while rather than
    for one call: after a BLAS call OpenBLAS's worker threads keep spinning
    for 0.1-0.3 s, and an OpenMP kernel or scipy.fft started meanwhile
    fights them for the cores (measured on 2 cores: K.apply up to 8x slower
    right after X @ W.T); and in a fresh memory regime (new large arrays) the
    first calls pay page faults for ~0.2 s. Both settle during the warm-up.
    """
    timed = {}
    for name, func in funcs.items():
        start = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            func()
            now = time.perf_counter()
            if now - start >= WARMUP_SECONDS:
                break
        warm = now - t0
        number = calls_per_sample(warm)
        fit = int(budget // max(warm, 1e-9))
        samples = max(min(min_samples, repeat), min(repeat, fit))
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            for _ in range(number):
                func()
            times.append((time.perf_counter() - t0) / number)
        timed[name] = (statistics.median(times), samples)
    return timed


def dense_flops(n, batch, dtype):
    # one complex multiply-add is 4 real multiplies and 4 real additions
    return (8 if np.dtype(dtype).kind == "c" else 2) * batch * n * n


# ------------------------------------------------------------------ report --
def cpu_model():
    """The CPU's model name (Linux /proc/cpuinfo), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def print_machine(args, workers):
    print("=== machine ===")
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    print(f"CPU: {cpu_model()}")
    print(f"CPU count: os.cpu_count()={os.cpu_count()}, usable (affinity)={affinity}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}, kmatrix {km.__version__}")
    print(f"kmatrix.openmp_enabled(): {km.openmp_enabled()}")
    print(f"kmatrix's tuning for this machine: {_kernels.tuning()}")
    print_load("at start")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
                "OPENBLAS_L2_SIZE", "MKL_NUM_THREADS"):
        if var in os.environ:
            print(f"env {var}={os.environ[var]}")
    if "OPENBLAS_CORETYPE" in os.environ or "OPENBLAS_L2_SIZE" in os.environ:
        print("note: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may slow numpy's dense "
              "product; for a fair dense baseline run\n"
              "      env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
              "benchmarks/bench_apply.py")
    print(f"threads: --threads {args.threads if args.threads else '(default)'}; "
          f"kmatrix workers={workers if workers is not None else 'None (OpenMP default)'}, "
          f"scipy.fft workers={-1 if workers is None else workers}")
    print("thread pools seen by threadpoolctl (inside the timed region):")
    for pool in threadpool_info():
        extra = ""
        if pool.get("user_api") == "blas":
            extra = (f", kernel {pool.get('architecture')}, "
                     f"{pool.get('internal_api')} {pool.get('version')}")
        print(f"  {pool['user_api']:6s} {pool['prefix']:20s} num_threads={pool['num_threads']}"
              f"{extra}  [{os.path.basename(pool['filepath'])}]")
    print()


def print_load(when):
    """Other processes make threaded timings erratic: say how busy the machine is."""
    try:
        load1 = os.getloadavg()[0]
    except (AttributeError, OSError):
        return
    line = f"load average (1 min) {when}: {load1:.2f}"
    if load1 > 0.8:
        line += ("  <- other processes are running: threaded timings will be erratic "
                 "(consider rerunning when idle, or --threads 1)")
    print(line)


def cpu_snapshot():
    """(busy seconds of all CPUs, steal seconds, this process's CPU seconds).

    From /proc/stat (Linux); None elsewhere.
    """
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        tick = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    own = os.times()
    return ((user + nice + system + irq + softirq) / tick, steal / tick,
            own.user + own.system)


def print_other_load(start, wall):
    """CPU time other processes (and the hypervisor) took during the run."""
    end = cpu_snapshot()
    if start is None or end is None or wall <= 0:
        return
    others = max(0.0, (end[0] - start[0]) - (end[2] - start[2]))
    steal = end[1] - start[1]
    line = (f"CPU used by other processes during the run: {others / wall:.2f} cores "
            f"on average; stolen by the hypervisor: {steal / wall:.2f} cores")
    if others / wall > 0.1 or steal / wall > 0.1:
        line += "  <- timings were disturbed: rerun when the machine is idle"
    print(line)


HEADER = (f"{'n':>6} {'batch':>5} | {'kmatrix':>10} {'reps':>4} | {'dense':>10} {'reps':>4} "
          f"{'dense/km':>9} | {'fft':>10} {'km/fft':>7} | {'km per vec':>10}")


def run_dtype(dtype, args, workers, rng, results):
    dtype = np.dtype(dtype)
    complex_ = dtype.kind == "c"
    print(f"=== {dtype.name}: K.apply(X) vs X @ W.T and scipy.fft.fft on "
          f"{'the same rows' if complex_ else 'complex rows of the same length'} "
          f"(batch 1: K @ x, W @ x, fft(x)) (median per call) ===")
    print(HEADER)
    print("-" * len(HEADER))
    # last successful dense run per batch: (n, seconds) to predict the next one
    last_dense = {}
    fft_dtype = np.dtype(np.complex64 if dtype in (np.float32, np.complex64) else np.complex128)
    for n in args.sizes:
        K = km.KMatrix.random(n, dtype=dtype, random_state=0)
        W = None
        w_bytes = n * n * dtype.itemsize
        for batch in args.batches:
            X = random_array(rng, (batch, n), dtype)
            Xf = X if complex_ else random_array(rng, (batch, n), fft_dtype)
            fft_workers = -1 if workers is None else workers
            # the dense product runs last: its idle BLAS threads keep spinning
            # after it returns and would slow down whatever runs next
            if batch == 1:   # the solver path: one vector, K @ x
                x, xf = X[0], Xf[0]
                funcs = {"km": lambda: K @ x,
                         "fft": lambda: scipy.fft.fft(xf, workers=fft_workers)}
            else:
                funcs = {"km": lambda: K.apply(X, workers=workers),
                         "fft": lambda: scipy.fft.fft(Xf, axis=1, workers=fft_workers)}

            dense_skip = None
            if w_bytes > DENSE_MAX_BYTES:
                dense_skip = f"skip: W is {fmt_bytes(w_bytes)}"
            elif batch in last_dense:
                n_prev, t_prev = last_dense[batch]
                predicted = t_prev * (n / n_prev) ** 2
                if predicted > DENSE_MAX_SECONDS:
                    dense_skip = f"skip: ~{predicted:.0f} s per call"
            if dense_skip is None:
                if W is None:
                    W = random_array(rng, (n, n), dtype)
                funcs["dense"] = (lambda: W @ x) if batch == 1 else (lambda: X @ W.T)

            timed = time_blocks(funcs, args.repeat, args.budget, args.min_samples)
            t_kd, r_kd = timed["km"]
            t_dense, r_dense = timed.get("dense", (None, None))
            t_fft = timed.get("fft", (None, None))[0]
            if t_dense is not None:
                last_dense[batch] = (n, t_dense)
            results[(dtype.name, n, batch)] = dict(km=t_kd, dense=t_dense, fft=t_fft)

            dense_col = (f"{fmt_time(t_dense):>10} {r_dense:>4} {t_dense / t_kd:>8.2f}x"
                         if t_dense is not None else f"{dense_skip:>25}")
            fft_col = (f"{fmt_time(t_fft):>10} {t_kd / t_fft:>6.2f}x"
                       if t_fft is not None else f"{'-':>10} {'-':>7}")
            print(f"{n:>6} {batch:>5} | {fmt_time(t_kd):>10} {r_kd:>4} | {dense_col} | "
                  f"{fft_col} | {fmt_time(t_kd / batch):>10}", flush=True)
            del X, Xf, funcs
        del K, W
        gc.collect()
    print()


def print_scaling(dtype, args, results):
    """Per-vector time at the largest batch and its n log n efficiency."""
    batch = max(args.batches)
    complex_ = True  # every dtype has an FFT yardstick
    base = results.get((dtype, BASE_N, batch))
    print(f"=== {dtype}: time per vector at batch {batch}, n log n efficiency "
          f"(1.0 = grows exactly as n log2 n from n={BASE_N}) ===")
    if base is None:
        print(f"(n = {BASE_N} not measured at batch {batch}: no efficiency column)")
    head = f"{'n':>6} | {'km per vec':>10} {'km eff':>7}"
    if complex_:
        head += f" | {'fft per vec':>11} {'fft eff':>7}"
    print(head)
    print("-" * len(head))
    for n in args.sizes:
        r = results.get((dtype, n, batch))
        if r is None:
            continue
        predicted = (n * math.log2(n)) / (BASE_N * math.log2(BASE_N))
        eff = f"{(r['km'] / base['km']) / predicted:>7.2f}" if base else f"{'-':>7}"
        line = f"{n:>6} | {fmt_time(r['km'] / batch):>10} {eff}"
        if complex_:
            feff = (f"{(r['fft'] / base['fft']) / predicted:>7.2f}"
                    if base and r["fft"] else f"{'-':>7}")
            line += f" | {fmt_time(r['fft'] / batch):>11} {feff}"
        print(line)
    print()


def efficiency(results, dtype, n, batch=1024):
    base, r = results.get((dtype, BASE_N, batch)), results.get((dtype, n, batch))
    if base is None or r is None:
        return None
    return (r["km"] / base["km"]) / ((n * math.log2(n)) / (BASE_N * math.log2(BASE_N)))


def kmatrix_flops(n, batch, dtype, width=1):
    """Real floating-point operations of K.apply on ``batch`` rows: per row,
    stage and pair, a 2x2 block times a vector (4 multiplies and 2 additions;
    complex: 4 complex multiplies and 2 complex additions, 28 real ones)."""
    per_block = 28 if np.dtype(dtype).kind == "c" else 6
    return per_block * batch * (n // 2) * 2 * int(math.log2(n)) * width


def l2_copy_bandwidth(nbytes):
    """Bytes per second one core moves (read plus write) copying an array of
    ``nbytes`` (half of L2: it stays there) into another: NumPy's copy,
    the median of up to 21 samples (each of about 2 ms of copies) within a
    2 s budget."""
    a = np.ones(nbytes // 4, dtype=np.float32)
    b = np.empty_like(a)
    times = time_blocks({"copy": lambda: np.copyto(b, a)}, 21, 2.0, 21)
    return 2 * nbytes / times["copy"][0]


def print_roofline(results, args, workers):
    """Where float32 n=4096 batch 1024 stands: its GFLOP/s, against the SGEMM
    and the L2 bandwidth measured in this run."""
    r = results.get(("float32", 4096, 1024))
    print("=== roofline: float32 n=4096 batch 1024 ===")
    if r is None or r["dense"] is None:
        print("n/a (not measured)\n")
        return
    tuning = _kernels.tuning()
    cores = workers or tuning["threads"]
    gflops = kmatrix_flops(4096, 1024, np.float32) / r["km"] / 1e9
    sgemm = dense_flops(4096, 1024, np.float32) / r["dense"] / 1e9
    l2 = tuning["l2_bytes"]
    bw = l2_copy_bandwidth(l2 // 2) * cores
    # each fused pass reads and writes the chunk's tile once; the twiddles
    # stream once per chunk of `lanes` rows
    lanes, group = tuning["lanes"]["float32"], tuning["max_group"]["float32"]
    passes = math.ceil(2 * 12 / group)
    traffic = 1024 * 4096 * 4 * 2 * passes + (1024 // lanes) * 2 * 12 * 2048 * 16
    print(f"kmatrix {gflops:.1f} GFLOP/s = {gflops / sgemm:.1%} of the measured SGEMM "
          f"({sgemm:.0f} GFLOP/s, X @ W.T above)")
    print(f"tile traffic {traffic / r['km'] / 1e9:.1f} GB/s ({passes} passes of {group} "
          f"stages, twiddles once per chunk of {lanes} rows) = "
          f"{traffic / r['km'] / bw:.1%} of the measured L2 copy bandwidth "
          f"({bw / 1e9:.0f} GB/s on {cores} cores)\n")


def print_summary(results, args):
    print("=== summary: the performance bars ===")
    verdicts = []

    def verdict(ok):
        verdicts.append(ok)
        return "PASS" if ok else "FAIL"

    def na(what):
        print(f"{what} ... n/a (not measured)")

    r = results.get(("float32", 4096, 1024))
    what = f"float32 n=4096 batch 1024: K.apply >= {BAR_DENSE_SPEEDUP:.0f}x faster than dense"
    if r is None or r["dense"] is None:
        na(what)
    else:
        speedup = r["dense"] / r["km"]
        print(f"{what}: {speedup:.2f}x ({fmt_time(r['km'])} vs {fmt_time(r['dense'])}) "
              f"{verdict(speedup >= BAR_DENSE_SPEEDUP)}")
        rate = dense_flops(4096, 1024, np.float32) / r["dense"] / 1e9
        print(f"   (the dense baseline ran at {rate:.0f} GFLOP/s; compare with the BLAS's usual "
              "rate on this CPU: a much lower one means a slowed BLAS, see benchmarks/README.md)")

    r = results.get(("complex64", 4096, 1024))
    what = f"complex64 n=4096 batch 1024: K.apply <= {BAR_FFT_RATIO:.0f}x scipy.fft"
    if r is None:
        na(what)
    else:
        ratio = r["km"] / r["fft"]
        print(f"{what}: {ratio:.2f}x ({fmt_time(r['km'])} vs {fmt_time(r['fft'])}) "
              f"{verdict(ratio <= BAR_FFT_RATIO)}")

    for (d, n), bar in BAR_ONE_VECTOR.items():
        r = results.get((d, n, 1))
        what = f"one vector, {d} n={n}: K @ x <= {bar}x a complex64 scipy.fft.fft"
        if r is None:
            na(what)
            continue
        ratio = r["km"] / r["fft"]
        print(f"{what}: {ratio:.2f}x ({fmt_time(r['km'])} vs {fmt_time(r['fft'])}) "
              f"{verdict(ratio <= bar)}")

    for n, bar in BAR_SMALL.items():
        r = results.get(("float32", n, 1024))
        what = f"float32 n={n} batch 1024: K.apply <= {bar}x the dense product's time"
        if r is None or r["dense"] is None:
            na(what)
            continue
        ratio = r["km"] / r["dense"]
        print(f"{what}: {ratio:.2f}x ({fmt_time(r['km'])} vs {fmt_time(r['dense'])}) "
              f"{verdict(ratio <= bar)}")

    measured = [d for d in args.dtypes if efficiency(results, d, 65536) is not None]
    if not measured:
        na("per-vector time 2**10 -> 2**16 <= 1.5x n log n")
    for d in measured:
        eff = efficiency(results, d, 65536)
        print(f"{d} per-vector time 2**10 -> 2**16 <= {BAR_NLOGN}x what n log n "
              f"predicts: {eff:.2f}x {verdict(eff <= BAR_NLOGN)}")
    print(f"overall: {sum(verdicts)}/{len(verdicts)} measured bars pass")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes,
                        help="comma-separated sizes n, e.g. 1024,4096,2**16 "
                             "(default 32..65536; quick: 32,64,1024,4096,65536)")
    parser.add_argument("--batches", type=parse_ints,
                        help="comma-separated batch sizes (default 1,4,16,64,1024; quick: 1,1024)")
    parser.add_argument("--repeat", type=int,
                        help="timed runs per measurement, median quoted (default 7, "
                             "quick 3; calls slower than ~1.5 s get fewer, never under 3 "
                             "except with --quick)")
    parser.add_argument("--dtypes", type=parse_dtypes,
                        help="comma-separated dtypes (default all four; quick: "
                             "float32,complex64)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for kmatrix, BLAS and scipy.fft (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer sizes, batches, dtypes and repeats: about 2 minutes")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random data")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.sizes = sorted(set(args.sizes))
    args.batches = sorted(set(args.batches))
    # slow calls get fewer timed runs: never under 3, except in --quick mode
    args.budget = QUICK_BUDGET_SECONDS if args.quick else BUDGET_SECONDS
    args.min_samples = 1 if args.quick else 3
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be >= 1")

    workers = args.threads
    rng = np.random.default_rng(args.seed)
    results = {}
    start = time.perf_counter()
    cpu_start = cpu_snapshot()
    # threadpool_limits(None) changes nothing: every library keeps its default
    with threadpool_limits(limits=args.threads):
        print_machine(args, workers)
        print(f"sizes {args.sizes}, batches {args.batches}, repeat {args.repeat}, "
              f"dtypes {args.dtypes}, width 1, expansion 1")
        print("times are medians per call; ratios > 1 in 'dense/km' favour kmatrix, "
              "ratios > 1 in 'km/fft' favour scipy.fft\n")
        for dtype in args.dtypes:
            run_dtype(dtype, args, workers, rng, results)
        if any(n >= 2**15 for n in args.sizes):
            print("note: the dense product is impossible at n = 2**16 (W alone would be "
                  f"{fmt_bytes(2**32 * 4)} in float32, {fmt_bytes(2**32 * 8)} in complex64) "
                  "and is skipped above 2 GiB\n")
        for dtype in args.dtypes:
            print_scaling(dtype, args, results)
        print_roofline(results, args, workers)
        print_summary(results, args)
    wall = time.perf_counter() - start
    print_other_load(cpu_start, wall)
    print(f"\ntotal benchmark time {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
