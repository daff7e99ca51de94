"""Saving and loading K-matrices (the file format is :mod:`kmatrix._core.fileformat`)."""

from .._core import fileformat
from .kmatrix import KMatrix

__all__ = ["load", "load_with_version"]


def load(file):
    """Load a KMatrix written by :meth:`KMatrix.save`.

    Every entry's declared size, flags and compression, and the twiddles'
    header against the operator's shape, are checked before any data is
    read: a damaged, foreign or oversized file is refused unread. Files
    saved by ``kaleido`` (the package's former name) load too.

    Parameters
    ----------
    file : str, path-like or binary file object
        A ``.npz`` file written by :meth:`KMatrix.save`.

    Returns
    -------
    K : KMatrix

    Raises
    ------
    ValueError
        If the file is truncated, corrupt, of another format or version, or
        describes an inconsistent operator.
    FileNotFoundError
        If the path does not exist.

    See Also
    --------
    KMatrix.save : write the file.

    Examples
    --------
    >>> import io, numpy as np, kmatrix as km
    >>> K = km.KMatrix.dct(64)
    >>> buffer = io.BytesIO()
    >>> K.save(buffer)
    >>> _ = buffer.seek(0)
    >>> K2 = km.load(buffer)
    >>> K2
    KMatrix(shape=(64, 64), dtype=float64, width=2, expansion=1, size=64, real part of complex128 twiddles)
    >>> bool(np.array_equal(K2.todense(), K.todense()))
    True
    """
    return load_with_version(file)[0]


def load_with_version(file):
    """(KMatrix, file format version) of a file written by KMatrix.save; see load."""
    twiddles, shape, expansion, real_part, version = fileformat.read(file)
    try:
        # the array is new (read into its exact size): no copy of it
        return KMatrix._adopt(twiddles, shape, expansion=expansion, real_part=real_part), version
    except ValueError as exc:
        raise fileformat.invalid_file(file, str(exc)) from exc
