"""The examples run from a clean interpreter and print what they promise."""

import pathlib
import subprocess
import sys

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


@pytest.mark.parametrize("script, args", [
    ("plot_approximation.py", ["--n", "64", "--speed-n", "0"]),
    ("plot_regressor_vs_dense.py", ["--n", "64", "--train-sizes", "100,300"]),
])
def test_plot_examples(tmp_path, script, args):
    pytest.importorskip("matplotlib")
    out = _run(script, *args, "--output", "figure.png", cwd=tmp_path)
    assert (tmp_path / "figure.png").stat().st_size > 1000
    assert "saved" in out


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
