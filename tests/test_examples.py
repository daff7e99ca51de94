"""The examples run from a clean interpreter and print what they promise."""

import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _run(script, *args, cwd):
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_quickstart(tmp_path):
    out = _run("quickstart.py", cwd=tmp_path)
    lines = out.splitlines()
    assert [line.split(".")[0] for line in lines if line[:1].isdigit()] == list("123456")
    assert "converged" in out
    assert "transform(x) == scipy.fft.dct(x): True" in out
    assert "medians of 7" in out
    assert re.search(r"speed-up ([1-9]\d*|[1-9]\.\d|0\.0*[1-9]\d*)x", out), out   # never 0.0x


@pytest.mark.parametrize("script, args", [
    ("plot_approximation.py", ["--n", "64", "--speed-n", "0"]),
    ("plot_regressor_vs_dense.py", ["--n", "64", "--train-sizes", "100,300"]),
])
def test_plot_examples(tmp_path, script, args):
    pytest.importorskip("matplotlib")
    out = _run(script, *args, "--output", "figure.png", cwd=tmp_path)
    assert (tmp_path / "figure.png").stat().st_size > 1000
    assert "saved" in out
    assert "median of 7" in out or "medians of 7" in out
    assert not re.search(r"\b0\.0x", out), out


@pytest.mark.parametrize("script, args, first_column", [
    ("plot_scrambled_digits.py", ["--hidden", "64", "--side", "16", "--train-sizes", "100"],
     "accuracy"),
    ("plot_structured_teacher.py", ["--n", "32", "--samples", "400", "--max-iter", "20",
                                    "--train-sizes", "200"], "test R^2"),
])
def test_network_examples_print_their_tables_without_matplotlib(tmp_path, script, args,
                                                                first_column):
    # matplotlib is optional here: the tables come first, the plot only
    # with --output and matplotlib installed
    out = _run(script, *args, cwd=tmp_path)
    header = next(line for line in out.splitlines() if line.startswith("model"))
    assert header.split("|")[1].strip() == first_column
    rows = [line for line in out.splitlines() if "|" in line and not line.startswith("model")]
    assert any(line.startswith("MLP") for line in rows)
    assert sum("K-matrix" in line or "butterfly" in line for line in rows) >= 2
    assert re.search(r"^\s+(100|200) \|", out, re.M), out    # the sample-efficiency rows


@pytest.mark.parametrize("script", ["plot_approximation.py", "plot_regressor_vs_dense.py"])
def test_plot_examples_without_matplotlib(tmp_path, script):
    """Without matplotlib a plotting example stops before any work: one line
    on stderr naming the install command, a non-zero exit status, no figure."""
    code = textwrap.dedent(f"""
        import runpy, sys, time
        sys.modules["matplotlib"] = None   # makes "import matplotlib" raise ImportError
        sys.argv = [{str(EXAMPLES / script)!r}, "--output", "figure.png"]
        start = time.perf_counter()
        try:
            runpy.run_path(sys.argv[0], run_name="__main__")
        finally:
            print("seconds", time.perf_counter() - start)
            print("imported", [m for m in ("numpy", "sklearn", "kmatrix") if m in sys.modules])
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1, done.stderr        # no traceback
    assert "matplotlib" in message and 'pip install "kmatrix[examples]"' in message
    seconds = float(done.stdout.split("seconds ")[1].split()[0])
    assert seconds < 1.0, done.stdout        # the check itself takes milliseconds
    assert "imported []" in done.stdout      # numpy, scikit-learn, kmatrix: not even imported
    assert not (tmp_path / "figure.png").exists()


@pytest.mark.parametrize("extra", [[], ["--cluster"]])
def test_batch_job(tmp_path, extra):
    pytest.importorskip("dask.array")
    if extra:
        pytest.importorskip("distributed")
    out = _run("batch_job.py", "--rows", "3000", "--n", "256", "--folder", str(tmp_path), *extra,
               cwd=tmp_path)
    assert "same bits as the command line: True" in out
    assert "command line:" in out and "rows/s" in out
    score = float(out.split("R^2 ")[1].split()[0])
    assert score > 0.9


def _table(out, first_column):
    """The data rows of the table whose header starts with ``first_column``:
    the lines after its row of dashes, up to the next blank line."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [first_column]
                 and set(lines[i + 1]) == {"-"})
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows.append(line)
    assert rows, out
    return rows


def _check_permutations(out):
    rows = _table(out, "n")
    assert [int(row.split()[0]) for row in rows] == [64, 100, 300]
    for row in rows:
        n, _, _, width, expansion = row.split()[:5]
        assert (width, expansion) == ("1", "1"), row           # one BB* block, Benes-routed
        assert " True " in row, row                            # == X[:, perm] bit for bit
        if int(n) <= 128:                                      # --dense-max 128
            assert "0 (exact)" in row, row                     # K.todense() == P
        else:                                                  # no dense matrix: three "-"
            assert row.split().count("-") == 3 and "exact" not in row, row


def _check_sparse(out):
    rows = _table(out, "matrix")
    assert len(rows) == 5
    for row in rows:
        assert "0 (exact)" in row, row                         # K.todense() == S.toarray()
        left = row.split("|")[0].split()
        params, bound = (int(v.replace(",", "")) for v in left[-8:-6])
        assert params <= bound, row                            # within the survey's count
        assert float(left[-1]) < 1e-12, row                    # the apply error: rounding


def _check_circuits(out):
    rows = _table(out, "algorithm")
    assert [row[:13].strip() for row in rows] == ["radix-2 FFT", "Haar wavelet"]
    for row in rows:
        _, d, _, width, _, _, _, error = row[13:].split()[:8]
        assert 1 <= int(width) <= int(d), row                  # O(d): here at most d
        assert float(error) < 1e-12, row
    fft = rows[0][13:].split()
    assert (fft[3], fft[4], fft[6]) == ("2", "1", "2x"), rows[0]   # one butterfly + one permutation
    times = _table(out.split("K.apply on")[1], "algorithm")
    assert len(times) == 2 and all(row.count(" ms") == 3 for row in times), times


def _check_baur_strassen(out):
    rows = _table(out, "n")
    assert len(rows) == 4 + 2                                  # 4 dtypes on the batch, 2 on a vector
    for row in rows:
        ratio = row.split()[-1]
        assert ratio.endswith("x") and float(ratio[:-1]) > 0, row
    checks = re.findall(r"relative difference (\S+)", out)
    assert len(checks) == 4, out                               # a twiddle and an input, 2 dtypes
    assert all(float(v) < 1e-8 for v in checks), checks


def _check_transposition(out):
    rows = _table(out, "shape")
    assert len(rows) == 4
    for row in rows:
        dtype = row.split("|")[0].split()[-1]
        err_t, err_h = row.split("|")[-1].replace("0 (exact)", "0").split()
        bound = 1e-5 if dtype == "float32" else 1e-13           # rounding, not a different matrix
        assert float(err_t) < bound and float(err_h) < bound, row
        ratios = row.split("|")[2].split()
        assert len(ratios) == 3 and all(r.endswith("x") for r in ratios), row


@pytest.mark.parametrize("script, args, check", [
    ("theorem_permutations.py", ["--sizes", "64,100,300", "--rows", "16", "--dense-max", "128"],
     _check_permutations),
    ("theorem_sparse.py", ["--n", "64", "--rows", "8"], _check_sparse),
    ("theorem_circuits.py", ["--n", "32", "--rows", "8"], _check_circuits),
    ("theorem_baur_strassen.py", ["--sizes", "64", "--widths", "1", "--rows", "4",
                                  "--check-n", "16"], _check_baur_strassen),
    ("theorem_transposition.py", ["--sizes", "64", "--rect", "20x50", "--rows", "4"],
     _check_transposition),
])
def test_theorem_examples(tmp_path, script, args, check):
    """Each theorem example runs at small sizes and prints what it claims:
    exact constructions are exact, errors are rounding, ratios are printed."""
    out = _run(script, *args, cwd=tmp_path)
    assert "medians of 7" in out
    assert not re.search(r"\b0\.0x", out), out               # a ratio is never shown as 0.0x
    check(out)


def test_toeplitz_preconditioner_example(tmp_path):
    out = _run("plot_toeplitz_preconditioner.py", "--n", "512", "--probes", "4", cwd=tmp_path)
    iterations = {}
    for line in out.splitlines():
        m = re.match(r"(no preconditioner|T\. Chan's circulant \(FFT\)|K-matrix: C\^-1 \+ S\^-1)"
                     r"\s+\|\s+(\d+) \|", line)
        if m:
            iterations[m[1].split()[0]] = int(m[2])
    assert set(iterations) == {"no", "T.", "K-matrix:"}, out
    # the bars, at a size a test affords
    assert iterations["K-matrix:"] <= iterations["T."] <= iterations["no"]
    assert iterations["K-matrix:"] <= iterations["no"] / 5
    exact = float(re.search(r"exact \(Levinson-Durbin, [\d.]+ s\): (\S+)", out)[1])
    bound = float(re.search(r"a lower bound\s+:\s+(\S+)", out)[1])
    assert bound <= exact
    # the exact log-determinant of Chan's K-matrix as a control variate
    control = float(re.search(r"Chan's \+ SLQ of the rest \(4 probes\)\s+:\s+(\S+)", out)[1])
    direct = float(re.search(r"SLQ of T itself \(4 probes\)\s+:\s+(\S+)", out)[1])
    assert abs(control - exact) < abs(direct - exact)
