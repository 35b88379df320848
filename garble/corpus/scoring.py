"""Scoring one chunk: one language-model call for the whole chunk, then one output record per input record.

Records are scored through the library API, whatever they carry: a document
with :meth:`garble.Scorer.score_units` (its units' sources and source
language with it when it has any), a record on its own with ``score_units``
(no source) or :meth:`garble.Scorer.score_segments` (with a source; the
chunk's such records of one source language in one call).
"""

from __future__ import annotations

import copy
import json
from typing import Any, Optional, Sequence

from ..errors import GarbleError
from ..lm import LM, reads_streams, scores_pairs
from .readers import Record, Warn, default_warn


class _PrefetchedLM:
    """Stands in for the scorer's LM with results computed for a whole chunk in one call."""

    score_pairs = None  # answer everything from the cache (garble.lm.score_in_context then calls score)

    def __init__(self, lm: LM, cache: dict):
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


def _needs_lm(scorer: Any, group: Sequence[Record]) -> bool:
    """False when quality estimation will score every record of ``group`` (each has a source, a text and a
    source language the QE model can read): their scores do not read the fluency LM, so it is not run on them."""
    ok = [r for r in group if r.error is None]
    if not ok or not hasattr(scorer, "_qe_plan") or not all(_paired(r) and r.source_lang for r in ok):
        return True
    plan = scorer._qe_plan([r.text for r in ok], [r.source_text for r in ok], ok[0].source_lang)
    return plan is None or plan[2] is not None or not all(plan[0])


def _stream_lm(scorer: Any, groups: Sequence[Sequence[Record]]) -> Any:
    """An LM answering from one ``score_stream`` call: one stream per document as
    :meth:`Scorer.score_units` reads it (its units joined by newlines), or per unit; none for the groups quality
    estimation scores whole (a text it misses is read when asked for)."""
    from ..readings import PrefetchedStreams

    texts: dict = {}
    for g in groups:
        if not _needs_lm(scorer, g):
            continue
        ok = [r.text for r in g if r.error is None]
        if not ok:
            continue
        if getattr(scorer, "context", True):
            texts["\n".join(ok)] = None
        else:
            texts.update(dict.fromkeys(ok))
    return PrefetchedStreams(scorer.lm, dict(zip(texts, scorer.lm.score_stream(list(texts)))) if texts else {})


def _pair_lm(scorer: Any, groups: Sequence[Sequence[Record]]) -> Any:
    """An LM answering from one batched call over every text of the chunk, alone and after its predecessor."""
    keys: dict = {}
    for g in groups:
        if not _needs_lm(scorer, g):
            continue
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
    if pairs and scores_pairs(scorer.lm):
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
    return _PrefetchedLM(scorer.lm, cache)


def _prefetch(scorer: Any, groups: Sequence[Sequence[Record]]) -> Any:
    """A shallow copy of ``scorer`` whose LM answers from one batched call over the chunk."""
    s = copy.copy(scorer)
    s.lm = _stream_lm(scorer, groups) if reads_streams(scorer.lm) else _pair_lm(scorer, groups)
    return s


def _clip(a: int, b: int, n: int) -> tuple[int, int]:
    a = min(max(a, 0), n)
    return a, min(max(b, a), n)


def output_record(rec: Record, unit: Any = None, ranked: bool = False) -> dict:
    """The output dict of one record and its :class:`~garble.types.UnitResult` (``None``: not scored).

    Every record has the keys of :data:`~garble.corpus.output.OUTPUT_FIELDS`, in that order.
    """
    out = {
        "source": rec.source,
        "id": rec.id,
        "line": rec.line,
        "doc": rec.doc,
        "text": rec.text,
        "source_text": rec.source_text,
    }
    if unit is None:
        return {**out, "score": None, "rank": None, "findings": [], "lm": None, "qe": None, "error": rec.error}
    base, n = unit.unit.start, len(unit.unit.text)
    findings = []
    for f in sorted(unit.findings, key=lambda f: (f.start, -f.weight, f.detector, f.kind, f.end, f.message)):
        d = f.to_dict()
        d["start"], d["end"] = _clip(f.start - base, f.end - base, n)
        d.setdefault("source_span", None)  # every finding has every key (as in the Parquet output)
        findings.append(d)
    lm = None
    if unit.lm is not None:
        lm = unit.lm.to_dict()
        lm["max_span"] = list(_clip(unit.lm.max_span[0] - base, unit.lm.max_span[1] - base, n))
    return {
        **out,
        "score": round(unit.score, 6),
        "rank": unit.rank if ranked else None,
        "findings": findings,
        "lm": lm,
        "qe": unit.qe.to_dict() if getattr(unit, "qe", None) is not None else None,
        "error": None,
    }


def _ranked(group: Sequence[Record], grouped: bool) -> bool:
    """Whether ``group`` is a document (scored together, ranked within itself), not one record on its own."""
    first = next((r for r in group if r.error is None), None)
    return grouped and first is not None and first.doc is not None


def _paired(rec: Record) -> bool:
    return rec.error is None and bool(rec.source_text)


def _score_group(scorer: Any, group: Sequence[Record], grouped: bool, warn: Warn) -> list[dict]:
    """The output dicts of one group: a document (:meth:`Scorer.score_units`) or one record on its own
    (with a source: :meth:`Scorer.score_segments`); a crash of the scorer isolated to the records it hit."""
    idx = [i for i, r in enumerate(group) if r.error is None]
    outs: dict[int, dict] = {}
    if idx:
        texts = [group[i].text for i in idx]
        ranked = _ranked(group, grouped)
        doc_id = group[idx[0]].doc if ranked else group[idx[0]].id
        paired = any(_paired(group[i]) for i in idx)
        try:
            if paired and not ranked and len(idx) == 1:
                r = group[idx[0]]
                units = scorer.score_segments(texts, [r.source_text], source_lang=r.source_lang)
            elif paired:
                sources = [group[i].source_text for i in idx]
                lang = group[idx[0]].source_lang
                units = scorer.score_units(texts, doc_id=doc_id, sources=sources, source_lang=lang).units
            else:
                units = scorer.score_units(texts, doc_id=doc_id).units
            for i, u in zip(idx, units):
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


def _segments(scorer: Any, groups: Sequence[Sequence[Record]], grouped: bool, warn: Warn) -> dict[int, list[dict]]:
    """The output of the groups that are one record with a source and a known source language, scored on their
    own: one :meth:`Scorer.score_segments` call per language (a segment's result does not depend on the others
    once the language is fixed). Keyed by group index; a crash leaves its groups to :func:`_score_group`."""
    batches: dict[str, list[int]] = {}
    for gi, g in enumerate(groups):
        ok = [r for r in g if r.error is None]
        if len(ok) == 1 and _paired(ok[0]) and ok[0].source_lang and not _ranked(g, grouped):
            batches.setdefault(ok[0].source_lang, []).append(gi)
    out: dict[int, list[dict]] = {}
    for lang, gis in batches.items():
        if len(gis) < 2:
            continue
        recs = [next(r for r in groups[gi] if r.error is None) for gi in gis]
        try:
            units = scorer.score_segments([r.text for r in recs], [r.source_text for r in recs], source_lang=lang)
        except (GarbleError, MemoryError):
            raise
        except Exception:  # scored again one by one, where the crash is isolated
            continue
        for gi, rec, u in zip(gis, recs, units):
            out[gi] = [output_record(rec, u) if r is rec else output_record(r) for r in groups[gi]]
    return out


def _encode(d: dict) -> bytes:
    try:
        return (json.dumps(d, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(d, ensure_ascii=True) + "\n").encode("ascii")


def score_chunk(
    scorer: Any, groups: Sequence[Sequence[Record]], grouped: bool, warn: Optional[Warn] = None
) -> list[dict]:
    """Output dicts of every record of ``groups`` (documents, or single records), in order."""
    warn = warn or default_warn
    s = _prefetch(scorer, groups) if getattr(scorer, "lm", None) is not None else scorer
    done = _segments(s, groups, grouped, warn)
    out: list[dict] = []
    for gi, g in enumerate(groups):
        out.extend(done[gi] if gi in done else _score_group(s, g, grouped, warn))
    return out


def chunk_bytes(scorer: Any, groups: Sequence[Sequence[Record]], grouped: bool, warn: Warn) -> tuple[bytes, int]:
    """The JSONL output of ``groups`` (what a run writes) and its number of error records."""
    recs = score_chunk(scorer, groups, grouped, warn)
    return b"".join(_encode(d) for d in recs), sum(1 for d in recs if d["error"])
