"""Saving and loading K-matrices as versioned ``.npz`` files.

A file holds the arrays ``format`` (the string "kaleido.KMatrix"),
``version`` (an int), ``shape`` (n_out, n_in), ``expansion`` and
``twiddles``. :func:`load` checks every one of them and raises ValueError on
anything truncated, foreign or inconsistent, never returning a wrong operator.
"""

import os
import zipfile

import numpy as np

from ._validation import SUPPORTED_DTYPES

__all__ = ["load", "save"]

FORMAT = "kaleido.KMatrix"
VERSION = 1


def save(kmatrix, file):
    """Save ``kmatrix`` to ``file`` (a path or a writable binary file).

    As with :func:`numpy.savez`, ``.npz`` is appended to a path without it.
    """
    np.savez(
        file,
        format=np.array(FORMAT),
        version=np.array(VERSION, dtype=np.int64),
        shape=np.array(kmatrix.shape, dtype=np.int64),
        expansion=np.array(kmatrix.expansion, dtype=np.int64),
        twiddles=kmatrix.twiddles,
    )


def _fail(file, why):
    name = os.fspath(file) if isinstance(file, (str, os.PathLike)) else "the file"
    return ValueError(f"{name} is not a valid kaleido KMatrix file: {why}")


class _Invalid(Exception):
    """A readable archive whose content is not a valid KMatrix."""


def _read_entries(fh):
    data = np.load(fh, allow_pickle=False)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise _Invalid("not an .npz archive")
    with data:
        missing = {"format", "version", "shape", "expansion", "twiddles"} - set(data.files)
        if missing:
            raise _Invalid(f"missing entries {sorted(missing)}")
        fmt = data["format"]
        if fmt.shape != () or fmt.dtype.kind != "U" or str(fmt) != FORMAT:
            raise _Invalid("wrong format tag")
        version = data["version"]
        if version.shape != () or version.dtype.kind not in "iu":
            raise _Invalid("bad version entry")
        if int(version) > VERSION or int(version) < 1:
            raise _Invalid(f"version {int(version)} is not supported (this kaleido reads "
                           f"versions 1 to {VERSION})")
        return data["shape"], data["expansion"], data["twiddles"]


def load(file):
    """Load a KMatrix written by :meth:`KMatrix.save`.

    Parameters
    ----------
    file : str, path-like or binary file object

    Returns
    -------
    K : KMatrix

    Raises
    ------
    ValueError
        If the file is truncated, corrupt, of another format or version, or
        describes an inconsistent operator.
    """
    from ._kmatrix import KMatrix

    try:
        if isinstance(file, (str, os.PathLike)):
            # open the file here so that it is closed even when np.load fails
            with open(file, "rb") as fh:
                shape, expansion, twiddles = _read_entries(fh)
        else:
            shape, expansion, twiddles = _read_entries(file)
    except _Invalid as exc:
        raise _fail(file, str(exc)) from None
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise _fail(file, f"{type(exc).__name__}: {exc}") from exc
    if shape.shape != (2,) or shape.dtype.kind not in "iu":
        raise _fail(file, f"bad shape entry {shape!r}")
    if expansion.shape != () or expansion.dtype.kind not in "iu":
        raise _fail(file, f"bad expansion entry {expansion!r}")
    if twiddles.dtype not in SUPPORTED_DTYPES:
        raise _fail(file, f"twiddles have unsupported dtype {twiddles.dtype}")
    if not np.all(np.isfinite(twiddles)):
        raise _fail(file, "twiddles contain NaN or infinity")
    try:
        return KMatrix(twiddles, (int(shape[0]), int(shape[1])), expansion=int(expansion))
    except ValueError as exc:
        raise _fail(file, str(exc)) from exc
