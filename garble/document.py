"""The document view every detector receives: text, units and word tokens."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator, Sequence

from .types import Unit

# a word: letters/digits with inner apostrophes, hyphens or periods ("O’Brien", "Rossiya-1", "U.S")
WORD_RE = re.compile(r"[^\W_]+(?:[’'\-.][^\W_]+)*", re.UNICODE)


@dataclass(frozen=True)
class Token:
    """A word token with document offsets."""

    start: int
    end: int
    text: str
    unit: int  # index of the unit that holds it

    @property
    def is_capitalized(self) -> bool:
        return self.text[:1].isupper()


@dataclass
class Document:
    """A segmented document. Detectors read it; they never change it."""

    text: str
    units: Sequence[Unit]
    _starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._starts = [u.start for u in self.units]

    @cached_property
    def tokens(self) -> list[Token]:
        """Word tokens of all units, in document order."""
        out: list[Token] = []
        for u in self.units:
            for m in WORD_RE.finditer(u.text):
                out.append(Token(u.start + m.start(), u.start + m.end(), m.group(), u.index))
        return out

    def unit_tokens(self, unit: Unit) -> list[Token]:
        """Word tokens of one unit."""
        lo = bisect.bisect_left(self._token_starts, unit.start)
        hi = bisect.bisect_left(self._token_starts, unit.end)
        return self.tokens[lo:hi]

    @cached_property
    def _token_starts(self) -> list[int]:
        return [t.start for t in self.tokens]

    def unit_at(self, offset: int) -> Unit | None:
        """The unit that holds document offset ``offset``, if any."""
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0 and self.units[i].start <= offset < self.units[i].end:
            return self.units[i]
        return None

    def __iter__(self) -> Iterator[Unit]:
        return iter(self.units)
