"""Structure marks (brackets, quotes, ?/!, list markers, line breaks) on one side only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from ..document import Document
from ..types import Finding
from . import Detector, register

_FOLD = str.maketrans(
    {"（": "(", "）": ")", "【": "[", "】": "]", "［": "[", "］": "]", "？": "?", "！": "!", "｛": "{", "｝": "}"}
)
_LIST_RE = re.compile(r"^[ \t]*(?:[-*•·▪●]|\d{1,3}[.)、]|[a-z][.)]|[（(]\d{1,3}[)）])[ \t]+", re.M)
_QUOTES_SRC = '"“”„«»「」『』'
_QUOTES_TGT = '"“”„«»'


@register("structure", colour=("#d9f0ff", "#1b6fa8"), prior=4.0)
@dataclass(eq=False)
class Structure(Detector):
    """Structure marks present on one side only (needs the source): a soft hint, not an error by itself.

    Compares source and target for brackets (fullwidth folded: "（" is "("),
    quotation marks, question and exclamation marks, list markers at line
    starts and line breaks:

    >>> from garble.detectors import flagged
    >>> flagged(Structure(), "You will come.", source="你会来吗？")
    [('question', 'src:？')]

    is ``question`` (the source asks, the translation does not). Each kind
    has its own weight (constructor args), all low: translators drop a
    bracket or turn a rhetorical question into a statement for good reasons.
    ``question_weight=0.4``, ``exclamation_weight=0.25``, ``bracket_weight=0.3``,
    ``quote_weight=0.2``, ``list_weight=0.5``, ``linebreak_weight=0.5``: line
    breaks and list markers are layout a CAT tool keeps; the others are
    style choices. On the mqm_ted_zhen references the rate of each kind is in
    scripts/eval_source.py's table.
    """

    question_weight: float = 0.4
    exclamation_weight: float = 0.25
    bracket_weight: float = 0.3
    quote_weight: float = 0.2
    list_weight: float = 0.5
    linebreak_weight: float = 0.5

    def detect(self, doc: Document) -> Iterator[Finding]:
        for unit, src in doc.source_pairs():
            s, t = src.translate(_FOLD), unit.text
            checks = [
                ("question", "?", s.count("?"), t.count("?"), "question mark"),
                ("exclamation", "!", s.count("!"), t.count("!"), "exclamation mark"),
                ("bracket", "(", s.count("(") + s.count("["), t.count("(") + t.count("["), "brackets"),
                (
                    "quote",
                    '"',
                    sum(s.count(c) for c in _QUOTES_SRC),
                    sum(t.count(c) for c in _QUOTES_TGT),
                    "quotation marks",
                ),
                ("list", "", len(_LIST_RE.findall(s)), len(_LIST_RE.findall(t)), "list markers"),
                ("linebreak", "\n", s.strip().count("\n"), t.strip().count("\n"), "line breaks"),
            ]
            for kind, ch, ns, nt, what in checks:
                if (ns == 0) == (nt == 0) and not (kind in ("list", "linebreak") and ns != nt):
                    continue
                w = getattr(self, f"{kind}_weight")
                if ns > nt:
                    k = s.find(ch) if ch else 0
                    yield self.finding(
                        kind,
                        unit.start,
                        unit.start,
                        w,
                        f"{what} in the source ({ns}) but {'not ' if nt == 0 else 'fewer '}in the translation"
                        f"{'' if nt == 0 else f' ({nt})'}",
                        (k, k + 1) if k >= 0 and ch else None,
                    )
                else:
                    k = t.find(ch) if ch else -1
                    a, b = (unit.start + k, unit.start + k + 1) if k >= 0 else (unit.start, unit.start)
                    yield self.finding(
                        kind,
                        a,
                        b,
                        w,
                        f"{what} in the translation ({nt}) but {'not ' if ns == 0 else 'fewer '}in the source"
                        f"{'' if ns == 0 else f' ({ns})'}",
                    )
