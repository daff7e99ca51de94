"""Batch jobs over files: km.apply_npy and the command line."""

import os
import subprocess
from pathlib import Path
import sys
import textwrap

import numpy as np
import scipy.linalg
import pytest

import kmatrix as km
from _helpers import random_input

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
DTYPE_IDS = ["float32", "float64", "complex64", "complex128"]


def _files(folder):
    return sorted(os.listdir(folder))


# --------------------------------------------------------------- apply_npy --
@pytest.mark.parametrize("trans", ["N", "T", "H"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_apply_npy_equals_in_memory_apply_bit_for_bit(tmp_path, dtype, trans):
    K = km.KMatrix.random(200, 300, width=2, dtype=dtype, random_state=1)
    in_len = K.n_in if trans == "N" else K.n_out
    X = random_input(np.random.default_rng(2), (1001, in_len), dtype)
    np.save(tmp_path / "rows.npy", X)
    for chunk_rows in (None, 7, 64):   # 1001 rows: not a multiple of any chunk
        out = km.apply_npy(K, tmp_path / "rows.npy", tmp_path / "out.npy", trans=trans,
                           chunk_rows=chunk_rows)
        Y = np.load(out)
        assert Y.dtype == K.apply(X[:1], trans=trans).dtype
        np.testing.assert_array_equal(Y, K.apply(X, trans=trans))
    assert _files(tmp_path) == ["out.npy", "rows.npy"]   # no temporary left


@pytest.mark.parametrize("make", [
    lambda: km.KMatrix.dct(256),                          # a real part, classified stages
    lambda: km.KMatrix.dft(256, dtype=np.complex64),
    lambda: km.KMatrix.random(64, width=3, dtype=np.float32, random_state=0),   # small path
])
def test_apply_npy_structured_and_promoted_rows(tmp_path, make):
    K = make()
    rng = np.random.default_rng(3)
    for X in (random_input(rng, (517, K.n_in), np.float64),
              rng.integers(-5, 5, size=(300, K.n_in)).astype(np.int16),   # promoted
              random_input(rng, (40, K.n_in), np.complex128)):
        np.save(tmp_path / "rows.npy", X)
        km.apply_npy(K, tmp_path / "rows.npy", tmp_path / "out.npy", chunk_rows=33)
        np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), K.apply(X))


def test_apply_npy_empty_file_and_existing_destination(tmp_path):
    K = km.KMatrix.random(16, random_state=0)
    np.save(tmp_path / "empty.npy", np.zeros((0, 16)))
    km.apply_npy(K, tmp_path / "empty.npy", tmp_path / "out.npy")
    assert np.load(tmp_path / "out.npy").shape == (0, 16)
    # a destination is replaced only by a complete result
    np.save(tmp_path / "rows.npy", np.ones((5, 16)))
    km.apply_npy(K, tmp_path / "rows.npy", tmp_path / "out.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), K.apply(np.ones((5, 16))))


def test_a_failing_or_interrupted_job_leaves_no_destination(tmp_path, monkeypatch):
    K = km.KMatrix.random(64, random_state=0)
    X = np.random.default_rng(4).standard_normal((500, 64))
    X[321, 7] = np.nan
    np.save(tmp_path / "bad.npy", X)
    with pytest.raises(ValueError, match=r"bad.npy: row 321 contains NaN or infinity"):
        km.apply_npy(K, tmp_path / "bad.npy", tmp_path / "out.npy", chunk_rows=50)
    assert _files(tmp_path) == ["bad.npy"]
    # an existing destination survives a failed job untouched
    np.save(tmp_path / "out.npy", np.arange(3.0))
    with pytest.raises(ValueError):
        km.apply_npy(K, tmp_path / "bad.npy", tmp_path / "out.npy", chunk_rows=50)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), np.arange(3.0))
    # Ctrl-C in the middle of the job
    X[321, 7] = 0.0
    np.save(tmp_path / "good.npy", X)
    calls = []
    original = km.KMatrix.apply

    def interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(km.KMatrix, "apply", interrupted)
    with pytest.raises(KeyboardInterrupt):
        km.apply_npy(K, tmp_path / "good.npy", tmp_path / "new.npy", chunk_rows=50)
    assert _files(tmp_path) == ["bad.npy", "good.npy", "out.npy"]


def test_apply_npy_judges_the_file_before_reading_it(tmp_path):
    K = km.KMatrix.random(8, random_state=0)
    np.save(tmp_path / "rows.npy", np.ones((4, 8)))
    raw = (tmp_path / "rows.npy").read_bytes()
    (tmp_path / "truncated.npy").write_bytes(raw[:-10])
    (tmp_path / "garbage.npy").write_bytes(b"not a numpy file at all")
    # a header announcing far more data than the file holds
    (tmp_path / "huge.npy").write_bytes(raw.replace(b"(4, 8)", b"(4000000000, 8)"))
    np.save(tmp_path / "wide.npy", np.ones((4, 9)))
    np.save(tmp_path / "cube.npy", np.ones((2, 2, 8)))
    np.save(tmp_path / "fortran.npy", np.asfortranarray(np.ones((4, 8))))
    np.save(tmp_path / "objects.npy", np.array([[None] * 8], dtype=object), allow_pickle=True)
    cases = {"truncated.npy": "truncated", "garbage.npy": "not a valid .npy",
             "huge.npy": "truncated", "wide.npy": "rows of 9 entries",
             "cube.npy": "2-D array of rows", "fortran.npy": "Fortran",
             "objects.npy": "object"}
    for name, message in cases.items():
        with pytest.raises(ValueError, match=message):
            km.apply_npy(K, tmp_path / name, tmp_path / "out.npy")
    assert "out.npy" not in _files(tmp_path)
    assert not [f for f in _files(tmp_path) if f.endswith(".tmp")]
    with pytest.raises(FileNotFoundError):
        km.apply_npy(K, tmp_path / "missing.npy", tmp_path / "out.npy")
    with pytest.raises(ValueError, match="trans"):
        km.apply_npy(K, tmp_path / "rows.npy", tmp_path / "out.npy", trans="X")
    with pytest.raises(ValueError, match="chunk_rows"):
        km.apply_npy(K, tmp_path / "rows.npy", tmp_path / "out.npy", chunk_rows=0)


def test_apply_npy_memory_stays_bounded(tmp_path):
    # a 128 MB file through 2 MB chunks into a 128 MB output: the process's
    # resident memory peaks at a few chunks above where it started (measured
    # in a fresh interpreter: the peak is reset just before the job)
    if not os.path.exists("/proc/self/clear_refs"):
        pytest.skip("needs Linux /proc to reset the peak memory")
    script = textwrap.dedent(f"""
        import numpy as np, kmatrix as km
        K = km.KMatrix.random(1024, dtype=np.float32, random_state=0)
        rows = np.lib.format.open_memmap({str(tmp_path / 'big.npy')!r}, mode='w+',
                                         dtype=np.float32, shape=(32768, 1024))
        for r in range(0, 32768, 4096):
            rows[r:r + 4096] = np.random.default_rng(r).standard_normal((4096, 1024))
        rows.flush()
        del rows
        K.apply(np.ones((64, 1024), np.float32))          # warm the kernels up
        def status(key):
            with open('/proc/self/status') as f:
                return int([l for l in f if l.startswith(key)][0].split()[1]) // 1024
        with open('/proc/self/clear_refs', 'w') as f:      # peak := current
            f.write('5')
        start = status('VmRSS')
        km.apply_npy(K, {str(tmp_path / 'big.npy')!r}, {str(tmp_path / 'out.npy')!r},
                     chunk_rows=256)
        print(start, status('VmHWM'))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)   # not in the source tree
    assert done.returncode == 0, done.stderr
    start_mb, peak_mb = map(int, done.stdout.split()[-2:])
    assert peak_mb - start_mb < 48, (start_mb, peak_mb)   # not the 256 MB of both files
    Y = np.load(tmp_path / "out.npy", mmap_mode="r")
    K = km.KMatrix.random(1024, dtype=np.float32, random_state=0)
    X = np.load(tmp_path / "big.npy", mmap_mode="r")
    np.testing.assert_array_equal(Y[-100:], K.apply(np.array(X[-100:])))


# ---------------------------------------------------------- command line --
def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "kmatrix", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _one_line_error(done):
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) >= 1 and lines[-1].startswith(("kmatrix: error:", "usage:", "kmatrix "))
    return lines[-1]


def test_cli_apply_info_fit(tmp_path):
    K = km.KMatrix.random(96, 128, width=2, dtype=np.float32, random_state=5)
    K.save(tmp_path / "model.npz")
    X = np.random.default_rng(6).standard_normal((1000, 128)).astype(np.float32)
    np.save(tmp_path / "rows.npy", X)
    done = _cli("apply", "model.npz", "rows.npy", "out.npy", "--chunk-rows", "100",
                "--workers", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1000 rows" in done.stderr and "rows/s" in done.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), K.apply(X))
    Yt = np.random.default_rng(7).standard_normal((10, 96)).astype(np.float32)
    np.save(tmp_path / "rows_t.npy", Yt)
    done = _cli("apply", "model.npz", "rows_t.npy", "out_t.npy", "--trans", "T", "--quiet",
                cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out_t.npy"), K.apply(Yt, trans="T"))

    done = _cli("info", "model.npz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for text in ("96 x 128", "float32", "width:          2", "expansion:      1",
                 "size:           128", f"parameters:     {K.n_params}", "real part:      no",
                 "format version: 2"):
        assert text in done.stdout, (text, done.stdout)
    km.KMatrix.dct(32).save(tmp_path / "dct.npz")
    assert "real part:      yes" in _cli("info", "dct.npz", cwd=tmp_path).stdout

    F = np.fft.fft(np.eye(64))
    np.save(tmp_path / "dft.npy", F)
    done = _cli("fit", "dft.npy", "fitted.npz", "--random-state", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "relative error" in done.stdout and "parameters" in done.stdout
    fitted = km.load(tmp_path / "fitted.npz")
    np.testing.assert_allclose(fitted.todense(), F, atol=1e-10)
    done = _cli("fit", "dft.npy", "fitted2.npz", "--width", "2", "--expansion", "2",
                "--field", "complex", "--tol", "1e-6", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert km.load(tmp_path / "fitted2.npz").expansion == 2


def test_cli_errors_are_one_line_and_leave_no_file(tmp_path):
    K = km.KMatrix.random(16, random_state=0)
    K.save(tmp_path / "model.npz")
    np.save(tmp_path / "rows.npy", np.ones((3, 16)))
    np.save(tmp_path / "wide.npy", np.ones((3, 17)))
    bad = np.ones((3, 16))
    bad[2, 5] = np.inf
    np.save(tmp_path / "inf.npy", bad)
    raw = (tmp_path / "model.npz").read_bytes()
    (tmp_path / "corrupt.npz").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "flipped.npz").write_bytes(raw[:200] + bytes([raw[200] ^ 0xFF]) + raw[201:])
    before = _files(tmp_path)
    cases = [
        (("apply", "missing.npz", "rows.npy", "out.npy"), "missing.npz: no such file"),
        (("apply", "model.npz", "missing.npy", "out.npy"), "missing.npy: no such file"),
        (("apply", "corrupt.npz", "rows.npy", "out.npy"), "not a valid kmatrix KMatrix file"),
        (("apply", "flipped.npz", "rows.npy", "out.npy"), "flipped.npz"),
        (("apply", "model.npz", "wide.npy", "out.npy"), "rows of 17 entries"),
        (("apply", "model.npz", "inf.npy", "out.npy"), "row 2 contains NaN or infinity"),
        (("apply", "model.npz", "rows.npy", "out.npy", "--trans", "X"), "invalid choice"),
        (("apply", "model.npz", "rows.npy", "out.npy", "--workers", "0"), "thread count"),
        (("info", "corrupt.npz"), "not a valid kmatrix KMatrix file"),
        (("fit", "inf.npy", "out.npz"), "NaN or infinity (first at row 2, column 5)"),
        (("fit", "model.npz", "out.npz"), "must hold a 2-D matrix"),
        (("fit", "missing.npy", "out.npz"), "no such file"),
    ]
    for args, message in cases:
        line = _one_line_error(_cli(*args, cwd=tmp_path))
        assert message in line, (args, line)
    assert _files(tmp_path) == before   # nothing written, no temporaries


@pytest.mark.parametrize("verb", [None, "apply", "info", "fit"])
def test_cli_help_documents_every_option(tmp_path, verb):
    done = _cli(*([verb] if verb else []), "--help", cwd=tmp_path)
    assert done.returncode == 0
    expected = {None: ["apply", "info", "fit"],
                "apply": ["--trans", "--chunk-rows", "--workers", "--quiet", "MODEL.npz"],
                "info": ["MODEL.npz"],
                "fit": ["--width", "--expansion", "--field", "--tol", "--random-state"]}[verb]
    for word in expected:
        assert word in done.stdout


def test_console_script_is_installed(tmp_path):
    # the package declares the script, and the install put it beside this
    # interpreter's scripts (whether or not that folder is on PATH)
    import sysconfig
    from importlib.metadata import entry_points

    points = {p.name: p.value for p in entry_points(group="console_scripts")}
    assert points.get("kmatrix") == "kmatrix._jobs.cli:main"
    name = "kmatrix.exe" if os.name == "nt" else "kmatrix"
    script = os.path.join(sysconfig.get_path("scripts"), name)
    assert os.path.isfile(script), script
    done = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0 and "apply" in done.stdout


def test_version_from_python_m_and_the_package(tmp_path):
    from importlib.metadata import version

    done = _cli("--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"kmatrix {km.__version__}"
    # one version: the installed distribution's metadata says the same
    assert version("kmatrix") == km.__version__
    meson = (Path(__file__).resolve().parent.parent / "meson.build").read_text()
    assert f"version: '{km.__version__}'" in meson


def test_apply_npy_without_pread(tmp_path, monkeypatch):
    # systems without os.preadv (Windows) read with seek and readinto
    K = km.KMatrix.random(40, 64, random_state=0)
    X = np.random.default_rng(8).standard_normal((301, 64))
    np.save(tmp_path / "rows.npy", X)
    monkeypatch.delattr(os, "preadv", raising=False)
    monkeypatch.delattr(os, "posix_fallocate", raising=False)
    km.apply_npy(K, tmp_path / "rows.npy", tmp_path / "out.npy", chunk_rows=50)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), K.apply(X))


def test_cli_fit_reports_progress_and_names_exact_constructors(tmp_path):
    rng = np.random.default_rng(8)
    np.save(tmp_path / "toeplitz.npy", scipy.linalg.toeplitz(rng.standard_normal(100),
                                                              rng.standard_normal(100)))
    done = _cli("fit", "toeplitz.npy", "t.npz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "hint: this matrix has an exact constructor: KMatrix.toeplitz" in done.stdout
    np.save(tmp_path / "noise.npy", rng.standard_normal((64, 64)))
    done = _cli("fit", "noise.npy", "n.npz", "--verbose", "--random-state", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # every fit tried, then the gradient's progress as a bar (one line each:
    # stderr is no terminal here), then the choice; the result on stdout
    lines = done.stderr.splitlines()
    assert lines[0].startswith("KMatrixApproximator: M of shape (64, 64)")
    bars = [line for line in lines if line.startswith("  [") and "Adam step" in line]
    assert len(bars) >= 10 and bars[-1].startswith("  [" + "#" * 30 + "]")
    assert lines[-1].startswith("chose gradient")
    assert "hint: no exact form was found" in done.stdout
    assert "relative error" in done.stdout and "Adam" not in done.stdout


def test_every_displacement_route_has_a_constructor_hint():
    # the route names as the approximator reports them, to the constructor
    from types import SimpleNamespace

    from kmatrix._jobs.cli import _constructor_hint

    names = {"Toeplitz": "toeplitz(", "Hankel, rank 2": "hankel(",
             "Toeplitz-like, rank 3": "toeplitz_like(", "Hankel-like, rank 2": "hankel_like(",
             "Vandermonde": "vandermonde(", "Cauchy": "cauchy(",
             "Cauchy-like, rank 4": "cauchy_like(",
             "Vandermonde-like (transposed), rank 2": "vandermonde_like("}
    for route, constructor in names.items():
        est = SimpleNamespace(method_=f"hierarchical: displacement: {route}",
                              relative_error_=1e-15, tol=1e-10)
        assert f"KMatrix.{constructor}" in _constructor_hint(est), route
