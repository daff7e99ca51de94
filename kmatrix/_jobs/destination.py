"""Writing a result file without losing or leaving anything behind.

:func:`replacing` judges a destination before any work is done, writes the
result to a temporary file beside the file it will replace, and renames it
over that file only when it is complete:

- a symlink is written through: its target is replaced, the link stays;
- an existing file keeps its permission bits (and owner, where the process
  may set it); a new one gets the usual ``0666 & ~umask``;
- a directory, an empty path, a missing or unwritable folder, and anything
  that is not a regular file (a device such as ``/dev/null``, a FIFO, a
  socket) are refused before the work, with the user's path in the message;
- on any error, Ctrl-C or SIGTERM the temporary file is removed and the old
  destination is left as it was. SIGTERM (what ``kill`` and ``timeout``
  send) is turned into an exception while the file is written, in the main
  thread and only where its handler is still the default; once the file is
  cleaned up the signal is delivered again, so the process ends as it would
  have (status 143). SIGKILL cannot be caught: it can leave the temporary
  file (``.NAME.*.tmp`` beside the destination) behind.
"""

import contextlib
import os
import signal
import stat
import tempfile
import threading

__all__ = ["replacing"]


class _Terminated(BaseException):
    """SIGTERM, raised where the file is being written (like KeyboardInterrupt)."""


def _judge(dst, what):
    """The real path to write, after every check that needs no work."""
    if not isinstance(dst, (str, bytes, os.PathLike)):
        raise ValueError(f"{what}: the destination must be a path, got {type(dst).__name__}")
    dst = os.fsdecode(os.fspath(dst))
    if not dst:
        raise ValueError(f"{what}: the destination path is empty")
    target = os.path.realpath(dst)   # through symlinks (a dangling one names its target)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise ValueError(f"{what}: the destination {dst} is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{what}: the destination {dst} is not a regular file (a device, "
                         "FIFO or socket); kmatrix writes its results to regular files only")
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise ValueError(f"{what}: the folder of the destination {dst} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{what}: the folder of the destination {dst} is not writable")
    return dst, target, st


def _take_over(tmp, st):
    """Give the temporary file the mode (and owner) of the file it replaces,
    or a new file's usual mode."""
    if st is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    else:
        mode = stat.S_IMODE(st.st_mode)
        if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
            with contextlib.suppress(OSError):   # not permitted: the writer owns it
                os.chown(tmp, st.st_uid, st.st_gid)
    with contextlib.suppress(OSError):           # filesystems without modes
        os.chmod(tmp, mode)


@contextlib.contextmanager
def _sigterm_raises():
    """SIGTERM raises _Terminated inside the block (main thread, default handler)."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def handler(signum, frame):
        raise _Terminated()

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def replacing(dst, what):
    """Write a new ``dst``: yields a binary file object to write; on success
    the file replaces ``dst`` (see the module docstring), on failure nothing
    changes.

    ``what`` names the operation in messages (``"apply_npy"``). Errors of
    the block pass through unchanged (the block names its own files); an
    error creating, finishing or renaming the temporary file names ``dst``,
    never the temporary file.
    """
    dst, target, st = _judge(dst, what)
    folder, name = os.path.split(target)
    terminated = False
    with _sigterm_raises():
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise OSError(exc.errno, f"{what}: cannot write beside {dst}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
            try:
                _take_over(tmp, st)
                os.replace(tmp, target)
            except OSError as exc:
                raise OSError(exc.errno, f"{what}: cannot replace {dst}: {exc.strerror}") from None
        except _Terminated:
            terminated = True
            _remove(tmp)
        except BaseException:
            _remove(tmp)
            raise
    if terminated:
        signal.raise_signal(signal.SIGTERM)   # the default handler is back: the process ends


def _remove(path):
    with contextlib.suppress(OSError):
        os.unlink(path)
