"""The document view every detector receives: text, units and word tokens."""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Iterator, NamedTuple, Optional, Sequence

from .types import Unit


@lru_cache(maxsize=1)
def _marks() -> str:
    """A regex character class body of every combining mark (categories Mn, Mc, Me)."""
    ranges: list[list[int]] = []
    for cp in [*range(0x300, 0x20000), *range(0xE0100, 0xE01F0)]:
        if unicodedata.category(chr(cp))[0] == "M":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges)


@lru_cache(maxsize=1)
def word_re() -> re.Pattern:
    """A word: letters/digits, each with any combining marks after it (a decomposed
    "José", Devanagari "काम"), with inner apostrophes, hyphens or periods
    ("O’Brien", "Rossiya-1", "U.S")."""
    m = _marks()
    part = rf"[^\W_]+(?:[{m}]+[^\W_]*)*"  # a mark never starts a word: "\u0301x" is "x"
    return re.compile(rf"{part}(?:[’'\-.]{part})*", re.UNICODE)


# word_re() on ASCII text, which has no combining marks (the same matches, found
# about twice as fast); keep the two in step (tests/test_detector_equivalence.py)
_ASCII_WORD_RE = re.compile(r"[^\W_]+(?:['\-.][^\W_]+)*")


def __getattr__(name: str):
    if name == "WORD_RE":  # built on first use (the mark table takes ~0.1 s)
        return word_re()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Token(NamedTuple):
    """A word token with document offsets (a named tuple: cheap to make, and documents have many)."""

    start: int
    end: int
    text: str
    unit: int  # index of the unit that holds it

    @property
    def is_capitalized(self) -> bool:
        return self.text[:1].isupper()


@dataclass
class Document:
    """A segmented document. Detectors read it; they never change it.

    ``sources``: the source text of each unit (aligned with ``units``; ``None``
    for a unit without one), when the document is a translation scored with its
    source; source-aware detectors read them and stay silent without them.
    ``source_lang``: the source language (ISO 639-1, e.g. ``zh``) when known;
    otherwise :attr:`source_language` identifies it from the sources.
    """

    text: str
    units: Sequence[Unit]
    _starts: list[int] = field(init=False, repr=False)
    sources: Optional[Sequence[Optional[str]]] = None
    source_lang: Optional[str] = None

    def __post_init__(self) -> None:
        self._starts = [u.start for u in self.units]
        if self.sources is not None and len(self.sources) != len(self.units):
            raise ValueError(f"{len(self.sources)} sources for {len(self.units)} units")

    @property
    def has_sources(self) -> bool:
        """Whether any unit has a source text."""
        return self.sources is not None and any(s for s in self.sources)

    def source(self, unit: Unit) -> Optional[str]:
        """The source text of ``unit`` (``None`` without one)."""
        if self.sources is None or not 0 <= unit.index < len(self.sources):
            return None
        return self.sources[unit.index] or None

    def source_pairs(self) -> Iterator[tuple[Unit, str]]:
        """``(unit, its source)`` for every unit that has a source text (nothing without sources)."""
        if not self.has_sources:
            return
        for unit in self.units:
            src = self.source(unit)
            if src:
                yield unit, src

    @cached_property
    def source_language(self) -> Optional[str]:
        """``source_lang`` when given, else the language identified from the sources
        (:func:`garble.langid.identify`)."""
        if self.source_lang:
            return self.source_lang.lower()
        if not self.has_sources:
            return None
        from .langid import identify

        return identify(" ".join(s for s in self.sources if s)[:4000])

    @cached_property
    def tokens(self) -> list[Token]:
        """Word tokens of all units, in document order."""
        words = word_re()
        out: list[Token] = []
        for u in self.units:
            base, index = u.start, u.index
            rx = _ASCII_WORD_RE if u.text.isascii() else words
            out.extend([Token(base + m.start(), base + m.end(), m.group(), index) for m in rx.finditer(u.text)])
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


# -- Unicode normalisation with offsets into the original text -----------------


@lru_cache(maxsize=1)
def _nfc_classes() -> tuple[str, str]:
    """Regex class bodies: characters that may change the character before them
    under NFC (combining marks, second halves of canonical pairs, Hangul vowel and
    final jamo) and characters that NFC changes on their own (U+212B ANGSTROM SIGN)."""
    after: set[int] = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))
    alone: list[int] = []
    for cp in [*range(0x80, 0x30000), *range(0xE0100, 0xE01F0)]:
        c = chr(cp)
        if unicodedata.combining(c):
            after.add(cp)
        d = unicodedata.decomposition(c)
        if d and not d.startswith("<"):
            parts = d.split()
            if len(parts) == 2:
                after.add(int(parts[1], 16))
            if unicodedata.combining(chr(int(parts[0], 16))):
                after.add(cp)  # decomposes into a leading mark (Tibetan U+0F73)
        if unicodedata.normalize("NFC", c) != c:
            alone.append(cp)

    def cls(cps) -> str:
        out, run = [], None
        for cp in sorted(cps):
            if run and run[1] == cp - 1:
                run[1] = cp
            else:
                run = [cp, cp]
                out.append(run)
        return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in out)

    return cls(after), cls(alone)


@lru_cache(maxsize=1)
def _nfc_chunk_re() -> re.Pattern:
    after, alone = _nfc_classes()
    return re.compile(rf"(?s).[{after}]+|[{alone}]")


class NFCMap:
    """The NFC form of a text and the way back to offsets in the original.

    The text is cut into chunks that NFC treats independently (a character and
    the marks after it); only chunks that NFC changes are kept, as
    ``(orig_start, orig_end, nfc_start, nfc_end)``. An offset inside a changed
    chunk maps to the chunk's start (``side="start"``) or end (``side="end"``).
    """

    def __init__(self, text: str):
        self.original = text
        parts: list[str] = []
        self.chunks: list[tuple[int, int, int, int]] = []
        pos = shift = 0
        if not text.isascii():
            for m in _nfc_chunk_re().finditer(text):
                s = m.group()
                n = unicodedata.normalize("NFC", s)
                if n == s:
                    continue
                a, b = m.span()
                parts.append(text[pos:a])
                parts.append(n)
                self.chunks.append((a, b, a + shift, a + shift + len(n)))
                shift += len(n) - (b - a)
                pos = b
        parts.append(text[pos:])
        self.text = "".join(parts)
        self._nfc_starts = [c[2] for c in self.chunks]
        self._orig_starts = [c[0] for c in self.chunks]

    @property
    def changed(self) -> bool:
        return bool(self.chunks)

    def to_original(self, offset: int, side: str = "start") -> int:
        """The original offset of NFC offset ``offset``."""
        return self._map(offset, side, self._nfc_starts, to_original=True)

    def to_nfc(self, offset: int, side: str = "start") -> int:
        """The NFC offset of original offset ``offset``."""
        return self._map(offset, side, self._orig_starts, to_original=False)

    def _map(self, offset: int, side: str, starts: list, to_original: bool) -> int:
        """``offset`` carried across the changed chunks: unchanged before the first, shifted after one, and
        inside one to the other side's chunk start or end (``side``)."""
        k = bisect.bisect_right(starts, offset) - 1
        if k < 0:
            return offset
        os_, oe, ns, ne = self.chunks[k]
        (fs, fe), (ts, te) = ((ns, ne), (os_, oe)) if to_original else ((os_, oe), (ns, ne))
        if offset == fs:
            return ts
        if offset >= fe:
            return offset - fe + te
        return ts if side == "start" else te

    def inside_chunk(self, offset: int, original: bool = False) -> bool:
        """Whether ``offset`` (NFC; ``original``: in the original) falls strictly inside a changed chunk."""
        starts, lo = (self._orig_starts, 0) if original else (self._nfc_starts, 2)
        k = bisect.bisect_right(starts, offset) - 1
        return k >= 0 and self.chunks[k][lo] < offset < self.chunks[k][lo + 1]
