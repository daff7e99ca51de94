"""Saving and loading K-matrices: round trips are exact, and anything
truncated, foreign or inconsistent raises ValueError (never a wrong operator,
never a crash)."""

import gc
import io
import pickle
import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.fft

import kmatrix as km

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
DTYPE_IDS = ["float32", "float64", "complex64", "complex128"]


def assert_same_kmatrix(K2, K):
    assert isinstance(K2, km.KMatrix)
    assert K2.shape == K.shape
    assert K2.dtype == K.dtype
    assert K2.width == K.width
    assert K2.expansion == K.expansion
    assert K2.size == K.size
    assert K2.n_params == K.n_params
    assert K2.twiddles.dtype == K.twiddles.dtype
    np.testing.assert_array_equal(K2.twiddles, K.twiddles)
    # bit-identical parameters, so bit-identical products
    X = np.random.default_rng(0).standard_normal((3, K.n_in))
    np.testing.assert_array_equal(K2.apply(X), K.apply(X))


def _valid_entries(K):
    return dict(format=np.array("kmatrix.KMatrix"), version=np.array(2, dtype=np.int64),
                shape=np.array(K.shape, dtype=np.int64),
                expansion=np.array(K.expansion, dtype=np.int64), twiddles=K.twiddles,
                real_part=np.array(K.real_part))


@pytest.fixture
def kmatrix():
    return km.KMatrix.random(3, 5, width=2, expansion=2, dtype=np.float64,
                             init="normal", random_state=0)


# ------------------------------------------------------------ round trips --
@pytest.mark.parametrize("n_in, n_out, width, expansion",
                         [(8, 8, 1, 1), (5, 3, 2, 2), (3, 5, 3, 1), (100, 37, 2, 3), (1, 1, 1, 1)])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_save_load_round_trip(tmp_path, dtype, n_in, n_out, width, expansion):
    K = km.KMatrix.random(n_out, n_in, width=width, expansion=expansion, dtype=dtype,
                          init="normal", random_state=1)
    path = tmp_path / "k.npz"
    K.save(path)
    assert_same_kmatrix(km.load(path), K)
    assert_same_kmatrix(km.load(str(path)), K)


def test_save_path_without_extension(tmp_path, kmatrix):
    # like numpy.savez, ".npz" is appended to a path without it
    kmatrix.save(tmp_path / "model")
    assert (tmp_path / "model.npz").exists()
    assert_same_kmatrix(km.load(tmp_path / "model.npz"), kmatrix)
    kmatrix.save(str(tmp_path / "other"))
    assert_same_kmatrix(km.load(str(tmp_path / "other.npz")), kmatrix)


def test_save_to_file_object(tmp_path, kmatrix):
    buf = io.BytesIO()
    kmatrix.save(buf)
    buf.seek(0)
    assert_same_kmatrix(km.load(buf), kmatrix)
    with open(tmp_path / "f.npz", "wb") as f:
        kmatrix.save(f)
    with open(tmp_path / "f.npz", "rb") as f:
        assert_same_kmatrix(km.load(f), kmatrix)


def test_module_level_save_matches_method(tmp_path, kmatrix):
    from kmatrix._core.fileformat import save
    save(kmatrix, tmp_path / "a.npz")
    assert_same_kmatrix(km.load(tmp_path / "a.npz"), kmatrix)


@pytest.mark.parametrize("make", [
    pytest.param(lambda: km.KMatrix.dft(64, norm="ortho"), id="dft"),
    pytest.param(lambda: km.KMatrix.hadamard(16), id="hadamard"),
    pytest.param(lambda: km.KMatrix.from_permutation([2, 0, 1, 4, 3]), id="permutation"),
    pytest.param(lambda: km.KMatrix.random(4, 6, random_state=0) @ km.KMatrix.random(
        6, 9, width=2, random_state=1), id="product"),
    pytest.param(lambda: km.KMatrix.random(4, 6, random_state=0) + km.KMatrix.random(
        4, 6, dtype=np.complex64, random_state=1), id="sum"),
    pytest.param(lambda: km.KMatrix.random(3, 7, dtype=np.complex128, random_state=0).H,
                 id="adjoint"),
])
def test_round_trip_of_derived_kmatrices(tmp_path, make):
    K = make()
    K.save(tmp_path / "k.npz")
    assert_same_kmatrix(km.load(tmp_path / "k.npz"), K)


def test_saved_file_is_a_plain_npz_with_documented_entries(tmp_path, kmatrix):
    kmatrix.save(tmp_path / "k.npz")
    with np.load(tmp_path / "k.npz", allow_pickle=False) as data:
        assert set(data.files) == {"format", "version", "shape", "expansion", "twiddles",
                                   "real_part"}
        assert str(data["format"]) == "kmatrix.KMatrix"
        assert int(data["version"]) == 2
        assert data["real_part"].dtype == np.bool_ and not data["real_part"]
        np.testing.assert_array_equal(data["shape"], kmatrix.shape)
        assert int(data["expansion"]) == kmatrix.expansion
        np.testing.assert_array_equal(data["twiddles"], kmatrix.twiddles)


def test_loaded_twiddles_are_live_and_independent(tmp_path, kmatrix):
    kmatrix.save(tmp_path / "k.npz")
    K2 = km.load(tmp_path / "k.npz")
    K2.twiddles[...] = km.KMatrix.random(3, 5, width=2, expansion=2, init="identity").twiddles
    np.testing.assert_array_equal(K2.todense(), np.eye(3, 5))
    assert not np.array_equal(kmatrix.todense(), np.eye(3, 5))


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_pickle_round_trip(dtype):
    K = km.KMatrix.random(100, 37, width=2, expansion=2, dtype=dtype, init="normal",
                          random_state=2)
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        K2 = pickle.loads(pickle.dumps(K, protocol=protocol))
        assert_same_kmatrix(K2, K)
        assert not np.shares_memory(K2.twiddles, K.twiddles)


def test_pickle_operator_round_trip():
    K = km.KMatrix.random(4, 9, width=2, random_state=3)
    A = km.aslinearoperator(K)
    A2 = pickle.loads(pickle.dumps(A))
    x = np.arange(9.0)
    np.testing.assert_array_equal(A2.matvec(x), A.matvec(x))
    np.testing.assert_array_equal(A2.H.matvec(x[:4]), A.H.matvec(x[:4]))


# ------------------------------------------------------------- bad files --
def _load_failure(target, match=None):
    """Assert km.load(target) raises ValueError; return (message, leaked files).

    np.load leaves the file it opened unclosed when the zip archive is
    corrupt (a ResourceWarning when the file object is collected). The
    warning is recorded here, deterministically, instead of surfacing later
    as an "unraisable exception" in some unrelated test; see
    test_load_closes_the_file_of_a_corrupt_archive. Every other warning is
    still an error.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(ValueError, match=match) as excinfo:
            km.load(target)
        message = str(excinfo.value)
        del excinfo  # its traceback holds the leaked file, if any
        gc.collect()
    leaked = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    return message, leaked


def _assert_load_fails(target, match=None):
    message, _ = _load_failure(target, match)
    assert "kmatrix" in message
    return message


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.3, 0.5, 0.9, 0.999])
def test_truncated_file(tmp_path, kmatrix, fraction):
    path = tmp_path / "k.npz"
    kmatrix.save(path)
    data = path.read_bytes()
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(data[:int(len(data) * fraction)])
    _assert_load_fails(bad)


def test_truncated_file_object(kmatrix):
    buf = io.BytesIO()
    kmatrix.save(buf)
    _assert_load_fails(io.BytesIO(buf.getvalue()[:len(buf.getvalue()) // 2]))


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_file(tmp_path, seed):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, 2000, dtype=np.uint8).tobytes())
    _assert_load_fails(path)


def test_random_bytes_with_zip_magic(tmp_path):
    path = tmp_path / "noise.npz"
    noise = np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    path.write_bytes(b"PK\x03\x04" + noise)
    _assert_load_fails(path)


def test_text_file(tmp_path):
    path = tmp_path / "k.npz"
    path.write_text("this is not a kmatrix file\n")
    _assert_load_fails(path)


def test_plain_npy_file(tmp_path, kmatrix):
    path = tmp_path / "k.npy"
    np.save(path, kmatrix.twiddles)
    _assert_load_fails(path)


def test_missing_file(tmp_path):
    # the error of open() itself, as numpy.load raises it
    with pytest.raises(FileNotFoundError, match="does_not_exist.npz"):
        km.load(tmp_path / "does_not_exist.npz")
    with pytest.raises(IsADirectoryError):
        km.load(tmp_path)


@pytest.mark.parametrize("entry", ["format", "version", "shape", "expansion", "twiddles",
                                   "real_part"])
def test_npz_missing_an_entry(tmp_path, kmatrix, entry):
    entries = _valid_entries(kmatrix)
    del entries[entry]
    path = tmp_path / "k.npz"
    np.savez(path, **entries)
    _assert_load_fails(path, match=entry)


def _save_with(tmp_path, kmatrix, **changes):
    entries = _valid_entries(kmatrix)
    entries.update(changes)
    path = tmp_path / "k.npz"
    np.savez(path, **entries)
    return path


def test_valid_hand_written_file_loads(tmp_path, kmatrix):
    # the helper writes valid files: the tests below change one thing each
    assert_same_kmatrix(km.load(_save_with(tmp_path, kmatrix)), kmatrix)


@pytest.mark.parametrize("tag", [np.array("kmatrix.Other"), np.array(b"kmatrix.KMatrix"),
                                 np.array(["kmatrix.KMatrix"]), np.array(1)],
                         ids=["other", "bytes", "array", "number"])
def test_wrong_format_tag(tmp_path, kmatrix, tag):
    _assert_load_fails(_save_with(tmp_path, kmatrix, format=tag), match="format")


def test_version_1_file_without_real_part_loads(tmp_path, kmatrix):
    entries = _valid_entries(kmatrix)
    del entries["real_part"]
    entries["version"] = np.array(1)
    np.savez(tmp_path / "k.npz", **entries)
    assert_same_kmatrix(km.load(tmp_path / "k.npz"), kmatrix)


DATA = Path(__file__).resolve().parent / "data"


def test_file_saved_before_the_rename_loads():
    # written by the package when it was still called kaleido: format tag
    # "kaleido.KMatrix", version 2, the real part of a complex network
    path = DATA / "kaleido-0.1-dct8.npz"
    with np.load(path) as data:
        assert str(data["format"]) == "kaleido.KMatrix"
    K = km.load(path)
    assert K.real_part and K.shape == (8, 8) and K.dtype == np.float64
    reference = scipy.fft.dct(np.eye(8), norm="ortho", axis=0)
    assert np.linalg.norm(K.todense() - reference) <= 32 * np.finfo(np.float64).eps


def test_float32_file_saved_before_the_rename_loads():
    K = km.load(DATA / "kaleido-0.1-perm5-float32.npz")
    assert K.dtype == np.float32 and K.shape == (5, 5)
    x = np.arange(5, dtype=np.float32)
    assert np.array_equal(K @ x, x[[2, 0, 1, 4, 3]])


def test_files_are_written_under_the_new_name(tmp_path):
    km.KMatrix.identity(4).save(tmp_path / "k.npz")
    with np.load(tmp_path / "k.npz") as data:
        assert str(data["format"]) == "kmatrix.KMatrix"


def test_real_part_round_trip(tmp_path):
    K = km.KMatrix.random(5, 6, width=2, dtype=np.complex64, random_state=0).real
    K.save(tmp_path / "k.npz")
    K2 = km.load(tmp_path / "k.npz")
    assert K2.real_part and K2.dtype == np.float32 and K2.twiddles.dtype == np.complex64
    np.testing.assert_array_equal(K2.todense(), K.todense())


@pytest.mark.parametrize("value", [np.array(1), np.array([True]), np.array("yes")])
def test_bad_real_part_entry(tmp_path, kmatrix, value):
    _assert_load_fails(_save_with(tmp_path, kmatrix, real_part=value), match="real_part")


def test_real_part_of_real_twiddles(tmp_path, kmatrix):
    _assert_load_fails(_save_with(tmp_path, kmatrix, real_part=np.array(True)),
                       match="real_part")


@pytest.mark.parametrize("version", [np.array(3), np.array(99, dtype=np.int32)])
def test_newer_version(tmp_path, kmatrix, version):
    _assert_load_fails(_save_with(tmp_path, kmatrix, version=version), match="version")


@pytest.mark.parametrize("version", [np.array(0), np.array(-1), np.array(1.0), np.array([1]),
                                     np.array("1")], ids=["0", "-1", "float", "array", "str"])
def test_bad_version(tmp_path, kmatrix, version):
    _assert_load_fails(_save_with(tmp_path, kmatrix, version=version), match="version")


@pytest.mark.parametrize("twiddles", [
    pytest.param(np.zeros((2, 2, 4, 4, 2, 2)), id="N_mismatch_halves"),
    pytest.param(np.zeros((2, 2, 0, 0, 2, 2)), id="zero_stages"),
    pytest.param(np.zeros((2, 2, 3, 4, 2)), id="five_dims"),
    pytest.param(np.zeros((2, 3, 3, 4, 2, 2)), id="three_halves"),
    pytest.param(np.zeros((0, 2, 3, 4, 2, 2)), id="zero_width"),
    pytest.param(np.zeros((2, 2, 3, 4, 3, 2)), id="blocks_3x2"),
    pytest.param(np.zeros((2, 2, 1, 1, 2, 2)), id="too_small_for_shape"),
    pytest.param(np.zeros((2, 2, 3, 4, 2, 2), dtype=np.int64), id="int_dtype"),
    pytest.param(np.zeros((2, 2, 3, 4, 2, 2), dtype=np.float16), id="float16"),
    pytest.param(np.zeros(()), id="scalar"),
])
def test_inconsistent_twiddles(tmp_path, kmatrix, twiddles):
    _assert_load_fails(_save_with(tmp_path, kmatrix, twiddles=twiddles))


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, complex(0, np.nan)])
def test_non_finite_twiddles(tmp_path, kmatrix, value):
    tw = kmatrix.twiddles.astype(np.result_type(kmatrix.dtype, type(value)))
    tw[1, 0, 2, 3, 1, 0] = value
    _assert_load_fails(_save_with(tmp_path, kmatrix, twiddles=tw), match="NaN|finite|infinit")


@pytest.mark.parametrize("shape", [np.array([3, 17]), np.array([0, 5]), np.array([3]),
                                   np.array([3, 5, 1]), np.array([3.0, 5.0]),
                                   np.array([-3, 5])],
                         ids=["too_big", "zero", "one_entry", "three_entries", "float",
                              "negative"])
def test_inconsistent_shape_entry(tmp_path, kmatrix, shape):
    _assert_load_fails(_save_with(tmp_path, kmatrix, shape=shape))


@pytest.mark.parametrize("expansion", [np.array(0), np.array(8), np.array([2]), np.array(2.0)],
                         ids=["zero", "too_big", "array", "float"])
def test_inconsistent_expansion_entry(tmp_path, kmatrix, expansion):
    # kmatrix: shape (3, 5), size 16: expansion 8 would need size 64
    _assert_load_fails(_save_with(tmp_path, kmatrix, expansion=expansion))


def test_object_array_entry_is_rejected_without_unpickling(tmp_path, kmatrix):
    entries = _valid_entries(kmatrix)
    entries["twiddles"] = np.array([object()], dtype=object)
    path = tmp_path / "k.npz"
    np.savez(path, **entries)
    _assert_load_fails(path)


def test_error_message_names_the_file(tmp_path):
    path = tmp_path / "named_model.npz"
    path.write_bytes(b"garbage")
    assert "named_model.npz" in _assert_load_fails(path)
    assert "named_model.npz" in _assert_load_fails(str(path))


def test_load_closes_the_file_of_a_corrupt_archive(tmp_path, kmatrix):
    path = tmp_path / "k.npz"
    kmatrix.save(path)
    data = path.read_bytes()
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(data[:len(data) // 2])
    _, leaked = _load_failure(bad)
    assert leaked == []


def test_load_closes_the_file_of_other_bad_inputs(tmp_path, kmatrix):
    # the paths that do not go through a corrupt zip archive do close it
    (tmp_path / "text.npz").write_text("not a kmatrix file")
    (tmp_path / "empty.npz").write_bytes(b"")
    cases = [tmp_path / "text.npz", tmp_path / "empty.npz",
             _save_with(tmp_path, kmatrix, version=np.array(7))]
    for path in cases:
        _, leaked = _load_failure(path)
        assert leaked == [], path


def test_unpickled_twiddles_are_aligned_and_writable_from_any_buffer():
    # pickle protocol 5 out-of-band buffers (Dask's distributed sends arrays
    # so) may be read-only or sit at any offset: K.twiddles must stay a
    # live, aligned parameter array the kernels accept
    import pickle

    K = km.KMatrix.random(64, width=2, dtype=np.complex64, random_state=0)
    buffers = []
    data = pickle.dumps(K, protocol=5, buffer_callback=buffers.append)
    raw = [bytes(b.raw()) for b in buffers]
    assert raw   # the twiddles really went out of band
    for given in ([memoryview(r) for r in raw],                                 # read-only
                  [memoryview(bytearray(b"x" + r))[1:] for r in raw]):         # misaligned
        K2 = pickle.loads(data, buffers=given)
        tw = K2.twiddles
        assert tw.flags.aligned and tw.flags.writeable and tw.flags.c_contiguous
        x = np.arange(64, dtype=np.complex64)
        np.testing.assert_array_equal(K2 @ x, K @ x)
        tw[0, 0, 0] *= 2    # live: editing changes the operator
        assert not np.array_equal(K2 @ x, K @ x)


def _npz_with(path, entries, twiddle_bytes=None, zip64=True):
    """An .npz of these entries; with ``twiddle_bytes`` the twiddles entry is
    the header of an array of shape ``entries["twiddles"]`` followed by that
    many zero bytes, deflated."""
    import io
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        for name, value in entries.items():
            buf = io.BytesIO()
            if name == "twiddles" and twiddle_bytes is not None:
                np.lib.format.write_array_header_1_0(
                    buf, {"descr": "<f8", "fortran_order": False, "shape": value})
                info = zipfile.ZipInfo("twiddles.npy")
                info.compress_type = zipfile.ZIP_DEFLATED
                with zf.open(info, "w", force_zip64=zip64) as fh:
                    fh.write(buf.getvalue())
                    zeros = bytes(1 << 20)
                    for _ in range(twiddle_bytes >> 20):
                        fh.write(zeros)
                continue
            np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
            zf.writestr(name + ".npy", buf.getvalue())


def _patch_directory(path, name, usize=None, csize=None):
    """Rewrite what the central directory declares for entry ``name``: its
    inflated (``usize``) and stored (``csize``) sizes. Sizes beyond 32 bits
    go into a ZIP64 extra field (the 32-bit fields then say 0xFFFFFFFF)."""
    data = bytearray(path.read_bytes())
    at = 0
    while True:
        at = data.find(b"PK\x01\x02", at)
        name_len, extra_len = struct.unpack_from("<HH", data, at + 28)
        if data[at + 46:at + 46 + name_len] == name.encode():
            break
        at += 4
    assert extra_len == 0, "entries written here carry no extra field"
    old_csize, old_usize = struct.unpack_from("<LL", data, at + 20)
    usize = old_usize if usize is None else usize
    csize = old_csize if csize is None else csize
    if max(usize, csize) < 0xFFFFFFFF:
        struct.pack_into("<LL", data, at + 20, csize, usize)
    else:
        struct.pack_into("<LL", data, at + 20, 0xFFFFFFFF, 0xFFFFFFFF)
        struct.pack_into("<H", data, at + 30, 20)
        extra = at + 46 + name_len
        data[extra:extra] = struct.pack("<HHQQ", 1, 16, usize, csize)
        end = data.rfind(b"PK\x05\x06")
        dir_size, = struct.unpack_from("<L", data, end + 12)
        struct.pack_into("<L", data, end + 12, dir_size + 20)
    path.write_bytes(bytes(data))


def _zeros_file(path, kmatrix, n_bytes, zip64):
    entries = _valid_entries(kmatrix)
    entries.update(shape=np.array([1 << 16, 1 << 16]), expansion=np.array(1),
                   twiddles=(1, 2, 16, 1 << 15, 2, 2))
    _npz_with(path, entries, twiddle_bytes=n_bytes, zip64=zip64)


@pytest.mark.parametrize("usize, csize, why", [
    (int(5.75 * 2**30), None, "more than deflate can reach"),     # ZIP64 sizes
    (0xF0000000, None, "more than deflate can reach"),             # 3.75 GiB in 32 bits
    (None, 1 << 30, "beyond the end of the file"),
    (None, 1 << 33, "beyond the end of the file"),
])
def test_declared_sizes_beyond_the_file_or_deflate_are_refused_unread(tmp_path, kmatrix, usize,
                                                                      csize, why):
    import resource

    # 1 MiB of zeros deflates to ~1 KiB; declared as inflating to GiBs (more
    # than deflate's 1032x), or as more stored bytes than the file holds
    path = tmp_path / "declared.npz"
    _zeros_file(path, kmatrix, 1 << 20, zip64=False)
    _patch_directory(path, "twiddles.npy", usize=usize, csize=csize)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _assert_load_fails(path, why)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 16 * 1024


def test_a_structured_file_recompressed_by_numpy_loads(tmp_path):
    # a Hadamard matrix's twiddles repeat: deflated they shrink ~300x, which
    # the former 64x rule refused as a bomb
    K = km.KMatrix.hadamard(4096)
    K.save(tmp_path / "h.npz")
    with np.load(tmp_path / "h.npz") as f:
        np.savez_compressed(tmp_path / "hz.npz", **{k: f[k] for k in f.files})
    with zipfile.ZipFile(tmp_path / "hz.npz") as zf:
        info = zf.getinfo("twiddles.npy")
        assert info.file_size > 64 * info.compress_size
    K2 = km.load(tmp_path / "hz.npz")
    np.testing.assert_array_equal(K2.twiddles, K.twiddles)
    # zeros of a consistent 2**16 network (64 MiB in ~64 KiB) are an
    # operator too: inflated to exactly the size the shape implies
    _zeros_file(tmp_path / "z.npz", km.KMatrix.random(8), 4 * 16 * (1 << 16) * 8, True)
    assert (tmp_path / "z.npz").stat().st_size < 1 << 17
    Z = km.load(tmp_path / "z.npz")
    assert Z.size == 1 << 16 and not Z.twiddles.any()


def test_an_archive_of_many_entries_is_refused_before_its_directory_is_read(tmp_path, kmatrix):
    path = tmp_path / "many.npz"
    kmatrix.save(path)
    with zipfile.ZipFile(path, "a") as zf:
        for k in range(1000):
            zf.writestr(f"pad{k}", b"")
    _assert_load_fails(path, "declares 1006 entries")
    # an end record declaring 10**6 entries (ZIP64) or a directory past the end
    kmatrix.save(path)
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    for n_entries, dir_size, why in [(60000, None, "declares 60000 entries"),
                                     (None, 1 << 30, "beyond its end")]:
        bad = bytearray(data)
        if n_entries is not None:
            struct.pack_into("<HH", bad, end + 8, n_entries, n_entries)
        if dir_size is not None:
            struct.pack_into("<L", bad, end + 12, dir_size)
        (tmp_path / "bad.npz").write_bytes(bytes(bad))
        _assert_load_fails(tmp_path / "bad.npz", why)


@pytest.mark.parametrize("declared, why", [
    ((1, 2, 40, 1 << 39, 2, 2), "do not hold an operator|memory"),     # a huge network
    ((1, 2, 3, 4, 2, 2), "do not hold an operator"),                    # too small for shape
    ((1, 2, 45, 1 << 44, 2, 2), "2\\*\\*L|network"),                   # beyond the limit
    ((2, 2), "not \\(width"),                                           # not 6-D
])
def test_declared_twiddle_shapes_are_judged_before_reading(tmp_path, kmatrix, declared, why):
    entries = _valid_entries(kmatrix)
    entries["twiddles"] = declared
    path = tmp_path / "k.npz"
    _npz_with(path, entries, twiddle_bytes=0)
    _assert_load_fails(path, why)


def test_zip_metadata_damage_is_a_value_error(tmp_path, kmatrix):
    path = tmp_path / "k.npz"
    kmatrix.save(path)
    data = bytearray(path.read_bytes())
    # the general-purpose flags of every local header: "encrypted"
    for flags in (0x1, 0x41):
        bad = bytearray(data)
        i = 0
        while (i := bad.find(b"PK\x03\x04", i)) >= 0:
            bad[i + 6] |= flags
            i += 4
        j = 0
        while (j := bad.find(b"PK\x01\x02", j)) >= 0:
            bad[j + 8] |= flags
            j += 4
        target = tmp_path / f"flags{flags}.npz"
        target.write_bytes(bytes(bad))
        _assert_load_fails(target, "encrypted|damaged")
    # an unknown compression method
    bad = bytearray(data)
    j = bad.find(b"PK\x01\x02")
    bad[j + 10] = 99
    target = tmp_path / "method.npz"
    target.write_bytes(bytes(bad))
    _assert_load_fails(target, "compression|damaged")


# ------------------------------------------------- what load refuses unread --
@pytest.mark.parametrize("obj", [None, 3.5, 7, ["a.npz"]])
def test_load_of_something_that_is_no_file_says_so(obj):
    with pytest.raises(ValueError, match="load needs a path or a binary file object"):
        km.load(obj)


def test_devices_are_refused_before_reading():
    # zipfile would search /dev/zero for its end record until MemoryError
    with pytest.raises(ValueError, match="not a regular file"):
        km.load("/dev/zero")
    with open("/dev/zero", "rb") as fh, pytest.raises(ValueError, match="not a regular file"):
        km.load(fh)


def test_a_fifo_is_refused_before_reading(tmp_path):
    import os

    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    # opening a FIFO for reading blocks until a writer comes: give it one
    # that writes nothing, then closes
    import threading
    writer = threading.Thread(target=lambda: open(fifo, "wb").close())
    writer.start()
    try:
        with pytest.raises(ValueError, match="not a regular file"):
            km.load(fifo)
    finally:
        writer.join(timeout=10)
