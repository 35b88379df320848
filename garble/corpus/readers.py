"""Readers: one :class:`Record` per input line (Parquet: row) of text, JSON-lines and Parquet files.

Also the pieces other readers share (:mod:`garble.bitext`): :func:`raw_lines`,
:class:`Decoder`, :func:`clean`, :func:`get_field`, :func:`parquet_file`.
"""

from __future__ import annotations

import io
import json
import os
import sys
from typing import IO, Any, Callable, Iterable, Iterator, NamedTuple, Optional, Sequence, Union

from ..errors import GarbleError, InputError, UsageError
from ..io import open_binary
from .inputs import PathLike, expand_inputs, input_format, strip_compression

Warn = Callable[[str], None]

_NUL_CHECK_BYTES = 8192
_MAX_UTF8_WARNINGS = 20
_BOM = b"\xef\xbb\xbf"


class Record(NamedTuple):
    """One input segment.

    ``id``: the id field's value, else ``"SOURCE:LINE"``; ``line``: 1-based
    line (Parquet: row) number in ``source``; ``doc``: the document field's
    value (``None`` without one); ``text``: ``None`` when it could not be read;
    ``error``: why the record is not scored (``None`` for a good record).
    """

    source: str
    id: str
    line: int
    doc: Optional[str]
    text: Optional[str]
    error: Optional[str] = None


def default_warn(msg: str) -> None:
    """Print a warning on standard error."""
    sys.stderr.write(f"garble: warning: {msg}\n")


# ---------------------------------------------------------------------------
# lines and their decoding


def open_stream(path: str) -> IO[bytes]:
    """A buffered byte stream of ``path`` (``.gz``/``.zst`` decompressed; zstd across frames)."""
    if path.endswith(".zst"):
        try:
            raw = open(path, "rb")
        except OSError:
            return open_binary(path)  # raises the InputError that fits
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
        return io.BufferedReader(reader, buffer_size=1 << 16)  # type: ignore[arg-type]
    return open_binary(path)


def raw_lines(path: str, skip: int = 0) -> Iterator[tuple[int, bytes]]:
    """``(line_number, raw_bytes)`` of every line of a text file (the newline kept)."""
    fh = open_stream(path)
    n = 0
    checked = 0
    try:
        while True:
            try:
                raw = fh.readline()
            except GarbleError:
                raise
            except Exception as e:  # corrupt .gz/.zst, I/O error
                raise InputError(f"cannot read: {e}", path=path, line=n + 1) from None
            if not raw:
                return
            n += 1
            if checked < _NUL_CHECK_BYTES:
                if b"\x00" in raw:
                    raise InputError("binary file (NUL bytes), not text", path=path, line=n)
                checked += len(raw)
            if n > skip:
                yield n, raw
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


class Decoder:
    """UTF-8 decoding of lines; undecodable bytes become U+FFFD, with a warning."""

    def __init__(self, path: str, warn: Warn):
        self.path = path
        self.warn = warn
        self.warned = 0

    def __call__(self, raw: bytes, lineno: int) -> str:
        if raw.endswith(b"\n"):
            raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
        if lineno == 1 and raw.startswith(_BOM):
            raw = raw[3:]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            if self.warned < _MAX_UTF8_WARNINGS:
                self.warn(f"{self.path}:{lineno}: invalid UTF-8 at byte {e.start} of the line, replaced with U+FFFD")
            elif self.warned == _MAX_UTF8_WARNINGS:
                self.warn(f"{self.path}: more invalid UTF-8 lines not listed")
            self.warned += 1
            return raw.decode("utf-8", errors="replace")


def clean(s: str) -> str:
    """``s`` with lone surrogates (from JSON ``\\ud800`` escapes) replaced by U+FFFD."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# ---------------------------------------------------------------------------
# fields of objects and rows

#: what :func:`get_field` returns for a field the object lacks
MISSING = object()


def get_field(obj: dict, name: str) -> Any:
    """``obj[name]``; a dotted ``name`` reaches into nested objects when no key has that literal name."""
    if name in obj:
        return obj[name]
    if "." in name:
        cur: Any = obj
        for part in name.split("."):
            if not isinstance(cur, dict) or part not in cur:
                return MISSING
            cur = cur[part]
        return cur
    return MISSING


_TYPE_NAMES = {dict: "an object", list: "an array", bool: "a boolean", int: "a number", float: "a number"}


def _type_name(v: Any) -> str:
    return _TYPE_NAMES.get(type(v), type(v).__name__)


def _label(value: Any) -> str:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return str(value)
    return clean(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _labelled(obj: dict, name: str, role: str, errors: list[str]) -> Optional[str]:
    """The value of field ``name`` as a string; ``None``, with the reason added to ``errors``, when missing or null."""
    v = get_field(obj, name)
    if v is MISSING or v is None:
        errors.append(f"no {role} field {name!r}" if v is MISSING else f"{role} field {name!r} is null")
        return None
    return _label(v)


def record_of(
    obj: dict, source: str, rid: str, line: int, field: str, id_field: Optional[str], doc_field: Optional[str]
) -> Record:
    """The record of one JSON object (or table row): its text, id and document fields, or the reasons it has none.

    ``rid`` is the id used when ``id_field`` is not given.
    """
    errors: list[str] = []
    doc = None
    if id_field is not None:
        label = _labelled(obj, id_field, "id", errors)
        rid = rid if label is None else label
    if doc_field is not None:
        doc = _labelled(obj, doc_field, "document", errors)
    v = get_field(obj, field)
    text: Optional[str] = None
    if v is MISSING:
        errors.insert(0, f"no field {field!r}")
    elif v is None:
        errors.insert(0, f"field {field!r} is null")
    elif not isinstance(v, str):
        errors.insert(0, f"field {field!r} is {_type_name(v)}, not a string")
    else:
        text = clean(v)
        if not errors and not text.strip():
            errors.append("empty text")
    return Record(source, rid, line, doc, text, "; ".join(errors) or None)


# ---------------------------------------------------------------------------
# the readers


def read_txt(path: str, *, skip: int = 0, warn: Optional[Warn] = None) -> Iterator[Record]:
    """One record per line of a text file (after the first ``skip`` lines)."""
    decode = Decoder(path, warn or default_warn)
    for n, raw in raw_lines(path, skip):
        text = decode(raw, n)
        yield Record(path, f"{path}:{n}", n, None, text, None if text.strip() else "empty line")


def read_jsonl(
    path: str,
    *,
    field: str = "text",
    id_field: Optional[str] = None,
    doc_field: Optional[str] = None,
    skip: int = 0,
    warn: Optional[Warn] = None,
) -> Iterator[Record]:
    """One record per line of a JSON-lines file (after the first ``skip`` lines)."""
    decode = Decoder(path, warn or default_warn)
    for n, raw in raw_lines(path, skip):
        line = decode(raw, n)
        rid = f"{path}:{n}"
        if not line.strip():
            yield Record(path, rid, n, None, None, "empty line")
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            msg = getattr(e, "msg", str(e))
            col = getattr(e, "colno", None)
            yield Record(path, rid, n, None, None, f"invalid JSON: {msg}" + (f" (column {col})" if col else ""))
            continue
        if not isinstance(obj, dict):
            yield Record(path, rid, n, None, None, f"not a JSON object but {_type_name(obj)}")
            continue
        yield record_of(obj, path, rid, n, field, id_field, doc_field)


def parquet_file(path: str):
    """``path`` as a :class:`pyarrow.parquet.ParquetFile`; what keeps it from opening is an :class:`InputError`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if strip_compression(path) != path:
        raise InputError("compressed Parquet is not supported (Parquet compresses its columns itself)", path=path)
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError, ValueError) as e:
        if isinstance(e, (FileNotFoundError, IsADirectoryError, PermissionError)):
            open_binary(path).close()  # raises the InputError that fits
        raise InputError(f"not a readable Parquet file: {e}", path=path) from None


def _parquet_columns(pf: Any, path: str, field: str, id_field: Optional[str], doc_field: Optional[str]) -> list[str]:
    """The columns to read: each named one must exist, the text column must hold strings."""
    import pyarrow as pa

    schema = pf.schema_arrow
    names = schema.names
    cols: list[str] = []
    for role, col in (("text", field), ("id", id_field), ("document", doc_field)):
        if col is None:
            continue
        if col not in names:
            raise InputError(f"no {role} column {col!r} (columns: {', '.join(names) or 'none'})", path=path)
        if col not in cols:
            cols.append(col)
    t = schema.field(field).type
    if pa.types.is_dictionary(t):
        t = t.value_type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t) or str(t) == "string_view"):
        raise InputError(f"column {field!r} is {t}, not a string column", path=path)
    return cols


def read_parquet(
    path: str,
    *,
    field: str = "text",
    id_field: Optional[str] = None,
    doc_field: Optional[str] = None,
    skip: int = 0,
    batch_rows: int = 4096,
    warn: Optional[Warn] = None,
) -> Iterator[Record]:
    """One record per row of a Parquet file (after the first ``skip`` rows).

    ``field`` must be a string column; ``id_field``/``doc_field`` may be of
    any type (values are turned into strings).
    """
    import pyarrow as pa

    pf = parquet_file(path)
    cols = _parquet_columns(pf, path, field, id_field, doc_field)
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=batch_rows, columns=cols):
            n = batch.num_rows
            lo = max(0, skip - row)
            if lo < n:
                for line, obj in enumerate(batch.slice(lo).to_pylist(), row + lo + 1):
                    yield record_of(obj, path, f"{path}:{line}", line, field, id_field, doc_field)
            row += n
    except GarbleError:
        raise
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"cannot read: {e}", path=path, line=row + 1) from None


def read_file(
    path: str,
    *,
    fmt: str = "auto",
    field: str = "text",
    id_field: Optional[str] = None,
    doc_field: Optional[str] = None,
    skip: int = 0,
    warn: Optional[Warn] = None,
) -> Iterator[Record]:
    """The records of one input file (``-``: standard input, plain text)."""
    kind = "txt" if path == "-" and fmt == "auto" else input_format(path, fmt)
    if kind == "parquet":
        if path == "-":
            raise UsageError("Parquet cannot be read from standard input")
        return read_parquet(path, field=field, id_field=id_field, doc_field=doc_field, skip=skip, warn=warn)
    if kind == "jsonl":
        return read_jsonl(path, field=field, id_field=id_field, doc_field=doc_field, skip=skip, warn=warn)
    return read_txt(path, skip=skip, warn=warn)


def iter_records(
    inputs: Union[PathLike, Iterable[PathLike]],
    *,
    fmt: str = "auto",
    field: str = "text",
    id_field: Optional[str] = None,
    doc_field: Optional[str] = None,
    warn: Optional[Warn] = None,
) -> Iterator[Record]:
    """Every record of ``inputs`` (files, folders, globs; see :mod:`garble.corpus`), in order."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    for path in expand_inputs(inputs):
        yield from read_file(path, fmt=fmt, field=field, id_field=id_field, doc_field=doc_field, warn=warn)


def positioned(files: Sequence[str], start: tuple[int, int], **kw) -> Iterator[tuple[tuple[int, int], Record]]:
    """Records with their position ``(file index, records done in that file)``, from ``start``."""
    fi0, skip = start
    for fi in range(fi0, len(files)):
        k = skip if fi == fi0 else 0
        empty = True
        for rec in read_file(files[fi], skip=k, **kw):
            empty = False
            k += 1
            yield (fi, k), rec
        if empty and k == 0 and kw.get("warn"):
            kw["warn"](f"{files[fi]}: empty input (no records)")
