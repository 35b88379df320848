"""Boilerplate: web page furniture (comment forms, photo credits, share bars) mixed into the text."""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Optional

from ..document import Document
from ..resources import load_tsv
from ..types import Finding
from . import Detector, register
from ._literals import StringFinder, fold, required_strings
from ._text import paragraph_spans


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern
    kind: str
    weight: float
    description: str
    # folded strings one of which a paragraph must contain to match (None: always try)
    needs: Optional[frozenset] = None


@lru_cache(maxsize=8)
def load_patterns(name: str = "boilerplate.tsv") -> tuple[_Pattern, ...]:
    """The furniture patterns of data file ``name`` (columns pattern, kind, weight, description)."""
    out = []
    for row in load_tsv(name):
        rx = re.compile(row["pattern"], re.MULTILINE)
        out.append(
            _Pattern(rx, row["kind"], float(row["weight"]), row["description"], required_strings(rx.pattern, rx.flags))
        )
    return tuple(out)


def _norm(text: str) -> str:
    return " ".join(text.split())


@register("boilerplate", colour=("#d3f1d3", "#2e9b46"), prior=2.5)
@dataclass(eq=False)
class Boilerplate(Detector):
    """Web page furniture scraped along with an article and translated with it.

    >>> from garble.detectors import flagged
    >>> flagged(Boilerplate(), "Leave a Reply")
    [('comment_form', 'Leave a Reply')]
    >>> flagged(Boilerplate(), "Photo: Jane Doe / Example Agency")
    [('photo_credit', 'Photo: Jane Doe / Example Agency')]

    The patterns live in ``data/boilerplate.tsv`` (columns pattern, kind,
    weight, description), matched per paragraph with ``re.MULTILINE``; the
    finding covers the matched furniture, which may run over several units
    (a "See also" block of links). Most patterns are anchored to a whole line
    so that ordinary sentences that mention, say, subscribing are left alone.
    A pattern only runs on a paragraph that contains one of the strings every
    match of it must contain ("see also", "getty images"; see
    :mod:`garble.detectors._literals`), which most paragraphs do not.

    A unit of at least ``min_repeat_words`` words that occurs verbatim more
    than once in the document is reported weakly (``repeat_weight``): repeated
    furniture ("Sign up for our newsletter" after every section) but also
    refrains, so the weight stays low. Bracketed stage directions
    ("(Laughter)") are ignored.

    Measured with ``garble eval false-alarms clean_en.tsv mqm_ted_zhen.tsv
    --detector boilerplate``: on clean human text 0.5 findings per 1000 units (1 in 1,995: a real credit,
    "(Picture: Getty)", left in a WMT23 news source); on the TED zh-en MT rows
    one weak repeated unit in 6,877 segments (TED transcripts carry no web
    furniture, so there is no MT-vs-clean signal to measure there).
    ``min_repeat_words=5``: shorter repeats are ordinary speech ("Thank you
    all."); ``repeat_weight=0.3``: repeats are also refrains and changelog
    credits ("Patch by ...").
    """

    patterns_file: str = "boilerplate.tsv"
    min_repeat_words: int = 5
    repeat_weight: float = 0.3

    def __post_init__(self):
        self.patterns = load_patterns(self.patterns_file)
        # required string -> the patterns that need it; patterns without one always run
        triggers: dict[str, list[int]] = defaultdict(list)
        for i, pat in enumerate(self.patterns):
            for s in pat.needs or ():
                triggers[s].append(i)
        self._triggers = triggers
        self._find = StringFinder(triggers)
        self._always = frozenset(i for i, pat in enumerate(self.patterns) if pat.needs is None)

    def _candidates(self, text: str) -> list[_Pattern]:
        """The patterns that may match in ``text``, in file order."""
        todo = set(self._always)
        for s in self._find(fold(text)):
            todo.update(self._triggers[s])
        return [self.patterns[i] for i in sorted(todo)]

    def detect(self, doc: Document) -> Iterator[Finding]:
        found: list[Finding] = []
        for start, end in paragraph_spans(doc):
            text = doc.text[start:end]
            hits: list[Finding] = []
            for pat in self._candidates(text):
                for m in pat.regex.finditer(text):
                    a, b = m.start(), m.end()
                    while b > a and text[b - 1].isspace():
                        b -= 1
                    while a < b and text[a].isspace():
                        a += 1
                    if b > a:
                        hits.append(self.finding(pat.kind, start + a, start + b, pat.weight, pat.description))
            found.extend(_drop_contained(hits))
        found.extend(self._repeated_units(doc, found))
        found.sort(key=lambda f: (f.start, f.end))
        yield from found

    def _repeated_units(self, doc: Document, already: list[Finding]) -> Iterator[Finding]:
        norms = [_norm(u.text) for u in doc.units]
        counts = Counter(norms)
        groups: dict[str, list] = defaultdict(list)
        for u, key in zip(doc.units, norms):
            if counts[key] < 2:
                continue  # occurs once: no need to look closer
            if u.text[0] in "([" and u.text.rstrip(".")[-1] in ")]":
                continue
            if len(doc.unit_tokens(u)) < self.min_repeat_words:
                continue
            groups[key].append(u)
        inside = _Cover(already)
        for units in groups.values():
            if len(units) < 2:
                continue
            for u in units:
                if inside(u.start, u.end):
                    continue
                yield self.finding(
                    "repeated_unit",
                    u.start,
                    u.end,
                    self.repeat_weight,
                    f"unit repeated verbatim {len(units)} times in the document (page furniture?)",
                )


class _Cover:
    """``cover(a, b)``: whether some span of ``spans`` holds ``[a, b)`` (a bisection, not a scan of every span)."""

    def __init__(self, spans):
        pairs = sorted((f.start, f.end) for f in spans)
        self.starts = [a for a, _ in pairs]
        self.reach: list[int] = []  # the furthest end of the spans up to each one, in order of start
        for _, b in pairs:
            self.reach.append(max(b, self.reach[-1]) if self.reach else b)

    def __call__(self, a: int, b: int) -> bool:
        k = bisect.bisect_right(self.starts, a)  # the spans that start at or before a
        return k > 0 and self.reach[k - 1] >= b


def _drop_contained(hits: list[Finding]) -> list[Finding]:
    """Drop a hit whose span lies inside a stronger or longer hit.

    No kept span holds another (the one it would hold is dropped), so in order of
    start their ends rise too, and the kept span that starts last at or before a
    hit's start is the only one that can hold it.
    """
    hits.sort(key=lambda f: (-(f.end - f.start), -f.weight))
    kept: list[Finding] = []
    starts: list[int] = []
    ends: list[int] = []
    for f in hits:
        k = bisect.bisect_right(starts, f.start)
        if k > 0 and f.end <= ends[k - 1]:
            continue
        kept.append(f)
        starts.insert(k, f.start)
        ends.insert(k, f.end)
    return kept
