"""The approximator's hierarchical search: closed-form K-matrix fits of a target.

Every fit here is an exact factorization (``kmatrix._factorize``) of the
target, or of the target with structured permutations taken out, or of a
complex completion of it: O(N^2) each, no tuning, exact on the matrices of
its form and a greedy best rank-one fit elsewhere. The search runs them over
a list of *representations* (a real K-matrix, or the real part of a complex
one on a larger size), cheapest first, and stops at the first fit within the
tolerance; otherwise it returns the best one, a start for the gradient fits.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from .._builders.permutations import route_permutation
from .._core.algebra import pad_width, size_for
from .._core.layout import bit_reversal
from .._core.validation import (
    check_dense_size,
    check_network_size,
    complex_dtype_of,
    frobenius,
)
from .._operator import KMatrix, wrap
from .discover import discover_permutations
from .factorize import (
    GiveUp,
    analytic_completion,
    recurrence_fit,
    bit_permutations,
    bit_reversed_twiddles,
    factor_butterfly,
    factor_kmatrix,
    half_bits,
    half_butterfly_twiddles,
)

__all__ = ["Candidate", "Representation", "model_of", "pad_to_width", "preferred",
           "relative_error", "representations", "search", "warn_of_excluded_forms"]


@dataclass(frozen=True)
class Representation:
    """A family of K-matrices a target is fitted in.

    ``dtype`` is the twiddles' dtype; a complex one for a real target means
    the fitted operator is the real part of the complex K-matrix
    (:attr:`KMatrix.real`). ``plain`` fits the (zero-padded) target itself,
    ``completions`` fits complex completions of a real target (the analytic
    signal of the even and odd extensions of its rows or columns, which
    turn sampled cosines and sines into complex exponentials and need
    ``size >= 2 n_in`` or ``2 n_out``).
    """

    expansion: int
    size: int
    dtype: np.dtype
    plain: bool = True
    completions: bool = False

    @property
    def field(self):
        return "complex" if self.dtype.kind == "c" else "real"

    def describe(self, width):
        """The form in words (``width`` None: left out)."""
        kind = "complex K-matrix" if self.field == "complex" else "real K-matrix"
        at = "" if width is None else f", width {width}"
        return f"{kind}{at}, expansion {self.expansion} (size {self.size})"

    def n_real_params(self, width):
        """Real parameters of a width-``width`` K-matrix of this form."""
        L = self.size.bit_length() - 1
        per_block = 2 * L * self.size * 2   # 2 halves, L stages, N/2 blocks of 4
        return width * per_block * (2 if self.field == "complex" else 1)


@dataclass
class Candidate:
    """One fit: the operator (a real part for a complex form of a real
    target), its relative error, its name and representation."""

    model: KMatrix
    error: float
    name: str
    representation: Representation
    levels: list = None


def representations(n_out, n_in, dtype, field, expansion):
    """The representations to try for a target of this shape and dtype.

    Parameters
    ----------
    dtype : numpy.dtype
        The target's working dtype (float32/64 or complex64/128).
    field : {"auto", "real", "complex"}
        "auto" fits a complex target by complex K-matrices, and a real one
        by real K-matrices and by real parts of complex ones with room for
        the completions; "real" and "complex" restrict it to one field.
    expansion : int or None
        None chooses the smallest that fits: 1 for the real field, the
        smallest with ``size >= 2 max(n_in, n_out)`` for the completions.

    Returns
    -------
    list of Representation, cheapest first.
    """
    real_dtype = np.finfo(dtype).dtype
    complex_dtype = complex_dtype_of(real_dtype)
    if dtype.kind == "c":
        if field == "real":
            raise ValueError("a complex M needs field='complex' (or 'auto')")
        e = 1 if expansion is None else expansion
        return _judged([Representation(e, size_for(n_in, n_out, e), complex_dtype)], n_out, n_in)
    reps = []
    if field in ("auto", "real"):
        e = 1 if expansion is None else expansion
        reps.append(Representation(e, size_for(n_in, n_out, e), real_dtype))
    if field in ("auto", "complex"):
        if expansion is None:
            e = 1
            while size_for(n_in, n_out, e) < 2 * max(n_in, n_out):
                e += 1
        else:
            e = expansion
        N = size_for(n_in, n_out, e)
        roomy = 2 * min(n_in, n_out) <= N
        # "auto" adds the complex form for its completions only: a real
        # target fitted by a complex network directly is the real fit again,
        # at four times the parameters
        if field == "complex" or roomy:
            reps.append(Representation(e, N, complex_dtype, plain=field == "complex",
                                       completions=roomy))
    return _judged(reps, n_out, n_in)


def _judged(reps, n_out, n_in):
    """reps, once every network size is judged (before anything of that size exists)."""
    for rep in reps:
        what = f"KMatrixApproximator(expansion={rep.expansion}) of a {n_out} x {n_in} matrix"
        check_network_size(rep.size, 1, rep.dtype, what)
    return reps


def model_of(K, complex_target):
    """The operator a fit is measured as: the real part for a real target."""
    return K if complex_target or K.dtype.kind != "c" else K.real


def relative_error(model, M, norm_M):
    """||model - M||_F / ||M||_F (the absolute error for a zero M)."""
    D = model.todense()
    return frobenius(D - M) / norm_M if norm_M > 0 else frobenius(D)


def pad_to_width(K, width):
    """K with identity blocks appended up to ``width`` (the same operator)."""
    if K.width >= width:
        return K
    return wrap(pad_width(K.twiddles, width), K.shape, K.expansion, K.real_part)


def butterfly_fits(target, N, tw_dtype, width, permutations=True, general=True,
                   discover=False, levels=None, give_up=None):
    """(cost rank, name, fit) for the hierarchical fits of the square N x N
    matrix ``target()``; ``fit()`` returns an N x N KMatrix (or None).

    Width 1 holds the fits of either half of the network (a butterfly or
    its adjoint), of a bit-reversed butterfly (an FFT's permutation costs no
    width) and of a whole width-1 K-matrix in general position (square
    power-of-two targets; zero padding breaks the general position it
    needs; ``general=False`` leaves it out). From width 2 on, a butterfly
    whose rows or columns are reordered by an index-bit permutation (the
    even/odd split of any level, the perfect shuffles, the bit reversal and
    all their compositions: :func:`bit_permutations`, found greedily, L!
    orders for the price of about L fits) costs one Benes-routed block per
    reordered side: one side at width 2, both from width 3
    (``permutations=False`` leaves them out). Reversals and other index
    complements need no block: a butterfly absorbs them.
    With ``discover`` (and width >= 3) unknown row and column permutations
    are looked for (:func:`discover_permutations`, O(N^3)) around either
    half: a butterfly scrambled on both sides costs two permutation blocks.

    ``levels``, a list, receives after each fit of a single butterfly the
    relative error each level of its factorization left out (from the last
    stage peeled to the first); it is emptied by the other fits. With
    ``give_up`` (a relative error), the fits of one butterfly raise
    :class:`GiveUp` once their levels have left out more than that.
    """
    fits = _ButterflyFits(target, N, tw_dtype, levels, give_up)
    for half in (1, 0):
        yield 0, f"identity, half {half}", lambda half=half: fits.half(target(), half)
    yield 0, "bit reversal", fits.bit_reversed
    if general:
        yield 1, "both halves", fits.both_halves
    if not permutations or width < 2:
        return
    if discover and width >= 3:
        yield 3, "discovered row and column permutations", lambda: fits.discovered(False)
        yield 3, "discovered row and column permutations, transposed", (
            lambda: fits.discovered(True))
    for side, rows, columns in (("input", False, True), ("output", True, False)):
        for half in (1, 0):
            yield 2, f"{side} bit order, half {half}", (
                lambda h=half, r=rows, c=columns: fits.bit_order(h, r, c))
    if width >= 3:
        # a butterfly's two halves are conjugate by the bit reversal: with
        # both sides free one half holds either
        yield 2, "input and output bit orders", lambda: fits.bit_order(1, True, True)


class _ButterflyFits:
    """The fits of :func:`butterfly_fits`, each an N x N KMatrix or None.

    Each fit works on twiddle arrays and wraps its result once: the arrays
    are new, so the KMatrix shares them (no copy); permutations come from
    the fitting code itself and are routed with one check.
    """

    def __init__(self, target, N, tw_dtype, levels, give_up=None):
        self.target, self.N, self.tw_dtype = target, N, tw_dtype
        self.L = N.bit_length() - 1
        self.levels = [] if levels is None else levels
        self.give_up = give_up

    def _budget(self, T):
        """The squared norm a factorization of T may leave out, or None."""
        if self.give_up is None:
            return None
        return self.give_up ** 2 * float(np.vdot(T, T).real)

    def _record(self, residuals, T):
        norm2 = float(np.vdot(T, T).real) or 1.0
        self.levels[:] = [float(np.sqrt(r / norm2)) for r in residuals]

    def _network(self, tw):
        # on matrices not of a fit's form its blocks can be huge: no
        # overflow into float32, and a non-finite fit is no fit
        with np.errstate(over="ignore", invalid="ignore"):
            tw = tw.astype(self.tw_dtype)   # a new C-contiguous array
        return wrap(tw, (self.N, self.N)) if np.all(np.isfinite(tw)) else None

    def _permutation(self, perm):
        """(P x)[i] = x[perm[i]] as a KMatrix, perm a permutation of range(N)."""
        return wrap(route_permutation(perm).astype(self.tw_dtype), (self.N, self.N))

    def half(self, T, half):
        residuals = []
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                K = self._network(half_butterfly_twiddles(T, half, residuals,
                                                          self._budget(T)))
        except GiveUp:
            self.levels.clear()
            raise
        self._record(residuals, T)
        return K

    def bit_reversed(self):
        # T = P_br B with B in the B* half's bit order (equivalently
        # T = B' P_br, B' in the B half's order): width 1
        L = self.L
        residuals, T = [], self.target()
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                K = self._network(bit_reversed_twiddles(factor_butterfly(
                    T[bit_reversal(L)], list(range(L - 1, -1, -1)), residuals,
                    self._budget(T))))
        except GiveUp:
            self.levels.clear()
            raise
        self._record(residuals, T)
        return K

    def both_halves(self):
        self.levels.clear()
        T = self.target()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._network(factor_kmatrix(T, give_up=self._budget(T)))

    def permuted(self, perm_in, perm_out, half):
        # T = P_out B P_in with (P x)[i] = x[perm[i]]: B = P_out^-1 T P_in^-1
        T = self.target()
        T = T if perm_in is None else T[:, perm_in]
        if perm_out is not None:
            unpermuted = np.empty_like(T)
            unpermuted[perm_out] = T
            T = unpermuted
        K = self.half(T, half)
        if K is None:
            return None
        if perm_in is not None:
            K = K @ self._permutation(perm_in)
        if perm_out is not None:
            K = self._permutation(perm_out) @ K
        return K

    def discovered(self, transposed):
        T = self.target()
        found = discover_permutations(T.T if transposed else T)
        if found is None:
            return None
        rows, cols = found
        if transposed:   # T.T[rows][:, cols] is a B half: T[cols][:, rows] a B* half
            rows, cols, half = cols, rows, 0
        else:
            half = 1
        B = self.half(T[rows][:, cols], half)
        if B is None:
            return None
        # T[rows][:, cols] = B: T = P(rows^-1) B P(cols), (P x)[i] = x[perm[i]]
        return self._permutation(np.argsort(rows)) @ B @ self._permutation(cols)

    def bit_order(self, half, rows, columns):
        # the index-bit permutations (every level's even/odd split, the
        # shuffles, the bit reversal and their compositions), found greedily
        T = self.target()
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                row_order, col_order = bit_permutations(T, half_bits(self.L, half), rows=rows,
                                                        columns=columns,
                                                        give_up=self._budget(T))
        except GiveUp:
            self.levels.clear()
            raise
        identity = np.arange(self.N)
        perm_in = None if np.array_equal(col_order, identity) else col_order
        perm_out = None if np.array_equal(row_order, identity) else np.argsort(row_order)
        if perm_in is None and perm_out is None:
            return None   # the plain fit, tried first
        return self.permuted(perm_in, perm_out, half)


# screen (method "auto"): the completions of a side whose rows are this far
# from sampled sinusoids are not formed (the analytic signal turns only
# sinusoids into exponentials; noise misfits the recurrence by about 1, a
# DCT-II with 1% noise by 0.02; a Gaussian n = 1024 saved 2.5 s)
_SINUSOID_MISFIT = 0.5


def _targets(M, rep, screen=False):
    """(name prefix, N x N target builder, transposed) of one representation.

    A completion is built when a fit needs it and kept only while the next
    fits use it (each is N x N complex). With ``screen``, a side whose rows
    misfit the sinusoids' recurrence (:func:`recurrence_fit`) by more than
    _SINUSOID_MISFIT gets none.
    """
    N = rep.size
    n_out, n_in = M.shape
    # the fits work on N x N (complex) targets: judged before any exists
    check_dense_size(N, N, complex_dtype_of(rep.dtype), f"KMatrixApproximator(expansion="
                     f"{rep.expansion}) of a {n_out} x {n_in} matrix")
    held = {}

    def completion(A, sign):
        def build():
            if held.get("key") != (id(A), sign):
                held.clear()   # free the previous one first
                held["value"] = analytic_completion(A, N, sign)
                held["key"] = (id(A), sign)
            return held["value"]
        return build

    targets = []
    if rep.plain:
        padded = np.zeros((N, N), dtype=np.result_type(M.dtype, rep.dtype))
        padded[:n_out, :n_in] = M
        targets.append(("", lambda: padded, False))
    if rep.completions:
        # the columns' completion is the rows' of M^T (the fit is transposed back)
        for side, A, transposed in (("rows", M, False), ("columns", M.T, True)):
            if 2 * A.shape[1] > N:
                continue   # no room for the extension
            if screen and A.shape[1] >= 3 and recurrence_fit(A)[2] > _SINUSOID_MISFIT:
                continue   # no sinusoids to complete
            for kind, sign in (("even", 1), ("odd", -1)):
                targets.append((f"analytic {side} ({kind} extension), ",
                                completion(A, sign), transposed))
    return targets


def search(M, reps, width, tol, report=None, near=0.1, discover=False, give_up=None):
    """Hierarchical fits of the dense target M over ``reps``, cheapest first.

    Parameters
    ----------
    M : ndarray of shape (n_out, n_in)
    reps : list of Representation
    width : int
        The largest width: structured permutations are tried from width 2
        on. Each fit keeps the width it needs (the cheapest form).
    tol : float
        Stop at the first fit whose relative error is at most ``tol``.
    report : callable or None
        Called with one line per fit tried.
    near : float
        Costlier representations are not tried once a cheaper one fits
        within this relative error.
    discover : bool
        Also look for unknown row and column permutations (square
        power-of-two M, width >= 3; see :func:`butterfly_fits`).
    give_up : float or None
        Abandon the fits of one butterfly once their levels have left out
        more than this relative error (``tried`` lists them with the error
        ``inf``): for a search whose poor fits are of no use (the gradient
        follows).

    Returns
    -------
    bests : list of (Candidate or None)
        The most accurate fit of each representation (None for those not
        tried: the search stops at the first fit within ``tol``, which is
        then its representation's entry).
    tried : list of (str, float)
        Every fit tried, ``"<representation>: <fit>"`` and its error.
    """
    n_out, n_in = M.shape
    complex_target = M.dtype.kind == "c"
    norm_M = frobenius(M)
    bests, tried = [None] * len(reps), []
    for r, rep in enumerate(reps):
        targets = _targets(M, rep, screen=give_up is not None)
        levels = []   # the per-level errors of the last single-butterfly fit
        # every target's cheap fits first, then the costlier ones
        fits = [(rank, i, prefix, transposed, name, fit)
                for i, (prefix, target, transposed) in enumerate(targets)
                # a completion is a (bit-reversed) butterfly or nothing: the
                # general width-1 fit and the structured permutations would
                # be 8x the work (both halves of a 2n completion: ~3 s at n=1024)
                for rank, name, fit in butterfly_fits(
                    target, rep.size, rep.dtype, width, permutations=not prefix,
                    general=not prefix,
                    discover=discover and not prefix and M.shape == (rep.size, rep.size),
                    levels=levels, give_up=give_up)]
        fits.sort(key=lambda item: item[:2])
        for rank, _, prefix, transposed, name, fit in fits:
            if rank > 0 and bests[r] is not None and bests[r].error < near:
                break   # a cheap fit already holds M's structure: the rest is noise
            try:
                K = fit()
            except GiveUp:
                label = f"{rep.describe(None)}: {prefix}{name}"
                tried.append((label, np.inf))
                if report is not None:
                    report(f"  hierarchical, {label}: abandoned above {give_up:.2g}")
                continue
            if K is None:
                continue
            if transposed:
                K = K.T
            K = wrap(K.twiddles, (n_out, n_in), rep.expansion)   # K's arrays are new
            model = model_of(K, complex_target)
            err = relative_error(model, M, norm_M)
            label = f"{rep.describe(K.width)}: {prefix}{name}"
            tried.append((label, float(err)))
            if report is not None:
                report(f"  hierarchical, {label}: relative error {err:.3e}")
            best = bests[r]
            if best is None or err < best.error or not np.isfinite(best.error):
                bests[r] = Candidate(model, float(err), prefix + name, rep, list(levels) or None)
            if err <= tol:
                return bests, tried
        if bests[r] is not None and bests[r].error < near:
            # this form already holds M's structure to within `near` (a
            # noisy butterfly, say): a costlier form would be kept only if it
            # halved that error, which the rest (noise) does not allow
            break
    return bests, tried


def preferred(candidates, reps):
    """The candidate to keep when none is within the tolerance.

    The most accurate of the cheapest representation, unless a costlier
    representation at least halves its error (then the most accurate such):
    parameters are spent only where they buy accuracy (a real M with no
    structure stays a real K-matrix; a noisy DCT becomes the real part of a
    complex one).
    """
    chosen = None
    for rep in reps:
        mine = [c for c in candidates if c is not None and c.representation == rep
                and np.isfinite(c.error)]
        if not mine:
            continue
        best = min(mine, key=lambda c: c.error)
        if chosen is None or best.error <= chosen.error / 2:
            chosen = best
    return chosen


# the check of a fit that missed `tol` searches sizes up to this
_CHECK_SIZE_LIMIT = 4096


def warn_of_excluded_forms(dense, reps, tol, err, field, expansion, width):
    """Warn when a form that ``field`` / ``expansion`` excluded from ``reps``
    holds the dense target within ``tol`` though the fit (``err``) did not."""
    if field == "auto" and expansion is None:
        return
    n_out, n_in = dense.shape
    others = [rep for rep in representations(n_out, n_in, dense.dtype, "auto", None)
              if rep not in reps and rep.size <= _CHECK_SIZE_LIMIT]
    if not others:
        return
    bests, _ = search(dense, others, width, tol)
    found = next((c for c in bests if c is not None and c.error <= tol), None)
    if found is not None:
        rep = found.representation
        warnings.warn(
            f"M has a fit within tol={tol:.1e} (relative error {found.error:.1e}) as "
            f"a {rep.describe(found.model.width)}, which field={field!r}, "
            f"expansion={expansion!r} exclude: this fit reached {err:.2e}. Use "
            f"field='auto' and expansion=None (or field={rep.field!r}, "
            f"expansion={rep.expansion}) to get it.", UserWarning, stacklevel=4)
