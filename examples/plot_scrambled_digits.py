"""Scrambled images: a K-matrix network against MLPClassifier.

The digits (8 x 8 images) are upsampled to 32 x 32 and their 1,024 pixels
shuffled by one fixed random permutation, so that no model can rely on
pixels being neighbours. Both classifiers have one hidden layer of 1,024
units (relu) and a softmax over the 10 classes, trained by Adam:

* ``MLPClassifier(hidden_layer_sizes=(1024,))``: dense layers, 1.06 M weights;
* ``KMatrixClassifier(hidden_layer_sizes=(1024,))``: both layers K-matrices
  (the hidden one 1,024 x 1,024, the output one the first 10 rows of a
  K-matrix on 1,024 positions), at its defaults;
* the same with ``output_layer="dense"`` (10 x 1,024 dense output).

A K-matrix can hold any permutation exactly (a Benes network), so the
scrambling costs it nothing it cannot learn. The script prints a table
(test accuracy, parameters, fit time, predict time: the median of 7 timings
of ``predict`` on the test rows, the models in turn) and then the sample
efficiency: test accuracy against the number of training rows, for the
MLP and the K-matrix network. With matplotlib installed and ``--output``
given, it plots both.

    python examples/plot_scrambled_digits.py [--hidden 1024] [--train-sizes 100,300,1000]
        [--output scrambled_digits.png]
"""

import argparse
import time
import warnings

import numpy as np
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import kmatrix as km
from _timing import fmt_time, median_times


def scrambled_digits(side=32, seed=0):
    """The digits upsampled to side x side, pixels in one fixed random order."""
    X, y = load_digits(return_X_y=True)
    images = np.stack([zoom(im.reshape(8, 8), side / 8, order=1) for im in X])
    X = images.reshape(len(X), -1) / 16
    return X[:, np.random.default_rng(seed).permutation(X.shape[1])], y


def n_params(model):
    if hasattr(model, "n_params_"):
        return model.n_params_
    return sum(c.size for c in model.coefs_) + sum(b.size for b in model.intercepts_)


def models(hidden):
    return {
        "MLPClassifier": lambda: MLPClassifier(hidden_layer_sizes=(hidden,), random_state=0),
        "K-matrix network": lambda: km.KMatrixClassifier(hidden_layer_sizes=(hidden,),
                                                         random_state=0),
        "K-matrix, dense output": lambda: km.KMatrixClassifier(
            hidden_layer_sizes=(hidden,), output_layer="dense", random_state=0),
    }


def compare(makers, X_train, X_test, y_train, y_test):
    """Fit every model; print and return (name, accuracy, params, fit, predict)."""
    fitted = {}
    for name, make in makers.items():
        model = make()
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fitted[name] = (model, time.perf_counter() - start)
    predict = median_times([lambda m=m: m.predict(X_test) for m, _ in fitted.values()])
    header = f"{'model':<24} | {'accuracy':>8} | {'params':>9} | {'fit':>8} | {'predict':>9}"
    print(header)
    print("-" * len(header))
    rows = []
    for (name, (model, fit_time)), predict_time in zip(fitted.items(), predict):
        row = (name, model.score(X_test, y_test), n_params(model), fit_time, predict_time)
        rows.append(row)
        print(f"{name:<24} | {row[1]:8.4f} | {row[2]:9,} | {fmt_time(fit_time):>8} | "
              f"{fmt_time(predict_time):>9}")
    return rows


def sample_efficiency(makers, X_train, X_test, y_train, y_test, sizes):
    """Test accuracy of each model against the number of training rows."""
    print(f"\n{'training rows':>13} | " + " | ".join(f"{name:>16}" for name in makers))
    curves = {name: [] for name in makers}
    for size in sizes:
        scores = []
        for name, make in makers.items():
            score = make().fit(X_train[:size], y_train[:size]).score(X_test, y_test)
            curves[name].append(score)
            scores.append(score)
        print(f"{size:>13} | " + " | ".join(f"{s:16.4f}" for s in scores))
    return curves


def plot(rows, curves, sizes, side, output):
    try:
        import matplotlib
    except ImportError:
        print('no plot: matplotlib is not installed (pip install "kmatrix[examples]")')
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_bar, ax_curve) = plt.subplots(1, 2, figsize=(11, 4.5))
    names = [r[0] for r in rows]
    ax_bar.barh(names, [r[2] for r in rows], color=[f"C{i}" for i in range(len(rows))])
    ax_bar.set_xscale("log")
    ax_bar.set_xlim(min(r[2] for r in rows) / 10, max(r[2] for r in rows) * 30)
    ax_bar.set_xlabel("parameters")
    for i, r in enumerate(rows):
        ax_bar.text(r[2], i, f"  acc {r[1]:.3f}, fit {r[3]:.1f} s", va="center", fontsize=8)
    for name, scores in curves.items():
        ax_curve.plot(sizes, scores, marker="o", label=name)
    ax_curve.set_xscale("log")
    ax_curve.set_xlabel("training rows")
    ax_curve.set_ylabel("test accuracy")
    ax_curve.legend()
    ax_curve.grid(True, alpha=0.3)
    fig.suptitle(f"scrambled {side} x {side} digits")
    fig.tight_layout()
    fig.savefig(output, dpi=120)
    print(f"saved {output}")


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--side", type=int, default=32, help="image side after upsampling")
    parser.add_argument("--train-sizes", default="100,300,1000")
    parser.add_argument("--output", default=None, help="save the figure here (matplotlib)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = scrambled_digits(args.side)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.33, random_state=0)
    print(f"scrambled {args.side} x {args.side} digits: {len(X_train)} training rows, "
          f"{len(X_test)} test rows; one hidden layer of {args.hidden}")
    makers = models(args.hidden)
    rows = compare(makers, X_train, X_test, y_train, y_test)
    mlp, kmat = rows[0], rows[1]
    print(f"\nK-matrix network: {kmat[2] / mlp[2]:.3f}x the MLP's parameters, "
          f"{kmat[3] / mlp[3]:.2f}x its fit time, accuracy {kmat[1]:.4f} vs {mlp[1]:.4f}")
    sizes = [int(v) for v in args.train_sizes.split(",")]
    curves = sample_efficiency({k: makers[k] for k in list(makers)[:2]},
                               X_train, X_test, y_train, y_test, sizes)
    if args.output:
        plot(rows, curves, sizes, args.side, args.output)


if __name__ == "__main__":
    main()
