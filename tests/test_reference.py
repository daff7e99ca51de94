"""The two readings of the stage-by-stage reference (``_reference.py``) agree.

The dense product of every stage matrix is the literal reading; every other
test uses the vectorized stage loop (``apply_stages``, through
``reference_apply`` and ``reference_matrix``), checked here against it for
every trans, real parts, rectangles, vectors and batches.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from _reference import (apply_stages, dense_expanded, dense_operator, reference_apply,
                        reference_matrix)


def _twiddles(rng, N, width, complex_):
    L = N.bit_length() - 1
    shape = (width, 2, L, N // 2, 2, 2)
    tw = rng.standard_normal(shape)
    return tw + 1j * rng.standard_normal(shape) if complex_ else tw


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("N, width, n_in, n_out",
                         [(2, 1, 2, 1), (8, 2, 5, 8), (32, 2, 20, 13), (64, 3, 64, 17),
                          (256, 1, 256, 256)])
def test_stage_loop_matches_dense_stage_product(N, width, n_in, n_out, complex_):
    rng = np.random.default_rng(N + width)
    tw = _twiddles(rng, N, width, complex_)
    E = dense_expanded(tw)
    atol = 1e-12 * np.abs(E).max()
    Z = rng.standard_normal((N, 3)) + (1j * rng.standard_normal((N, 3)) if complex_ else 0)
    for real_part in ([False, True] if complex_ else [False]):
        M = E[:n_out, :n_in]
        M = M.real if real_part else M
        K = SimpleNamespace(twiddles=tw, n_in=n_in, n_out=n_out, size=N, real_part=real_part)
        np.testing.assert_allclose(reference_matrix(K), M, rtol=1e-12, atol=atol)
        for trans, op_E, op_M in [("N", E, M), ("T", E.T, M.T), ("H", E.conj().T, M.conj().T)]:
            if not real_part:   # E itself, on a batch and on one vector
                np.testing.assert_allclose(apply_stages(tw, Z, trans), op_E @ Z,
                                           rtol=1e-12, atol=atol * N)
                np.testing.assert_allclose(apply_stages(tw, Z[:, 0], trans), op_E @ Z[:, 0],
                                           rtol=1e-12, atol=atol * N)
            np.testing.assert_allclose(dense_operator(tw, n_in, n_out, trans, real_part), op_M,
                                       rtol=1e-12, atol=atol)
            # op(K) on rows: real and complex rows, a batch and one row
            X = rng.standard_normal((4, op_M.shape[1]))
            for rows in (X, X + 1j * rng.standard_normal(X.shape)):
                np.testing.assert_allclose(reference_apply(K, rows, trans), rows @ op_M.T,
                                           rtol=1e-12, atol=atol * N)
                np.testing.assert_allclose(reference_apply(K, rows[0], trans), op_M @ rows[0],
                                           rtol=1e-12, atol=atol * N)
