"""Numbers: a number of the source missing from the translation, changed, or added."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..document import Document
from ..types import Finding
from . import Detector, register
from ._numbers import cardinal_word, same_number, source_numbers, target_numbers


@register("numbers", colour=("#f3e0ff", "#9a3fc4"), prior=4.0)
@dataclass(eq=False)
class Numbers(Detector):
    """A number that does not survive translation (needs the source text).

    Compares the numbers of each unit's source with those of its English
    translation, by value: digits, decimals, percentages, years, ordinals,
    English number words on the target side, and CJK numerals on the source
    side ("3万" = 30,000, "1.2亿" = 120 million, "二十" = 20):

    >>> from garble.detectors import flagged
    >>> flagged(Numbers(), "Delegates from 53 countries attended", source="会议有 35 个国家参加")
    [('changed', '53')]

    is ``changed`` (35 -> 53); a firm source number with no match is
    ``missing`` (a zero-width finding at the unit start, with the source
    offsets in ``source_span``); a digit number in the target that matches
    no number of the source, not even a soft one ("一个"), is ``extra``.
    What counts as firm and what matches is in :mod:`garble.detectors._numbers`
    (a decade "90年代" matches "the 1990s"; big numbers match within 2%).

    ``changed_weight=0.9``, ``missing_weight=0.7``, ``extra_weight=0.6``:
    a changed number is an error whenever it fires; a missing one is often a
    number the translator spelled differently ("a dozen"), an extra one a
    number made explicit. On the human reference rows of mqm_ted_zhen (1,058
    segments with their Chinese source) the detector fires on at most 1% of
    them (scripts/eval_source.py).
    """

    changed_weight: float = 0.9
    missing_weight: float = 0.7
    extra_weight: float = 0.6

    def detect(self, doc: Document) -> Iterator[Finding]:
        for unit, src in doc.source_pairs():
            snums = source_numbers(src)
            tnums = target_numbers(unit.text)
            if not snums and not any(n.digits for n in tnums):
                continue
            unmatched_s = [s for s in snums if not any(same_number(s.value, t.value) for t in tnums)]
            unmatched_t = [t for t in tnums if not any(same_number(s.value, t.value) for s in snums)]
            # a number that changed: an unmatched source number (firm, or a soft one of 2 or more) and
            # an unmatched target number (digits, or a cardinal word of 2 or more: "five", "twenty")
            cand_s = [s for s in unmatched_s if s.firm or (s.value >= 2 and not s.approx)]
            cand_t = [t for t in unmatched_t if t.digits or (t.value >= 2 and cardinal_word(t.text))]
            changed = []
            while cand_s and cand_t:
                changed.append((cand_s.pop(0), cand_t.pop(0)))
            gone = {id(x) for pair in changed for x in pair}
            missing = [s for s in unmatched_s if s.firm and id(s) not in gone]
            extra = [
                t for t in unmatched_t if (t.digits or (t.value >= 2 and cardinal_word(t.text))) and id(t) not in gone
            ]
            for s, t in changed:
                yield self.finding(
                    "changed",
                    unit.start + t.start,
                    unit.start + t.end,
                    self.changed_weight,
                    f"number changed: source “{s.text}” ({_fmt(s.value)}), translation “{t.text}”",
                    (s.start, s.end),
                )
            for s in missing:
                yield self.finding(
                    "missing",
                    unit.start,
                    unit.start,
                    self.missing_weight,
                    f"source number “{s.text}” ({_fmt(s.value)}) is not in the translation",
                    (s.start, s.end),
                )
            for t in extra:
                yield self.finding(
                    "extra",
                    unit.start + t.start,
                    unit.start + t.end,
                    self.extra_weight,
                    f"number “{t.text}” is not in the source",
                )


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if v == int(v) else f"{v:,}"
