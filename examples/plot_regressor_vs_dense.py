"""Learning a fast linear map: KMatrixRegressor against dense layers.

The data come from a map that has a fast algorithm, the orthonormal
Walsh-Hadamard transform of n = 512 features (plus noise). Three models of
the same input/output shape learn it from samples:

* ``KMatrixRegressor``: the weight matrix is a K-matrix, O(n log n)
  parameters, trained by mini-batch Adam on kmatrix's compiled kernels;
* ``MLPRegressor(hidden_layer_sizes=())``: one dense n x n layer trained by
  mini-batch Adam too (scikit-learn's default batches of 200 rows; the
  K-matrix models use 64-row batches, more steps per epoch);
* ``Ridge``: the dense least-squares solution (closed form).

The script prints, for each model, the parameter count, the fit time (one
fit), the prediction time (median of 7 timings of each model's ``predict``
on the test rows, the models timed in turn in the same loop) and R^2 on
held-out data, and plots test R^2 and fit time against the parameter count
(saved to a PNG file). With fewer training rows than the dense models need,
the K-matrix generalises better, because its structure is the prior.

Fits and predictions run on one thread by default (``--threads``; kmatrix's
and BLAS's threads alike), timed as the thread's CPU time
(``time.thread_time``: the wall time on a free core, without the turns
other processes take on it), so that the times compare the models rather
than the other work on a shared machine; on more threads they are wall
times.

Needs matplotlib: ``pip install "kmatrix[examples]"``.

    python examples/plot_regressor_vs_dense.py [--threads 1] [--output regressor_vs_dense.png]
"""

import sys

try:
    import matplotlib
except ImportError:
    sys.exit('plot_regressor_vs_dense.py plots with matplotlib, which is not installed: '
             'pip install "kmatrix[examples]"')
matplotlib.use("Agg")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.neural_network import MLPRegressor  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import kmatrix as km  # noqa: E402
from _timing import fmt_time, median_times  # noqa: E402


def make_data(n, n_train, n_test, noise, rng):
    W = scipy.linalg.hadamard(n) / np.sqrt(n)
    X = rng.standard_normal((n_train + n_test, n))
    y = X @ W.T
    y_train = y[:n_train] + noise * rng.standard_normal((n_train, n))
    return X[:n_train], y_train, X[n_train:], y[n_train:]


def n_params(model, n):
    if isinstance(model, km.KMatrixRegressor):
        # real parameters: the twiddles and the intercept
        return model.kmatrix_.n_params + model.intercept_.size
    return n * n + n


def r2(pred, y):
    return 1 - np.sum((pred - y) ** 2) / np.sum((y - y.mean(axis=0)) ** 2)


def spread_ticks(values, min_ratio=1.4):
    """The sorted distinct values, leaving out any closer than ``min_ratio``
    to the previous one kept (tick labels that would overlap)."""
    kept = []
    for v in sorted(set(values)):
        if not kept or v >= kept[-1] * min_ratio:
            kept.append(v)
    return kept


def plot(results, models, n, threads, output):
    fig, (ax_score, ax_time) = plt.subplots(1, 2, figsize=(11, 5.2))
    markers = dict(zip(models, "osD^"))
    colors = {name: f"C{i}" for i, name in enumerate(models)}
    counts = {name: p for rows in results.values() for name, p, _, _ in rows}
    # models with the same parameter count are drawn side by side, a few
    # percent apart on the log axis, so that no marker hides another
    shift = {}
    for p in set(counts.values()):
        same = [name for name in models if counts[name] == p]
        for i, name in enumerate(same):
            shift[name] = 1.12 ** (i - (len(same) - 1) / 2)
    sizes = sorted(results)
    handles = []
    for name in models:
        for k, n_train in enumerate(sizes):
            _, p, fit_time, score = next(row for row in results[n_train] if row[0] == name)
            # smaller training sets: larger open markers; the largest: small
            # filled ones, which stay visible inside the open ones
            last = k == len(sizes) - 1
            style = dict(marker=markers[name], edgecolors=colors[name], linewidths=1.5,
                         s=45 * (150 / 45) ** ((len(sizes) - 1 - k) / max(1, len(sizes) - 1)),
                         facecolors=colors[name] if last else "none", zorder=3,
                         label=f"{name}, {n_train} training rows: $R^2$ {score:.2f}, "
                               f"fit {fit_time:.2g} s")
            handles.append(ax_score.scatter(p * shift[name], score, **style))
            ax_time.scatter(p * shift[name], fit_time, **style)
    ticks = spread_ticks(counts.values())
    for ax in (ax_score, ax_time):
        ax.set_xscale("log")
        ax.set_xlim(min(counts.values()) / 1.6, max(counts.values()) * 1.6)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{t:,}" for t in ticks])
        ax.set_xlabel("parameters (the models' own counts)")
        ax.grid(True, alpha=0.3)
    ax_score.set_ylabel("test $R^2$")
    ax_score.set_ylim(min(0, *(row[3] for rows in results.values() for row in rows)) - 0.05,
                      1.05)
    ax_time.set_ylabel("fit time (s)")
    ax_time.set_yscale("log")
    where = "one thread, CPU time" if threads == 1 else f"{threads} threads, wall time"
    ax_score.set_title(f"Walsh-Hadamard map, n = {n}: test $R^2$")
    ax_time.set_title(f"fit time ({where}, one fit each)")
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, columnspacing=3,
               frameon=False)
    fig.tight_layout(rect=(0, 0.045 * -(-len(handles) // 2) + 0.02, 1, 1))
    fig.savefig(output, dpi=120)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])  # sphinx-gallery runs it with __doc__ ""
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--train-sizes", default="300,3000")
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--threads", type=positive_int, default=1,
                        help="threads for fits and predictions, kmatrix's and BLAS's (default 1)")
    parser.add_argument("--output", default="regressor_vs_dense.png")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    n = args.n
    models = {
        # From a random orthogonal start plain gradient descent can stall in a
        # local minimum; from the identity it finds the transform.
        # Small mini-batches (64 rows) take more steps per epoch, which the
        # O(n log n) steps afford.
        "K-matrix, width 1": lambda: km.KMatrixRegressor(
            init="identity", learning_rate_init=1e-2, batch_size=64, max_iter=1000, tol=1e-6,
            random_state=0),
        "K-matrix, expansion 2": lambda: km.KMatrixRegressor(
            expansion=2, init="identity", learning_rate_init=1e-2, batch_size=64, max_iter=1000,
            tol=1e-6, random_state=0),
        "dense MLPRegressor": lambda: MLPRegressor(
            hidden_layer_sizes=(), learning_rate_init=1e-2, max_iter=1000, tol=1e-6,
            random_state=0),
        "dense Ridge": lambda: Ridge(alpha=1.0),
    }
    if args.threads == 1:
        clock, where = time.thread_time, "one thread (CPU time)"
    else:
        clock, where = time.perf_counter, f"{args.threads} threads (wall time)"
    results = {}
    for n_train in (int(v) for v in args.train_sizes.split(",")):
        rng = np.random.default_rng(0)
        X, y, Xt, yt = make_data(n, n_train, 2000, args.noise, rng)
        fitted = {}
        with threadpool_limits(limits=args.threads):
            for name, make in models.items():
                model = make()
                t0 = clock()
                model.fit(X, y)
                fitted[name] = (model, clock() - t0)
            predict_times = median_times([lambda m=model: m.predict(Xt)
                                          for model, _ in fitted.values()], clock)
        print(f"\nn = {n}, {n_train} training rows, noise {args.noise}, {where}; "
              f"fit: one fit; predict: {len(yt)} rows, median of 7")
        header = f"{'model':<22} | {'params':>7} | {'fit':>7} | {'predict':>9} | test R^2"
        print(header)
        print("-" * len(header))
        for (name, (model, fit_time)), predict_time in zip(fitted.items(), predict_times):
            score = r2(model.predict(Xt), yt)
            p = n_params(model, n)
            results.setdefault(n_train, []).append((name, p, fit_time, score))
            print(f"{name:<22} | {p:>7} | {fmt_time(fit_time):>7} | {fmt_time(predict_time):>9} | "
                  f"{score:.4f}")
    plot(results, models, n, args.threads, args.output)
    print(f"\nplot saved to {args.output}")


if __name__ == "__main__":
    main()
