"""The approximator's gradient method (:func:`descend`): where it starts
(the best closed form within 10% of M, else random ones, ``n_init`` of
them), the optimizer (``solver``), and the choice of width
(``width=None``): the gradient fit grows one block at a time while a block
pays, and the fitted estimator says why its width is what it is.

A new block starts as the identity, so the operator carries over, and is
first tried for ``max_iter / 5`` steps (at least 20): it is kept only if
that trial cut the error by 10%, and no block is added once the parameter
count would pass the dense matrix's (measured, 500 steps a width: Legendre
polynomials at n = 64, 0.449 at width 1 to 0.283 at width 2; a Gaussian
n = 1024, 1.8% from a second block; a random width-2 K-matrix at n = 256,
only 4.3%: from a width-1 fit the gradient does not find a second block's
structure, so the rule keeps width 1 there, as ``width=1`` would). No
block is tried at all once the fit so far has cut the error by less than
10% (from 1, that of the zero matrix): a target with no structure.
"""

from .._core.validation import frobenius
from .._operator import KMatrix
from .descent import Trace, gradient_fit, probe_error, scaled_to
from .search import Candidate, model_of, pad_to_width, preferred, relative_error

__all__ = ["descend", "gradient_start", "grow_width", "n_starts", "solver_for",
           "width_reason"]

# a start from the hierarchical search within this relative error is
# better than a random one (a near-exact fit, e.g. of a noisy butterfly); a
# poorer one is a greedy local fit that traps Adam (DCT-II n = 64: 0.56 from
# it, 0.04-0.09 from a random start)
_GOOD_START = 0.1

# from a near closed-form fit the gradient first runs a trial of max_iter / 25
# steps (at least this many), and goes on only if they cut the error by
# _NEAR_TRIAL_GAIN: on a noisy butterfly (Hadamard n = 1024 + 1% noise) 500 Adam
# steps bought 0.4% against the noisy target in 13x the time, and a worse
# operator (1.37e-3 from the clean matrix instead of 1.05e-3)
_NEAR_TRIAL_STEPS = 20
_NEAR_TRIAL_GAIN = 0.05

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
        if result.error > 1 - _GROWTH_GAIN:
            # returns diminish: blocks that together cut less than a block's
            # trial must cut are not followed by one that does (a Gaussian
            # n = 1024: 1 to 0.971 at width 1, and a trial of block 2 cut only
            # 2.0%, in 1.1 s of its 4.3 s)
            return result, (f"the fit of width {result.model.width} cut the error by only "
                            f"{1 - result.error:.1%} (1 to {result.error:.3g}): no block more "
                            f"is tried (a trial must cut {_GROWTH_GAIN:.0%})")
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


def gradient_start(width, dense, op, reps, bests, rng, good_start=_GOOD_START):
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


def descend(est, dense, op, reps, bests, tol, rng, report):
    """The gradient method of the estimator ``est`` (its parameters: width,
    max_iter, max_time, n_init, method, solver, learning_rate_init) from the
    best start: (chosen Candidate, n_iter, loss_curve, why the width grew no
    further or None). ``bests``: the closed forms' best fits."""
    trace, result = Trace(report, est.max_iter, est.max_time), None
    near, shape = any(c is not None and c.error < _GOOD_START for c in bests), (
        dense if dense is not None else op).shape
    solver, polish = solver_for(est.solver, est.method, shape)
    for _ in range(1 if near else n_starts(est.n_init, est.method, shape)):
        if result is not None and trace.expired():
            break
        fit = _descend_once(est, dense, op, reps, bests, tol, rng, report, trace)
        if result is None or fit.error < result.error:
            result = fit
    growth = None
    if est.width is None and result.name is None:
        result, growth = grow_width(result, dense, op, tol, rng, trace, report,
                                    max_iter=est.max_iter, solver=solver,
                                    learning_rate=est.learning_rate_init)
    if polish and result.name is None and result.error > tol:
        err = gradient_fit(result.model, dense, op, grow=False, max_iter=est.max_iter,
                           tol=tol, solver="lbfgs", learning_rate=est.learning_rate_init,
                           rng=rng, trace=trace)
        result = Candidate(result.model, min(float(err), result.error), None,
                           result.representation)
    # a hierarchical fit at least as good (e.g. Adam found no better) wins
    return preferred([result] + bests, reps), trace.n_iter, trace.loss_curve, growth


def _descend_once(est, dense, op, reps, bests, tol, rng, report, trace):
    """One gradient fit from the best start (a new random one each call):
    the Candidate it ends at."""
    model, rep, grow, near = gradient_start(est.width, dense, op, reps, bests, rng)
    solver = solver_for(est.solver, est.method, dense if dense is not None else op)[0]

    def run(steps):
        gradient_fit(model, dense, op, grow=grow, max_iter=steps, tol=tol,
                     solver=solver, learning_rate=est.learning_rate_init, rng=rng,
                     trace=trace)
        return (relative_error(model, dense, frobenius(dense)) if dense is not None
                else probe_error(model, op, rng))

    steps, result = est.max_iter, None
    if near is not None:
        # from a near closed-form fit, a trial first: the rest of the
        # steps only if it pays (else the gradient would fit noise)
        trial = min(steps, max(_NEAR_TRIAL_STEPS, steps // 25))
        err = run(trial)
        steps -= trial
        if err > (1 - _NEAR_TRIAL_GAIN) * near.error and err > tol:
            if report:
                report(f"  {trial} gradient steps gained {1 - err / near.error:.2%} "
                       "on the closed-form fit: kept it (the rest is noise)")
            steps, result = 0, near
    if steps or result is None:
        err = run(steps)   # max_iter=0: the start's own error
    return result or Candidate(model, float(err), None, rep)
