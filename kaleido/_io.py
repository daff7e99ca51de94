"""Saving and loading K-matrices as versioned ``.npz`` files.

A file holds the arrays ``format`` (the string "kaleido.KMatrix"),
``version`` (an int), ``shape`` (n_out, n_in), ``expansion`` and
``twiddles``, and since version 2 ``real_part`` (a bool: the operator is
the real part of its complex twiddles' network, see ``KMatrix.real``;
version-1 files have none and load as plain K-matrices). :func:`read` checks
every one of them and raises ValueError on anything truncated, foreign or
malformed; ``kaleido.load`` wraps what it returns in a KMatrix, whose own
checks complete these (an inconsistent shape or expansion is reported as
:func:`invalid_file`), never returning a wrong operator.

This module knows the file format only: it writes any object with the
attributes ``shape``, ``expansion``, ``twiddles`` and ``real_part`` and
reads arrays and plain values back.
"""

import os
import zipfile

import numpy as np

from ._validation import SUPPORTED_DTYPES

__all__ = ["invalid_file", "read", "save"]

FORMAT = "kaleido.KMatrix"
VERSION = 2


def save(kmatrix, file):
    """Save ``kmatrix`` to ``file`` (a path or a writable binary file).

    ``kmatrix`` is a KMatrix, or any object with its attributes ``shape``,
    ``expansion``, ``twiddles`` and ``real_part``. As with
    :func:`numpy.savez`, ``.npz`` is appended to a path without it.
    """
    np.savez(
        file,
        format=np.array(FORMAT),
        version=np.array(VERSION, dtype=np.int64),
        shape=np.array(kmatrix.shape, dtype=np.int64),
        expansion=np.array(kmatrix.expansion, dtype=np.int64),
        twiddles=kmatrix.twiddles,
        real_part=np.array(kmatrix.real_part),
    )


def invalid_file(file, why):
    """The ValueError saying that ``file`` is not a valid KMatrix file, and why."""
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
        real_part = np.array(False)
        if int(version) >= 2:
            if "real_part" not in data.files:
                raise _Invalid("missing entry 'real_part'")
            real_part = data["real_part"]
            if real_part.shape != () or real_part.dtype != np.bool_:
                raise _Invalid("bad real_part entry")
        return data["shape"], data["expansion"], data["twiddles"], bool(real_part), int(version)


def read(file):
    """``(twiddles, shape, expansion, real_part, version)`` of a file written by
    KMatrix.save (a path or a binary file object), every entry checked.

    ``twiddles`` is an array of a supported dtype with finite entries,
    ``shape`` a tuple (n_out, n_in) of ints, ``expansion`` an int,
    ``real_part`` a bool and ``version`` the file format version. Raises
    ValueError if the file is truncated, corrupt, of another format or
    version, or holds malformed entries.
    """
    try:
        if isinstance(file, (str, os.PathLike)):
            # open the file here so that it is closed even when np.load fails
            with open(file, "rb") as fh:
                shape, expansion, twiddles, real_part, version = _read_entries(fh)
        else:
            shape, expansion, twiddles, real_part, version = _read_entries(file)
    except _Invalid as exc:
        raise invalid_file(file, str(exc)) from None
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise invalid_file(file, f"{type(exc).__name__}: {exc}") from exc
    if shape.shape != (2,) or shape.dtype.kind not in "iu":
        raise invalid_file(file, f"bad shape entry {shape!r}")
    if expansion.shape != () or expansion.dtype.kind not in "iu":
        raise invalid_file(file, f"bad expansion entry {expansion!r}")
    if twiddles.dtype not in SUPPORTED_DTYPES:
        raise invalid_file(file, f"twiddles have unsupported dtype {twiddles.dtype}")
    if not np.all(np.isfinite(twiddles)):
        raise invalid_file(file, "twiddles contain NaN or infinity")
    if real_part and twiddles.dtype.kind != "c":
        raise invalid_file(file, "real_part is set but the twiddles are real")
    return twiddles, (int(shape[0]), int(shape[1])), int(expansion), real_part, version
