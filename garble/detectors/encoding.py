"""Encoding damage: mojibake, U+FFFD, stray control and invisible characters."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Iterator

from ..document import Document
from ..types import Finding
from . import Detector, register
from ._text import script_of

# characters that end a "word" when a finding is widened to the word it breaks;
# mojibake symbols (€ ™ œ â ...) are deliberately not in this set
_WORD_STOP = set(' \t\n\r\f\v\u00a0\u2002\u2003\u2009\u202f,;:!?"()[]{}<>«»“”‘„')

# invisible format characters that have no business inside a word
_INVISIBLE = {
    "\u200b": "zero-width space",
    "\u200c": "zero-width non-joiner",
    "\u200d": "zero-width joiner",
    "\u2060": "word joiner",
    "\ufeff": "zero-width no-break space (BOM)",
    "\u00ad": "soft hyphen",
    "\u200e": "left-to-right mark",
    "\u200f": "right-to-left mark",
    "\u202a": "bidi embedding",
    "\u202b": "bidi embedding",
    "\u202c": "bidi pop",
    "\u202d": "bidi override",
    "\u202e": "bidi override",
    "\u2066": "bidi isolate",
    "\u2067": "bidi isolate",
    "\u2068": "bidi isolate",
    "\u2069": "bidi isolate",
}
_INVISIBLE_RE = re.compile("[" + "".join(_INVISIBLE) + "]+")
# C0/C1 control characters other than tab, line breaks and the layout characters
# \v and \f (line and page breaks in text exported from Word or PDF)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]+")


def _word_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen ``[start, end)`` to the whitespace/punctuation-delimited word around it."""
    while start > 0 and text[start - 1] not in _WORD_STOP:
        start -= 1
    while end < len(text) and text[end] not in _WORD_STOP:
        end += 1
    # a sentence-final full stop is not part of the broken word
    while end - 1 > start and text[end - 1] in ".":
        end -= 1
    return start, end


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@register("encoding", colour=("#ffd6d6", "#c93c3c"), prior=3.5)
@dataclass(eq=False)
class Encoding(Detector):
    """Text damaged on its way through an encoding: the reviewer must restore it.

    Catches

    * mojibake, UTF-8 read as Windows-1252/Latin-1, found with ftfy
      (``ftfy.badness.is_bad``, ``ftfy.fix_encoding``): the span is the broken
      word, the message suggests ftfy's repair:

      >>> from garble.detectors import flagged
      >>> flagged(Encoding(), "the cafÃ© is closed")
      [('mojibake', 'cafÃ©')]
      >>> flagged(Encoding(), "donâ€™t stop")
      [('mojibake', 'donâ€™t')]

    * U+FFFD replacement characters (bytes that could not be decoded: ``caf�``);
    * C0/C1 control characters (other than tab and line breaks) anywhere;
    * invisible format characters (zero-width space, BOM, soft hyphen, bidi
      marks) *inside* a word: between two Latin letters or digits. A zero-width
      joiner between emoji, or a non-joiner inside Persian/Indic words, is
      ordinary text and left alone.

    Legitimate accented text (“José Martí”, “São Paulo”, “Łódź”, “Ångström”),
    typographic quotes/dashes, currency and emoji are not flagged: ftfy's
    badness heuristic is built to leave them alone.

    Defaults: ``mojibake_weight=0.95`` and ``replacement_weight=0.95`` because
    both are certain defects; ``control_weight=0.8``; ``invisible_weight=0.5``
    (invisible in the rendered text, but breaks search and spell-checking).
    Measured with ``garble eval false-alarms clean_en.tsv mqm_ted_zhen.tsv
    --detector encoding``: 0 findings in 1,995 units of clean human English
    (clean_en.tsv and the human references of mqm_ted_zhen.tsv) and on 0 of
    the 6,877 MT rows of mqm_ted_zhen.tsv: that corpus has no encoding damage, so recall was
    measured on clean paragraphs with one planted (UTF-8 decoded as cp1252):
    133/133 found.
    """

    mojibake_weight: float = 0.95
    replacement_weight: float = 0.95
    control_weight: float = 0.8
    invisible_weight: float = 0.5

    def detect(self, doc: Document) -> Iterator[Finding]:
        import ftfy
        from ftfy.badness import BADNESS_RE, is_bad

        text = doc.text
        for unit in doc.units:
            ut = unit.text
            if ut.isascii() and _CONTROL_RE.search(ut) is None:
                continue
            base = unit.start
            moji: list[tuple[int, int]] = []
            fixed = ftfy.fix_encoding(ut)
            if fixed != ut or is_bad(ut):
                changed = [
                    (i1, i2)
                    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, ut, fixed, autojunk=False).get_opcodes()
                    if tag != "equal" and i2 > i1
                ]
                if not changed:  # ftfy sees damage it cannot repair: use its badness matches
                    changed = [m.span() for m in BADNESS_RE.finditer(ut)]
                moji = _merge([_word_span(ut, a, b) for a, b in changed])
                for a, b in moji:
                    broken = ut[a:b]
                    repair = ftfy.fix_encoding(broken)
                    if repair == broken:
                        msg = f"mojibake (text decoded with the wrong encoding): “{broken}”"
                    else:
                        msg = f"mojibake: “{broken}” should probably read “{repair}”"
                    yield self.finding("mojibake", base + a, base + b, self.mojibake_weight, msg)

            def in_moji(i: int, moji=moji) -> bool:
                return any(a <= i < b for a, b in moji)

            for m in re.finditer("\ufffd+", ut):
                if in_moji(m.start()):
                    continue
                a, b = _word_span(ut, m.start(), m.end())
                yield self.finding(
                    "replacement_char",
                    base + a,
                    base + b,
                    self.replacement_weight,
                    f"replacement character � in “{ut[a:b]}”: a character was lost in decoding",
                )
            for m in _CONTROL_RE.finditer(ut):
                if in_moji(m.start()):
                    continue
                codes = ", ".join(f"U+{ord(c):04X}" for c in m.group())
                yield self.finding(
                    "control_char",
                    base + m.start(),
                    base + m.end(),
                    self.control_weight,
                    f"control character {codes} in the text",
                )
            for m in _INVISIBLE_RE.finditer(ut):
                s, e = base + m.start(), base + m.end()
                if s == 0 and text[0] == "\ufeff":
                    continue  # a byte-order mark opening the document is harmless
                left = text[s - 1] if s > 0 else ""
                right = text[e] if e < len(text) else ""
                if not (_latin_alnum(left) and _latin_alnum(right)):
                    continue
                names = ", ".join(sorted({_INVISIBLE[c] for c in m.group()}))
                a, b = _word_span(text, s, e)
                yield self.finding(
                    "invisible_char", s, e, self.invisible_weight, f"invisible {names} inside “{text[a:b]}”"
                )


def _latin_alnum(ch: str) -> bool:
    if not ch:
        return False
    if ch.isdigit():
        return True
    return ch.isalpha() and script_of(ch) == "Latin"
