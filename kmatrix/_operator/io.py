"""Saving and loading K-matrices (the file format is :mod:`kmatrix._core.fileformat`)."""

from .._core import fileformat
from .kmatrix import KMatrix

__all__ = ["load", "load_with_version"]


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
    return load_with_version(file)[0]


def load_with_version(file):
    """(KMatrix, file format version) of a file written by KMatrix.save; see load."""
    twiddles, shape, expansion, real_part, version = fileformat.read(file)
    try:
        # the array is new (read into its exact size): no copy of it
        return KMatrix._adopt(twiddles, shape, expansion=expansion, real_part=real_part), version
    except ValueError as exc:
        raise fileformat.invalid_file(file, str(exc)) from exc
