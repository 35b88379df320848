"""Length ratio: a translation much shorter or longer than its source (an omission or an addition)."""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator, Optional, Sequence

from ..document import Document
from ..types import Finding
from . import Detector, register

#: packaged priors, per language pair: median and quartiles of the log length ratio per source-length bin
PRIOR_FILE = "source_length.json"
#: source-length bins (letters and digits): short segments vary more
BINS = (0, 10, 20, 40, 80)


def _strip_placeholders(s: str) -> str:
    if "{" in s or "%" in s or "<" in s or "&" in s or "$" in s:
        from .placeholders import PLACEHOLDER_RE

        s = PLACEHOLDER_RE.sub(" ", s)
    return s


def chars(s: str) -> int:
    """Letters and digits of ``s`` outside placeholders and inline tags (``{0}``, ``<b>``: copied, not translated)."""
    return sum(1 for c in _strip_placeholders(s) if c.isalnum())


_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def words(s: str) -> int:
    """Words (runs of letters and digits, "don't" one) of ``s`` outside placeholders and inline tags."""
    return len(_WORD.findall(_strip_placeholders(s)))


def log_ratio(target: str, source: str) -> float:
    """log((letters and digits of target + 1) / (those of source + 1)), placeholders left out (:func:`chars`)."""
    return math.log((chars(target) + 1) / (chars(source) + 1))


def log_word_ratio(target: str, source: str) -> float:
    """log((words of target + 1) / (letters and digits of source + 1)) (:func:`words`, :func:`chars`)."""
    return math.log((words(target) + 1) / (chars(source) + 1))


#: the length measures of a translation against its source: the prior has one part per measure
#: (``chars`` at its top level, ``words`` under "words"); a pair's z is the mean of its measures' z
MEASURES = {"chars": log_ratio, "words": log_word_ratio}


def bin_of(n: int) -> int:
    k = 0
    for i, lo in enumerate(BINS):
        if n >= lo:
            k = i
    return k


def _quartiles(v: list[float]) -> dict:
    qs = statistics.quantiles(v, n=4, method="inclusive") if len(v) > 1 else [v[0]] * 3
    return {"median": round(qs[1], 4), "q1": round(qs[0], 4), "q3": round(qs[2], 4), "n": len(v)}


def _measure_one(pairs: list[tuple[str, str]], ratio) -> dict:
    by_bin: dict[int, list[float]] = {}
    for s, t in pairs:
        by_bin.setdefault(bin_of(chars(s)), []).append(ratio(t, s))
    allr = [r for v in by_bin.values() for r in v]
    bins = {str(BINS[k]): _quartiles(v) for k, v in sorted(by_bin.items()) if len(v) >= 10}
    return {"all": _quartiles(allr), "bins": bins}


def measure_prior(pairs: Iterable[tuple[str, str]]) -> dict:
    """The prior of one language pair from (source, target) pairs of good translations: per bin of
    :data:`BINS`, the median and quartiles of :func:`log_ratio`, and overall; the same of
    :func:`log_word_ratio` under ``words``."""
    pairs = list(pairs)
    return {**_measure_one(pairs, log_ratio), "words": _measure_one(pairs, log_word_ratio)}


@lru_cache(maxsize=1)
def priors() -> dict:
    """The packaged priors by pair ("zh-en"); ``{}`` when the file is missing or unreadable."""
    import json
    from pathlib import Path

    try:
        raw = json.loads((Path(__file__).parent / PRIOR_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw.get("pairs", {})


def _parts(prior: dict, measures: Sequence[str] = tuple(MEASURES)) -> dict:
    """The prior's part of each of ``measures`` it has (a prior without ``words`` has the letters alone)."""
    return {m: (prior if m == "chars" else prior[m]) for m in measures if m == "chars" or m in prior}


def _bin(part: dict, source: str) -> dict:
    return part["bins"].get(str(BINS[bin_of(chars(source))]), part["all"])


def z_of(source: str, target: str, pair: str = "zh-en") -> Optional[float]:
    """The robust z of the pair's length against the packaged prior of ``pair`` (``None`` without one):
    the mean over its measures of (log ratio - bin median) / (bin IQR / 1.349) (:func:`z_scores` of one pair)."""
    prior = priors().get(pair)
    return z_scores([(target, source)], prior)[0][0] if prior else None


@register("length_ratio", colour=("#dfe3ea", "#4a5a78"), prior=4.0)
@dataclass(eq=False)
class LengthRatio(Detector):
    """A translation too short or too long for its source (needs the source text).

    Two length measures of the target against the source's letters and
    digits (placeholders and tags left out, :data:`MEASURES`): the log
    ratio of the target's letters and digits, and of its words. Each is
    compared with what good translations of that language pair give: a
    packaged prior per pair and source-length bin
    (``garble/detectors/source_length.json``, measured by
    ``scripts/eval_source.py --write-prior`` on the human reference rows of
    the mqm_ted_zhen train talks: zh-en), recentred on the document's own
    median when it has ``min_doc_units`` units with a source (a different
    register or tokenisation shifts the whole document), or the document's
    own median and quartiles of the letters alone for a pair without a prior.
    The unit's z is the mean of the measures' robust z:

    >>> from garble.detectors import flagged
    >>> flagged(LengthRatio(), "We went to Paris.", source="我们去了巴黎，参观了卢浮宫，然后回家了。")
    [('omission', 'src:我们去了巴黎，参观了卢浮宫，然后回家了。')]

    is ``omission`` (z below -``z``); the opposite is ``addition``. The
    finding is zero-width at the unit start (it is about the whole unit).

    Words vary less than letters between good translations (long and
    short words), and the two together less than either: at the same
    share of references flagged, the mean z catches more dropped clauses.
    ``z=2.0`` robust standard deviations (IQR/1.349), with a weight that
    grows from ``0.2`` at the threshold by 0.2 per deviation (at most 0.9):
    dropping a third of a sentence moves the ratio by about 0.4, two to three
    deviations, so a hard threshold cannot separate it from a terse good
    translation. Measured with ``scripts/eval_source.py --trade-off`` on the
    716 references of the mqm_ted_zhen train talks and a clause dropped from
    each: z 1.5 / 2.0 / 2.5 / 3.0 fires on 10.5 / 3.8 / 1.3 / 0.4% of the
    references and catches 82 / 69 / 55 / 43% of the dropped clauses (the
    letters alone at 2.0: 4.7% and 68%); 90% would take z 1.0 and 27% of the
    references. :mod:`.clauses` adds the clause structure.
    ``min_source_chars=4``: shorter sources (a name, "谢谢") vary too much.
    ``min_doc_units=30``: enough units for a median and quartiles.
    ``measures``: those of :data:`MEASURES` to use (``("chars",)``: the letters alone).
    """

    z: float = 2.0
    min_source_chars: int = 4
    min_doc_units: int = 30
    target_lang: str = "en"
    measures: tuple[str, ...] = tuple(MEASURES)

    def detect(self, doc: Document) -> Iterator[Finding]:
        pairs = source_pairs(doc, self.min_source_chars)
        prior = priors().get(f"{doc.source_language}-{self.target_lang}")
        zs = z_scores([(u.text, s) for u, s in pairs], prior, self.min_doc_units, self.measures)
        for (u, s), (z, dev) in zip(pairs, zs or ()):
            if abs(z) < self.z:
                continue
            w = min(0.9, 0.2 + 0.2 * (abs(z) - self.z))
            factor = math.exp(dev)
            if z < 0:
                yield self.finding(
                    "omission",
                    u.start,
                    u.start,
                    w,
                    f"translation {1 / factor:.1f}x shorter than usual for its source (z = {z:.1f}): "
                    "something left out?",
                    (0, len(s)),
                )
            else:
                yield self.finding(
                    "addition",
                    u.start,
                    u.start,
                    w,
                    f"translation {factor:.1f}x longer than usual for its source (z = {z:.1f}): something added?",
                    (0, len(s)),
                )


def source_pairs(doc: Document, min_source_chars: int) -> list:
    """The (unit, source) pairs of ``doc`` with a target and a source of at least ``min_source_chars`` letters."""
    if not doc.has_sources:
        return []
    pairs = [(u, doc.source(u)) for u in doc.units]
    return [(u, s) for u, s in pairs if s and chars(s) >= min_source_chars and u.text.strip()]


def z_scores(
    pairs: list[tuple[str, str]],
    prior: Optional[dict],
    min_doc_units: int = 30,
    measures: Sequence[str] = tuple(MEASURES),
) -> Optional[list[tuple[float, float]]]:
    """Per (target, source) pair of one document: the mean z over the length measures, and the letters' log
    deviation from the expected ratio; ``None`` when there is nothing to compare with.

    ``prior``: the pair's packaged prior (:func:`priors`), recentred on the document's median when it has
    ``min_doc_units`` pairs; without one, the document's own median and quartiles of the letters
    (``None`` with fewer pairs). ``measures``: those of :data:`MEASURES` to use (the letters always)."""
    if not pairs:
        return None
    parts: dict = _parts(prior, measures) if prior else {"chars": None}
    ratios = {m: [MEASURES[m](t, s) for t, s in pairs] for m in parts}
    ref = {m: (0.0, None) for m in parts}  # per measure: the document's shift, and its spread without a prior
    if len(pairs) >= min_doc_units:
        for m, rs in ratios.items():
            q1, med, q3 = statistics.quantiles(rs, n=4, method="inclusive")
            ref[m] = (med - parts[m]["all"]["median"], None) if prior else (med, max(q3 - q1, 1e-3))
    elif not prior:
        return None  # no prior for this pair and too few units to measure one
    out = []
    for i, (_, s) in enumerate(pairs):
        zs, devs = [], []
        for m, part in parts.items():
            center, spread = ref[m]
            if part is not None:
                b = _bin(part, s)
                center, spread = b["median"] + center, max(b["q3"] - b["q1"], 1e-3)
            devs.append(ratios[m][i] - center)
            zs.append(devs[-1] / (spread / 1.349))
        out.append((statistics.fmean(zs), devs[0]))
    return out
