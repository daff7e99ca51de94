"""Saving and loading K-matrices as versioned ``.npz`` files.

A file holds the arrays ``format`` (the string "kmatrix.KMatrix"; files
written before the package was renamed say "kaleido.KMatrix" and load alike),
``version`` (an int), ``shape`` (n_out, n_in), ``expansion`` and
``twiddles``, and since version 2 ``real_part`` (a bool: the operator is
the real part of its complex twiddles' network, see ``KMatrix.real``;
version-1 files have none and load as plain K-matrices). :func:`read` checks
every one of them and raises ValueError on anything truncated, foreign or
malformed; ``kmatrix.load`` wraps what it returns in a KMatrix, whose own
checks complete these (an inconsistent shape or expansion is reported as
:func:`invalid_file`), never returning a wrong operator.

This module knows the file format only: it writes any object with the
attributes ``shape``, ``expansion``, ``twiddles`` and ``real_part`` and
reads arrays and plain values back.
"""

import os
import stat
import struct
import zipfile
import zlib

import numpy as np

from .algebra import size_for
from .validation import MAX_LOG_SIZE, SUPPORTED_DTYPES, check_network_size

__all__ = ["invalid_file", "read", "save"]

FORMAT = "kmatrix.KMatrix"
# the tags a file may carry: the package was called kaleido before its rename
READ_FORMATS = (FORMAT, "kaleido.KMatrix")
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
    return ValueError(f"{name} is not a valid kmatrix KMatrix file: {why}")


class _Invalid(Exception):
    """A readable archive whose content is not a valid KMatrix."""


# the small entries (format, version, shape, expansion, real_part) are at
# most this many bytes. Deflate cannot inflate data more than 1032 times
# (one 258-byte match per bit at best): an entry that declares more is
# damaged or crafted, refused unread. Within that bound a structured
# operator's twiddles may legitimately compress very well (a Hadamard
# matrix's blocks repeat); what they inflate to is judged by the size the
# twiddles' shape implies (:func:`_check_twiddle_header`).
_SMALL_ENTRY = 4096
_DEFLATE_MAX_RATIO = 1032
_ENTRIES = ("format", "version", "shape", "expansion", "twiddles", "real_part")
# a KMatrix file has six entries; the central directory of more than this
# many (zipfile builds an object per entry, ~400 bytes each) is refused
# before zipfile reads it
_MAX_ENTRIES = 64
_EOCD = struct.Struct("<4s4H2LH")             # end of central directory record
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


def _archive_size(fh):
    """The size in bytes of the (seekable) archive ``fh``; its position is kept."""
    here = fh.tell()
    try:
        return fh.seek(0, os.SEEK_END)
    finally:
        fh.seek(here)


def _check_directory(fh, size):
    """Judge the archive's end record before zipfile reads its directory:
    the number of entries and the directory's size and place within the
    file. Damage that zipfile itself reports is left to it."""
    here = fh.tell()
    try:
        tail = min(size, _EOCD.size + 0xFFFF)   # the record and at most a 64 KiB comment
        fh.seek(size - tail)
        data = fh.read(tail)
        at = data.rfind(b"PK\x05\x06")
        if at < 0 or at + _EOCD.size > len(data):
            return
        _, _, _, _, n_entries, dir_size, dir_offset, _ = _EOCD.unpack_from(data, at)
        if (n_entries == 0xFFFF or dir_size == 0xFFFFFFFF or dir_offset == 0xFFFFFFFF) \
                and at >= _ZIP64_LOCATOR.size:
            sig, _, record, _ = _ZIP64_LOCATOR.unpack_from(data, at - _ZIP64_LOCATOR.size)
            if sig == b"PK\x06\x07" and record + _ZIP64_EOCD.size <= size:
                fh.seek(record)
                fields = _ZIP64_EOCD.unpack(fh.read(_ZIP64_EOCD.size))
                if fields[0] == b"PK\x06\x06":
                    n_entries, dir_size, dir_offset = fields[7:10]
    finally:
        fh.seek(here)
    if n_entries > _MAX_ENTRIES:
        raise _Invalid(f"the archive declares {n_entries} entries (a KMatrix file has "
                       f"{len(_ENTRIES)}): refused unread")
    if dir_size + dir_offset > size:
        raise _Invalid(f"the archive's directory ({dir_size} bytes at {dir_offset}) "
                       f"lies beyond its end ({size} bytes)")


def _member(zf, name, size):
    """The ZipInfo of entry ``name``, judged before anything is inflated:
    its compressed bytes lie within the archive's ``size`` bytes, and what
    it declares to inflate to is within deflate's reach."""
    try:
        info = zf.getinfo(name + ".npy")
    except KeyError:
        raise _Invalid(f"missing entry {name!r}") from None
    if info.flag_bits & 0x1:
        raise _Invalid(f"entry {name!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Invalid(f"entry {name!r} uses a compression other than deflate")
    if info.header_offset + info.compress_size > size:
        raise _Invalid(f"entry {name!r} declares {info.compress_size} stored bytes at offset "
                       f"{info.header_offset}, beyond the end of the file ({size} bytes)")
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise _Invalid(f"entry {name!r} declares {info.file_size} bytes but stores "
                       f"{info.compress_size}")
    if info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + _SMALL_ENTRY:
        raise _Invalid(f"entry {name!r} declares that {info.compress_size} bytes inflate to "
                       f"{info.file_size}, more than deflate can reach: refused unread")
    return info


def _header(fh, name):
    """(shape, dtype, header bytes) of the .npy stream ``fh``."""
    try:
        major, minor = np.lib.format.read_magic(fh)
        if (major, minor) == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif (major, minor) == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise _Invalid(f"entry {name!r} has .npy version {major}.{minor}")
    except ValueError as exc:
        raise _Invalid(f"entry {name!r} has a bad .npy header ({exc})") from None
    if dtype.hasobject:
        raise _Invalid(f"entry {name!r} holds Python objects")
    if fortran and len(shape) > 1:
        raise _Invalid(f"entry {name!r} is stored in Fortran order")
    return shape, dtype, fh.tell()


def _entry(zf, name, size, judge=None, limit=None):
    """The array of entry ``name``, read once: its zip record (against the
    archive's ``size``) and .npy header are judged (``limit`` bytes at
    most; ``judge(shape, dtype)``) before an array of exactly the declared
    size is filled."""
    info = _member(zf, name, size)
    if limit is not None and info.file_size > limit:
        raise _Invalid(f"entry {name!r} is {info.file_size} bytes, too large for its kind")
    with zf.open(info) as fh:
        shape, dtype, offset = _header(fh, name)
        if judge is not None:
            judge(shape, dtype)
        count = int(np.prod(shape, dtype=np.int64))
        if offset + count * dtype.itemsize != info.file_size:
            raise _Invalid(f"entry {name!r} declares {info.file_size} bytes, its header "
                           f"{offset + count * dtype.itemsize}")
        out = np.empty(shape, dtype=dtype)
        view = memoryview(out.reshape(-1).view(np.uint8))
        done = 0
        while done < view.nbytes:
            n = fh.readinto(view[done:])
            if not n:
                raise _Invalid(f"entry {name!r} is truncated")
            done += n
        if fh.read(1):   # and reaching the end checks the CRC
            raise _Invalid(f"entry {name!r} is longer than its header says")
    return out


def _read_entries(fh):
    size = _archive_size(fh)
    _check_directory(fh, size)
    with zipfile.ZipFile(fh) as zf:
        def _small(name):
            return _entry(zf, name, size, limit=_SMALL_ENTRY)

        fmt = _small("format")
        if fmt.shape != () or fmt.dtype.kind != "U" or str(fmt) not in READ_FORMATS:
            raise _Invalid("wrong format tag")
        version = _small("version")
        if version.shape != () or version.dtype.kind not in "iu":
            raise _Invalid("bad version entry")
        if int(version) > VERSION or int(version) < 1:
            raise _Invalid(f"version {int(version)} is not supported (this kmatrix reads "
                           f"versions 1 to {VERSION})")
        real_part = np.array(False)
        if int(version) >= 2:
            real_part = _small("real_part")
            if real_part.shape != () or real_part.dtype != np.bool_:
                raise _Invalid("bad real_part entry")
        shape = _small("shape")
        if shape.shape != (2,) or shape.dtype.kind not in "iu" or np.any(shape < 1):
            raise _Invalid(f"bad shape entry {shape!r}")
        expansion = _small("expansion")
        if expansion.shape != () or expansion.dtype.kind not in "iu" or expansion < 1:
            raise _Invalid(f"bad expansion entry {expansion!r}")
        n_out, n_in = (int(v) for v in shape)
        twiddles = _entry(zf, "twiddles", size, judge=lambda tw_shape, tw_dtype: _check_twiddle_header(
            tw_shape, tw_dtype, n_out, n_in, int(expansion)))
        return shape, expansion, twiddles, bool(real_part), int(version)


def _check_twiddle_header(shape, dtype, n_out, n_in, expansion):
    """The twiddles' declared shape and dtype against the operator's, before
    they are read."""
    if np.dtype(dtype) not in SUPPORTED_DTYPES:
        raise _Invalid(f"twiddles have unsupported dtype {dtype}")
    if len(shape) != 6 or shape[1] != 2 or shape[4:] != (2, 2) or shape[0] < 1:
        raise _Invalid(f"twiddles of shape {shape} are not (width, 2, L, N // 2, 2, 2)")
    L = shape[2]
    if not 1 <= L <= MAX_LOG_SIZE or shape[3] != 1 << (L - 1):
        raise _Invalid(f"twiddles of shape {shape} do not describe a network of size 2**L")
    if max(n_out, n_in) > 1 << L or size_for(n_in, n_out, expansion) > 1 << L:
        raise _Invalid(f"twiddles of shape {shape} do not hold an operator of shape "
                       f"{(n_out, n_in)} at expansion {expansion}")
    try:
        check_network_size(1 << L, shape[0], dtype, "the twiddles")
    except ValueError as exc:
        raise _Invalid(str(exc)) from None


def _check_regular(fh):
    """Refuse, before reading, a file that is not a regular file (a device
    such as /dev/zero, a FIFO): zipfile would search it for its end."""
    try:
        mode = os.fstat(fh.fileno()).st_mode
    except (AttributeError, OSError, ValueError):   # an in-memory file object
        return
    if not stat.S_ISREG(mode):
        raise _Invalid("not a regular file (a device, FIFO or socket)")


def read(file):
    """``(twiddles, shape, expansion, real_part, version)`` of a file written by
    KMatrix.save (a path or a binary file object), every entry checked.

    ``twiddles`` is an array of a supported dtype with finite entries,
    ``shape`` a tuple (n_out, n_in) of ints, ``expansion`` an int,
    ``real_part`` a bool and ``version`` the file format version. Raises
    ValueError if the file is truncated, corrupt, of another format or
    version, or holds malformed entries.
    """
    if not isinstance(file, (str, os.PathLike)) and not hasattr(file, "read"):
        raise ValueError(f"load needs a path or a binary file object, got "
                         f"{type(file).__name__}")
    # a file that cannot be opened raises the OSError of open() itself
    # (FileNotFoundError, PermissionError, IsADirectoryError)
    fh = open(file, "rb") if isinstance(file, (str, os.PathLike)) else None
    try:
        _check_regular(fh or file)
        shape, expansion, twiddles, real_part, version = _read_entries(fh or file)
    except _Invalid as exc:
        raise invalid_file(file, str(exc)) from None
    except zipfile.BadZipFile as exc:
        raise invalid_file(file, f"not an .npz (zip) archive, or a damaged one ({exc})") from None
    except (OSError, EOFError, ValueError, RuntimeError, NotImplementedError, zlib.error,
            struct.error, OverflowError) as exc:
        raise invalid_file(file, f"damaged archive ({type(exc).__name__}: {exc})") from None
    finally:
        if fh is not None:
            fh.close()
    if not np.all(np.isfinite(twiddles)):
        raise invalid_file(file, "twiddles contain NaN or infinity")
    if real_part and twiddles.dtype.kind != "c":
        raise invalid_file(file, "real_part is set but the twiddles are real")
    return twiddles, (int(shape[0]), int(shape[1])), int(expansion), real_part, version
