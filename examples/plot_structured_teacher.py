"""A structured teacher: learning y = H2 relu(H1 x + b) from a few thousand samples.

The teacher is a network whose two layers are fast transforms: signed,
orthonormal Walsh-Hadamard matrices ``H1 = D1 H / sqrt(n)`` and ``H2 = D2 H /
sqrt(n)`` (D1, D2 random signs) at n = 256, with a small random bias b. The
students see 4,000 samples (x standard normal) and have the teacher's shape,
one hidden layer of 256 relu units:

* ``MLPRegressor(hidden_layer_sizes=(256,))``: dense layers, 131,584 weights;
* ``KMatrixRegressor(hidden_layer_sizes=(256,))`` at its defaults: K-matrix
  layers from a random orthogonal start;
* ``structure="butterfly", init="identity"``: each layer one butterfly
  (8,704 parameters in all), started at the identity and trained until the
  loss has not improved for 50 epochs (``tol=0, n_iter_no_change=50``, up to
  1,000 epochs): the loss plateaus for tens of epochs before the structure
  falls into place, and the defaults (``tol=1e-4``, 10 epochs) stop on the
  first plateau. The structure is found from data;
* the same layers started at the unsigned Hadamard transform
  (``init=[H, H]``, given KMatrix objects): a known transform, fine-tuned.

The script prints a table (test R^2, parameters, fit time, predict time: the
median of 7 timings of ``predict`` on the test rows, the models in turn) and
the test R^2 of the MLP and of the butterfly network against the number of
training rows. With matplotlib installed and ``--output`` given, it plots
the latter.

    python examples/plot_structured_teacher.py [--n 256] [--train-sizes 1000,4000]
        [--seeds 0,1,2,3] [--output structured_teacher.png]
"""

import argparse
import time
import warnings

import numpy as np
import scipy.linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor

import kmatrix as km
from _timing import fmt_time, median_times


def teacher(n, seed=0):
    """The teacher's function x -> H2 relu(H1 x + b)."""
    rng = np.random.default_rng(seed)
    H = scipy.linalg.hadamard(n) / np.sqrt(n)
    H1 = rng.choice([-1.0, 1.0], n)[:, None] * H
    H2 = rng.choice([-1.0, 1.0], n)[:, None] * H
    b = 0.1 * rng.standard_normal(n)
    return lambda X: np.maximum(X @ H1.T + b, 0) @ H2.T


def models(n, max_iter):
    H = km.KMatrix.hadamard(n) / np.sqrt(n)
    return {
        "MLPRegressor": lambda: MLPRegressor(hidden_layer_sizes=(n,), random_state=0),
        "K-matrix, defaults": lambda: km.KMatrixRegressor(hidden_layer_sizes=(n,),
                                                          random_state=0),
        "butterfly, identity start": lambda: km.KMatrixRegressor(
            hidden_layer_sizes=(n,), structure="butterfly", init="identity",
            max_iter=max_iter, tol=0, n_iter_no_change=50, random_state=0),
        "butterfly, Hadamard start": lambda: km.KMatrixRegressor(
            hidden_layer_sizes=(n,), structure="butterfly", init=[H, H], random_state=0),
    }


def n_params(model):
    if hasattr(model, "n_params_"):
        return model.n_params_
    return sum(c.size for c in model.coefs_) + sum(b.size for b in model.intercepts_)


def compare(makers, X, y, Xt, yt):
    fitted = {}
    for name, make in makers.items():
        model = make()
        start = time.perf_counter()
        model.fit(X, y)
        fitted[name] = (model, time.perf_counter() - start)
    predict = median_times([lambda m=m: m.predict(Xt) for m, _ in fitted.values()])
    header = f"{'model':<26} | {'test R^2':>8} | {'params':>8} | {'fit':>8} | {'predict':>9}"
    print(header)
    print("-" * len(header))
    for (name, (model, fit_time)), predict_time in zip(fitted.items(), predict):
        print(f"{name:<26} | {r2_score(yt, model.predict(Xt)):8.4f} | {n_params(model):8,} | "
              f"{fmt_time(fit_time):>8} | {fmt_time(predict_time):>9}")


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--max-iter", type=int, default=1000,
                        help="epochs of the butterfly network started at the identity")
    parser.add_argument("--train-sizes", default="1000,2000,4000")
    parser.add_argument("--seeds", default="",
                        help="random_state values to refit the butterfly network started at "
                             "the identity with (e.g. 0,1,2,3): how often it finds the structure")
    parser.add_argument("--output", default=None, help="save the figure here (matplotlib)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    f = teacher(args.n)
    rng = np.random.default_rng(1)
    X, Xt = rng.standard_normal((args.samples, args.n)), rng.standard_normal((2000, args.n))
    y, yt = f(X), f(Xt)
    print(f"teacher H2 relu(H1 x + b), n = {args.n}: {args.samples} training rows, "
          f"{len(Xt)} test rows")
    makers = models(args.n, args.max_iter)
    compare(makers, X, y, Xt, yt)
    sizes = [int(v) for v in args.train_sizes.split(",")]
    chosen = ["MLPRegressor", "butterfly, identity start"]
    print(f"\n{'training rows':>13} | " + " | ".join(f"{c:>25}" for c in chosen))
    curves = {c: [] for c in chosen}
    for size in sizes:
        scores = [r2_score(yt, makers[c]().fit(X[:size], y[:size]).predict(Xt)) for c in chosen]
        for c, s in zip(chosen, scores):
            curves[c].append(s)
        print(f"{size:>13} | " + " | ".join(f"{s:25.4f}" for s in scores))
    if args.seeds:
        print(f"\nbutterfly, identity start, {args.samples} rows, by random_state:")
        for seed in (int(v) for v in args.seeds.split(",")):
            model = makers["butterfly, identity start"]().set_params(random_state=seed)
            print(f"  random_state={seed}: test R^2 {r2_score(yt, model.fit(X, y).predict(Xt)):.4f}")
    if args.output:
        plot(curves, sizes, args.n, args.output)


def plot(curves, sizes, n, output):
    try:
        import matplotlib
    except ImportError:
        print('no plot: matplotlib is not installed (pip install "kmatrix[examples]")')
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, scores in curves.items():
        ax.plot(sizes, scores, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("training rows")
    ax.set_ylabel("test $R^2$")
    ax.set_title(f"teacher $H_2$ relu($H_1 x + b$), n = {n}")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    print(f"saved {output}")


if __name__ == "__main__":
    main()
