"""Peak memory of the constructors, as a multiple of the twiddles they return.

Each constructor runs in a fresh interpreter; the growth of its peak
resident memory (``ru_maxrss``) over the moment just before the call is
divided by the size of the result's twiddles. Inputs (a permutation, a
circuit) are built before that moment. Large sizes keep the interpreter's
own growth small against the result. The bar: every constructor at most
2x its result.

Usage::

    python benchmarks/bench_memory.py [--scale 0]   # -1 halves every size (twice the speed)
"""

import argparse
import os
import platform
import subprocess
import sys

from bench_apply import cpu_model

BAR = 2.0

_SCRIPT = """
import resource, numpy as np, kmatrix as km
{setup}
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
K = {expr}
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((peak - base) * 1024 / K.twiddles.nbytes, K.twiddles.nbytes)
"""

# layers random layers over n wires: each wire combines two of the layer before
_LAYERS = """
rng = np.random.default_rng(0)
c = km.Circuit({n})
wires = list(c.inputs)
for _ in range({layers}):
    pick, w = rng.integers(0, {n}, ({n}, 2)), rng.standard_normal(({n}, 2))
    wires = [c.gate(w[k, 0], wires[pick[k, 0]], w[k, 1], wires[pick[k, 1]])
             for k in range({n})]
c.set_outputs(wires)
"""


def cases(s):
    """(label, setup, expression) at sizes scaled by 2**s."""
    perm = f"p = np.random.default_rng(0).permutation(2 ** {19 + s})"
    cycle = (f"import scipy.sparse\nn = 2 ** {16 + s}\ni = np.arange(n)\n"
             "S = scipy.sparse.coo_array((np.arange(1.0, 2 * n + 1), "
             "(np.concatenate([i, i]), np.concatenate([i, (i + 1) % n]))), shape=(n, n))")
    return [
        (f"random(2**{21 + s}, float32)", "", f"km.KMatrix.random(2 ** {21 + s}, "
                                              "dtype=np.float32, random_state=0)"),
        (f"random(2**{20 + s}, complex128)", "", f"km.KMatrix.random(2 ** {20 + s}, "
                                                 "dtype=np.complex128, random_state=0)"),
        (f"dft(2**{19 + s})", "", f"km.KMatrix.dft(2 ** {19 + s})"),
        (f"dct(2**{18 + s})", "", f"km.KMatrix.dct(2 ** {18 + s})"),
        (f"hadamard(2**{20 + s})", "", f"km.KMatrix.hadamard(2 ** {20 + s})"),
        (f"from_permutation(2**{19 + s})", perm, "km.KMatrix.from_permutation(p)"),
        (f"from_sparse(cycle of 2**{16 + s})", cycle, "km.KMatrix.from_sparse(S)"),
        (f"from_circuit({40 + 8 * s} layers of 4096)",
         _LAYERS.format(n=4096, layers=40 + 8 * s), "km.KMatrix.from_circuit(c)"),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=0, choices=(-2, -1, 0),
                        help="log2 of a size factor: 0 as quoted, -1 halves every size")
    args = parser.parse_args(argv)
    print(f"# CPU: {cpu_model()}; load average {os.getloadavg()[0]:.2f}; "
          f"python {platform.python_version()}")
    print(f"{'constructor':38s} {'result MB':>10s} {'peak / result':>14s}")
    worst = 0.0
    for label, setup, expr in cases(args.scale):
        done = subprocess.run([sys.executable, "-c", _SCRIPT.format(setup=setup, expr=expr)],
                              capture_output=True, text=True, check=True)
        ratio, n_bytes = done.stdout.split()
        worst = max(worst, float(ratio))
        print(f"{label:38s} {int(n_bytes) / 2**20:10.1f} {float(ratio):13.2f}x")
    print(f"bar: every constructor <= {BAR}x its result: {'PASS' if worst <= BAR else 'FAIL'}")


if __name__ == "__main__":
    main()
