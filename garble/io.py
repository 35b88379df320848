"""Reading input documents and writing outputs safely.

``read_document`` reads one whole document (``garble rank``/``report``);
plain text, ``.gz`` or ``.zst``, or ``-`` for standard input. Bytes that are
not UTF-8 are decoded with U+FFFD and reported as a warning naming the file and
line; a binary file (NUL bytes) is an :class:`~garble.errors.InputError`, and
so is a file that cannot be opened, read or decompressed: never a traceback.

``atomic_output`` writes an output file all at once (a temporary file renamed
into place) or not at all; any failure to write (missing folder, permissions,
full disk, standard output closed or full) is an
:class:`~garble.errors.OutputError`.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Union

from .errors import InputError, OutputError

PathLike = Union[str, os.PathLike]

# mkstemp makes 0600 files; outputs get the usual 0666 & ~umask (read once, at import)
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def open_binary(path: PathLike) -> IO[bytes]:
    """Open a file for reading bytes, decompressing ``.gz``/``.zst`` by suffix."""
    p = str(path)
    if p == "-":
        return sys.stdin.buffer
    try:
        if p.endswith(".gz"):
            return gzip.open(p, "rb")
        if p.endswith(".zst"):
            try:
                import zstandard
            except ImportError:
                raise InputError("reading .zst needs the zstandard package (pip install zstandard)", path=p) from None
            return zstandard.ZstdDecompressor().stream_reader(open(p, "rb"), closefd=True)
        return open(p, "rb")
    except OSError as e:
        raise input_error(e, p) from None


def input_error(e: OSError, path: str, verb: str = "open") -> InputError:
    """The :class:`InputError` for ``e``, met opening (``verb``: or reading) ``path``."""
    if isinstance(e, FileNotFoundError):
        return InputError("no such file", path=path)
    if isinstance(e, IsADirectoryError):
        return InputError("is a directory, not a file", path=path)
    if isinstance(e, PermissionError):
        return InputError("permission denied", path=path)
    return InputError(f"cannot {verb}: {e.strerror or e}", path=path)


def decode(data: bytes, path: str) -> tuple[str, list[str]]:
    """UTF-8 text of ``data`` (BOM dropped) and warnings for undecodable bytes."""
    if b"\x00" in data[:8192]:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise InputError("UTF-16 text, not UTF-8: convert it first (iconv -f UTF-16 -t UTF-8)", path=path)
        raise InputError("binary file (NUL bytes), not text", path=path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    warnings: list[str] = []
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            warnings.append(f"{path}:{lineno}: invalid UTF-8 at byte {e.start} of the line, replaced with U+FFFD")
            if len(warnings) >= 20:
                warnings.append(f"{path}: more invalid UTF-8 lines not listed")
                break
    return data.decode("utf-8", errors="replace"), warnings


def read_document(path: PathLike) -> tuple[str, list[str]]:
    """The text of one document and any warnings about it."""
    p = str(path)
    fh = open_binary(p)
    try:
        data = fh.read()
    except MemoryError:
        raise InputError("too large to read into memory (garble score streams a corpus line by line)", path=p) from None
    except Exception as e:  # corrupt .gz (OSError, EOFError, zlib.error), .zst (ZstdError), I/O error
        reason = {errno.EISDIR: "is a directory, not a file"}.get(getattr(e, "errno", None), f"cannot read: {e}")
        raise InputError(reason, path=p) from None
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
    return decode(data, p)


def _fdopen(fd: int, mode: str) -> IO:
    """The file object of an output file (a seam for tests that simulate a full disk)."""
    return io.open(fd, mode, encoding=None if "b" in mode else "utf-8", newline=None if "b" in mode else "\n")


def _why(e: BaseException) -> str:
    if isinstance(e, UnicodeEncodeError):
        return f"cannot encode {e.object[e.start : e.end]!r} in {e.encoding} (set PYTHONIOENCODING=utf-8)"
    return f"cannot write: {getattr(e, 'strerror', None) or e}"


@contextmanager
def _stdout(mode: str) -> Iterator[IO]:
    out = sys.stdout if "b" not in mode else sys.stdout.buffer
    try:
        yield out
        out.flush()
    except BrokenPipeError:
        raise  # the reader went away (| head): the CLI ends quietly
    except (OSError, UnicodeEncodeError) as e:
        if sys.stdout is sys.__stdout__:  # nothing more will get through: don't fail again at exit
            try:
                sys.stdout = open(os.devnull, "w")
            except OSError:
                pass
        raise OutputError(_why(e), path="<stdout>") from None


@contextmanager
def atomic_output(path: PathLike, mode: str = "w") -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    ``-`` is standard output. A failure (full disk, permissions) is an
    :class:`~garble.errors.OutputError` and leaves no half-written file.
    """
    p = str(path)
    if p == "-":
        with _stdout(mode) as out:
            yield out
        return
    target = Path(p)
    try:
        st = os.stat(p)
    except OSError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError("is a directory", path=p)
    if st is not None and not stat.S_ISREG(st.st_mode):
        # a device or FIFO (/dev/null, /dev/stdout, a named pipe): written in
        # place; renaming a temporary file over it would replace the device
        try:
            fh = open(p, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}))
        except OSError as e:
            raise OutputError(_why(e), path=p) from None
        try:
            with fh:
                yield fh
        except (OSError, UnicodeEncodeError) as e:
            raise OutputError(_why(e), path=p) from None
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent or Path(".")))
    except FileNotFoundError:
        raise OutputError("output folder does not exist", path=p) from None
    except OSError as e:
        raise OutputError(f"cannot write: {e.strerror or e}", path=p) from None
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with _fdopen(fd, mode) as fh:
            yield fh
        os.replace(tmp, target)
    except (OSError, UnicodeEncodeError) as e:
        _unlink(tmp)
        raise OutputError(_why(e), path=p) from None
    except BaseException:
        _unlink(tmp)
        raise


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
