"""Structured random features and projections in a classification pipeline.

Four transformers feed the same linear classifier (``RidgeClassifier``) on
handwritten digits (scikit-learn's bundled 8 x 8 images, resized to
``--size`` x ``--size`` pixels, so ``--size 32`` gives 1024 features):

* ``KMatrixRandomFeatures``: RBF kernel features ``cos(W x + b)`` with ``W``
  a stack of random orthogonal Hadamard K-matrix blocks, O(n log d) per row;
* ``RBFSampler``: the same features with a dense Gaussian ``W``, O(n d);
* ``KMatrixRandomProjection``: a subsampled randomized Hadamard projection;
* ``GaussianRandomProjection``: a dense Gaussian projection.

For each number of components the script prints and plots the test
accuracy of the pipeline and the median time of the transformer's
``transform`` on all the rows. Kernel features lift the linear model above
what it reaches on the pixels, and the K-matrix features match the dense
ones at every size for a fraction of the time. The resized images
interpolate 8 x 8 pixels, so they span at most 64 directions: projections to
64 components or more lose nothing against the pixels, and a K-matrix
projection costs the same at any size (O(d log d) per row).

    python examples/plot_random_features.py [--size 32] [--output random_features.png]

Needs matplotlib: ``pip install "kmatrix[examples]"``.
"""

import argparse
import importlib.util
import statistics
import sys
import time


def parse_ints(text):
    return [int(v) for v in text.split(",") if v]


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])  # sphinx-gallery runs it with __doc__ ""
    parser.add_argument("--size", type=int, default=32,
                        help="image side after resizing (features = size^2)")
    parser.add_argument("--components", default="64,128,256,512,1024,2048,4096",
                        help="n_components of the random features")
    parser.add_argument("--projections", default="16,32,64,128,256,512",
                        help="n_components of the projections (at most size^2)")
    parser.add_argument("--repeat", type=int, default=5, help="timed transform calls per point")
    parser.add_argument("--output", default="random_features.png")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("matplotlib") is None:
        sys.exit("this example plots with matplotlib, which is not installed: "
                 "pip install \"kmatrix[examples]\" (or pip install matplotlib)")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import scipy.ndimage
    from matplotlib.ticker import FixedLocator, NullLocator
    from sklearn.datasets import load_digits
    from sklearn.kernel_approximation import RBFSampler
    from sklearn.linear_model import RidgeClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.random_projection import GaussianRandomProjection

    import kmatrix as km

    digits = load_digits()
    images = digits.images
    if args.size != 8:
        images = np.array([scipy.ndimage.zoom(im, args.size / 8, order=1) for im in images])
    X = images.reshape(len(images), -1)
    X_train, X_test, y_train, y_test = train_test_split(X, digits.target, test_size=0.25,
                                                        random_state=0)
    d = X.shape[1]
    projections = [k for k in parse_ints(args.projections) if k <= d]
    methods = {
        "KMatrixRandomFeatures": (lambda n: km.KMatrixRandomFeatures(
            n, gamma="scale", random_state=0), parse_ints(args.components)),
        "RBFSampler": (lambda n: RBFSampler(n_components=n, gamma="scale", random_state=0),
                       parse_ints(args.components)),
        "KMatrixRandomProjection": (lambda n: km.KMatrixRandomProjection(
            n, random_state=0), projections),
        "GaussianRandomProjection": (lambda n: GaussianRandomProjection(
            n, random_state=0), projections),
    }

    def evaluate(transformer):
        model = make_pipeline(StandardScaler(), transformer, RidgeClassifier(alpha=1.0))
        model.fit(X_train, y_train)
        accuracy = model.score(X_test, y_test)
        scaled = model[0].transform(X)
        fitted = model[1]
        start = time.perf_counter()                   # warm-up (OpenBLAS's threads spin
        while time.perf_counter() - start < 0.2:      # for a while after the fit's products)
            fitted.transform(scaled)
        times = []
        for _ in range(max(1, args.repeat)):
            t0 = time.perf_counter()
            fitted.transform(scaled)
            times.append(time.perf_counter() - t0)
        return accuracy, statistics.median(times)

    baseline = make_pipeline(StandardScaler(), RidgeClassifier(alpha=1.0)).fit(X_train, y_train)
    raw_accuracy = baseline.score(X_test, y_test)
    print(f"digits resized to {args.size}x{args.size}: {d} features, {len(X_train)} training "
          f"and {len(X_test)} test rows; RidgeClassifier on the raw pixels: accuracy "
          f"{raw_accuracy:.3f}")
    print(f"transform time: median of {max(1, args.repeat)} calls on all {len(X)} rows")
    header = f"{'method':>26} {'n_components':>12} | {'accuracy':>8} | {'transform':>10}"
    print(header)
    print("-" * len(header))
    results = {}
    for name, (make, sizes) in methods.items():
        for n in sizes:
            accuracy, seconds = evaluate(make(n))
            results.setdefault(name, []).append((n, accuracy, seconds))
            print(f"{name:>26} {n:>12} | {accuracy:8.3f} | {seconds * 1e3:8.2f}ms", flush=True)

    style = {"KMatrixRandomFeatures": ("C0", "o", "-"), "RBFSampler": ("C1", "s", "--"),
             "KMatrixRandomProjection": ("C2", "^", "-"),
             "GaussianRandomProjection": ("C3", "v", "--")}
    fig, (ax_acc, ax_time) = plt.subplots(1, 2, figsize=(12, 4.6))
    for name, rows in results.items():
        color, marker, line = style[name]
        n, accuracy, seconds = (np.array(col) for col in zip(*rows))
        ax_acc.plot(n, accuracy, color=color, marker=marker, linestyle=line, label=name)
        ax_time.plot(n, seconds * 1e3, color=color, marker=marker, linestyle=line, label=name)
    ax_acc.axhline(raw_accuracy, color="0.5", linestyle=":", label="linear model on the pixels")
    ticks = sorted({n for rows in results.values() for n, _, _ in rows})
    for ax in (ax_acc, ax_time):
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([str(t) for t in ticks], rotation=45, ha="right")
        ax.set_xlabel("n_components")
        ax.grid(True, alpha=0.3)
    ax_acc.set_ylabel("test accuracy")
    ax_acc.set_title(f"digits {args.size}x{args.size} ({d} features) + RidgeClassifier")
    ax_acc.legend(loc="lower right", fontsize=8)
    ax_time.set_yscale("log")
    ax_time.set_ylabel(f"transform time on {len(X)} rows (ms, median)")
    ax_time.set_title("transform time")
    ax_time.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
