"""Bad input raises ValueError with a message that says what is wrong."""

import numpy as np
import pytest

import kmatrix as km


@pytest.fixture
def K():
    return km.KMatrix.random(3, 5, width=2, random_state=0)  # shape (3, 5)


# ------------------------------------------------------------ apply input --
@pytest.mark.parametrize("trans, n_features, expected", [
    ("N", 4, 5), ("N", 3, 5), ("N", 6, 5), ("T", 5, 3), ("H", 2, 3)])
def test_apply_wrong_feature_count(K, trans, n_features, expected):
    X = np.ones((2, n_features))
    with pytest.raises(ValueError, match=rf"{n_features} features.*expects {expected}"):
        K.apply(X, trans=trans)
    with pytest.raises(ValueError, match="features"):
        K.apply(np.ones(n_features), trans=trans)


@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 1, 1, 5), ()])
def test_apply_wrong_ndim(K, shape):
    with pytest.raises(ValueError, match=r"1-D or 2-D"):
        K.apply(np.ones(shape))


@pytest.mark.parametrize("X", [
    pytest.param(np.array([[object()] * 5]), id="object"),
    pytest.param(np.array([["a", "b", "c", "d", "e"]]), id="str"),
    pytest.param(np.array([[b"a"] * 5]), id="bytes"),
    pytest.param(np.zeros((1, 5), dtype="datetime64[s]"), id="datetime"),
    pytest.param([[1, 2], [3]], id="ragged"),
])
def test_apply_non_numeric_input(K, X):
    with pytest.raises(ValueError, match="X"):
        K.apply(X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("position", [(0, 0), (0, 4), (40, 2), (99, 4)])
def test_apply_non_finite_input(dtype, value, position):
    K = km.KMatrix.random(3, 5, width=2, dtype=np.dtype(dtype), random_state=0)
    X = np.random.default_rng(0).standard_normal((100, 5)).astype(dtype)
    X[position] = value
    with pytest.raises(ValueError, match="NaN or infinity"):
        K.apply(X)
    with pytest.raises(ValueError, match="NaN or infinity"):
        K.apply(X, workers=2)
    Xt = X[:, [position[1], (position[1] + 1) % 5, (position[1] + 2) % 5]]
    with pytest.raises(ValueError, match="NaN or infinity"):
        K.apply(Xt, trans="T")
    # check_finite=False lets it through: the bad row is non-finite, the
    # others are the ordinary result
    Y = K.apply(X, check_finite=False)
    assert not np.all(np.isfinite(Y[position[0]]))
    good = np.delete(np.arange(100), position[0])
    np.testing.assert_array_equal(Y[good], K.apply(X[good]))


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_apply_non_finite_imaginary_part(dtype):
    X = np.ones((3, 5), dtype=dtype)
    X[1, 2] = complex(1.0, np.nan)
    for K in (km.KMatrix.random(3, 5, dtype=dtype, random_state=0),
              km.KMatrix.random(3, 5, dtype=np.float64, random_state=0)):
        with pytest.raises(ValueError, match="NaN or infinity"):
            K.apply(X)
        assert np.isnan(K.apply(X, check_finite=False)[1]).any()


def test_apply_non_finite_float16_input(K):
    X = np.ones((2, 5), dtype=np.float16)
    X[1, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        K.apply(X)


def test_apply_huge_finite_values_are_not_rejected(K):
    X = np.full((2, 5), np.finfo(np.float64).max / 1e10)
    assert np.all(np.isfinite(K.apply(X)))


def test_matmul_checks_finiteness(K):
    v = np.ones(5)
    v[2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        K @ v
    w = np.ones(3)
    w[0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        w @ K


@pytest.mark.parametrize("trans", ["n", "C", "", None, "NT"])
def test_apply_bad_trans(K, trans):
    with pytest.raises(ValueError, match="trans"):
        K.apply(np.ones((1, 5)), trans=trans)


@pytest.mark.parametrize("operand", [np.ones(4), np.ones((4, 2)), np.ones((2, 3, 5))],
                         ids=["vector", "matrix", "3d"])
def test_matmul_shape_mismatch(K, operand):
    with pytest.raises(ValueError, match="matmul"):
        K @ operand


@pytest.mark.parametrize("operand", [np.ones(5), np.ones((2, 5)), np.ones((2, 2, 3))],
                         ids=["vector", "matrix", "3d"])
def test_rmatmul_shape_mismatch(K, operand):
    with pytest.raises(ValueError, match="matmul"):
        operand @ K


# ------------------------------------------------------------ constructors --
@pytest.mark.parametrize("kwargs, match", [
    (dict(n_rows=0), "n_rows"),
    (dict(n_rows=-3), "n_rows"),
    (dict(n_rows=2.5), "n_rows"),
    (dict(n_rows="4"), "n_rows"),
    (dict(n_rows=True), "n_rows"),
    (dict(n_rows=4, n_cols=0), "n_cols"),
    (dict(n_rows=4, width=0), "width"),
    (dict(n_rows=4, width=-1), "width"),
    (dict(n_rows=4, width=1.0), "width"),
    (dict(n_rows=4, expansion=0), "expansion"),
    (dict(n_rows=4, dtype=np.int64), "dtype"),
    (dict(n_rows=4, dtype=int), "dtype"),
    (dict(n_rows=4, dtype=np.float16), "dtype"),
    (dict(n_rows=4, dtype=np.longdouble), "dtype"),
    (dict(n_rows=4, dtype=bool), "dtype"),
    (dict(n_rows=4, dtype="not a dtype"), "dtype"),
    (dict(n_rows=4, init="bad"), "init"),
    (dict(n_rows=4, init="Ortho"), "init"),
], ids=lambda v: str(v) if isinstance(v, str) else "-".join(f"{k}={v[k]!r}" for k in v))
def test_random_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        km.KMatrix.random(**kwargs)


@pytest.mark.parametrize("n", [0, -1, 1.5])
def test_identity_bad_size(n):
    with pytest.raises(ValueError, match="n"):
        km.KMatrix.identity(n)


@pytest.mark.parametrize("n", [0, 3, 6, 12, 1000, -4])
def test_hadamard_non_power_of_two(n):
    with pytest.raises(ValueError, match="n"):
        km.KMatrix.hadamard(n)


@pytest.mark.parametrize("n", [0, -4, 2.0, True, "8"])
def test_dft_bad_length(n):
    # any length >= 1 works (non powers of two through Bluestein's chirp)
    with pytest.raises(ValueError, match="n must"):
        km.KMatrix.dft(n)


def test_hadamard_power_of_two_message():
    with pytest.raises(ValueError, match="power of two"):
        km.KMatrix.hadamard(12)


@pytest.mark.parametrize("make", [
    lambda: km.KMatrix.dct(0), lambda: km.KMatrix.dst(-2), lambda: km.KMatrix.dct(4.0),
    lambda: km.KMatrix.dct(8, type=1), lambda: km.KMatrix.dst(8, type=4),
    lambda: km.KMatrix.dct(8, norm="bad"), lambda: km.KMatrix.dst(8, dtype=np.complex128),
    lambda: km.KMatrix.dct(8, dtype=np.int64),
    lambda: km.KMatrix.circulant([]), lambda: km.KMatrix.circulant(np.ones((2, 2))),
    lambda: km.KMatrix.circulant([1.0, np.nan]), lambda: km.KMatrix.circulant(["a"]),
    lambda: km.KMatrix.circulant([1j, 2.0], dtype=np.float64),
], ids=["dct0", "dst-2", "dct-float-n", "dct-type1", "dst-type4", "norm", "dst-complex",
        "dct-int", "circ-empty", "circ-2d", "circ-nan", "circ-str", "circ-complex-real"])
def test_transform_constructors_reject_bad_input(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("kwargs, match", [
    (dict(norm="bad"), "norm"), (dict(norm="ORTHO"), "norm"),
    (dict(dtype=np.float64), "complex"), (dict(dtype=np.float32), "complex"),
    (dict(dtype=np.int32), "dtype"),
])
def test_dft_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        km.KMatrix.dft(8, **kwargs)


@pytest.mark.parametrize("perm", [
    pytest.param([0, 0, 1], id="repeated"),
    pytest.param([1, 2, 3], id="out_of_range"),
    pytest.param([-1, 0, 1], id="negative"),
    pytest.param([0, 2], id="gap"),
    pytest.param([], id="empty"),
    pytest.param([[0, 1], [1, 0]], id="2d"),
    pytest.param([0.5, 1.5], id="non_integer_float"),
    pytest.param([0.0, np.nan], id="nan"),
    pytest.param(["a", "b"], id="strings"),
    pytest.param([True, False], id="bools"),
    pytest.param(np.array([0, 1 << 40]), id="huge"),
])
def test_from_permutation_rejects_non_permutations(perm):
    with pytest.raises(ValueError, match="perm"):
        km.KMatrix.from_permutation(perm)


# -------------------------------------------------------- operator algebra --
def test_product_shape_mismatch():
    K1 = km.KMatrix.random(3, 5, random_state=0)   # (3, 5)
    K2 = km.KMatrix.random(4, 4, random_state=1)   # (4, 4)
    with pytest.raises(ValueError, match=r"\(3, 5\).*\(4, 4\)"):
        K1 @ K2
    with pytest.raises(ValueError, match="aligned"):
        K2 @ K1


def test_sum_shape_mismatch():
    K1 = km.KMatrix.random(3, 5, random_state=0)
    K2 = km.KMatrix.random(5, 3, random_state=1)
    with pytest.raises(ValueError, match=r"\(3, 5\).*\(5, 3\)"):
        K1 + K2
    with pytest.raises(ValueError, match="shapes"):
        K1 - K2


def test_unsupported_operands_raise_type_error(K):
    # Python's protocol for unsupported operand types; not a ValueError
    with pytest.raises(TypeError):
        K + 1
    with pytest.raises(TypeError):
        K * "a"
    with pytest.raises(TypeError):
        K @ 2.0
    with pytest.raises(TypeError):
        K * np.ones(3)


# ----------------------------------------------------------- KMatrix(...) --
@pytest.mark.parametrize("twiddles, shape, match", [
    (np.zeros((1, 2, 3, 4, 2)), None, "shape"),
    (np.zeros((1, 2, 3, 3, 2, 2)), None, "N // 2"),
    (np.zeros((1, 2, 0, 0, 2, 2)), None, "L >= 1"),
    (np.zeros((1, 2, 3, 4, 2, 2)), (9, 8), "does not fit"),
    (np.zeros((1, 2, 3, 4, 2, 2)), (0, 8), "n_out"),
    (np.zeros((1, 2, 3, 4, 2, 2)), (8,), "shape"),
    (np.zeros((1, 2, 3, 4, 2, 2), dtype=object), None, "twiddles"),
    (np.zeros((1, 2, 3, 4, 2, 2), dtype=np.longdouble), None, "float"),
])
def test_kmatrix_constructor_rejects_bad_twiddles(twiddles, shape, match):
    with pytest.raises(ValueError, match=match):
        km.KMatrix(twiddles, shape)


def test_kmatrix_constructor_rejects_bad_expansion():
    tw = np.zeros((1, 2, 3, 4, 2, 2))
    with pytest.raises(ValueError, match="expansion"):
        km.KMatrix(tw, (5, 5), expansion=2)  # needs size 16
    with pytest.raises(ValueError, match="expansion"):
        km.KMatrix(tw, (5, 5), expansion=0)
