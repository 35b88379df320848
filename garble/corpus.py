"""Corpus scale: stream millions of segments through a :class:`~garble.Scorer`, resumably.

Reading
-------
:func:`iter_records` streams :class:`Record` objects, one per input segment,
from any mix of

* plain text (``.txt`` and any unknown suffix): one segment per line (``\\n``
  or ``\\r\\n``); blank lines are records too, with ``error="empty line"``;
* JSON lines (``.jsonl``, ``.ndjson``): one object per line; ``field`` names
  the text (a dotted path such as ``tr.en`` reaches into nested objects when
  no key has that literal name), ``id_field`` an id carried through,
  ``doc_field`` the document a segment belongs to. A line that is not JSON,
  not an object, or lacks a named field is an error record with the reason;
* Parquet (``.parquet``, ``.pq``), read in record batches with pyarrow; a
  missing column is an :class:`~garble.errors.InputError` naming file and
  column, a null value an error record;
* ``.gz`` / ``.zst`` compression of text and JSONL (multi-member/-frame too);
* directories (walked recursively in sorted order, files with a known suffix
  only, hidden files and folders skipped), glob patterns (``'data/**/*.jsonl'``)
  and ``-`` for standard input (plain text).

Every input line (Parquet row) gives exactly one record, never more and never
fewer, and nothing reads a whole file into memory.

Scoring
-------
:func:`score_corpus` writes one output record per input record, in input
order: ``{"source", "id", "line", "doc", "text", "score", "rank", "findings",
"lm", "error"}``. Finding offsets and ``lm.max_span`` are character offsets
into the record's own ``text`` (clipped to it).

* Without a document field every record is its own one-unit document: its
  score depends on its text alone (not on its neighbours, the batch size or
  the number of workers), and ``rank`` and ``doc`` are null. The LM's
  document-relative features are then neutral (``rel_median`` 0).
* With ``doc_field``, consecutive records of one file with the same value
  form a document, scored together (:meth:`Scorer.score_units`); ``rank`` is
  1..n within the document (error records are not ranked). A document longer
  than ``max_doc_units`` records is scored and ranked in parts of that size
  (with a warning). A document's records must be consecutive: a record whose
  doc value belongs to a document already closed (other documents came in
  between) stops the run with an :class:`InputError` naming its line, rather
  than splitting the document silently.
* Error records (empty line, broken JSON, missing field) have ``score``,
  ``rank`` and ``lm`` null, no findings, and the reason in ``error``.

Records are scored in chunks of about ``batch_size`` records (whole
documents; one LM call per chunk, so the GPU sees large batches; the first
chunks ramp up from ``FIRST_CHUNK``, so that a run killed early has a
checkpoint to resume from), optionally
in ``workers`` processes (detectors-only scoring). Memory is bounded by a
chunk (and, with ``workers``, a few chunks in flight), whatever the input size.

Resuming
--------
Output for a file path ``OUT`` is appended to ``OUT.garble-partial`` and
checkpointed in ``OUT.garble-state.json`` (records done, bytes of the partial
output flushed, input position, and a fingerprint of the inputs' paths, sizes
and mtimes and of every option that changes the output). After a kill at any
moment, running the same command again truncates the partial output to the
last checkpoint and continues from the input position recorded there; the
result is byte-identical to an uninterrupted run. When everything is written,
the output is published with one atomic rename (Parquet: converted into a
temporary file first), so ``OUT`` never holds a half-written file. If the
inputs or options changed since the checkpoint, resuming is refused with a
:class:`~garble.errors.UsageError` (``resume=False`` / ``--restart`` starts
over). ``OUT`` = ``-`` streams JSONL to standard output, without checkpoints.
A ``.gz`` or ``.zst`` JSONL output is compressed chunk by chunk (one gzip
member / zstd frame per chunk; standard tools read them as one stream).
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, NamedTuple, Optional, Sequence, Union

from .errors import GarbleError, InputError, OutputError, UsageError
from .io import atomic_output, open_binary

PathLike = Union[str, os.PathLike]
Warn = Callable[[str], None]

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
COMPRESSION_SUFFIXES = (".gz", ".zst")
INPUT_FORMATS = ("auto", "txt", "jsonl", "parquet")
OUTPUT_FORMATS = ("jsonl", "parquet")
STATE_SUFFIX = ".garble-state.json"
PARTIAL_SUFFIX = ".garble-partial"
STATE_VERSION = 2  # 2: the first chunks ramp up (FIRST_CHUNK), so a version-1 checkpoint would resume on other chunk boundaries
#: the first chunk's records; each next chunk may be as large as all records before it, up to
#: batch_size (16, 16, 32, 64, 128, 256, 256, ...): the first checkpoint comes after a few
#: seconds even with a language model on a CPU. Chunk boundaries depend only on the input and
#: the options (not on time), so a resumed run cuts the rest as an uninterrupted one does.
FIRST_CHUNK = 16
OUTPUT_FIELDS = ("source", "id", "line", "doc", "text", "score", "rank", "findings", "lm", "error")
PARQUET_ROW_GROUP = 16384  # rows per row group of a Parquet output (fixed: part of the byte-identical result)

_NUL_CHECK_BYTES = 8192
_MAX_UTF8_WARNINGS = 20
_BOM = b"\xef\xbb\xbf"
_GLOB_MAGIC = re.compile(r"[*?\[]")


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


# ---------------------------------------------------------------------------
# input discovery


def input_format(path: str, forced: str = "auto") -> str:
    """``txt``, ``jsonl`` or ``parquet`` for ``path`` (by suffix unless ``forced``)."""
    if forced != "auto":
        if forced not in INPUT_FORMATS:
            raise UsageError(f"unknown input format {forced!r}: expected one of {', '.join(INPUT_FORMATS)}")
        return forced
    name = _strip_compression(path).lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return "txt"


def _strip_compression(path: str) -> str:
    for s in COMPRESSION_SUFFIXES:
        if path.lower().endswith(s):
            return path[: -len(s)]
    return path


def _known_suffix(name: str) -> bool:
    base = _strip_compression(name).lower()
    if base.endswith(PARQUET_SUFFIXES):
        return base == name.lower()  # compressed Parquet is not a format
    return base.endswith(TEXT_SUFFIXES + JSONL_SUFFIXES)


def _sidecar(name: str) -> bool:
    return name.endswith(STATE_SUFFIX) or name.endswith(PARTIAL_SUFFIX) or ".garble-state." in name


def _walk(root: Path) -> list[str]:
    found: list[tuple[tuple[str, ...], str]] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=None):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for f in filenames:
            if f.startswith(".") or _sidecar(f) or not _known_suffix(f):
                continue
            full = os.path.join(dirpath, f)
            found.append((Path(full).relative_to(root).parts, full))
    found.sort()
    return [f for _, f in found]


def expand_inputs(inputs: Iterable[PathLike], *, exclude: Iterable[PathLike] = ()) -> list[str]:
    """Input files in reading order: files as given, directories walked, globs expanded.

    A missing file is an :class:`InputError`; so is a folder or pattern that
    yields no input file. Paths in ``exclude`` (the output and its sidecar
    files) are left out of what folders and patterns yield.
    """
    skip = {os.path.realpath(str(p)) for p in exclude}

    def keep(found: list[str]) -> list[str]:
        return [f for f in found if os.path.realpath(f) not in skip]

    out: list[str] = []
    for inp in inputs:
        s = str(inp)
        if s == "-":
            out.append(s)
            continue
        p = Path(s)
        if p.is_dir():
            files = keep(_walk(p))
            if not files:
                raise InputError(f"no input files in this folder (known suffixes: {', '.join(TEXT_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES)}, optionally .gz/.zst)", path=s)
            out.extend(files)
        elif p.exists():
            out.append(s)
        elif _GLOB_MAGIC.search(s):
            import glob

            files = []
            for m in sorted(glob.glob(s, recursive=True)):
                if os.path.isdir(m):
                    files.extend(_walk(Path(m)))
                elif not _sidecar(os.path.basename(m)):
                    files.append(m)
            files = keep(files)
            if not files:
                raise InputError("no input file matches this pattern", path=s)
            out.extend(files)
        else:
            raise InputError("no such file", path=s)
    return out


# ---------------------------------------------------------------------------
# readers


def _open_stream(path: str) -> IO[bytes]:
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


def _raw_lines(path: str, skip: int = 0) -> Iterator[tuple[int, bytes]]:
    """``(line_number, raw_bytes)`` of every line of a text file (the newline kept)."""
    fh = _open_stream(path)
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


class _Decoder:
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


def _clean(s: str) -> str:
    """``s`` with lone surrogates (from JSON ``\\ud800`` escapes) replaced by U+FFFD."""
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _label(value: Any) -> str:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return str(value)
    return _clean(json.dumps(value, ensure_ascii=False, sort_keys=True))


def _default_warn(msg: str) -> None:
    sys.stderr.write(f"garble: warning: {msg}\n")


def read_txt(path: str, *, skip: int = 0, warn: Optional[Warn] = None) -> Iterator[Record]:
    """One record per line of a text file (after the first ``skip`` lines)."""
    decode = _Decoder(path, warn or _default_warn)
    for n, raw in _raw_lines(path, skip):
        text = decode(raw, n)
        yield Record(path, f"{path}:{n}", n, None, text, None if text.strip() else "empty line")


_MISSING = object()


def _get(obj: dict, name: str) -> Any:
    if name in obj:
        return obj[name]
    if "." in name:
        cur: Any = obj
        for part in name.split("."):
            if not isinstance(cur, dict) or part not in cur:
                return _MISSING
            cur = cur[part]
        return cur
    return _MISSING


def _type_name(v: Any) -> str:
    return {dict: "an object", list: "an array", bool: "a boolean", int: "a number", float: "a number"}.get(type(v), type(v).__name__)


def read_jsonl(path: str, *, field: str = "text", id_field: Optional[str] = None, doc_field: Optional[str] = None, skip: int = 0, warn: Optional[Warn] = None) -> Iterator[Record]:
    """One record per line of a JSON-lines file (after the first ``skip`` lines)."""
    decode = _Decoder(path, warn or _default_warn)
    for n, raw in _raw_lines(path, skip):
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


def record_of(obj: dict, source: str, rid: str, line: int, field: str, id_field: Optional[str], doc_field: Optional[str]) -> Record:
    """The record of one JSON object (or table row): its text, id and document fields, or the reasons it has none.

    ``rid`` is the id used when ``id_field`` is not given.
    """
    errors: list[str] = []
    doc = None
    if id_field is not None:
        v = _get(obj, id_field)
        if v is _MISSING or v is None:
            errors.append(f"no id field {id_field!r}" if v is _MISSING else f"id field {id_field!r} is null")
        else:
            rid = _label(v)
    if doc_field is not None:
        v = _get(obj, doc_field)
        if v is _MISSING or v is None:
            errors.append(f"no document field {doc_field!r}" if v is _MISSING else f"document field {doc_field!r} is null")
        else:
            doc = _label(v)
    v = _get(obj, field)
    text: Optional[str] = None
    if v is _MISSING:
        errors.insert(0, f"no field {field!r}")
    elif v is None:
        errors.insert(0, f"field {field!r} is null")
    elif not isinstance(v, str):
        errors.insert(0, f"field {field!r} is {_type_name(v)}, not a string")
    else:
        text = _clean(v)
        if not errors and not text.strip():
            errors.append("empty text")
    return Record(source, rid, line, doc, text, "; ".join(errors) or None)


def _parquet_file(path: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

    if _strip_compression(path) != path:
        raise InputError("compressed Parquet is not supported (Parquet compresses its columns itself)", path=path)
    try:
        return pq.ParquetFile(path)
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=path) from None
    except PermissionError:
        raise InputError("permission denied", path=path) from None
    except (pa.ArrowException, OSError, ValueError) as e:
        raise InputError(f"not a readable Parquet file: {e}", path=path) from None


def read_parquet(path: str, *, field: str = "text", id_field: Optional[str] = None, doc_field: Optional[str] = None, skip: int = 0, batch_rows: int = 4096, warn: Optional[Warn] = None) -> Iterator[Record]:
    """One record per row of a Parquet file (after the first ``skip`` rows).

    ``field`` must be a string column; ``id_field``/``doc_field`` may be of
    any type (values are turned into strings).
    """
    import pyarrow as pa

    pf = _parquet_file(path)
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
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=batch_rows, columns=cols):
            n = batch.num_rows
            if row + n <= skip:
                row += n
                continue
            lo = max(0, skip - row)
            texts = batch.column(cols.index(field)).to_pylist()
            ids = batch.column(cols.index(id_field)).to_pylist() if id_field is not None else None
            docs = batch.column(cols.index(doc_field)).to_pylist() if doc_field is not None else None
            for i in range(lo, n):
                line = row + i + 1
                rid = f"{path}:{line}"
                errors: list[str] = []
                doc = None
                if ids is not None:
                    if ids[i] is None:
                        errors.append(f"id field {id_field!r} is null")
                    else:
                        rid = _label(ids[i])
                if docs is not None:
                    if docs[i] is None:
                        errors.append(f"document field {doc_field!r} is null")
                    else:
                        doc = _label(docs[i])
                text = texts[i]
                if text is None:
                    errors.insert(0, f"field {field!r} is null")
                else:
                    text = _clean(text)
                    if not errors and not text.strip():
                        errors.append("empty text")
                yield Record(path, rid, line, doc, text, "; ".join(errors) or None)
            row += n
    except GarbleError:
        raise
    except (pa.ArrowException, OSError) as e:
        raise InputError(f"cannot read: {e}", path=path, line=row + 1) from None


def read_file(path: str, *, fmt: str = "auto", field: str = "text", id_field: Optional[str] = None, doc_field: Optional[str] = None, skip: int = 0, warn: Optional[Warn] = None) -> Iterator[Record]:
    """The records of one input file (``-``: standard input, plain text)."""
    kind = "txt" if path == "-" and fmt == "auto" else input_format(path, fmt)
    if kind == "parquet":
        if path == "-":
            raise UsageError("Parquet cannot be read from standard input")
        return read_parquet(path, field=field, id_field=id_field, doc_field=doc_field, skip=skip, warn=warn)
    if kind == "jsonl":
        return read_jsonl(path, field=field, id_field=id_field, doc_field=doc_field, skip=skip, warn=warn)
    return read_txt(path, skip=skip, warn=warn)


def iter_records(inputs: Union[PathLike, Iterable[PathLike]], *, fmt: str = "auto", field: str = "text", id_field: Optional[str] = None, doc_field: Optional[str] = None, warn: Optional[Warn] = None) -> Iterator[Record]:
    """Every record of ``inputs`` (files, folders, globs; see module docstring), in order."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    for path in expand_inputs(inputs):
        yield from read_file(path, fmt=fmt, field=field, id_field=id_field, doc_field=doc_field, warn=warn)


def _positioned(files: Sequence[str], start: tuple[int, int], **kw) -> Iterator[tuple[tuple[int, int], Record]]:
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


# ---------------------------------------------------------------------------
# chunking


class _Chunk(NamedTuple):
    groups: list  # list[list[Record]]: documents (or single records) in input order
    end: tuple[int, int]  # input position after the chunk's last record
    n: int  # records


def _chunks(records: Iterator[tuple[tuple[int, int], Record]], batch_size: int, grouped: bool, max_doc_units: int, warn: Warn, done: int = 0) -> Iterator[_Chunk]:
    """Records in chunks of whole groups, each chunk at least ``batch_size`` records (but the last).

    The first chunks are smaller: a chunk closes at ``min(batch_size,
    max(FIRST_CHUNK, records before it))`` records, counted from the start of
    the input (``done``: records before ``records``, when resuming).

    A group is a document (``grouped``: consecutive records of one file with
    the same ``doc``; a doc value that comes back after other documents is an
    :class:`InputError` at its line), else one record. An error record without a document
    joins the open group (it is not scored, so it changes no score); a good
    record without a document (a text line among JSONL documents) is a group
    of its own.
    """
    groups: list[list[Record]] = []
    n = 0
    group: list[Record] = []
    key: Any = None
    pos = (0, 0)
    warned: set = set()
    finished: set = set()  # (file, doc) of the documents closed so far

    def limit() -> int:
        return min(batch_size, max(FIRST_CHUNK, done))

    for pos_, rec in records:
        ride = grouped and rec.doc is None and rec.error is not None
        k: Any = (pos_[0], rec.doc) if grouped and rec.doc is not None else object()
        if grouped and rec.doc is not None and k != key and k in finished:
            raise InputError(
                f"document {rec.doc!r} appears again after other documents: the records of a document must be consecutive (sort the input by its document field)",
                path=rec.source,
                line=rec.line,
            )
        if group and not ride:
            close = key is not None and k != key
            if not close and len(group) >= max_doc_units:
                close = True
                if k not in warned:
                    warned.add(k)
                    warn(f"{rec.source}: document {rec.doc!r} has more than {max_doc_units} records: scored and ranked in parts of {max_doc_units}")
            if close:
                if key is not None and k != key:
                    finished.add(key)
                groups.append(group)
                n += len(group)
                group, key = [], None
                if n >= limit():
                    yield _Chunk(groups, pos, n)
                    done += n
                    groups, n = [], 0
        group.append(rec)
        if key is None and not ride:
            key = k
        pos = pos_
    if group:
        groups.append(group)
        n += len(group)
    if groups:
        yield _Chunk(groups, pos, n)


# ---------------------------------------------------------------------------
# scoring


class _PrefetchedLM:
    """Stands in for the scorer's LM with results computed for a whole chunk in one call."""

    score_pairs = None  # answer everything from the cache (garble.lm.score_in_context then calls score)

    def __init__(self, lm: Any, cache: dict):
        self.lm = lm
        self.cache = cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lm, name)

    def score(self, texts: Sequence[str], contexts: Optional[Sequence[Optional[str]]] = None):
        keys = [(contexts[i] if contexts is not None and contexts[i] else None, t) for i, t in enumerate(texts)]
        missing = [k for k in dict.fromkeys(keys) if k not in self.cache]
        if missing:
            got = self.lm.score([t for _, t in missing], [c for c, _ in missing])
            self.cache.update(zip(missing, got))
        return [self.cache[k] for k in keys]


def _prefetch(scorer: Any, groups: Sequence[Sequence[Record]]) -> Any:
    from .readings import PrefetchedStreams

    """A shallow copy of ``scorer`` whose LM answers from one batched call over the chunk."""
    if callable(getattr(scorer.lm, "score_stream", None)):
        # one stream per document as Scorer.score_units reads it (its units joined by newlines), or per unit
        texts: dict = {}
        for g in groups:
            ok = [r.text for r in g if r.error is None]
            if not ok:
                continue
            if getattr(scorer, "context", True):
                texts["\n".join(ok)] = None
            else:
                texts.update(dict.fromkeys(ok))
        s = copy.copy(scorer)
        s.lm = PrefetchedStreams(scorer.lm, dict(zip(texts, scorer.lm.score_stream(list(texts)))) if texts else {})
        return s
    keys: dict = {}
    for g in groups:
        prev: Optional[str] = None
        for r in g:
            if r.error is not None:
                continue
            keys[(None, r.text)] = None
            if getattr(scorer, "context", False) and prev:
                keys[(prev, r.text)] = None
            prev = r.text
    cache: dict = {}
    pairs = [k for k in keys if k[0] is not None]
    if pairs and callable(getattr(scorer.lm, "score_pairs", None)):
        # one pass scores each text after its predecessor and, as a by-product, the predecessor alone
        after, prev_alone = scorer.lm.score_pairs([t for _, t in pairs], [c for c, _ in pairs])
        for (c, t), a, p in zip(pairs, after, prev_alone):
            cache[(c, t)] = a
            if p is not None:
                cache.setdefault((None, c), p)
    todo = [k for k in keys if k not in cache]
    if todo:
        got = scorer.lm.score([t for _, t in todo], [c for c, _ in todo])
        cache.update(zip(todo, got))
    s = copy.copy(scorer)
    s.lm = _PrefetchedLM(scorer.lm, cache)
    return s


def _clip(a: int, b: int, n: int) -> tuple[int, int]:
    a = min(max(a, 0), n)
    return a, min(max(b, a), n)


def output_record(rec: Record, unit: Any = None, ranked: bool = False) -> dict:
    """The output dict of one record and its :class:`~garble.types.UnitResult` (``None``: not scored)."""
    if unit is None:
        return {"source": rec.source, "id": rec.id, "line": rec.line, "doc": rec.doc, "text": rec.text, "score": None, "rank": None, "findings": [], "lm": None, "error": rec.error}
    base, n = unit.unit.start, len(unit.unit.text)
    findings = []
    for f in sorted(unit.findings, key=lambda f: (f.start, -f.weight, f.detector, f.kind, f.end, f.message)):
        d = f.to_dict()
        d["start"], d["end"] = _clip(f.start - base, f.end - base, n)
        findings.append(d)
    lm = None
    if unit.lm is not None:
        lm = unit.lm.to_dict()
        lm["max_span"] = list(_clip(unit.lm.max_span[0] - base, unit.lm.max_span[1] - base, n))
    return {
        "source": rec.source,
        "id": rec.id,
        "line": rec.line,
        "doc": rec.doc,
        "text": rec.text,
        "score": round(unit.score, 6),
        "rank": unit.rank if ranked else None,
        "findings": findings,
        "lm": lm,
        "error": None,
    }


def _score_group(scorer: Any, group: Sequence[Record], grouped: bool, warn: Warn) -> list[dict]:
    idx = [i for i, r in enumerate(group) if r.error is None]
    outs: dict[int, dict] = {}
    if idx:
        texts = [group[i].text for i in idx]
        ranked = grouped and group[idx[0]].doc is not None
        doc_id = group[idx[0]].doc if ranked else group[idx[0]].id
        try:
            res = scorer.score_units(texts, doc_id=doc_id)
            for i, u in zip(idx, res.units):
                outs[i] = output_record(group[i], u, ranked=ranked)
        except (GarbleError, MemoryError):
            raise
        except Exception as e:  # a bug in a detector must not sink a corpus run: isolate the record
            if len(idx) == 1:
                r = group[idx[0]]
                reason = f"internal error while scoring: {type(e).__name__}: {e}"
                warn(f"{r.source}:{r.line}: {reason}")
                outs[idx[0]] = output_record(r._replace(error=reason))
            else:
                for i in idx:
                    outs[i] = _score_group(scorer, [group[i]], False, warn)[0]
    return [outs[i] if i in outs else output_record(r) for i, r in enumerate(group)]


def _encode(d: dict) -> bytes:
    try:
        return (json.dumps(d, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(d, ensure_ascii=True) + "\n").encode("ascii")


def score_chunk(scorer: Any, groups: Sequence[Sequence[Record]], grouped: bool, warn: Optional[Warn] = None) -> list[dict]:
    """Output dicts of every record of ``groups`` (documents, or single records), in order."""
    warn = warn or _default_warn
    s = _prefetch(scorer, groups) if getattr(scorer, "lm", None) is not None else scorer
    out: list[dict] = []
    for g in groups:
        out.extend(_score_group(s, g, grouped, warn))
    return out


def _chunk_bytes(scorer: Any, groups: Sequence[Sequence[Record]], grouped: bool, warn: Warn) -> tuple[bytes, int]:
    recs = score_chunk(scorer, groups, grouped, warn)
    return b"".join(_encode(d) for d in recs), sum(1 for d in recs if d["error"])


# worker processes (detectors-only scoring in parallel)
_WORKER: dict = {}


def _worker_init(scorer: Any) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _WORKER["scorer"] = scorer


def _worker_warn(msg: str) -> None:
    _WORKER.setdefault("warnings", []).append(msg)


def _worker_run(groups: list, grouped: bool) -> tuple[bytes, int, list[str]]:
    _WORKER["warnings"] = []
    data, errs = _chunk_bytes(_WORKER["scorer"], groups, grouped, _worker_warn)
    return data, errs, _WORKER.pop("warnings", [])


# ---------------------------------------------------------------------------
# output, checkpoints


def output_format(output: str, fmt: Optional[str] = None) -> str:
    """``jsonl`` or ``parquet``: ``fmt`` if given, else by the output's suffix."""
    if fmt is not None:
        if fmt not in OUTPUT_FORMATS:
            raise UsageError(f"unknown output format {fmt!r}: expected jsonl or parquet")
        return fmt
    return "parquet" if output.lower().endswith(PARQUET_SUFFIXES) else "jsonl"


def _compressor(output: str, fmt: str) -> Callable[[bytes], bytes]:
    if fmt == "jsonl" and output.endswith(".gz"):
        return lambda b: gzip.compress(b, compresslevel=6, mtime=0)
    if fmt == "jsonl" and output.endswith(".zst"):
        import zstandard

        c = zstandard.ZstdCompressor(level=3)
        return c.compress
    return lambda b: b


def parquet_schema():
    """The Arrow schema of a Parquet output."""
    import pyarrow as pa

    finding = pa.struct([("detector", pa.string()), ("kind", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("weight", pa.float64()), ("message", pa.string())])
    lm = pa.struct(
        [
            ("mean_surprisal", pa.float64()),
            ("max_surprisal", pa.float64()),
            ("max_span", pa.list_(pa.int64())),
            ("n_tokens", pa.int64()),
            ("rel_median", pa.float64()),
            ("context_mean_surprisal", pa.float64()),
            ("slor", pa.float64()),
        ]
    )
    return pa.schema(
        [
            ("source", pa.string()),
            ("id", pa.string()),
            ("line", pa.int64()),
            ("doc", pa.string()),
            ("text", pa.string()),
            ("score", pa.float64()),
            ("rank", pa.int64()),
            ("findings", pa.list_(finding)),
            ("lm", lm),
            ("error", pa.string()),
        ]
    )


def _jsonl_to_parquet(partial: str, output: str) -> None:
    """Convert the JSONL partial output to Parquet at ``output``, atomically, in fixed row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    with atomic_output(output, "wb") as out, open(partial, "rb") as src:
        writer = pq.ParquetWriter(out, schema, compression="zstd")
        try:
            rows: list[dict] = []
            for line in src:
                rows.append(json.loads(line))
                if len(rows) >= PARQUET_ROW_GROUP:
                    writer.write_table(pa.Table.from_pylist(rows, schema=schema), row_group_size=PARQUET_ROW_GROUP)
                    rows = []
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema), row_group_size=PARQUET_ROW_GROUP)
        finally:
            writer.close()


def _fsync(fh: IO) -> None:
    fh.flush()
    try:
        os.fsync(fh.fileno())
    except (OSError, AttributeError, io.UnsupportedOperation):
        pass


def _write_json_atomic(path: str, data: dict) -> None:
    """Write ``data`` to ``path`` whole or not at all; a failure is an OutputError naming ``path``."""
    d = os.path.dirname(path) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=d)
    except OSError as e:
        raise OutputError(f"cannot write: {e.strerror or e}", path=path) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
            _fsync(fh)
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise OutputError(f"cannot write: {e.strerror or e}", path=path) from None
        raise


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise OutputError(f"cannot remove: {e.strerror or e}", path=path) from None


def _scorer_fingerprint(scorer: Any) -> dict:
    lm = getattr(scorer, "lm", None)
    fp: dict = {
        "detectors": [f"{getattr(d, 'name', '')}:{type(d).__module__}.{type(d).__qualname__}" for d in getattr(scorer, "detectors", [])],
        "context": bool(getattr(scorer, "context", False)),
        "lm": None,
    }
    w = getattr(scorer, "weights", None)
    if w is not None and hasattr(w, "to_dict"):
        fp["weights"] = w.to_dict()
    if lm is not None:
        fp["lm"] = {
            "class": f"{type(lm).__module__}.{type(lm).__qualname__}",
            "name": str(getattr(lm, "name", "")),
            "dtype": str(getattr(lm, "dtype", "")),
            "max_tokens": getattr(lm, "max_tokens", None),
        }
    return fp


def _changes(old: Any, new: dict) -> str:
    """What differs between two fingerprints, in words for the user."""
    if not isinstance(old, dict) or old.get("garble_state") != new.get("garble_state"):
        return "checkpoint version"
    what = []
    if old.get("inputs") != new.get("inputs"):
        old_in = {f[0]: f[1:] for f in old.get("inputs") or [] if isinstance(f, list) and f}
        new_in = {f[0]: f[1:] for f in new.get("inputs") or []}
        if list(old_in) != list(new_in):
            what.append("the list of input files")
        else:
            what.extend(f"{f} (size or modification time)" for f in new_in if old_in.get(f) != new_in[f])
    opts_old, opts_new = old.get("options") or {}, new.get("options") or {}
    for k in sorted(opts_new):
        if opts_old.get(k) != opts_new[k]:
            what.append({"format": "--format", "output_compression": "output compression", "input_format": "--input-format", "parquet_row_group": "Parquet row groups"}.get(k, "--" + k.replace("_", "-")))
    if old.get("scorer") != new.get("scorer"):
        what.append("scorer (detectors, weights, model or context)")
    if old.get("extra") != new.get("extra"):
        what.append("model settings")
    return ", ".join(what[:6]) + (f" and {len(what) - 6} more" if len(what) > 6 else "") or "settings"


def _input_fingerprint(files: Sequence[str]) -> list:
    out = []
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            raise InputError("no such file", path=f) from None
        out.append([f, st.st_size, st.st_mtime_ns])
    return out


@dataclass
class CorpusSummary:
    """What :func:`score_corpus` did."""

    output: str
    records: int  # records in the output
    errors: int  # of which error records
    resumed: int  # records taken over from a checkpoint (0: a fresh run)
    seconds: float  # wall time of this call

    @property
    def scored(self) -> int:
        return self.records - self.errors


def _count_records(files: Sequence[str], fmt: str, limit_bytes: int = 256 << 20) -> Optional[int]:
    """The number of records in ``files`` (for the progress bar), or None when too costly to count."""
    total = 0
    for f in files:
        if f == "-":
            return None
        kind = input_format(f, fmt)
        try:
            if kind == "parquet":
                total += _parquet_file(f).metadata.num_rows
                continue
            if _strip_compression(f) != f and os.path.getsize(f) > limit_bytes:
                return None
            last = b"\n"
            with _open_stream(f) as fh:
                while True:
                    block = fh.read(1 << 20)
                    if not block:
                        break
                    total += block.count(b"\n")
                    last = block[-1:]
            if last != b"\n":
                total += 1
        except Exception:
            return None
    return total


#: inputs up to this size (uncompressed text/JSONL, any Parquet) are counted before the bar
#: starts, so it shows a total and an ETA at once (counting lines runs at about 1 GB/s)
COUNT_AT_ONCE_BYTES = 64 << 20


class _Counter:
    """Counts the records of the inputs (for the progress bar's total): at once when cheap, else in a background thread."""

    def __init__(self, files: Sequence[str], fmt: str):
        import threading

        self.total: Optional[int] = None
        self.ready = False
        try:
            small = all(
                f != "-" and (input_format(f, fmt) == "parquet" or (_strip_compression(f) == f and os.path.getsize(f) <= COUNT_AT_ONCE_BYTES))
                for f in files
            ) and sum(os.path.getsize(f) for f in files if input_format(f, fmt) != "parquet") <= COUNT_AT_ONCE_BYTES
        except (OSError, GarbleError):
            small = False
        if small:
            self._run(list(files), fmt)
            return
        threading.Thread(target=self._run, args=(list(files), fmt), daemon=True, name="garble-count").start()

    def _run(self, files: list, fmt: str) -> None:
        try:
            self.total = _count_records(files, fmt)
        finally:
            self.ready = True


def _progress_bar(enabled: bool, total: Optional[int], initial: int):
    if not enabled:
        return None
    if not _isatty(sys.stderr):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    from .feedback import clear

    clear()  # a status line ("language model ... ready") gives way to the bar
    return tqdm(total=total, initial=initial, unit="seg", unit_scale=False, dynamic_ncols=True, smoothing=0.05, file=sys.stderr, desc="garble score")


def state_path(output: PathLike) -> str:
    """The checkpoint file of ``output``."""
    return str(output) + STATE_SUFFIX


def partial_path(output: PathLike) -> str:
    """Where the output of ``output`` grows until it is published."""
    return str(output) + PARTIAL_SUFFIX


def _lock(fh: IO) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise OutputError("another garble run is writing this output", path=fh.name) from None


def score_corpus(
    inputs: Union[PathLike, Iterable[PathLike]],
    output: PathLike,
    scorer: Any,
    *,
    fmt: Optional[str] = None,
    input_fmt: str = "auto",
    field: str = "text",
    id_field: Optional[str] = None,
    doc_field: Optional[str] = None,
    batch_size: int = 256,
    max_doc_units: int = 10000,
    resume: bool = True,
    progress: bool = True,
    workers: int = 1,
    checkpoint_seconds: float = 1.0,
    warn: Optional[Warn] = None,
    fingerprint_extra: Optional[dict] = None,
) -> CorpusSummary:
    """Score every record of ``inputs`` and write one output record each to ``output``.

    See the module docstring for formats, documents and resuming.
    ``fmt``: ``jsonl`` or ``parquet`` (default: by the output's suffix).
    ``input_fmt``: ``auto`` (by suffix), ``txt``, ``jsonl`` or ``parquet``.
    ``batch_size``: records per chunk (whole documents); one LM call and one
    checkpoint opportunity per chunk. ``resume``: continue from a matching
    checkpoint (``False``: discard it and start over). ``progress``: a tqdm
    bar on standard error when it is a terminal. ``workers``: processes that
    score chunks in parallel (detectors-only scorers). ``checkpoint_seconds``:
    least time between two checkpoints (0: after every chunk).
    ``fingerprint_extra``: more settings that must match to resume.
    """
    t0 = time.monotonic()
    out_s = str(output)
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    if batch_size < 1:
        raise UsageError(f"batch size must be at least 1, not {batch_size}")
    if max_doc_units < 1:
        raise UsageError(f"max_doc_units must be at least 1, not {max_doc_units}")
    if workers < 1:
        raise UsageError(f"workers must be at least 1, not {workers}")
    if workers > 1 and getattr(scorer, "lm", None) is not None:
        raise UsageError("several workers need a detectors-only scorer (--no-lm); the language model batches on one device")
    fmt = output_format(out_s, fmt)
    if input_fmt not in INPUT_FORMATS:
        raise UsageError(f"unknown input format {input_fmt!r}: expected one of {', '.join(INPUT_FORMATS)}")
    to_stdout = out_s == "-"
    if to_stdout and fmt == "parquet":
        raise UsageError("Parquet output needs a file (-o FILE.parquet), not standard output")
    state_p, partial_p = state_path(out_s), partial_path(out_s)
    files = expand_inputs(inputs, exclude=[] if to_stdout else [out_s, state_p, partial_p])
    if not to_stdout:
        outp = os.path.realpath(out_s)
        for f in files:
            if f != "-" and os.path.realpath(f) == outp:
                raise UsageError("the output file is also an input", path=out_s)
        if os.path.isdir(out_s):
            raise OutputError("is a directory", path=out_s)
        if not os.path.isdir(os.path.dirname(os.path.abspath(out_s))):
            raise OutputError("output folder does not exist", path=out_s)
    checkpointing = not to_stdout and "-" not in files
    grouped = doc_field is not None
    bars: list = []

    def _warn(msg: str) -> None:
        b = bars[-1] if bars and bars[-1] is not None else None
        if b is not None:
            b.clear()
        (warn or _default_warn)(msg)
        if b is not None:
            b.refresh()

    if not to_stdout and not checkpointing:
        _warn("reading standard input: no checkpoints, an interrupted run cannot resume")

    fingerprint = {
        "garble_state": STATE_VERSION,
        "inputs": _input_fingerprint(files) if checkpointing else None,
        "options": {
            "format": fmt,
            "output_compression": out_s[len(_strip_compression(out_s)):] if fmt == "jsonl" else "",
            "input_format": input_fmt,
            "field": field,
            "id_field": id_field,
            "doc_field": doc_field,
            "batch_size": batch_size,
            "max_doc_units": max_doc_units,
            "parquet_row_group": PARQUET_ROW_GROUP if fmt == "parquet" else None,
        },
        "scorer": _scorer_fingerprint(scorer),
        "extra": fingerprint_extra or {},
    }
    fingerprint = json.loads(json.dumps(fingerprint, sort_keys=True, default=str))

    # -- the partial output, locked against a second run on the same output
    sink: IO[bytes]
    had_partial = False
    if to_stdout:
        sink = sys.stdout.buffer
    else:
        had_partial = os.path.exists(partial_p)
        try:
            sink = open(partial_p, "r+b" if had_partial else "w+b")
        except OSError as e:
            raise OutputError(f"cannot write: {e.strerror or e}", path=partial_p) from None
        try:
            _lock(sink)
        except BaseException:
            sink.close()
            raise

    # -- the checkpoint, if any
    start = (0, 0)
    done = errors = 0
    nbytes = 0
    complete = False
    try:
        if checkpointing and os.path.exists(state_p) and not resume:
            _remove(state_p)
        elif checkpointing and os.path.exists(state_p):
            try:
                with open(state_p, encoding="utf-8") as fh:
                    state = json.load(fh)
                if not isinstance(state, dict):
                    raise ValueError("not an object")
            except (OSError, ValueError) as e:
                raise UsageError(f"unreadable checkpoint ({e}); remove it or rerun with --restart", path=state_p) from None
            if state.get("fingerprint") != fingerprint:
                raise UsageError(
                    f"the checkpoint of an earlier run does not match these inputs and options (changed: {_changes(state.get('fingerprint'), fingerprint)}); "
                    "rerun with --restart to start over, or restore them to resume",
                    path=state_p,
                )
            complete = bool(state.get("complete"))
            if not had_partial and complete and os.path.exists(out_s):  # published; only the cleanup was left
                sink.close()
                _remove(partial_p)
                _remove(state_p)
                n = int(state.get("records", 0))
                return CorpusSummary(out_s, n, int(state.get("errors", 0)), n, time.monotonic() - t0)
            if not had_partial:
                _warn(f"{partial_p}: the partial output of the checkpoint is missing; starting over")
                _remove(state_p)
                complete = False
        if checkpointing and os.path.exists(state_p):
            try:
                start = (int(state["position"][0]), int(state["position"][1]))
                done, errors, nbytes = int(state["records"]), int(state["errors"]), int(state["bytes"])
            except (KeyError, TypeError, ValueError, IndexError):
                raise UsageError("malformed checkpoint; rerun with --restart", path=state_p) from None
            if os.path.getsize(partial_p) < nbytes:
                raise UsageError(f"the partial output {partial_p} is shorter than its checkpoint says; rerun with --restart", path=state_p)
        if not to_stdout:
            sink.truncate(nbytes)
            sink.seek(nbytes)
    except OSError as e:
        if not to_stdout:
            sink.close()
        raise OutputError(f"cannot write: {e.strerror or e}", path=partial_p) from None
    except BaseException:
        if not to_stdout:
            sink.close()
        raise

    # (records, errors, bytes, position): one tuple, assigned at once after a whole chunk is written
    committed = (done, errors, nbytes, start)
    saved = committed

    def save_state(final: bool = False) -> None:
        nonlocal saved
        d, e, b, pos = committed
        _write_json_atomic(
            state_p,
            {"fingerprint": fingerprint, "records": d, "errors": e, "bytes": b, "position": list(pos), "complete": final, "output": out_s},
        )
        saved = committed

    resumed = done
    compress = _compressor(out_s, fmt)

    pool = None
    bar = None
    try:
        if not complete:
            if checkpointing and not os.path.exists(state_p):
                save_state()  # the fingerprint from the start: a run killed before its first checkpoint resumes too
            if resumed and progress:
                sys.stderr.write(f"garble: resuming at record {resumed + 1:,} ({resumed:,} done by an earlier run, checkpointed in {state_p})\n")
            counter = _Counter(files, input_fmt) if progress and _isatty(sys.stderr) else None  # the total, for the ETA
            bar = _progress_bar(progress, counter.total if counter is not None and counter.ready else None, done)
            bars.append(bar)
            if counter is not None and counter.ready:
                counter = None
            kw = dict(fmt=input_fmt, field=field, id_field=id_field, doc_field=doc_field, warn=_warn)
            chunks = _chunks(_positioned(files, start, **kw), batch_size, grouped, max_doc_units, _warn, done=done)
            if workers == 1:
                results: Iterator[tuple[_Chunk, bytes, int]] = ((c, *_chunk_bytes(scorer, c.groups, grouped, _warn)) for c in chunks)
            else:
                pool = _pool(scorer, workers)
                results = _parallel(pool, chunks, grouped, 2 * workers, _warn)
            last_ckpt = time.monotonic()
            for chunk, data, errs in results:
                data = compress(data)
                try:
                    sink.write(data)
                except BrokenPipeError:  # the reader went away (| head): the CLI ends quietly
                    raise
                except OSError as e:
                    raise OutputError(f"cannot write: {e.strerror or e}", path=out_s if to_stdout else partial_p) from None
                d, e_, b, _ = committed
                committed = (d + chunk.n, e_ + errs, b + len(data), chunk.end)
                if bar is not None:
                    if counter is not None and counter.ready:
                        if counter.total is not None:
                            bar.total = counter.total
                        counter = None
                    bar.update(chunk.n)
                if checkpointing and time.monotonic() - last_ckpt >= checkpoint_seconds:
                    _fsync(sink)
                    save_state()
                    last_ckpt = time.monotonic()
            if pool is not None:
                pool.shutdown(wait=True)
                pool = None
            if bar is not None:
                bar.close()
                bar = None
                bars.append(None)
            done, errors, nbytes, start = committed
            if to_stdout:
                sink.flush()
                return CorpusSummary(out_s, done, errors, 0, time.monotonic() - t0)
            _fsync(sink)
            save_state(final=True)
            complete = True
        # -- publish: one rename (Parquet: converted into a temporary file, then renamed)
        if fmt == "parquet":
            sink.close()
            _jsonl_to_parquet(partial_p, out_s)
            try:  # the permissions a plain new file gets (the temporary file was private)
                shutil.copymode(partial_p, out_s)
            except OSError:
                pass
            _remove(partial_p)
        else:
            sink.close()
            try:
                os.replace(partial_p, out_s)
            except OSError as e:
                raise OutputError(f"cannot write: {e.strerror or e}", path=out_s) from None
        _remove(state_p)
        return CorpusSummary(out_s, done, errors, resumed, time.monotonic() - t0)
    except BaseException as exc:
        if checkpointing and not complete and committed != saved:
            try:  # keep what was written: the partial output holds every committed chunk
                _fsync(sink)
                save_state()
            except Exception:
                pass
        if isinstance(exc, KeyboardInterrupt) and checkpointing and not complete:
            if bar is not None:
                bar.close()
                bar = None
                bars.append(None)
            sys.stderr.write(f"\ngarble: {saved[0]:,} records checkpointed in {state_p}; run the same command again to resume\n")
        raise
    finally:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if not to_stdout and not sink.closed:
            sink.close()


def _isatty(fh: Any) -> bool:
    try:
        return bool(fh.isatty())
    except (AttributeError, ValueError):
        return False


def _pool(scorer: Any, workers: int):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    if "fork" in methods:
        try:  # load lazily loaded detector data (word lists) once, before the workers share it
            scorer.score_units(["The committee said that the café in São Paulo is open again."])
        except Exception:
            pass
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init, initargs=(scorer,))


def _parallel(pool: Any, chunks: Iterator[_Chunk], grouped: bool, window_size: int, warn: Warn) -> Iterator[tuple[_Chunk, bytes, int]]:
    """Chunks scored in worker processes, results in input order, at most ``window_size`` in flight."""
    window: deque = deque()

    def pop():
        c, fut = window.popleft()
        data, errs, warns = fut.result()
        for w in warns:
            warn(w)
        return c, data, errs

    for c in chunks:
        window.append((c, pool.submit(_worker_run, c.groups, grouped)))
        if len(window) >= window_size:
            yield pop()
    while window:
        yield pop()
