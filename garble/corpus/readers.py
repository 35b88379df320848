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

    ``source``: the input file it comes from; ``id``: the id field's value,
    else ``"SOURCE:LINE"``; ``line``: 1-based line (Parquet: row) number in
    ``source`` (XLIFF/TMX: the line of the unit's element); ``doc``: the
    document field's value (``None`` without one); ``text``: ``None`` when it
    could not be read; ``error``: why the record is not scored (``None`` for a
    good record); ``source_text``: the segment's source sentence (a translation
    pair: ``--source-field``, TSV, XLIFF, TMX; ``None`` without one);
    ``source_lang``: the source language to score it with (``None``: identified
    when scored, per document).
    """

    source: str
    id: str
    line: int
    doc: Optional[str]
    text: Optional[str]
    error: Optional[str] = None
    source_text: Optional[str] = None
    source_lang: Optional[str] = None


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
    obj: dict,
    source: str,
    rid: str,
    line: int,
    field: str,
    id_field: Optional[str],
    doc_field: Optional[str],
    source_field: Optional[str] = None,
) -> Record:
    """The record of one JSON object (or table row): its text, id, document and source fields, or the reasons it
    has none.

    ``rid`` is the id used when ``id_field`` is not given. A missing or null
    source is a segment without a source (scored as without ``source_field``);
    a source that is not a string makes the record an error record.
    """
    errors: list[str] = []
    doc = None
    src: Optional[str] = None
    if id_field is not None:
        label = _labelled(obj, id_field, "id", errors)
        rid = rid if label is None else label
    if doc_field is not None:
        doc = _labelled(obj, doc_field, "document", errors)
    if source_field is not None:
        s = get_field(obj, source_field)
        if isinstance(s, str):
            src = clean(s)
        elif s is not MISSING and s is not None:
            errors.append(f"source field {source_field!r} is {_type_name(s)}, not a string")
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
    return Record(source, rid, line, doc, text, "; ".join(errors) or None, src)


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
    source_field: Optional[str] = None,
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
        yield record_of(obj, path, rid, n, field, id_field, doc_field, source_field)


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


def _parquet_columns(
    pf: Any, path: str, field: str, id_field: Optional[str], doc_field: Optional[str], source_field: Optional[str]
) -> list[str]:
    """The columns to read: each named one must exist, the text (and source) column must hold strings."""
    import pyarrow as pa

    schema = pf.schema_arrow
    names = schema.names
    cols: list[str] = []
    for role, col in (("text", field), ("id", id_field), ("document", doc_field), ("source", source_field)):
        if col is None:
            continue
        if col not in names:
            raise InputError(f"no {role} column {col!r} (columns: {', '.join(names) or 'none'})", path=path)
        if col not in cols:
            cols.append(col)
    for col, nulls_ok in ((field, False), (source_field, True)):
        if col is None:
            continue
        t = schema.field(col).type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if not (
            pa.types.is_string(t)
            or pa.types.is_large_string(t)
            or str(t) == "string_view"
            or (nulls_ok and pa.types.is_null(t))
        ):
            raise InputError(f"column {col!r} is {t}, not a string column", path=path)
    return cols


def read_parquet(
    path: str,
    *,
    field: str = "text",
    id_field: Optional[str] = None,
    doc_field: Optional[str] = None,
    source_field: Optional[str] = None,
    skip: int = 0,
    batch_rows: int = 4096,
    warn: Optional[Warn] = None,
) -> Iterator[Record]:
    """One record per row of a Parquet file (after the first ``skip`` rows).

    ``field`` (and ``source_field``) must be string columns; ``id_field``/``doc_field`` may be of
    any type (values are turned into strings).
    """
    import pyarrow as pa

    pf = parquet_file(path)
    cols = _parquet_columns(pf, path, field, id_field, doc_field, source_field)
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=batch_rows, columns=cols):
            n = batch.num_rows
            lo = max(0, skip - row)
            if lo < n:
                for line, obj in enumerate(batch.slice(lo).to_pylist(), row + lo + 1):
                    yield record_of(obj, path, f"{path}:{line}", line, field, id_field, doc_field, source_field)
            row += n
    except GarbleError:
        raise
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"cannot read: {e}", path=path, line=row + 1) from None


def read_tsv(path: str, *, skip: int = 0, warn: Optional[Warn] = None) -> Iterator[Record]:
    """One record per line of a bitext TSV file, ``source<TAB>target`` (after the first ``skip`` records).

    A first line ``source<TAB>target`` is a header, not a record; a blank line
    is an error record; a line without exactly two columns stops the run (an
    :class:`InputError` naming the line: the file is not a bitext TSV).
    """
    decode = Decoder(path, warn or default_warn)
    done = 0
    for n, raw in raw_lines(path):
        line = decode(raw, n)
        if not line.strip():
            rec = Record(path, f"{path}:{n}", n, None, None, "empty line")
        else:
            cols = line.split("\t")
            if len(cols) != 2:
                why = f"expected 2 tab-separated columns (source, target), found {len(cols)}"
                raise InputError(why, path=path, line=n)
            if n == 1 and [c.strip().lower() for c in cols] == ["source", "target"]:
                continue
            src, text = cols
            rec = Record(path, f"{path}:{n}", n, None, text, None if text.strip() else "empty text", src)
        done += 1
        if done > skip:
            yield rec


def read_xml_pairs(path: str, fmt: str, *, source_lang: Optional[str] = None, skip: int = 0) -> Iterator[Record]:
    """One record per translated unit of an XLIFF or TMX file (units without a target are not segments).

    The file is parsed whole (:func:`garble.bitext.read_xml`). ``id`` is the
    unit's id (else ``"SOURCE:LINE"``), ``line`` the line of its element;
    ``source_lang``: the one given, else the file's declared source language,
    else identified from its sources (the first 4,000 characters).
    """
    from ..bitext import read_xml

    bt = read_xml(path, fmt)
    lang = source_lang or bt.source_lang
    if lang is None and bt.segments:
        lang = identify_sources(s.source for s in bt.segments)
    for k, seg in enumerate(bt.segments[skip:], skip + 1):
        line = seg.line if seg.line is not None else k
        yield Record(path, seg.id or f"{path}:{line}", line, None, seg.target, None, seg.source, lang)


#: the characters of sources :func:`identify_sources` reads (as :meth:`garble.Scorer.score_segments` does)
IDENTIFY_CHARS = 4000
#: the records :func:`_file_language` reads at most, looking for sources
IDENTIFY_RECORDS = 10000


def identify_sources(sources: Iterable[Optional[str]]) -> Optional[str]:
    """The language of ``sources`` (their first :data:`IDENTIFY_CHARS` characters), or ``None``."""
    from ..langid import identify

    got: list[str] = []
    n = 0
    for s in sources:
        if s:
            got.append(s)
            n += len(s) + 1
            if n >= IDENTIFY_CHARS:
                break
    return identify(" ".join(got)[:IDENTIFY_CHARS]) if got else None


def _file_language(records: Iterator[Record]) -> Optional[str]:
    """The language of the sources of a file's first records (read from its start, so resuming gets the same)."""

    def sources() -> Iterator[Optional[str]]:
        for i, r in enumerate(records):
            if i >= IDENTIFY_RECORDS:
                return
            if r.error is None:
                yield r.source_text

    try:
        return identify_sources(sources())
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()


def _with_language(records: Iterator[Record], language: Callable[[], Optional[str]]) -> Iterator[Record]:
    """``records``, those with a source given the language ``language()`` says (asked once, at the first)."""
    lang: Any = MISSING
    for r in records:
        if r.source_text and r.source_lang is None:
            if lang is MISSING:
                lang = language()
            if lang is not None:
                r = r._replace(source_lang=lang)
        yield r


def read_file(
    path: str,
    *,
    fmt: str = "auto",
    field: str = "text",
    id_field: Optional[str] = None,
    doc_field: Optional[str] = None,
    source_field: Optional[str] = None,
    source_lang: Optional[str] = None,
    skip: int = 0,
    warn: Optional[Warn] = None,
) -> Iterator[Record]:
    """The records of one input file (``-``: standard input, plain text, JSONL or TSV).

    Records with a source (``source_field``, TSV, XLIFF, TMX) get their source
    language: ``source_lang`` if given; XLIFF/TMX: else the file's declared
    one; else, for records that are scored on their own (no ``doc_field``,
    and always in TSV, XLIFF, TMX), the language identified from the file's
    first sources (the same whatever ``skip``); with ``doc_field`` it is left
    to :meth:`garble.Scorer.score_units`, which identifies it per document.
    """
    kind = "txt" if path == "-" and fmt == "auto" else input_format(path, fmt)
    if path == "-" and kind in ("parquet", "xliff", "tmx"):
        raise UsageError(f"{_FORMAT_NAMES[kind]} cannot be read from standard input")

    def records(skip: int, warn: Optional[Warn] = warn) -> Iterator[Record]:
        if kind in ("jsonl", "parquet"):
            kw = dict(field=field, id_field=id_field, doc_field=doc_field, source_field=source_field)
            return (read_parquet if kind == "parquet" else read_jsonl)(path, skip=skip, warn=warn, **kw)
        if kind == "tsv":
            return read_tsv(path, skip=skip, warn=warn)
        if kind in ("xliff", "tmx"):
            return read_xml_pairs(path, kind, source_lang=source_lang, skip=skip)
        return read_txt(path, skip=skip, warn=warn)

    if kind in ("txt", "xliff", "tmx") or (kind in ("jsonl", "parquet") and source_field is None):
        return records(skip)  # no sources, or (XLIFF/TMX) their language found by the reader
    if source_lang is not None:
        return _with_language(records(skip), lambda: source_lang)
    if path == "-" or (doc_field is not None and kind != "tsv"):
        return records(skip)  # identified when scored: per document, or (standard input) per record
    return _with_language(records(skip), lambda: _file_language(records(0, _quiet)))


def _quiet(msg: str) -> None:
    """Warnings of a second reading of a file (said once, by the first)."""


_FORMAT_NAMES = {"parquet": "Parquet", "xliff": "XLIFF", "tmx": "TMX"}


def iter_records(
    inputs: Union[PathLike, Iterable[PathLike]],
    *,
    fmt: str = "auto",
    field: str = "text",
    id_field: Optional[str] = None,
    doc_field: Optional[str] = None,
    source_field: Optional[str] = None,
    source_lang: Optional[str] = None,
    warn: Optional[Warn] = None,
) -> Iterator[Record]:
    """Every record of ``inputs`` (files, folders, globs; see :mod:`garble.corpus`), in order."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    kw = dict(field=field, id_field=id_field, doc_field=doc_field, source_field=source_field, source_lang=source_lang)
    for path in expand_inputs(inputs):
        yield from read_file(path, fmt=fmt, warn=warn, **kw)


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
