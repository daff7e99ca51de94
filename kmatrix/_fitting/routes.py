"""The approximator's closed forms, in the order it tries them.

1. The displacement route (:mod:`.displacement`): Toeplitz, Hankel and
   Toeplitz-like targets, one O(n^2) pass, exact or nothing (expansion
   chosen automatically only).
2. The hierarchical search (:mod:`.search`): butterfly factorizations of M,
   of M with structured or discovered permutations, of its analytic
   completions; with the gradient to follow (method "auto"), each
   factorization is abandoned once it is past a relative error of 0.5.
3. When neither reached ``tol`` (from width 2, expansion chosen
   automatically): scaled Vandermonde matrices on geometric nodes and their
   real parts (:func:`.displacement.vandermonde_fit`: transforms of sizes
   other than powers of two, the Hartley matrix), Cauchy matrices on two
   circles (:func:`.displacement.cauchy_fit`, width 4, complex M), the
   Cauchy-like and Vandermonde-like matrices of nodes at the roots of
   unity (:func:`.displacement.cauchy_like_fit`,
   :func:`.displacement.vandermonde_like_fit`: displacement rank <= 32,
   width 4, complex M), then normal matrices with butterfly eigenvectors
   and others with butterfly singular vectors (:mod:`.spectral`, O(N^3)). After the search, since at powers of two it
   finds the same transforms at width 1.
"""

from .displacement import (
    cauchy_fit,
    cauchy_like_fit,
    displacement_fit,
    vandermonde_fit,
    vandermonde_like_fit,
)
from .search import search
from .spectral import spectral_fit

__all__ = ["closed_forms"]

# method="auto": a closed-form fit whose levels have left out more than
# this relative error is abandoned (a start is useful below 0.1, and the
# gradient beats a poorer one): the search of a Gaussian n = 1024 up to
# width 4 took 4.5 s, 8.5 s without (most of it is now the first level of
# each factorization, O(N^2) like the rest)
_GIVE_UP = 0.5


def closed_forms(dense, reps, width, tol, rng, report, *, method, expansion, field,
                 permutations):
    """The closed-form fits of the dense target.

    Returns
    -------
    bests : list of (Candidate or None)
        The search's best fit of each representation.
    tried : list of (str, float)
        Every fit of the search, with its error.
    within : list of Candidate
        A fit within ``tol``, if one was found (empty otherwise).
    """
    bests, tried = [None] * len(reps), []
    within = [c for c in [displacement_fit(dense, width, tol, rng)] if c] \
        if expansion is None else []
    if not within:
        bests, tried = search(dense, reps, width, tol, report,
                              discover=permutations == "auto",
                              give_up=_GIVE_UP if method == "auto" else None)
        within = [c for c in bests if c is not None and c.error <= tol]
    if not within and width >= 2 and expansion is None:
        within = _late_fits(dense, width, tol, field, rng)
    return bests, tried, within


def _late_fits(dense, width, tol, field, rng):
    """[the first late route's fit within tol] or []: Vandermonde, Cauchy,
    Cauchy-like and Vandermonde-like (the last three width 4, complex M),
    spectral; a real part of a complex K-matrix only when ``field`` allows
    it."""
    wide_complex = width >= 4 and dense.dtype.kind == "c"
    routes = [lambda: vandermonde_fit(dense, tol),
              lambda: cauchy_fit(dense, tol) if wide_complex else None,
              lambda: cauchy_like_fit(dense, tol, rng) if wide_complex else None,
              lambda: vandermonde_like_fit(dense, tol, rng) if wide_complex else None,
              lambda: spectral_fit(dense, width, tol)]
    for route in routes:
        fit = route()
        if fit is not None and not (field == "real" and fit.model.real_part):
            return [fit]
    return []
