"""Measure detection quality on human-annotated MT errors (``garble eval``).

Input: an annotated TSV like ``mqm_ted_zhen.tsv`` (tab-separated, header row,
no quoting; columns ``system doc seg is_ref raters mqm major fluency_major
categories text``). Each ``(system, doc)`` is rebuilt in ``seg`` order and
scored as ONE document with :meth:`garble.Scorer.score_units`, so
document-level detectors (name consistency, repetition across units) see the
whole talk.

Per segment the named feature vector of :func:`garble.scorer.unit_features`
(detector strengths, LM features, length) is extracted once and cached under
``$GARBLE_CACHE/eval`` (default ``out/cache``), keyed by the file's hash, the
model, and the detector set (names and source code). The expensive part, the
LM's token surprisals, is cached by content (model, context, text) in
``<cache>/lm/<model>.jsonl``, so a new detector, a corrupted copy of a
document (synthetic errors) or a changed file only pays for unseen texts.

Metrics (see :func:`metric_row`), each for several score columns:

* ``auc_flu``: ROC-AUC, fluency-major segments (``fluency_major > 0``) vs
  error-free ones (``mqm == 0``);
* ``auc_flu_len``: the same inside 5 quintile bins of character length,
  averaged over the bins (length-controlled AUC);
* ``auc_major``: ROC-AUC, any Major error (``major > 0``) vs error-free;
* ``spearman``: Spearman correlation with ``mqm`` (all segments);
* ``pairwise``: over pairs of MT systems' translations of the same
  ``(doc, seg)`` with different ``mqm``, the fraction where the higher-mqm one
  scores higher (score ties count 0.5); human references are left out;
* ``p_at_5``: precision@5 per document (``system, doc``): the share of each
  document's 5 top-scored segments that carry a Major error, averaged over
  documents;
* per-category recall: a segment is *caught* when its score is in the top 20%
  of all scored segments (global threshold); recall = caught / segments with
  that category.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import json
import math
import os
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence

from .errors import InputError, UsageError

ANNOTATED_COLUMNS = ("system", "doc", "seg", "is_ref", "raters", "mqm", "major", "fluency_major", "categories", "text")
CLEAN_COLUMNS = ("corpus", "doc", "seg", "text")

# ---------------------------------------------------------------------------
# reading


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
    except FileNotFoundError:
        raise InputError("no such file", path=p) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=p) from None
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path=p) from None
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
        raise InputError(f"header lacks column(s) {', '.join(missing)}; expected {' '.join(required)} (tab-separated)", path=p, line=1)
    rows = []
    for lineno, fields in enumerate(reader, 2):
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # blank line
        if len(fields) != len(header):
            raise InputError(f"{len(fields)} tab-separated fields, expected {len(header)} ({' '.join(header)})", path=p, line=lineno)
        rows.append((lineno, fields))
    return header, rows


def _num(value: str, kind: type, column: str, path: str, line: int):
    try:
        v = kind(value)
    except ValueError:
        raise InputError(f"column {column}: {value!r} is not a{'n integer' if kind is int else ' number'}", path=path, line=line) from None
    if isinstance(v, float) and not math.isfinite(v):
        raise InputError(f"column {column}: {value!r} is not a finite number", path=path, line=line)
    return v


def read_annotated(path: Path) -> list[Row]:
    """Rows of an annotated TSV (see module docstring); malformed rows raise :class:`InputError` naming file:line."""
    header, raw = _read_table(path, ANNOTATED_COLUMNS)
    col = {c: header.index(c) for c in ANNOTATED_COLUMNS}
    p = str(path)
    out: list[Row] = []
    seen: dict[tuple, int] = {}
    for line, f in raw:
        get = lambda c: f[col[c]].strip()  # noqa: E731
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
            raise InputError(f"duplicate segment (system {row.system}, doc {row.doc}, seg {row.seg}); first on line {seen[row.key]}", path=p, line=line)
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
    header, raw = _read_table(path, CLEAN_COLUMNS)
    col = {c: header.index(c) for c in CLEAN_COLUMNS}
    p = str(path)
    return [CleanRow(f[col["corpus"]].strip(), f[col["doc"]].strip(), _num(f[col["seg"]].strip(), int, "seg", p, line), f[col["text"]], line) for line, f in raw]


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


# ---------------------------------------------------------------------------
# cache


def cache_root() -> Path:
    """``$GARBLE_CACHE/eval`` when set, else ``out/cache`` (ignored by git)."""
    env = os.environ.get("GARBLE_CACHE")
    return Path(env) / "eval" if env else Path("out") / "cache"


class CachedLM:
    """A memoising wrapper around :class:`garble.lm.LanguageModel` (same ``score`` signature).

    Results are keyed by (max_tokens, context, text) and appended to a JSONL
    file, so an interrupted run keeps its progress and any later run (another
    detector set, corrupted copies of documents) pays only for unseen texts.
    ``lm`` may be a zero-argument callable that builds the model: it is then
    only loaded when a text is missing from the cache.
    """

    def __init__(self, lm, path: Optional[Path] = None, name: Optional[str] = None, cache_id: Optional[str] = None):
        self._lm = lm
        self.name = name or getattr(lm, "name", "lm")
        # what the feature caches are keyed on: the model and the numerics it runs in
        self.cache_id = cache_id or self.name
        self.path = Path(path) if path else None
        self._mem: dict[str, object] = {}
        self.hits = 0
        self.misses = 0
        # key -> key of a stand-in result, used only when the key itself is not cached
        # (synthetic errors: the unit after a corrupted one keeps its clean-context score)
        self.alias: dict[str, str] = {}
        if self.path and self.path.is_file():
            from .lm import TokenScores

            with open(self.path, encoding="utf-8") as fh:
                for ln in fh:
                    try:
                        d = json.loads(ln)
                    except ValueError:
                        continue  # a line cut short by an interrupted run
                    self._mem[d["k"]] = TokenScores(tuple(d["s"]), tuple(tuple(o) for o in d["o"]), bool(d["t"]))

    @property
    def lm(self):
        if callable(self._lm) and not hasattr(self._lm, "score"):
            self._lm = self._lm()
        return self._lm

    @property
    def max_tokens(self) -> int:
        return getattr(self._lm, "max_tokens", 256) if hasattr(self._lm, "score") else 256

    def _key(self, text: str, ctx: Optional[str]) -> str:
        return hashlib.sha1(f"{self.max_tokens}\x00{ctx or ''}\x00{text}".encode("utf-8")).hexdigest()

    def score(self, texts: Sequence[str], contexts: Optional[Sequence[Optional[str]]] = None):
        ctxs = list(contexts) if contexts is not None else [None] * len(texts)
        keys = [self._key(t, c) for t, c in zip(texts, ctxs)]
        if self.alias:
            keys = [self.alias[k] if k not in self._mem and self.alias.get(k) in self._mem else k for k in keys]
        todo: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k not in self._mem and k not in todo:
                todo[k] = i
        self.misses += len(todo)
        self.hits += len(keys) - len(todo)
        if todo:
            idx = list(todo.values())
            sub_ctx = [ctxs[i] for i in idx]
            res = self.lm.score([texts[i] for i in idx], sub_ctx if any(sub_ctx) else None)
            lines = []
            for i, r in zip(idx, res):
                self._mem[keys[i]] = r
                lines.append(json.dumps({"k": keys[i], "s": list(r.surprisals), "o": [list(o) for o in r.offsets], "t": r.truncated}))
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as fh:
                    fh.write("\n".join(lines) + "\n")
        return [self._mem[k] for k in keys]


    # -- one-pass streams (garble.lm.LanguageModel.score_stream) -------------
    @property
    def tagger(self):
        """The error-model head applied to cached streams (the packaged one for this model; ``False`` in ``__init__``'s ``tagger``: none)."""
        if not hasattr(self, "_tagger"):
            from .tagger import load_tagger

            self._tagger = load_tagger(getattr(self, "_tagger_spec", None), self)
        return self._tagger

    def _stream_path(self, text: str) -> Optional[Path]:
        if not self.path:
            return None
        key = hashlib.sha1(f"{self.cache_id}\x00{text}".encode("utf-8")).hexdigest()
        return self.path.parent / "streams" / _slug(self.cache_id) / key[:2] / f"{key}.npz"

    def put_stream(self, text: str, st) -> None:
        """Store one stream (hidden states included: the head is applied when it is read)."""
        import numpy as np

        self._streams = getattr(self, "_streams", {})
        self._streams[text] = st
        path = self._stream_path(text)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, offsets=np.asarray(st.offsets, np.int64).reshape(-1, 2), s=st.surprisal, e=st.entropy, r=st.rank, end=np.asarray([st.end_surprisal, st.end_entropy, st.end_rank], np.float32), h=st.hidden.astype(np.float16))
        os.replace(tmp, path)

    def _get_stream(self, text: str):
        import numpy as np

        from .lm import TokenStream

        mem = getattr(self, "_streams", {})
        if text in mem:
            return mem[text]
        path = self._stream_path(text)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path) as z:
                end = z["end"]
                st = TokenStream(tuple(map(tuple, z["offsets"].tolist())), z["s"], z["e"], z["r"], float(end[0]), None, z["h"].astype(np.float32), float(end[1]), int(end[2]))
        except (OSError, ValueError, KeyError):
            return None
        return st

    def score_stream(self, texts: Sequence[str], keep_hidden: bool = False):
        """:meth:`garble.lm.LanguageModel.score_stream` through the cache (one file per text)."""
        import dataclasses

        texts = list(texts)
        got = {t: self._get_stream(t) for t in dict.fromkeys(texts)}
        todo = [t for t, v in got.items() if v is None]
        self.misses += len(todo)
        self.hits += len(got) - len(todo)
        if todo:
            for t, st in zip(todo, self.lm.score_stream(todo, keep_hidden=True)):
                self.put_stream(t, st)
                got[t] = st
        out = []
        for t in texts:
            st = got[t]
            p = None
            if self.tagger is not None:
                from .tagger import stream_matrix

                p = self.tagger.predict(stream_matrix(st))
            out.append(dataclasses.replace(st, p_error=p, hidden=st.hidden if keep_hidden else None))
        return out

    def prefill(self, texts: Sequence[str]) -> None:
        """Fill the cache for one document's units, alone and after the previous unit, with one pass
        (:meth:`garble.lm.LanguageModel.score_pairs`: the alone scores of unit i-1 are read off the
        sequence that scores unit i after it). Needs a model with ``score_pairs``.
        """
        texts = list(texts)
        n = len(texts)
        if n == 0:
            return
        todo = [i for i in range(1, n) if self._key(texts[i], texts[i - 1]) not in self._mem]
        if todo:
            lm = self.lm
            ctx_res, alone_res = lm.score_pairs([texts[i] for i in todo], [texts[i - 1] for i in todo])
            lines = []
            for i, r, a in zip(todo, ctx_res, alone_res):
                for key, val in ((self._key(texts[i], texts[i - 1]), r), (self._key(texts[i - 1], None), a)):
                    if val is not None and key not in self._mem:
                        self._mem[key] = val
                        lines.append(json.dumps({"k": key, "s": list(val.surprisals), "o": [list(o) for o in val.offsets], "t": val.truncated}))
            self.misses += len(todo)
            if self.path and lines:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "a", encoding="utf-8") as fh:
                    fh.write("\n".join(lines) + "\n")
        self.score(texts)  # units whose alone score was not a by-product (the last, long contexts)


def _slug(s: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in s)[-80:]


def make_cached_lm(model: Optional[str] = None, device: str = "auto", dtype: str = "auto", cache: Optional[Path] = None) -> CachedLM:
    """A :class:`CachedLM` over the named model (loaded lazily, only on a cache miss)."""
    from .lm import DEFAULT_MODEL

    from .lm import _pick_device, _pick_dtype

    name = model or DEFAULT_MODEL
    root = Path(cache) if cache else cache_root()
    # bfloat16 and float32 surprisals differ in the second decimal: never mix them in one cache
    # (dtype "auto" resolves per machine: bfloat16 on a CPU with native bf16, else float32)
    dev = _pick_device(device)
    numerics = str(_pick_dtype(dtype, dev)).replace("torch.", "")
    cache_id = f"{name}-{numerics}"

    def build():
        from .lm import LanguageModel

        return LanguageModel(model, device=device, dtype=dtype, tagger=False)

    return CachedLM(build, root / "lm" / f"{_slug(cache_id)}.jsonl", name=name, cache_id=cache_id)


def detector_signature(detectors: Sequence) -> str:
    """Names and source code of a detector set, and of the feature extraction
    (:mod:`garble.scorer`, :mod:`garble.api`, :mod:`garble.lexicon`): a changed
    detector or feature changes the cache key."""
    h = hashlib.sha256()
    from . import api, lexicon, readings, scorer, tagger

    for m in (api, lexicon, scorer, readings, tagger):
        h.update(inspect.getsource(m).encode())
    from .lm import DEFAULT_MODEL

    head = tagger.packaged_head(DEFAULT_MODEL)
    if head is not None:
        h.update(head.read_bytes())
        card = head.with_suffix(".json")
        if card.is_file():  # the finding threshold lives in the card
            h.update(card.read_bytes())
    for d in sorted(detectors, key=lambda d: d.name):
        h.update(d.name.encode())
        try:
            h.update(inspect.getsource(sys.modules[type(d).__module__]).encode())
        except (OSError, TypeError, KeyError):
            h.update(repr(vars(d)).encode())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------
# feature extraction


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
    from .scorer import unit_features

    out = []
    for r, u in zip(rows, result.units):
        x = unit_features(u.text, u.findings, u.lm)
        fs = [[f.detector, f.kind, round(f.weight, 4), f.message, f.start - u.start, f.end - u.start] for f in sorted(u.findings, key=lambda f: -f.weight)]
        out.append(Segment(r, x, u.lm.to_dict() if u.lm is not None else None, fs, doc_index))
    return out


def score_documents(docs: Sequence[EvalDoc], scorer, progress: Optional[Callable[[int, int], None]] = None, sources: Optional[dict] = None) -> list[Segment]:
    """Score every document as one document (``scorer.score_units``); one Segment per row, in document order.

    ``sources``: ``row key -> source text``: each document is scored with its
    segments' sources (the source-aware detectors run)."""
    out: list[Segment] = []
    for i, d in enumerate(docs):
        if sources is not None:
            res = scorer.score_units(d.texts, doc_id=f"{d.system}/{d.doc}", sources=[sources.get(r.key) for r in d.rows])
        else:
            res = scorer.score_units(d.texts, doc_id=f"{d.system}/{d.doc}")
        out.extend(_unit_records(res, i, d.rows))
        if progress:
            progress(i + 1, len(docs))
    return out


def _features_cache_path(path: Path, model_name: str, detectors: Sequence, context: bool, cache: Optional[Path], with_source: bool = False) -> Path:
    root = Path(cache) if cache else cache_root()
    name = f"{file_hash(path)[:16]}-{_slug(model_name)}-{'ctx' if context else 'noctx'}{'-src' if with_source else ''}-{detector_signature(detectors)}.jsonl"
    return root / "features" / name


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

    ``lm``: a LanguageModel-like object (e.g. :class:`CachedLM`) or ``None``
    to run the detectors alone. ``detectors``: default all registered.
    ``sources``: ``row key -> source text`` (see :func:`score_documents`).
    """
    from .api import Scorer
    from .detectors import all_detectors

    dets = list(detectors) if detectors is not None else all_detectors()
    model_name = (getattr(lm, "cache_id", None) or getattr(lm, "name", "lm")) if lm is not None else "no-lm"
    cpath = _features_cache_path(path, model_name, dets, context, cache, with_source=sources is not None)
    docs = build_documents(rows)
    by_key = {r.key: r for r in rows}
    if cpath.is_file():
        try:
            segs = []
            with open(cpath, encoding="utf-8") as fh:
                for ln in fh:
                    d = json.loads(ln)
                    segs.append(Segment(by_key[tuple(d["key"])], d["x"], d["lm"], d["f"], d["doc"]))
            if len(segs) == len(rows):
                return _row_order(segs, rows)
        except (ValueError, KeyError, TypeError):
            pass  # stale or cut-short cache: rebuild
    scorer = Scorer(model=lm if lm is not None else False, detectors=dets, context=context)
    segs = score_documents(docs, scorer, progress, sources=sources)
    cpath.parent.mkdir(parents=True, exist_ok=True)
    tmp = cpath.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for s in segs:
            fh.write(json.dumps({"key": list(s.row.key), "x": s.x, "lm": s.lm, "f": s.findings, "doc": s.doc_index}) + "\n")
    os.replace(tmp, cpath)
    return _row_order(segs, rows)


def _row_order(segs: list[Segment], rows: Sequence[Row]) -> list[Segment]:
    pos = {r.key: i for i, r in enumerate(rows)}
    return sorted(segs, key=lambda s: pos[s.row.key])


# ---------------------------------------------------------------------------
# metrics (numpy/scipy; pure functions, tested on hand-computed examples)


def roc_auc(scores, labels) -> float:
    """ROC-AUC of ``scores`` for binary ``labels`` (ties count 0.5: Mann-Whitney U / n+ n-); NaN without both classes."""
    import numpy as np
    from scipy.stats import rankdata

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def quantile_bins(values, n_bins: int = 5):
    """Bin index 0..n_bins-1 of each value by its quantiles (equal-count bins; ties at an edge go to the lower bin)."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    edges = np.quantile(v, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.searchsorted(edges, v, side="left")


def binned_auc(scores, labels, bins, weighted: bool = False) -> float:
    """Length-controlled AUC: ROC-AUC inside each bin (``bins[i]`` = bin index of item i), averaged over bins.

    Bins lacking either class are skipped. ``weighted``: weight each bin by its
    number of positive-negative pairs (the AUC over pairs from the same bin)
    instead of a plain mean.
    """
    import numpy as np

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    b = np.asarray(bins)
    aucs, ws = [], []
    for k in np.unique(b):
        a = roc_auc(s[b == k], y[b == k])
        if not math.isnan(a):
            aucs.append(a)
            ws.append(int(y[b == k].sum()) * int((~y[b == k]).sum()))
    if not aucs:
        return float("nan")
    return float(np.average(aucs, weights=ws) if weighted else np.mean(aucs))


def pairwise_accuracy(scores, quality, groups) -> tuple[float, int]:
    """Over pairs in the same group with different ``quality`` (e.g. mqm), the share where the worse one (higher mqm) scores higher.

    Score ties count 0.5. Returns ``(accuracy, number of pairs)``.
    """
    import numpy as np

    s = np.asarray(scores, dtype=float)
    q = np.asarray(quality, dtype=float)
    by: dict = defaultdict(list)
    for i, g in enumerate(groups):
        by[g].append(i)
    good = 0.0
    n = 0
    for idx in by.values():
        if len(idx) < 2:
            continue
        idx = np.asarray(idx)
        dq = q[idx][:, None] - q[idx][None, :]
        ds = s[idx][:, None] - s[idx][None, :]
        mask = dq > 0  # i worse than j
        n += int(mask.sum())
        good += float((ds[mask] > 0).sum() + 0.5 * (ds[mask] == 0).sum())
    return (good / n if n else float("nan")), n


def precision_at_k(scores, positives, groups, k: int = 5) -> float:
    """Mean over groups (documents) of the share of positives among the group's ``k`` top-scored items (ties: earlier item first)."""
    import numpy as np

    s = np.asarray(scores, dtype=float)
    y = np.asarray(positives, dtype=bool)
    by: dict = defaultdict(list)
    for i, g in enumerate(groups):
        by[g].append(i)
    vals = []
    for idx in by.values():
        top = sorted(idx, key=lambda i: (-s[i], i))[:k]
        vals.append(float(y[top].mean()))
    return float(np.mean(vals)) if vals else float("nan")


def spearman(scores, target) -> float:
    import warnings

    from scipy.stats import spearmanr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant column: NaN, reported as such
        r = spearmanr(scores, target).statistic
    return float(r)


def top_fraction(scores, frac: float = 0.2):
    """Boolean mask of the items in the top ``frac`` of scores (rank-based: exactly ceil(frac*n) items; ties broken by position)."""
    import numpy as np

    s = np.asarray(scores, dtype=float)
    n = len(s)
    k = int(math.ceil(frac * n))
    order = np.lexsort((np.arange(n), -s))
    mask = np.zeros(n, dtype=bool)
    mask[order[:k]] = True
    return mask


# ---------------------------------------------------------------------------
# score columns and the evaluation table

from .scorer import LM_FEATURES as LM_KEYS  # noqa: E402 (the features that need an LM)

# README figures (all 7,935 rows of mqm_ted_zhen.tsv) that the metric code must reproduce
README_BASELINES = {
    "LM mean surprisal": {"auc_flu": 0.433, "auc_flu_len": 0.502, "spearman": -0.056, "pairwise": 0.522},
    "LM total surprisal": {"auc_flu": 0.671, "auc_flu_len": 0.579, "spearman": 0.319, "pairwise": 0.512},
    "length (chars)": {"auc_flu": 0.670, "auc_flu_len": 0.563, "spearman": 0.301, "pairwise": 0.477},
}

METRICS = (
    ("auc_flu", "AUC flu-major"),
    ("auc_flu_len", "len-ctrl AUC"),
    ("auc_major", "AUC major"),
    ("spearman", "Spearman mqm"),
    ("pairwise", "pairwise acc"),
    ("p_at_5", "P@5/doc"),
)

P_AT_K = 5
TOP_FRACTION = 0.2
N_LEN_BINS = 5


def without_lm(x: Mapping[str, float]) -> dict:
    return {k: v for k, v in x.items() if k not in LM_KEYS}


def detector_logit(x: Mapping[str, float], weights) -> float:
    """The combiner's detector terms only (no bias, LM or length)."""
    return sum(weights.detectors.get(k[4:], weights.default_detector_weight) * v for k, v in x.items() if k.startswith("det:"))


def has_lm(segs: Sequence[Segment]) -> bool:
    return any(s.lm is not None for s in segs)


def score_columns(segs: Sequence[Segment], weights, seed: int = 0, xs: Optional[Sequence[Mapping[str, float]]] = None) -> dict:
    """Score columns (name -> array) for ``segs``: the combined score and the baselines.

    ``xs``: feature dicts to use instead of ``s.x`` (ablations).
    """
    import numpy as np

    xs = list(xs) if xs is not None else [s.x for s in segs]
    cols = {"garble": np.array([weights.score(x) for x in xs])}
    lm = has_lm(segs)
    if lm:
        cols["garble --no-lm"] = np.array([weights.score(without_lm(x)) for x in xs])
    cols["detectors alone"] = np.array([detector_logit(x, weights) for x in xs])
    if lm:
        mean = np.array([s.lm["mean_surprisal"] if s.lm else 0.0 for s in segs])
        ntok = np.array([s.lm["n_tokens"] if s.lm else 0 for s in segs])
        cols["LM mean surprisal"] = mean
        cols["LM total surprisal"] = mean * ntok
    cols["length (chars)"] = np.array([s.chars for s in segs], dtype=float)
    cols["random"] = np.random.default_rng(seed).random(len(segs))
    return cols


@dataclass
class Labels:
    """The annotation of a list of segments as arrays."""

    mqm: object
    major: object
    flu: object
    chars: object
    is_ref: object
    len_bin: object
    seg_group: list  # (doc, seg)
    doc_group: list  # (system, doc)

    @classmethod
    def of(cls, segs: Sequence[Segment]) -> "Labels":
        import numpy as np

        chars = np.array([s.chars for s in segs], dtype=float)
        return cls(
            mqm=np.array([s.row.mqm for s in segs]),
            major=np.array([s.row.major for s in segs]),
            flu=np.array([s.row.fluency_major for s in segs]),
            chars=chars,
            is_ref=np.array([s.row.is_ref for s in segs], dtype=bool),
            len_bin=quantile_bins(chars, N_LEN_BINS) if len(segs) else np.zeros(0, int),
            seg_group=[(s.row.doc, s.row.seg) for s in segs],
            doc_group=[(s.row.system, s.row.doc) for s in segs],
        )


def metric_row(score, lab: Labels) -> dict:
    """All metrics of one score column (see module docstring)."""
    import numpy as np

    s = np.asarray(score, dtype=float)
    clean = lab.mqm == 0
    fm = (lab.flu > 0) | clean
    mm = (lab.major > 0) | clean
    mt = ~lab.is_ref
    pw, n_pairs = pairwise_accuracy(s[mt], lab.mqm[mt], [g for g, k in zip(lab.seg_group, mt) if k])
    return {
        "auc_flu": roc_auc(s[fm], lab.flu[fm] > 0),
        "auc_flu_len": binned_auc(s[fm], lab.flu[fm] > 0, lab.len_bin[fm], weighted=True),
        "auc_major": roc_auc(s[mm], lab.major[mm] > 0),
        "spearman": spearman(s, lab.mqm),
        "pairwise": pw,
        "p_at_5": precision_at_k(s, lab.major > 0, lab.doc_group, P_AT_K),
        "n_pairs": n_pairs,
    }


def category_recall(score, segs: Sequence[Segment], frac: float = TOP_FRACTION) -> dict:
    """Per error category: the share of its segments whose score is in the top ``frac`` of all segments.

    Also ``(no error)``: the share of error-free segments in the top ``frac``
    (the false-alarm rate at that cut).
    """
    top = top_fraction(score, frac)
    hit: dict = defaultdict(lambda: [0, 0])
    for s, t in zip(segs, top):
        cats = s.row.categories if s.row.mqm > 0 else ("(no error)",)
        for c in set(cats) or {"(minor, uncategorised)"}:
            hit[c][0] += int(t)
            hit[c][1] += 1
    return {c: {"recall": h[0] / h[1], "n": h[1]} for c, h in sorted(hit.items(), key=lambda kv: -kv[1][1])}


def feature_table(segs: Sequence[Segment]) -> dict:
    """Every feature of the combiner alone (absent = 0), as a score column: its metrics."""
    lab = Labels.of(segs)
    keys = sorted({k for s in segs for k in s.x})
    return {k: metric_row([s.x.get(k, 0.0) for s in segs], lab) for k in keys}


def read_span_index(path: Path) -> dict:
    """``(system, doc, seg) -> [(start, end, severity 1|2)]`` from a spans JSONL (see ``mqm_ted_zhen_spans.jsonl``)."""
    from .errormodel import read_spans

    return {(r.system, r.doc, r.seg): [(a, b, sev) for a, b, sev, _ in r.errors if a is not None and b > a] for r in read_spans(path)}


def span_metrics(segs: Sequence[Segment], spans: dict) -> dict:
    """Per detector (and ``(all)``): precision = share of its finding spans that overlap a rater's error span
    (any severity), recall = share of Major spans that one of its findings overlaps. MT segments only."""
    from collections import Counter

    flagged, hit, major_hit = Counter(), Counter(), defaultdict(set)
    n_major = 0
    for i, s in enumerate(segs):
        if s.row.is_ref:
            continue
        sp = spans.get(s.row.key, [])
        majors = [(a, b) for a, b, sev in sp if sev == 2]
        n_major += len(majors)
        for f in s.findings:
            if len(f) < 6:
                continue
            a, b = f[4], max(f[5], f[4] + 1)
            for name in (f[0], "(all)"):
                flagged[name] += 1
                if any(x < b and a < y for x, y, _ in sp):
                    hit[name] += 1
                for j, (x, y) in enumerate(majors):
                    if x < b and a < y:
                        major_hit[name].add((i, j))
    return {
        name: {"findings": n, "precision": hit[name] / n if n else float("nan"), "major_recall": len(major_hit[name]) / n_major if n_major else float("nan")}
        for name, n in sorted(flagged.items(), key=lambda kv: -kv[1])
    }


def select_split(segs: Sequence[Segment], split: str) -> list[Segment]:
    if split == "all":
        return list(segs)
    if split not in ("train", "test"):
        raise UsageError(f"unknown split {split!r}: expected test, train or all")
    return [s for s in segs if split_of(s.row.doc) == split]


def evaluation_table(segs: Sequence[Segment], weights, seed: int = 0) -> dict:
    """``{"n": .., "n_flu": .., "n_clean": .., "n_major": .., "rows": {column: metrics}}`` for ``segs``."""
    lab = Labels.of(segs)
    cols = score_columns(segs, weights, seed)
    return {
        "n": len(segs),
        "n_flu": int((lab.flu > 0).sum()),
        "n_major": int((lab.major > 0).sum()),
        "n_clean": int((lab.mqm == 0).sum()),
        "docs": sorted({s.row.doc for s in segs}),
        "rows": {name: metric_row(score, lab) for name, score in cols.items()},
    }


def ablation_table(segs: Sequence[Segment], weights) -> dict:
    """Metrics of the combined score with each detector's feature removed (no refit), and with no LM."""
    lab = Labels.of(segs)
    full = metric_row([weights.score(s.x) for s in segs], lab)
    names = sorted({k[4:] for s in segs for k in s.x if k.startswith("det:")})
    out = {"(none removed)": full}
    for n in names:
        xs = [{k: v for k, v in s.x.items() if k != f"det:{n}"} for s in segs]
        out[f"-{n}"] = metric_row([weights.score(x) for x in xs], lab)
    if has_lm(segs):
        out["-LM (all LM features)"] = metric_row([weights.score(without_lm(s.x)) for s in segs], lab)
        for k in LM_KEYS:
            out[f"-{k}"] = metric_row([weights.score({a: b for a, b in s.x.items() if a != k}) for s in segs], lab)
    out["-log_chars"] = metric_row([weights.score({a: b for a, b in s.x.items() if a != "log_chars"}) for s in segs], lab)
    fires = {n: sum(1 for s in segs if s.x.get(f"det:{n}", 0) > 0) for n in names}
    return {"rows": out, "fires": fires}


def misses_and_false_alarms(segs: Sequence[Segment], score, n: int = 20) -> dict:
    """The ``n`` fluency-major segments scored lowest (misses) and the ``n`` error-free segments scored highest (false alarms)."""
    import numpy as np

    s = np.asarray(score, dtype=float)
    # within-document rank percentile: what a reviewer sees (0 = top of the list)
    pct = np.zeros(len(segs))
    by: dict = defaultdict(list)
    for i, seg in enumerate(segs):
        by[(seg.row.system, seg.row.doc)].append(i)
    for idx in by.values():
        order = sorted(idx, key=lambda i: (-s[i], i))
        for r, i in enumerate(order):
            pct[i] = r / max(len(order) - 1, 1)

    def item(i):
        seg = segs[i]
        return {
            "system": seg.row.system,
            "doc": seg.row.doc,
            "seg": seg.row.seg,
            "mqm": seg.row.mqm,
            "major": seg.row.major,
            "fluency_major": seg.row.fluency_major,
            "categories": list(seg.row.categories),
            "score": float(s[i]),
            "doc_rank_pct": float(pct[i]),
            "findings": [f"{f[0]}:{f[1]} {f[2]}" for f in seg.findings[:3]],
            "text": seg.row.text,
        }

    pos = [i for i, seg in enumerate(segs) if seg.row.fluency_major > 0]
    neg = [i for i, seg in enumerate(segs) if seg.row.mqm == 0]
    misses = sorted(pos, key=lambda i: (s[i], -segs[i].row.fluency_major, i))[:n]
    alarms = sorted(neg, key=lambda i: (-s[i], i))[:n]
    return {"misses": [item(i) for i in misses], "false_alarms": [item(i) for i in alarms]}


# ---------------------------------------------------------------------------
# synthetic errors


def synthetic_sources(rows: Sequence[Row], clean_rows: Sequence[CleanRow] = ()) -> list[tuple[str, tuple[str, ...], str]]:
    """Clean documents to corrupt: ``(doc_id, texts, split)``.

    The human reference translations (``is_ref`` rows, one document per
    ``(system, doc)``) and the clean-English documents. A clean document that
    shares segments with a talk of the annotated file (clean_en.tsv holds the
    English originals of the TED talks) takes that talk's split, so no test
    talk leaks into training; others are split by their own id. Documents
    whose text repeats an earlier one are dropped. The clean-English rows are
    paragraphs: they are split into sentences (:func:`garble.segment.segment`),
    so a corrupted unit is one sentence as in MT output.
    """
    from .segment import segment

    out = []
    seen: set = set()
    talk_of: dict[str, str] = {}
    for d in build_documents([r for r in rows if r.is_ref]):
        texts = tuple(d.texts)
        for t in texts:
            talk_of.setdefault(t, d.doc)
        if texts not in seen:
            seen.add(texts)
            out.append((f"{d.system}/{d.doc}", texts, split_of(d.doc)))
    for d in build_documents(clean_rows, key=lambda r: (r.corpus, r.doc)):
        texts = tuple(d.texts)
        if texts in seen:
            continue
        seen.add(texts)
        talks = [talk_of[t] for t in texts if t in talk_of]
        split = split_of(max(set(talks), key=talks.count)) if talks else split_of(d.doc)
        out.append((f"{d.system}/{d.doc}", tuple(u.text for t in texts for u in segment(t)), split))
    return out


@dataclass
class SynthResult:
    """Features of a clean unit and of its corruption (one or two units), both scored in document context."""

    kind: str
    doc_id: str
    detail: str
    original: str
    corrupted: list
    clean_x: dict
    corrupt_xs: list  # one feature dict per corrupted unit
    corrupt_findings: list
    context: bool = True  # read after the unit before it (False: alone, as a single line)

    def scores(self, weights, lm: bool = True, hold_length: bool = False) -> tuple[float, float]:
        """``(clean score, corrupted score)``: the corrupted score is the highest of its units'.

        ``hold_length``: score the corrupted units with the clean unit's length
        feature, so that a corruption that only lengthens or shortens the unit
        (an inserted "not", a dropped word) is not detected, or missed, by the
        length term alone.
        """
        f = (lambda x: x) if lm else without_lm
        hold = (lambda x: {**x, "log_chars": self.clean_x["log_chars"]}) if hold_length and "log_chars" in self.clean_x else (lambda x: x)
        return weights.score(f(self.clean_x)), max(weights.score(f(hold(x))) for x in self.corrupt_xs)


def score_synthetic(pairs, scorer, cache: Optional[Path] = None, progress: Optional[Callable[[int, int], None]] = None) -> list[SynthResult]:
    """Score every pair's clean and corrupted unit with ``scorer`` (features cached like :func:`load_segments`).

    A pair is read the way :func:`garble.synth.pair_in_context` says: after
    the unit before it (the LM reads ``[previous unit, unit]`` as one short
    document, and the detectors see the whole document: a name variant needs
    the other mentions), or alone, as a single corpus line or a minimal pair is
    scored. All LM texts go to the model in one batched call first.
    """
    import copy

    from .scorer import unit_features
    from .synth import pair_in_context

    lm = scorer.lm
    model_name = (getattr(lm, "cache_id", None) or getattr(lm, "name", "lm")) if lm is not None else "no-lm"
    h = hashlib.sha256()
    for p in pairs:
        h.update(json.dumps([p.doc_id, p.index, p.corruption.kind, list(p.corruption.units), len(p.texts)]).encode())
    root = Path(cache) if cache else cache_root()
    cpath = root / "synth" / f"{h.hexdigest()[:16]}-{_slug(model_name)}-{'ctx' if scorer.context else 'noctx'}-{detector_signature(scorer.detectors)}.jsonl"
    if cache is not False and cpath.is_file():
        try:
            with open(cpath, encoding="utf-8") as fh:
                got = [SynthResult(**json.loads(ln)) for ln in fh]
            if len(got) == len(pairs):
                return got
        except (ValueError, TypeError):
            pass
    plans = []
    for p in pairs:
        ctx = pair_in_context(p)
        prev = [p.texts[p.index - 1]] if ctx and p.index > 0 else []
        plans.append((p, ctx, prev))
    if lm is not None and callable(getattr(lm, "score_stream", None)) and scorer.context:
        texts = list(dict.fromkeys(t for p, _, prev in plans for t in ("\n".join(prev + [p.corruption.original]), "\n".join(prev + list(p.corruption.units)))))
        for i in range(0, len(texts), 256):
            lm.score_stream(texts[i : i + 256])
            if progress:
                progress(min(i + 256, len(texts)), len(texts))
    det = copy.copy(scorer)
    det.lm = None
    full_clean: dict = {}
    out = []
    for n, (p, ctx, prev) in enumerate(plans):
        k0 = len(prev)
        cu = scorer.score_units(prev + [p.corruption.original]).units[k0]
        bus = scorer.score_units(prev + list(p.corruption.units)).units[k0 : k0 + p.corruption.n_marked]
        cf, bfs = cu.findings, [u.findings for u in bus]
        if ctx:
            if p.doc_id not in full_clean:
                full_clean[p.doc_id] = det.score_units(list(p.texts))
            keep = lambda fs: [f for f in fs if f.detector == "tagger"]  # noqa: E731 - LM findings from the short read
            cf = keep(cf) + full_clean[p.doc_id].units[p.index].findings
            full_bad = det.score_units(p.corrupted_texts())
            bfs = [keep(fs) + full_bad.units[i].findings for fs, i in zip(bfs, p.corrupted_indices)]
        out.append(
            SynthResult(
                kind=p.corruption.kind,
                doc_id=p.doc_id,
                detail=p.corruption.detail,
                original=p.corruption.original,
                corrupted=list(p.corruption.units),
                clean_x=unit_features(cu.text, cf, cu.lm),
                corrupt_xs=[unit_features(u.text, fs, u.lm) for u, fs in zip(bus, bfs)],
                corrupt_findings=[[f.detector, f.kind, round(f.weight, 4), f.message] for fs in bfs for f in sorted(fs, key=lambda f: -f.weight)][:4],
                context=ctx,
            )
        )
    if cache is not False:
        cpath.parent.mkdir(parents=True, exist_ok=True)
        tmp = cpath.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for r in out:
                fh.write(json.dumps(vars(r)) + "\n")
        os.replace(tmp, cpath)
    return out


def synthetic_rates(results: Sequence[SynthResult], weights, lm: bool = True) -> dict:
    """Per error type: pairs, detection rate (corrupted score > clean score, strictly), mean score gain;
    ``rate_len_held``: the rate with the corrupted units given the clean unit's length feature."""
    import numpy as np

    by: dict = defaultdict(list)
    for r in results:
        c, k = r.scores(weights, lm)
        by[r.kind].append((c, k, r.scores(weights, lm, hold_length=True)[1]))
    out = {}
    for kind, v in by.items():
        a = np.array(v)
        out[kind] = {"n": len(v), "rate": float((a[:, 1] > a[:, 0]).mean()), "rate_len_held": float((a[:, 2] > a[:, 0]).mean()), "mean_gain": float((a[:, 1] - a[:, 0]).mean())}
    for kind in out:
        rs = [r for r in results if r.kind == kind]
        # a detector fired on the corrupted unit(s), and on the clean unit (the same detector may fire on both)
        out[kind]["fired"] = sum(any(k.startswith("det:") for x in r.corrupt_xs for k in x) for r in rs) / len(rs)
        out[kind]["fired_clean"] = sum(any(k.startswith("det:") for k in r.clean_x) for r in rs) / len(rs)
    return out


# ---------------------------------------------------------------------------
# the whole evaluation and its report


def _r(v, nd: int = 3):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), nd)


def run_evaluation(
    path: Path,
    scorer,
    split: str = "test",
    clean: Optional[Path] = None,
    synthetic: bool = False,
    per_kind: int = 100,
    seed: int = 0,
    show: int = 20,
    cache: Optional[Path] = None,
    progress: Optional[Callable[[str, int, int], None]] = None,
    spans: Optional[Path] = None,
    with_source: bool = False,
) -> dict:
    """Evaluate ``scorer`` (its detectors, LM and weights) on an annotated file; a JSON-able dict.

    ``spans``: the error spans of the same rows (default: ``mqm_ted_zhen_spans.jsonl``
    beside ``path``, if there) for the findings' span precision and recall.
    ``with_source``: also score every document with its segments' sources
    (from the spans file) and report the table and the recall per category
    with the source-aware detectors beside the source-free ones.

    ``split``: ``test`` (the held-out talks, see :func:`split_of`), ``train`` or ``all``.
    ``synthetic``: also corrupt the human references (and ``clean``, a
    clean-English TSV) of the same split and report detection rates per type.
    """
    rows = read_annotated(path)
    lm = scorer.lm
    segs = load_segments(
        path, rows, lm=lm, detectors=scorer.detectors, context=scorer.context, cache=cache,
        progress=(lambda i, n: progress("documents", i, n)) if progress else None,
    )
    sel = select_split(segs, split)
    if not sel:
        raise InputError(f"no segments in split {split!r} (talks: {', '.join(sorted({r.doc for r in rows}))})", path=str(path))
    w = scorer.weights
    table = evaluation_table(sel, w, seed)
    score = [w.score(s.x) for s in sel]
    out = {
        "file": str(path),
        "split": split,
        "model": getattr(lm, "name", None) if lm is not None else None,
        "weights": w.source,
        "detectors": [d.name for d in scorer.detectors],
        "definitions": {
            "auc_flu": "ROC-AUC, fluency_major>0 vs mqm==0",
            "auc_flu_len": f"the same inside {N_LEN_BINS} quintile bins of character length (bins over all segments of the split), averaged weighting each bin by its positive-negative pairs",
            "auc_major": "ROC-AUC, major>0 vs mqm==0",
            "spearman": "Spearman correlation with mqm, all segments",
            "pairwise": "MT systems (references left out) on the same (doc, seg), pairs with different mqm: share where the higher-mqm one scores higher; ties 0.5",
            "p_at_5": f"per document (system, doc): share of the {P_AT_K} top-scored segments with major>0, averaged over documents",
            "category_recall": f"share of a category's segments whose score is in the top {int(TOP_FRACTION * 100)}% of all segments of the split",
        },
        "table": {**{k: v for k, v in table.items() if k != "rows"}, "rows": {n: {k: _r(v) if k != "n_pairs" else v for k, v in m.items()} for n, m in table["rows"].items()}},
        "categories": {c: {"recall": _r(v["recall"]), "n": v["n"]} for c, v in category_recall(score, sel).items()},
    }
    if split == "all":
        out["readme_baselines"] = README_BASELINES
    out["features"] = {n: {k: _r(v) if k != "n_pairs" else v for k, v in m.items()} for n, m in feature_table(sel).items()}
    spans_path = Path(path).with_name("mqm_ted_zhen_spans.jsonl") if spans is None else spans
    if with_source:
        if not (spans_path and Path(spans_path).is_file()):
            raise InputError("--with-source needs the spans file with the sources (mqm_ted_zhen_spans.jsonl beside the TSV, or --spans)", path=str(spans_path))
        from .errormodel import read_spans

        span_rows = read_spans(Path(spans_path))
        srcs = {(r.system, r.doc, r.seg): r.source for r in span_rows}
        omission = {(r.system, r.doc, r.seg) for r in span_rows if any(sev == 2 and cat == "Accuracy/Omission" for _, _, sev, cat in r.errors)}
        ssegs = load_segments(
            path, rows, lm=lm, detectors=scorer.detectors, context=scorer.context, cache=cache, sources=srcs,
            progress=(lambda i, n: progress("documents with sources", i, n)) if progress else None,
        )
        ssel = select_split(ssegs, split)
        stab = evaluation_table(ssel, w, seed)
        sscore = [w.score(s.x) for s in ssel]
        om = [s for s in ssel if s.row.key in omission or s.row.mqm == 0]
        om_y = [s.row.key in omission for s in om]
        out["with_source"] = {
            "table": {n: {k: _r(v) if k != "n_pairs" else v for k, v in m.items()} for n, m in stab["rows"].items()},
            "auc_major_omission": {
                "with source": _r(roc_auc([w.score(s.x) for s in om], om_y)),
                "without": _r(roc_auc([w.score(x.x) for x in sel if x.row.key in omission or x.row.mqm == 0], [x.row.key in omission for x in sel if x.row.key in omission or x.row.mqm == 0])),
                "length (chars)": _r(roc_auc([s.chars for s in om], om_y)),
                "n_omission": sum(om_y),
            },
            "categories": {c: {"recall": _r(v["recall"]), "n": v["n"]} for c, v in category_recall(sscore, ssel).items()},
            "fires": {d: sum(1 for s in ssel if s.x.get(f"det:{d}", 0) > 0) for d in sorted({k[4:] for s in ssel for k in s.x if k.startswith("det:")})},
        }
    if spans_path and Path(spans_path).is_file():
        sm = span_metrics(sel, read_span_index(Path(spans_path)))
        out["spans"] = {"file": str(spans_path), "rows": {n: {k: _r(v) if isinstance(v, float) else v for k, v in m.items()} for n, m in sm.items()}}
    abl = ablation_table(sel, w)
    out["ablation"] = {"fires": abl["fires"], "rows": {n: {k: _r(v) if k != "n_pairs" else v for k, v in m.items()} for n, m in abl["rows"].items()}}
    if show:
        out.update(misses_and_false_alarms(sel, score, show))
    if synthetic:
        from .synth import ALL_TYPES, make_pairs

        clean_rows = read_clean(clean) if clean else []
        src = [(d, t) for d, t, s in synthetic_sources(rows, clean_rows) if split == "all" or s == split]
        pairs = make_pairs(src, kinds=ALL_TYPES, per_kind=per_kind, seed=seed)
        res = score_synthetic(pairs, scorer, cache, progress=(lambda i, n: progress("synthetic pairs", i, n)) if progress else None)
        rates = synthetic_rates(res, w)
        out["synthetic"] = {
            "sources": [d for d, _ in src],
            "rates": {k: {"n": v["n"], "rate": _r(v["rate"]), "rate_len_held": _r(v["rate_len_held"]), "mean_gain": _r(v["mean_gain"], 4), "fired": _r(v["fired"]), "fired_clean": _r(v["fired_clean"])} for k, v in rates.items()},
            "definition": "share of pairs where the corrupted unit (the higher of the two units of a fragment) scores strictly above the clean unit, each scored in its document",
        }
        out["synthetic"]["rates_by_reading"] = {
            key: {k: _r(v["rate"]) for k, v in synthetic_rates([r for r in res if r.context == ctx], w).items()} for key, ctx in (("in context", True), ("alone", False))
        }
        if lm is not None:
            from .combiner import check_records, guard_rails

            gr = guard_rails(w, check_records(sel, res))
            out["guard_rails"] = {"table": {d: {k: _r(v) for k, v in row.items()} for d, row in gr["table"].items()}, "checks": [[n, ok] for n, ok in gr["checks"]], "ok": gr["ok"]}
        if lm is not None:
            rates_nolm = synthetic_rates(res, w, lm=False)
            out["synthetic"]["rates_no_lm"] = {k: _r(v["rate"]) for k, v in rates_nolm.items()}
            out["synthetic"]["rates_no_lm_len_held"] = {k: _r(v["rate_len_held"]) for k, v in rates_nolm.items()}
    return out


def format_report(res: dict) -> str:
    """The evaluation as plain-text tables."""
    lines = []
    t = res["table"]
    lines.append(f"garble eval {res['file']}  split={res['split']} ({', '.join(t['docs'])})  model={res['model'] or 'none (--no-lm)'}")
    lines.append(f"segments {t['n']}: fluency-major {t['n_flu']}, major {t['n_major']}, error-free {t['n_clean']}")
    lines.append(f"weights: {res['weights'][:160]}")
    lines.append("")
    names = [m[0] for m in METRICS]
    heads = [m[1] for m in METRICS]
    w0 = max(len(n) for n in t["rows"]) + 2
    lines.append("score".ljust(w0) + "".join(h.rjust(14) for h in heads))
    fmt = lambda v: ("—" if v is None else f"{v:.3f}").rjust(14)  # noqa: E731
    for n, m in t["rows"].items():
        lines.append(n.ljust(w0) + "".join(fmt(m[k]) for k in names))
    base = res.get("readme_baselines")
    if base:
        lines.append("")
        lines.append("README baselines (all rows), for comparison:")
        for n, m in base.items():
            lines.append(f"  {n}".ljust(w0) + "".join(fmt(m.get(k)) for k in names))
    lines.append("")
    lines.append("definitions:")
    for k, v in res["definitions"].items():
        lines.append(f"  {k}: {v}")
    lines.append("")
    lines.append(f"recall per error category (garble score in the top {int(TOP_FRACTION * 100)}%):")
    for c, v in res["categories"].items():
        lines.append(f"  {c:<48}{v['recall']:.3f}  (n={v['n']})")
    if "synthetic" in res:
        s = res["synthetic"]
        lines.append("")
        lines.append("synthetic errors: detection rate (corrupted unit scores above the clean one)" + ("; with / without the LM" if "rates_no_lm" in s else "") + "; in brackets with the length feature held at the clean unit's")
        if s.get("rates_by_reading"):
            lines.append("  by reading: " + "; ".join(f"{key}: " + ", ".join(f"{k} {v:.2f}" for k, v in rr.items()) for key, rr in s["rates_by_reading"].items()))
        for k, v in s["rates"].items():
            extra = f"   {s['rates_no_lm'][k]:.3f} [{s['rates_no_lm_len_held'][k]:.3f}]" if "rates_no_lm" in s else ""
            lines.append(f"  {k:<20}{v['rate']:.3f} [{v['rate_len_held']:.3f}]{extra}   (n={v['n']}, mean score gain {v['mean_gain']:+.4f}; a detector fired on {v['fired']:.0%} of corrupted units, {v['fired_clean']:.0%} of their clean originals)")
    if res.get("with_source"):
        ws = res["with_source"]
        lines.append("")
        lines.append("with the source (every segment scored with its source: the source-aware detectors run):")
        lines.append("score".ljust(w0) + "".join(h.rjust(14) for h in heads))
        for n, m in ws["table"].items():
            lines.append(n.ljust(w0) + "".join(fmt(m[k]) for k in names))
        lines.append("  segments where each detector fired: " + ", ".join(f"{d} {n}" for d, n in ws["fires"].items()))
        ao = ws["auc_major_omission"]
        lines.append(f"  AUC, Major Accuracy/Omission (n={ao['n_omission']}) vs error-free: with the source {ao['with source']}, without {ao['without']}, length {ao['length (chars)']}")
        lines.append(f"  recall per error category with the source (top {int(TOP_FRACTION * 100)}%), against without:")
        for c, v in ws["categories"].items():
            before = res["categories"].get(c, {}).get("recall")
            lines.append(f"    {c:<46}{v['recall']:.3f}  (without: {'—' if before is None else f'{before:.3f}'}; n={v['n']})")
    if res.get("features"):
        lines.append("")
        lines.append("each feature of the combiner alone (absent = 0):")
        lines.append("feature".ljust(w0) + "".join(h.rjust(14) for h in heads))
        for n, m in res["features"].items():
            lines.append(n.ljust(w0) + "".join(fmt(m[k]) for k in names))
    if res.get("spans"):
        lines.append("")
        lines.append(f"finding spans against the raters' error spans ({res['spans']['file']}; MT segments): precision = share of spans overlapping an error span, recall = share of Major spans overlapped")
        for n, m in res["spans"]["rows"].items():
            p = "—" if m["precision"] is None else f"{m['precision']:.3f}"
            r = "—" if m["major_recall"] is None else f"{m['major_recall']:.3f}"
            lines.append(f"  {n:<16}findings {m['findings']:>6}   precision {p}   Major recall {r}")
    if res.get("guard_rails"):
        g = res["guard_rails"]
        lines.append("")
        lines.append("guard rails: the combined score against its own parts on these rows" + ("" if g["ok"] else "  (FAILED)"))
        for d, row in g["table"].items():
            lines.append(f"  {d:<26}" + "  ".join(f"{k} {'—' if v is None else f'{v:.3f}'}" for k, v in row.items()))
        for n, ok in g["checks"]:
            lines.append(("  ok    " if ok else "  FAIL  ") + n)
    if "ablation" in res:
        a = res["ablation"]
        lines.append("")
        lines.append("ablation: garble score with one feature removed (no refit); fires = segments where the detector fired")
        lines.append("removed".ljust(w0) + "".join(h.rjust(14) for h in heads) + "fires".rjust(8))
        for n, m in a["rows"].items():
            fires = a["fires"].get(n[1:], "")
            lines.append(n.ljust(w0) + "".join(fmt(m[k]) for k in names) + str(fires).rjust(8))
    for key, title in (("misses", "largest misses (fluency-major, lowest score)"), ("false_alarms", "largest false alarms (error-free, highest score)")):
        if res.get(key):
            lines.append("")
            lines.append(title + ":")
            for it in res[key]:
                cats = ",".join(it["categories"]) or "-"
                lines.append(f"  {it['score']:.3f} {it['system']} {it['doc']}:{it['seg']} mqm={it['mqm']:g} [{cats}] {'; '.join(it['findings'])}")
                lines.append(f"        {it['text'][:200]}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# minimal pairs: `garble eval pairs FILE`


def read_pairs(path: Path) -> list[dict]:
    """``{"good", "bad", "type"}`` records of a JSONL file; a bad line is an :class:`InputError` naming it."""
    out = []
    try:
        fh = open(path, encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path=str(path)) from None
    with fh:
        for no, ln in enumerate(fh, 1):
            if not ln.strip():
                continue
            try:
                d = json.loads(ln)
                if not isinstance(d, dict) or not isinstance(d.get("good"), str) or not isinstance(d.get("bad"), str):
                    raise ValueError("needs string fields good and bad")
            except ValueError as e:
                raise InputError(f"line {no}: not a minimal pair ({e})", path=str(path)) from None
            out.append({"good": d["good"], "bad": d["bad"], "type": str(d.get("type", "(none)")), "line": no})
    if not out:
        raise InputError("no minimal pairs in the file", path=str(path))
    return out


def evaluate_pairs(path: Path, scorer, progress: Optional[Callable[[str, int, int], None]] = None) -> dict:
    """Detection rate per type on minimal pairs, each sentence scored alone: garble against LM mean and total surprisal and length.

    A pair is detected when the bad sentence scores strictly higher than the
    good one (ties count half). All sentences go to the LM in batches first.
    """
    import copy

    from .combiner import BASELINES, FrozenLM
    from .scorer import unit_features

    items = read_pairs(path)
    texts = list(dict.fromkeys(t for it in items for t in (it["good"], it["bad"])))
    sc = scorer
    lm = scorer.lm
    if lm is not None and callable(getattr(lm, "score_stream", None)):
        streams = {}
        for i in range(0, len(texts), 256):
            streams.update(zip(texts[i : i + 256], lm.score_stream(texts[i : i + 256])))
            if progress:
                progress("sentences", min(i + 256, len(texts)), len(texts))
        sc = copy.copy(scorer)
        sc.lm = FrozenLM(streams, getattr(lm, "name", "lm"), getattr(lm, "tagger", None))
    xs = {}
    for t in texts:
        u = sc.score_units([t]).units[0]
        xs[t] = unit_features(u.text, u.findings, u.lm)
    cols = {"garble": scorer.weights.score, **BASELINES}
    by: dict = defaultdict(lambda: defaultdict(list))
    for it in items:
        for name, f in cols.items():
            d = f(xs[it["bad"]]) - f(xs[it["good"]])
            v = 1.0 if d > 0 else 0.5 if d == 0 else 0.0
            by[it["type"]][name].append(v)
            by["(all)"][name].append(v)
    rows = {k: {"n": len(v["garble"]), **{name: _r(sum(x) / len(x)) for name, x in v.items()}} for k, v in sorted(by.items(), key=lambda kv: (kv[0] == "(all)", kv[0]))}
    return {"file": str(path), "model": getattr(lm, "name", None) if lm is not None else None, "weights": scorer.weights.source, "rows": rows, "columns": list(cols)}


def format_pairs_report(res: dict) -> str:
    cols = res["columns"]
    lines = [f"garble eval pairs {res['file']}  model={res['model'] or 'none (--no-lm)'}", "detection rate (bad sentence scores above the good one; ties half), each sentence scored alone", ""]
    lines.append("type".ljust(26) + "n".rjust(6) + "".join(c.rjust(20) for c in cols))
    for k, r in res["rows"].items():
        lines.append(k.ljust(26) + str(r["n"]).rjust(6) + "".join(("—" if r[c] is None else f"{r[c]:.3f}").rjust(20) for c in cols))
    return "\n".join(lines) + "\n"
