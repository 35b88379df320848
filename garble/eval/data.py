"""The data ``garble eval`` runs on: annotated and clean-English TSVs, their documents, and the scored segments.

An annotated TSV like ``mqm_ted_zhen.tsv`` is tab-separated, with a header row
and no quoting; columns ``system doc seg is_ref raters mqm major fluency_major
categories text``. A clean-English TSV has ``corpus doc seg text``. Each
``(system, doc)`` (``(corpus, doc)``) is rebuilt in ``seg`` order as one
document (:func:`build_documents`).

Per segment the named feature vector of :func:`garble.scorer.unit_features`
is extracted once (:func:`load_segments`) and cached under the feature cache
(:mod:`garble.eval.cache`), keyed by the file's hash, the model and the
detector set.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence, Union

from ..errors import InputError, UsageError
from ..io import input_error
from .cache import features_cache_path, model_key, read_cached, write_jsonl

ANNOTATED_COLUMNS = ("system", "doc", "seg", "is_ref", "raters", "mqm", "major", "fluency_major", "categories", "text")
CLEAN_COLUMNS = ("corpus", "doc", "seg", "text")


@dataclass(frozen=True)
class Row:
    """One annotated segment."""

    system: str
    doc: str
    seg: int
    is_ref: bool
    raters: int
    mqm: float
    major: float
    fluency_major: float
    categories: tuple[str, ...]
    text: str
    line: int = 0  # line number in the file (1 = header)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.system, self.doc, self.seg)


def _read_table(path: Path, required: Sequence[str]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and ``(line number, fields)`` of a tab-separated file with no quoting."""
    p = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise input_error(e, p, "read") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 (byte {raw[e.start]:#04x})", path=p, line=line) from None
    csv.field_size_limit(sys.maxsize)
    reader = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty file (no header row)", path=p, line=1) from None
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            f"header lacks column(s) {', '.join(missing)}; expected {' '.join(required)} (tab-separated)",
            path=p,
            line=1,
        )
    rows = []
    for lineno, fields in enumerate(reader, 2):
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank line
        if len(fields) != len(header):
            raise InputError(
                f"{len(fields)} tab-separated fields, expected {len(header)} ({' '.join(header)})", path=p, line=lineno
            )
        rows.append((lineno, fields))
    return header, rows


def _num(value: str, kind: type, column: str, path: str, line: int):
    try:
        v = kind(value)
    except ValueError:
        raise InputError(
            f"column {column}: {value!r} is not a{'n integer' if kind is int else ' number'}", path=path, line=line
        ) from None
    if isinstance(v, float) and not math.isfinite(v):
        raise InputError(f"column {column}: {value!r} is not a finite number", path=path, line=line)
    return v


def read_annotated(path: Path) -> list[Row]:
    """Rows of an annotated TSV (see module docstring); malformed rows raise :class:`InputError` naming file:line."""
    return _annotated_rows(path, *_read_table(path, ANNOTATED_COLUMNS))


def _annotated_rows(path: Path, header: list[str], raw: list[tuple[int, list[str]]]) -> list[Row]:
    col = {c: header.index(c) for c in ANNOTATED_COLUMNS}
    p = str(path)
    out: list[Row] = []
    seen: dict[tuple, int] = {}
    for line, f in raw:
        get = lambda c, f=f: f[col[c]].strip()  # noqa: E731
        if not get("system") or not get("doc"):
            raise InputError("empty system or doc", path=p, line=line)
        is_ref = get("is_ref")
        if is_ref not in ("0", "1"):
            raise InputError(f"column is_ref: {is_ref!r}, expected 0 or 1", path=p, line=line)
        row = Row(
            system=get("system"),
            doc=get("doc"),
            seg=_num(get("seg"), int, "seg", p, line),
            is_ref=is_ref == "1",
            raters=_num(get("raters") or "0", int, "raters", p, line),
            mqm=_num(get("mqm"), float, "mqm", p, line),
            major=_num(get("major"), float, "major", p, line),
            fluency_major=_num(get("fluency_major"), float, "fluency_major", p, line),
            categories=tuple(c for c in get("categories").split("|") if c),
            text=f[col["text"]],
            line=line,
        )
        if row.key in seen:
            raise InputError(
                f"duplicate segment (system {row.system}, doc {row.doc}, seg {row.seg}); first on line {seen[row.key]}",
                path=p,
                line=line,
            )
        seen[row.key] = line
        out.append(row)
    if not out:
        raise InputError("no data rows", path=p)
    return out


@dataclass(frozen=True)
class CleanRow:
    corpus: str
    doc: str
    seg: int
    text: str
    line: int = 0


def read_clean(path: Path) -> list[CleanRow]:
    """Rows of a clean-English TSV (``corpus doc seg text``)."""
    return _clean_rows(path, *_read_table(path, CLEAN_COLUMNS))


def _clean_rows(path: Path, header: list[str], raw: list[tuple[int, list[str]]]) -> list[CleanRow]:
    col = {c: header.index(c) for c in CLEAN_COLUMNS}
    p = str(path)
    return [
        CleanRow(
            f[col["corpus"]].strip(),
            f[col["doc"]].strip(),
            _num(f[col["seg"]].strip(), int, "seg", p, line),
            f[col["text"]],
            line,
        )
        for line, f in raw
    ]


def read_rows(path: Path) -> Union[list[Row], list[CleanRow]]:
    """Rows of an annotated or of a clean-English TSV, whichever its header is."""
    header, raw = _read_table(path, ())
    if all(c in header for c in ANNOTATED_COLUMNS):
        return _annotated_rows(path, header, raw)
    if all(c in header for c in CLEAN_COLUMNS):
        return _clean_rows(path, header, raw)
    expected = f"annotated ({' '.join(ANNOTATED_COLUMNS)}) nor clean text ({' '.join(CLEAN_COLUMNS)})"
    raise InputError(f"header is neither {expected}, tab-separated", path=str(path), line=1)


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class EvalDoc:
    """One rebuilt document: rows of one ``(system, doc)`` in seg order."""

    system: str
    doc: str
    rows: list  # Row (or CleanRow) in seg order

    @property
    def texts(self) -> list[str]:
        return [r.text for r in self.rows]

    def joined(self, para_size: int = 1) -> tuple[str, list[int]]:
        """The document as one text, its rows joined with blank lines, and where each row starts in it.

        ``para_size > 1`` joins that many consecutive rows with a space into one paragraph.
        """
        starts, text = [], ""
        for i, r in enumerate(self.rows):
            if i:
                text += " " if i % para_size else "\n\n"
            starts.append(len(text))
            text += r.text
        return text, starts


def build_documents(rows: Iterable, key: Callable = lambda r: (r.system, r.doc)) -> list[EvalDoc]:
    """Group rows into documents (``key``), each in seg order; documents in first-seen order."""
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    return [EvalDoc(k[0], k[1], sorted(v, key=lambda r: r.seg)) for k, v in groups.items()]


def split_of(doc: str) -> str:
    """``train`` or ``test``: the talk's half of SHA-256 hash space (first bit 0 = train).

    Fixed before any result was seen; on mqm_ted_zhen it puts talk.6, talk.7
    and talk.9 in train and talk.2 and talk.5 in test.
    """
    return "train" if hashlib.sha256(doc.encode("utf-8")).digest()[0] < 128 else "test"


def select_split(segs: Sequence[Segment], split: str) -> list[Segment]:
    """The segments of the talks of ``split`` (``train``, ``test``: see :func:`split_of`; ``all``: every one)."""
    if split == "all":
        return list(segs)
    if split not in ("train", "test"):
        raise UsageError(f"unknown split {split!r}: expected test, train or all")
    return [s for s in segs if split_of(s.row.doc) == split]


@dataclass
class SpanSegment:
    """One record of a spans file: a segment with its source and the raters' error spans."""

    system: str
    doc: str
    seg: int
    is_ref: bool
    text: str
    source: str
    errors: list  # (start, end, severity 1|2, category)
    line: int


def read_spans(path: Path) -> list[SpanSegment]:
    """Records of ``mqm_ted_zhen_spans.jsonl``; a bad line is an :class:`InputError` naming it."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for no, ln in enumerate(fh, 1):
            if not ln.strip():
                continue
            try:
                d = json.loads(ln)
                errs = []
                for r in d.get("ratings", []):
                    for e in r.get("errors", []):
                        sev = 2 if e.get("severity") == "Major" else 1
                        if e.get("start") is not None and e.get("end") is not None:
                            errs.append((int(e["start"]), int(e["end"]), sev, e.get("category", "")))
                        else:
                            errs.append((None, None, sev, e.get("category", "")))
                # the source still holds the raters' <v>...</v> span markers: not part of the text
                source = str(d.get("source", "")).replace("<v>", "").replace("</v>", "")
                out.append(
                    SpanSegment(
                        str(d["system"]),
                        str(d["doc"]),
                        int(d["seg"]),
                        bool(d.get("is_ref")),
                        str(d["text"]),
                        source,
                        errs,
                        no,
                    )
                )
            except (ValueError, KeyError, TypeError) as e:
                raise InputError(f"line {no}: not a spans record ({type(e).__name__}: {e})", path=str(path)) from None
    return out


def read_span_index(path: Path) -> dict:
    """``(system, doc, seg) -> [(start, end, severity 1|2)]`` from a spans JSONL (see ``mqm_ted_zhen_spans.jsonl``)."""
    return {
        (r.system, r.doc, r.seg): [(a, b, sev) for a, b, sev, _ in r.errors if a is not None and b > a]
        for r in read_spans(path)
    }


# ---------------------------------------------------------------------------
# scored segments


@dataclass
class Segment:
    """One scored segment: its annotation, named features and what fired."""

    row: object  # Row or CleanRow
    x: dict  # garble.scorer.unit_features
    lm: Optional[dict]  # LMFeatures.to_dict() (None without an LM)
    findings: list  # [detector, kind, weight, message, start, end] (offsets into the segment)
    doc_index: int = 0  # index of its document in the extraction order

    @property
    def chars(self) -> int:
        return len(self.row.text)


def _unit_records(result, doc_index: int, rows) -> list[Segment]:
    from ..scorer import unit_features

    out = []
    for r, u in zip(rows, result.units):
        x = unit_features(u.text, u.findings, u.lm)
        fs = [
            [f.detector, f.kind, round(f.weight, 4), f.message, f.start - u.start, f.end - u.start]
            for f in sorted(u.findings, key=lambda f: -f.weight)
        ]
        out.append(Segment(r, x, u.lm.to_dict() if u.lm is not None else None, fs, doc_index))
    return out


def score_documents(
    docs: Sequence[EvalDoc],
    scorer,
    progress: Optional[Callable[[int, int], None]] = None,
    sources: Optional[dict] = None,
) -> list[Segment]:
    """Score every document as one document (``scorer.score_units``); one Segment per row, in document order.

    ``sources``: ``row key -> source text``: each document is scored with its
    segments' sources (the source-aware detectors run)."""
    out: list[Segment] = []
    for i, d in enumerate(docs):
        if sources is not None:
            res = scorer.score_units(
                d.texts, doc_id=f"{d.system}/{d.doc}", sources=[sources.get(r.key) for r in d.rows]
            )
        else:
            res = scorer.score_units(d.texts, doc_id=f"{d.system}/{d.doc}")
        out.extend(_unit_records(res, i, d.rows))
        if progress:
            progress(i + 1, len(docs))
    return out


def load_segments(
    path: Path,
    rows: Sequence[Row],
    *,
    lm=None,
    detectors: Optional[Sequence] = None,
    context: bool = True,
    cache: Optional[Path] = None,
    progress: Optional[Callable[[int, int], None]] = None,
    sources: Optional[dict] = None,
) -> list[Segment]:
    """Segments (in file row order) of an annotated file, from the feature cache or scored now.

    ``lm``: a LanguageModel-like object (e.g. :class:`garble.eval.cache.CachedLM`) or ``None``
    to run the detectors alone. ``detectors``: default all registered.
    ``sources``: ``row key -> source text`` (see :func:`score_documents`).
    """
    from ..api import Scorer
    from ..detectors import all_detectors

    dets = list(detectors) if detectors is not None else all_detectors()
    cpath = features_cache_path(file_hash(path), model_key(lm), dets, context, cache, with_source=sources is not None)
    docs = build_documents(rows)
    by_key = {r.key: r for r in rows}
    segs = read_cached(cpath, lambda d: Segment(by_key[tuple(d["key"])], d["x"], d["lm"], d["f"], d["doc"]), len(rows))
    if segs is not None:
        return row_order(segs, rows)
    # qe=False: these segments are scored from their cached features (the source-free combiner), not by QE
    scorer = Scorer(model=lm if lm is not None else False, detectors=dets, context=context, qe=False)
    segs = score_documents(docs, scorer, progress, sources=sources)
    records = ({"key": list(s.row.key), "x": s.x, "lm": s.lm, "f": s.findings, "doc": s.doc_index} for s in segs)
    write_jsonl(cpath, records)
    return row_order(segs, rows)


def row_order(segs: list[Segment], rows: Sequence[Row]) -> list[Segment]:
    """``segs`` in the order of ``rows``."""
    pos = {r.key: i for i, r in enumerate(rows)}
    return sorted(segs, key=lambda s: pos[s.row.key])
