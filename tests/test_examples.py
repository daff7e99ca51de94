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
            print("imported", [m for m in ("numpy", "sklearn", "kaleido") if m in sys.modules])
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1, done.stderr        # no traceback
    assert "matplotlib" in message and 'pip install "kaleido[examples]"' in message
    seconds = float(done.stdout.split("seconds ")[1].split()[0])
    assert seconds < 1.0, done.stdout        # the check itself takes milliseconds
    assert "imported []" in done.stdout      # numpy, scikit-learn, kaleido: not even imported
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
