"""The approximator's gradient plan: where it starts, how many random
starts (``n_init``), and the choice of width (``width=None``): the gradient fit grows one block
at a time while a block pays, and the fitted estimator says why its width
is what it is.

A new block starts as the identity, so the operator carries over, and is
first tried for ``max_iter / 5`` steps (at least 20): it is kept only if
that trial cut the error by 10%, and no block is added once the parameter
count would pass the dense matrix's (measured, 500 steps a width: Legendre
polynomials at n = 64, 0.449 at width 1 to 0.283 at width 2; a Gaussian
n = 1024, 1.8% from a second block; a random width-2 K-matrix at n = 256,
only 4.3%: from a width-1 fit the gradient does not find a second block's
structure, so the rule keeps width 1 there, as ``width=1`` would).
"""

from .._operator import KMatrix
from .descent import gradient_fit, scaled_to
from .search import Candidate, model_of, pad_to_width

__all__ = ["gradient_start", "grow_width", "n_starts", "solver_for", "width_reason"]

_GROWTH_GAIN = 0.1     # the error cut a block's trial must make
_GROWTH_TRIAL = 5      # the trial is max_iter / _GROWTH_TRIAL steps ...
_TRIAL_STEPS = 20      # ... and at least this many
_STARTS_ENTRIES = 1 << 16   # n_init="auto": random starts while M has fewer entries
_MAX_STARTS = 8


def solver_for(solver, method, target):
    """The optimizer of the gradient runs for a target (an array, an operator
    or a shape) and whether to polish the final fit by L-BFGS: ``solver``
    as given, or for "auto" Adam, polished (method "auto", at most
    _STARTS_ENTRIES entries) by L-BFGS once the starts and the width are
    chosen: the 2019 butterfly paper's recipe, Adam then L-BFGS (Legendre
    n = 16: 0.240 with Adam alone, 0.225). Not for large targets, whose
    line searches would double the time, nor inside the runs: polished
    width-1 fits took no second block (Legendre n = 128: 0.45 against
    0.34 grown)."""
    if solver != "auto":
        return solver, False
    shape = getattr(target, "shape", target)
    return "adam", method == "auto" and shape[0] * shape[1] <= _STARTS_ENTRIES


def n_starts(n_init, method, shape):
    """Random starts of the gradient fit: ``n_init``, or for "auto" (one
    start with method "gradient", whose ``max_iter`` means one run) as many
    as fit in _STARTS_ENTRIES entries of M, at most _MAX_STARTS (small fits
    depend on their start: Legendre n = 32, 0.339 to 0.384 over six seeds;
    the best of eight starts 0.356)."""
    if n_init != "auto":
        return n_init
    if method != "auto":
        return 1
    return max(1, min(_MAX_STARTS, _STARTS_ENTRIES // (shape[0] * shape[1])))


def grow_width(result, dense, op, tol, rng, trace, report, *, max_iter, solver,
               learning_rate):
    """One more block at a time while a trial pays, from the gradient fit
    ``result`` (a Candidate) of the dense target (or of the operator ``op``).

    Returns
    -------
    result : Candidate
        The fit kept (``result`` itself when no block paid).
    growth : str
        Why no further block was added (or "" when ``tol`` was reached).
    """
    rep = result.representation
    complex_target = (dense.dtype if dense is not None else op.dtype).kind == "c"
    n_out, n_in = (dense if dense is not None else op).shape
    dense_params = n_out * n_in * (2 if complex_target else 1)
    trial = min(max_iter, max(_TRIAL_STEPS, max_iter // _GROWTH_TRIAL))
    fit = dict(grow=False, tol=tol, solver=solver, learning_rate=learning_rate, rng=rng,
               trace=trace)
    while result.error > tol:
        if trace.expired():
            return result, "max_time was reached"
        width = result.model.width + 1
        if rep.n_real_params(width) > dense_params:
            return result, (f"a block more (width {width}, {rep.n_real_params(width)} "
                            f"parameters) would pass the dense matrix's {dense_params}")
        if trial == 0:
            return result, "max_iter=0: no block was tried"
        wider = pad_to_width(result.model.copy(), width)
        err = gradient_fit(wider, dense, op, max_iter=trial, **fit)
        if err > (1 - _GROWTH_GAIN) * result.error:
            return result, (f"block {width} cut the error by {1 - err / result.error:.1%} "
                            f"({result.error:.3g} to {err:.3g}) in a trial of {trial} "
                            f"steps, less than {_GROWTH_GAIN:.0%}")
        if report:
            report(f"  width {width}: {result.error:.3e} to {err:.3e} in {trial} steps: kept")
        if err > tol:
            err = gradient_fit(wider, dense, op, max_iter=max_iter - trial, **fit)
        result = Candidate(wider, float(err), None, rep)
    return result, ""


def width_reason(chosen, tol, width, growth):
    """What ``width_reason_`` says of the chosen Candidate (``width``: the
    estimator's parameter; ``growth``: grow_width's reason or None)."""
    w = chosen.model.width
    if chosen.error <= tol:
        how = "a closed-form fit" if chosen.name is not None else "the gradient fit"
        return f"tol reached at width {w} by {how}"
    if width is not None:
        return f"width={width} was given"
    if growth == "max_time was reached":
        return f"width {w}: max_time was reached"
    if chosen.name is not None:
        return f"the closed-form fit of width {w} ({chosen.name}) beat the gradient fits"
    return growth or f"width {w}"


def gradient_start(width, dense, op, reps, bests, rng, good_start=0.1):
    """(model, representation, grow, near closed-form fit or None) the
    gradient method starts from: the best closed-form fit within
    ``good_start`` of M (padded to ``width``), else a random orthogonal
    K-matrix of the cheapest representation (a complex one for a complex
    target or field="complex"), its blocks past the first the identity,
    scaled to M. ``width`` None starts at the closed form's width, or 1."""
    good = [c for c in bests if c is not None and c.error < good_start]
    if good:
        start = min(good, key=lambda c: c.error)
        model = pad_to_width(start.model.copy(), width or start.model.width)
        return model, start.representation, False, start
    rep = reps[0]
    n_out, n_in = (dense if dense is not None else op).shape
    complex_target = (dense.dtype if dense is not None else op.dtype).kind == "c"
    K = KMatrix.random(n_out, n_in, width=width or 1, expansion=rep.expansion,
                       dtype=rep.dtype, init="ortho", random_state=rng)
    model = model_of(K, complex_target)
    if dense is None:
        return model, rep, False, None
    if K.width > 1:
        # the added blocks start as the identity: the same operator
        K.twiddles[1:] = KMatrix.identity(K.size, dtype=rep.dtype).twiddles[0]
    # an orthogonal start has the wrong scale: the best multiple of it
    return scaled_to(model, dense), rep, True, None
