"""Synthetic errors for ``garble eval --synthetic``: clean documents corrupted (:mod:`garble.synth`), scored, rated."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from ..lm import reads_streams
from .cache import features_cache_path, model_key, read_cached, write_jsonl
from .data import CleanRow, Row, build_documents, split_of
from .tables import without_lm


def synthetic_sources(
    rows: Sequence[Row], clean_rows: Sequence[CleanRow] = ()
) -> list[tuple[str, tuple[str, ...], str]]:
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
    from ..segment import segment

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
        hold = (
            (lambda x: {**x, "log_chars": self.clean_x["log_chars"]})
            if hold_length and "log_chars" in self.clean_x
            else (lambda x: x)
        )
        return weights.score(f(self.clean_x)), max(weights.score(f(hold(x))) for x in self.corrupt_xs)


def score_synthetic(
    pairs, scorer, cache: Optional[Path] = None, progress: Optional[Callable[[int, int], None]] = None
) -> list[SynthResult]:
    """Score every pair's clean and corrupted unit with ``scorer`` (features cached as by :func:`.data.load_segments`).

    A pair is read the way :func:`garble.synth.pair_in_context` says: after
    the unit before it (the LM reads ``[previous unit, unit]`` as one short
    document, and the detectors see the whole document: a name variant needs
    the other mentions), or alone, as a single corpus line or a minimal pair is
    scored. All LM texts go to the model in one batched call first.
    """
    import copy

    from ..synth import pair_in_context

    h = hashlib.sha256()
    for p in pairs:
        h.update(json.dumps([p.doc_id, p.index, p.corruption.kind, list(p.corruption.units), len(p.texts)]).encode())
    lm_key = model_key(scorer.lm)
    cpath = features_cache_path(h.hexdigest(), lm_key, scorer.detectors, scorer.context, cache, kind="synth")
    if cache is not False:
        got = read_cached(cpath, lambda d: SynthResult(**d), len(pairs))
        if got is not None:
            return got
    plans = []
    for p in pairs:
        ctx = pair_in_context(p)
        prev = [p.texts[p.index - 1]] if ctx and p.index > 0 else []
        plans.append((p, ctx, prev))
    _prefetch(plans, scorer, progress)
    det = copy.copy(scorer)
    det.lm = None
    full_clean: dict = {}
    out = [_score_pair(p, ctx, prev, scorer, det, full_clean) for p, ctx, prev in plans]
    if cache is not False:
        write_jsonl(cpath, (vars(r) for r in out))
    return out


def _prefetch(plans, scorer, progress: Optional[Callable[[int, int], None]]) -> None:
    """Read every text of the pairs with the LM in batches of 256 (its stream cache keeps them)."""
    lm = scorer.lm
    if reads_streams(lm) and scorer.context:
        texts = list(
            dict.fromkeys(
                t
                for p, _, prev in plans
                for t in ("\n".join(prev + [p.corruption.original]), "\n".join(prev + list(p.corruption.units)))
            )
        )
        for i in range(0, len(texts), 256):
            lm.score_stream(texts[i : i + 256])
            if progress:
                progress(min(i + 256, len(texts)), len(texts))


def _score_pair(p, ctx: bool, prev: list, scorer, det, full_clean: dict) -> SynthResult:
    """One pair scored (``det``: ``scorer`` without its LM; ``full_clean``: the clean documents read so far, by id)."""
    from ..scorer import unit_features

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
    return SynthResult(
        kind=p.corruption.kind,
        doc_id=p.doc_id,
        detail=p.corruption.detail,
        original=p.corruption.original,
        corrupted=list(p.corruption.units),
        clean_x=unit_features(cu.text, cf, cu.lm),
        corrupt_xs=[unit_features(u.text, fs, u.lm) for u, fs in zip(bus, bfs)],
        corrupt_findings=[
            [f.detector, f.kind, round(f.weight, 4), f.message]
            for fs in bfs
            for f in sorted(fs, key=lambda f: -f.weight)
        ][:4],
        context=ctx,
    )


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
        out[kind] = {
            "n": len(v),
            "rate": float((a[:, 1] > a[:, 0]).mean()),
            "rate_len_held": float((a[:, 2] > a[:, 0]).mean()),
            "mean_gain": float((a[:, 1] - a[:, 0]).mean()),
        }
    for kind in out:
        rs = [r for r in results if r.kind == kind]
        # a detector fired on the corrupted unit(s), and on the clean unit (the same detector may fire on both)
        out[kind]["fired"] = sum(any(k.startswith("det:") for x in r.corrupt_xs for k in x) for r in rs) / len(rs)
        out[kind]["fired_clean"] = sum(any(k.startswith("det:") for k in r.clean_x) for r in rs) / len(rs)
    return out
