"""Typed results returned by the library API.

All offsets are character offsets into the text that was scored (the whole
document for :meth:`garble.Scorer.score_document`), half-open ``[start, end)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence


@dataclass(frozen=True)
class Unit:
    """One reviewable unit (usually a sentence) of a document."""

    index: int  # position in document order, 0-based
    start: int
    end: int
    text: str
    paragraph: int  # index of the paragraph (or input line) that holds the unit
    # the unit starts (ends) where a longer text was cut at the unit length
    # limit, at a space or anywhere, not at a sentence end or line break
    cut_start: bool = False
    cut_end: bool = False

    @property
    def split(self) -> bool:
        """Whether the unit was cut out of a longer text at the length limit."""
        return self.cut_start or self.cut_end

    def __post_init__(self) -> None:
        if self.end - self.start != len(self.text):
            raise ValueError(
                f"unit {self.index}: offsets [{self.start},{self.end}) do not match text length {len(self.text)}"
            )


@dataclass(frozen=True)
class Finding:
    """One artifact found by a detector.

    ``weight`` in (0, 1] is the detector's confidence that the span needs a human
    look; ``detector`` is the detector's ``name``; ``kind`` a finer label inside
    that family (e.g. ``repeated_phrase``). ``source_span``: for a finding of a
    source-aware detector, the matching ``[start, end)`` in the unit's source
    text (offsets into that source string, not the document), when there is one.
    """

    detector: str
    kind: str
    start: int
    end: int
    weight: float
    message: str
    source_span: Optional[tuple[int, int]] = None

    def overlaps(self, start: int, end: int) -> bool:
        if self.start == self.end:  # zero-width finding (e.g. "missing space here")
            return start <= self.start < end
        return self.start < end and start < self.end

    def to_dict(self) -> dict:
        return {
            "detector": self.detector,
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "weight": round(self.weight, 4),
            "message": self.message,
            **({"source_span": list(self.source_span)} if self.source_span is not None else {}),
        }


@dataclass(frozen=True)
class LMFeatures:
    """Language-model features of one unit (surprisal in nats per token).

    With a :class:`garble.lm.LanguageModel` every unit is read once, after
    the text of its document before it (a corpus line alone), so
    ``mean_surprisal`` is the unit's mean surprisal in that context.
    ``error_p_*`` come from the error model (:mod:`garble.tagger`): the mean
    and the largest probability that a token of the unit lies inside a
    translation error, the mean of the three largest, and their sum (the
    expected number of error tokens); ``None`` when the LM has no error-model
    head.
    """

    mean_surprisal: float
    max_surprisal: float
    max_span: tuple[int, int]  # document offsets of the most surprising token
    n_tokens: int
    rel_median: float = 0.0  # mean_surprisal minus the document's median unit mean
    context_mean_surprisal: Optional[float] = None  # legacy two-pass models: with the previous unit as context
    truncated: bool = False
    # mean_surprisal minus the unit's unigram surprisal (wordfreq) per token: the negated
    # SLOR of Lau et al. (2017), how much less likely the unit is than its words' rarity explains
    slor: Optional[float] = None
    end_surprisal: Optional[float] = None  # surprisal of what follows the unit (a newline after the last unit)
    mean_entropy: Optional[float] = None  # mean entropy of the predicted distributions, nats
    error_p_mean: Optional[float] = None
    error_p_max: Optional[float] = None
    error_p_top: Optional[float] = None
    error_p_sum: Optional[float] = None

    def to_dict(self) -> dict:
        d = {
            "mean_surprisal": round(self.mean_surprisal, 4),
            "max_surprisal": round(self.max_surprisal, 4),
            "max_span": list(self.max_span),
            "n_tokens": self.n_tokens,
            "rel_median": round(self.rel_median, 4),
        }
        for k in (
            "slor",
            "context_mean_surprisal",
            "end_surprisal",
            "mean_entropy",
            "error_p_mean",
            "error_p_max",
            "error_p_top",
            "error_p_sum",
        ):
            v = getattr(self, k)
            if v is not None:
                d[k] = round(v, 4)
        return d


@dataclass(frozen=True)
class QEResult:
    """Quality estimated with the source (:mod:`garble.qe`): a multilingual LM read the unit after its source.

    ``z``: the predicted human judgement (a direct-assessment z-score as in MLQE-PE: about 0 average, higher =
    better). ``p_fix``: the probability that the unit needs a fix (calibrated: a post-editor would change at
    least a fifth of its words). ``lm_total``/``lm_mean``: the translation's surprisal after its source, total
    and per token (nats); ``pmi_mean``: per token, how much the source lowered it. ``source_lang``: the
    language the prompt named; ``model`` the LM. ``findings``: the words the source does not support
    (``adequacy``; also among the unit's findings).
    """

    z: float
    p_fix: float
    lm_total: float
    lm_mean: float
    pmi_mean: float
    source_lang: str
    model: str
    findings: tuple = ()

    def to_dict(self) -> dict:
        return {
            "z": round(self.z, 4),
            "p_fix": round(self.p_fix, 4),
            "lm_total": round(self.lm_total, 4),
            "lm_mean": round(self.lm_mean, 4),
            "pmi_mean": round(self.pmi_mean, 4),
            "source_lang": self.source_lang,
            "model": self.model,
        }


@dataclass
class UnitResult:
    """A unit with its review score, LM features and findings.

    ``unit`` is the :class:`Unit` itself (offsets, text, paragraph);
    ``index`` is its 0-based position in document order, the ``unit`` field
    of the JSONL output (``result.index == record["unit"]``).
    """

    unit: Unit
    score: float
    findings: list[Finding] = field(default_factory=list)
    lm: Optional[LMFeatures] = None  # None without an LM, and when ``qe`` scored the unit (the LM is not run)
    rank: int = 0  # 1 = most in need of review within its document
    qe: Optional[QEResult] = None  # with a source and the QE model: the source-aware estimate

    @property
    def index(self) -> int:
        """0-based position of the unit in document order (the JSONL ``unit`` field)."""
        return self.unit.index

    @property
    def text(self) -> str:
        return self.unit.text

    @property
    def start(self) -> int:
        return self.unit.start

    @property
    def end(self) -> int:
        return self.unit.end

    def reasons(self) -> list[str]:
        """Finding messages, strongest first (deduplicated)."""
        seen: list[str] = []
        for f in sorted(self.findings, key=lambda f: -f.weight):
            if f.message not in seen:
                seen.append(f.message)
        return seen

    def to_dict(self, doc: str = "") -> dict:
        return {
            "doc": doc,
            "unit": self.index,
            "start": self.unit.start,
            "end": self.unit.end,
            "text": self.unit.text,
            "score": round(self.score, 6),
            "rank": self.rank,
            "lm": self.lm.to_dict() if self.lm is not None else None,
            "qe": self.qe.to_dict() if self.qe is not None else None,
            "findings": [f.to_dict() for f in sorted(self.findings, key=lambda f: (f.start, -f.weight))],
        }


@dataclass
class DocumentResult:
    """All units of one document, in document order."""

    text: str
    units: list[UnitResult]
    doc_id: str = ""

    def __iter__(self) -> Iterator[UnitResult]:
        return iter(self.units)

    def __len__(self) -> int:
        return len(self.units)

    def ranked(self) -> list[UnitResult]:
        """Units sorted by rank (most in need of review first)."""
        return sorted(self.units, key=lambda u: u.rank)

    @property
    def findings(self) -> list[Finding]:
        out: list[Finding] = []
        for u in self.units:
            out.extend(u.findings)
        return out


def assign_ranks(units: Sequence[UnitResult]) -> None:
    """Set ``rank`` 1..n by descending score; ties keep document order."""
    order = sorted(range(len(units)), key=lambda i: (-units[i].score, units[i].unit.index))
    for r, i in enumerate(order, 1):
        units[i].rank = r
