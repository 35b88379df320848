"""Reading input documents and writing outputs safely.

``read_document`` reads one whole document (``garble rank``/``report``);
plain text, ``.gz`` or ``.zst``, or ``-`` for standard input. Bytes that are
not UTF-8 are decoded with U+FFFD and reported as a warning naming the file and
line; a binary file (NUL bytes) is an :class:`~garble.errors.InputError`.
"""

from __future__ import annotations

import gzip
import io
import os
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
            import zstandard

            return zstandard.ZstdDecompressor().stream_reader(open(p, "rb"), closefd=True)
        return open(p, "rb")
    except FileNotFoundError:
        raise InputError("no such file", path=p) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=p) from None
    except PermissionError:
        raise InputError("permission denied", path=p) from None
    except OSError as e:
        raise InputError(f"cannot open: {e.strerror or e}", path=p) from None


def decode(data: bytes, path: str) -> tuple[str, list[str]]:
    """UTF-8 text of ``data`` (BOM dropped) and warnings for undecodable bytes."""
    if b"\x00" in data[:8192]:
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
    with open_binary(p) as fh:
        try:
            data = fh.read()
        except (OSError, EOFError, ValueError) as e:  # corrupt .gz/.zst, I/O error
            raise InputError(f"cannot read: {e}", path=p) from None
    return decode(data, p)


@contextmanager
def atomic_output(path: PathLike, mode: str = "w") -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    ``-`` is standard output. A failure (full disk, permissions) is an
    :class:`~garble.errors.OutputError` and leaves no half-written file.
    """
    p = str(path)
    if p == "-":
        yield sys.stdout if "b" not in mode else sys.stdout.buffer
        return
    target = Path(p)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent or Path(".")))
    except FileNotFoundError:
        raise OutputError("output folder does not exist", path=p) from None
    except OSError as e:
        raise OutputError(f"cannot write: {e.strerror or e}", path=p) from None
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        with io.open(fd, mode, encoding=None if "b" in mode else "utf-8", newline=None if "b" in mode else "\n") as fh:
            yield fh
        os.replace(tmp, target)
    except OSError as e:
        _unlink(tmp)
        raise OutputError(f"cannot write: {e.strerror or e}", path=p) from None
    except BaseException:
        _unlink(tmp)
        raise


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
