"""Result files: judged before the work, written through symlinks, never
replacing what is not a regular file, nothing left behind on failure or
SIGTERM (kmatrix._jobs.destination, through apply_npy and the CLI)."""

import os
import signal
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kmatrix as km
from kmatrix._jobs.destination import replacing


@pytest.fixture
def job(tmp_path):
    K = km.KMatrix.random(8, 6, random_state=0)
    X = np.random.default_rng(0).standard_normal((50, 6))
    np.save(tmp_path / "rows.npy", X)
    return K, tmp_path / "rows.npy", X


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_symlink_is_written_through(job, tmp_path):
    K, src, X = job
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.npy"
    target.write_bytes(b"old")
    link = tmp_path / "link.npy"
    link.symlink_to(target)
    km.apply_npy(K, src, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(np.load(target), K.apply(X))
    assert _leftovers(tmp_path / "real") == [] and _leftovers(tmp_path) == []


def test_a_dangling_symlink_creates_its_target(job, tmp_path):
    K, src, X = job
    link = tmp_path / "link.npy"
    link.symlink_to(tmp_path / "new.npy")
    km.apply_npy(K, src, link)
    assert link.is_symlink()
    np.testing.assert_array_equal(np.load(tmp_path / "new.npy"), K.apply(X))


def test_an_existing_file_keeps_its_permissions(job, tmp_path):
    K, src, X = job
    dst = tmp_path / "out.npy"
    dst.write_bytes(b"old")
    os.chmod(dst, 0o640)   # not mkstemp's 0600
    km.apply_npy(K, src, dst)
    assert stat.S_IMODE(os.stat(dst).st_mode) == 0o640
    np.testing.assert_array_equal(np.load(dst), K.apply(X))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root can give a file to another owner")
def test_an_existing_file_keeps_its_owner(job, tmp_path):
    # root writing into a user's file: the result stays the user's (the
    # rename would otherwise leave a root-owned file in its place)
    K, src, X = job
    dst = tmp_path / "out.npy"
    dst.write_bytes(b"old")
    os.chown(dst, 4321, 4322)
    os.chmod(dst, 0o600)
    km.apply_npy(K, src, dst)
    st = os.stat(dst)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (4321, 4322, 0o600)
    np.testing.assert_array_equal(np.load(dst), K.apply(X))


def test_a_new_file_gets_the_usual_mode(job, tmp_path):
    K, src, _ = job
    umask = os.umask(0o022)
    try:
        km.apply_npy(K, src, tmp_path / "out.npy")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "out.npy").st_mode) == 0o644


@pytest.mark.parametrize("make, match", [
    (lambda p: (p / "d.npy").mkdir() or p / "d.npy", "is a directory"),
    (lambda p: "", "empty"),
    (lambda p: p / "missing" / "out.npy", "does not exist"),
    (lambda p: os.devnull, "not a regular file"),
])
def test_bad_destinations_are_refused_before_any_work(job, tmp_path, monkeypatch, make, match):
    K, src, _ = job
    dst = make(tmp_path)
    calls = []
    monkeypatch.setattr(type(K), "apply", lambda *a, **k: calls.append(1))
    with pytest.raises(ValueError, match=match):
        km.apply_npy(K, src, dst)
    assert calls == [] and _leftovers(tmp_path) == []
    assert os.path.exists(os.devnull) and stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_fifo_is_refused_not_replaced(job, tmp_path):
    K, src, _ = job
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        km.apply_npy(K, src, fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_failed_rename_leaves_no_temp_file_and_names_the_destination(tmp_path, monkeypatch):
    def refuse(a, b):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "replace", refuse)
    dst = tmp_path / "out.bin"
    dst.write_bytes(b"old")
    with pytest.raises(OSError, match=f"cannot replace {dst}") as info:
        with replacing(dst, "test") as fh:
            fh.write(b"new")
    assert ".tmp" not in str(info.value)
    assert dst.read_bytes() == b"old" and _leftovers(tmp_path) == []


def test_an_error_while_writing_leaves_the_old_file(tmp_path):
    dst = tmp_path / "out.bin"
    dst.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with replacing(dst, "test") as fh:
            fh.write(b"half")
            raise RuntimeError("boom")
    assert dst.read_bytes() == b"old" and _leftovers(tmp_path) == []


class _FullDisk:
    """A file whose writes after the first (the .npy header) find no space."""

    def __init__(self, fh):
        self._fh, self._writes = fh, 0

    def write(self, data):
        import errno

        self._writes += 1
        if self._writes > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._fh.write(data)

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._fh.__exit__(*exc)


def test_a_full_disk_names_the_users_file(job, tmp_path, monkeypatch):
    K, src, _ = job
    from kmatrix._jobs import destination

    real_fdopen = os.fdopen
    monkeypatch.setattr(destination.os, "fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k)))
    dst = tmp_path / "out.npy"
    with pytest.raises(OSError, match=f"writing {dst} failed: No space left") as info:
        km.apply_npy(K, src, dst, chunk_rows=10)
    assert ".tmp" not in str(info.value)
    assert not dst.exists() and _leftovers(tmp_path) == []


def test_sigterm_leaves_the_old_file_and_no_temp_file(tmp_path):
    rows = tmp_path / "rows.npy"
    np.save(rows, np.zeros((20000, 512), dtype=np.float32))
    dst = tmp_path / "out.npy"
    dst.write_bytes(b"old")
    script = textwrap.dedent(f"""
        import os, signal, numpy as np, kmatrix as km
        K = km.KMatrix.random(512, dtype=np.float32, random_state=0)
        real_apply = type(K).apply
        calls = []
        def apply(self, *a, **k):
            calls.append(1)
            if len(calls) == 3:           # mid-job, with a temp file written to
                os.kill(os.getpid(), signal.SIGTERM)
            return real_apply(self, *a, **k)
        type(K).apply = apply
        km.apply_npy(K, {str(rows)!r}, {str(dst)!r}, chunk_rows=100)
        print("not reached")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == -signal.SIGTERM, (done.returncode, done.stderr)
    assert "not reached" not in done.stdout
    assert dst.read_bytes() == b"old" and _leftovers(tmp_path) == []


def test_a_negative_shape_in_a_npy_header_is_refused(job, tmp_path):
    K, _, _ = job
    bad = tmp_path / "bad.npy"
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (-5, 6), }"
    header = header + " " * (117 - len(header)) + "\n"
    bad.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
                    + header.encode() + b"\0" * 64)
    with pytest.raises(ValueError, match=r"declares the shape \(-5, 6\)"):
        km.apply_npy(K, bad, tmp_path / "out.npy")
    assert not (tmp_path / "out.npy").exists()


def test_chunks_of_long_rows_stay_within_their_bytes():
    from kmatrix._jobs.batch import CHUNK_BYTES, _default_chunk_rows

    row = 8 << 20     # one row of 2^20 float64 entries
    assert _default_chunk_rows(row, row) == 1
    assert _default_chunk_rows(8 * 64, 8 * 64) * 2 * 8 * 64 <= CHUNK_BYTES
    assert _default_chunk_rows(8 * 64, 8 * 64) % 16 == 0
