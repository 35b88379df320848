"""Split a document into reviewable units with character offsets.

Paragraphs first (blank lines; or every line when the document has no blank
line, the usual one-segment-per-line MT layout), then sentences inside each
paragraph with pysbd. pysbd is kept for its abbreviation handling ("U.S.
Secretary", "Dr. Smith"); three repairs follow it, each seen in real MT output:

* a unit that is only closing punctuation (``”``) is glued back to the unit
  before it, so a quote closing after the full stop stays with its sentence;
* a glued boundary, a full stop with no space before a capitalised word
  (``2024.Photo: ...``), is split;
* a full stop after a closing bracket (``(…, not). It looks``) is split.

Short fragments (``Russian Federation.``) stay units of their own: they are
what a reviewer must see. Every unit satisfies
``text[unit.start:unit.end] == unit.text`` and has no leading or trailing
whitespace; units are in document order and never overlap.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator, Literal

from .types import Unit

UnitMode = Literal["sentence", "line", "paragraph"]

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
# a full stop/?/! glued to a capitalised word: "2024.Photo", "said.The"
_GLUED = re.compile(r"(?<=[a-z0-9\)\]”’\"'])[.!?](?=[A-Z][a-z])")
# a full stop after a closing bracket, then space and a capital: "not). It"
_BRACKET_STOP = re.compile(r"(?<=[\)\]])[.!?](?=\s+[“\"‘']?[A-Z])")
_ONLY_CLOSERS = re.compile(r"^[\s”’\"'»)\]}.,;:!?…]+$")


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of each non-blank paragraph, whitespace-trimmed."""
    if _BLANK_LINE.search(text) is None and "\n" in text.strip():
        splitter = re.compile(r"\n")
    else:
        splitter = _BLANK_LINE
    pos = 0
    for m in splitter.finditer(text):
        yield from _trimmed(text, pos, m.start())
        pos = m.end()
    yield from _trimmed(text, pos, len(text))


def lines(text: str) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of each non-blank line, whitespace-trimmed."""
    pos = 0
    for m in re.finditer(r"\r?\n", text):
        yield from _trimmed(text, pos, m.start())
        pos = m.end()
    yield from _trimmed(text, pos, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield start, end


def _sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside one paragraph ``text[start:end]``."""
    para = text[start:end]
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sent in _segmenter().segment(para):
        s = sent.strip()
        if not s:
            continue
        i = para.find(s, cursor)
        if i < 0:  # pysbd changed the text; fall back to the rest of the paragraph
            i = cursor
            s = para[cursor:].strip()
            if not s:
                break
            i = para.find(s, cursor)
        spans.append((i, i + len(s)))
        cursor = i + len(s)
    if cursor < len(para) and para[cursor:].strip():
        rest = para[cursor:]
        lead = len(rest) - len(rest.lstrip())
        spans.append((cursor + lead, cursor + len(rest.rstrip())))
    # repairs
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and _ONLY_CLOSERS.match(para[a:b]):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    out: list[tuple[int, int]] = []
    for a, b in merged:
        out.extend(_split_at(para, a, b))
    return [(start + a, start + b) for a, b in out]


def _split_at(para: str, a: int, b: int) -> list[tuple[int, int]]:
    cuts = [m.end() for m in _GLUED.finditer(para, a, b)]
    cuts += [m.end() for m in _BRACKET_STOP.finditer(para, a, b)]
    pieces: list[tuple[int, int]] = []
    pos = a
    for c in sorted(set(cuts)):
        if a < c < b:
            pieces.extend(_trimmed(para, pos, c))
            pos = c
    pieces.extend(_trimmed(para, pos, b))
    return pieces


def segment(text: str, unit: UnitMode = "sentence") -> list[Unit]:
    """Split ``text`` into units.

    ``unit="sentence"`` (default): paragraphs, then sentences.
    ``unit="line"``: each non-blank input line is one unit (MT corpora).
    ``unit="paragraph"``: each paragraph is one unit.
    """
    if unit not in ("sentence", "line", "paragraph"):
        raise ValueError(f"unknown unit {unit!r}: expected sentence, line or paragraph")
    units: list[Unit] = []
    blocks = lines(text) if unit == "line" else paragraphs(text)
    for p, (ps, pe) in enumerate(blocks):
        spans = _sentence_spans(text, ps, pe) if unit == "sentence" else [(ps, pe)]
        for s, e in spans:
            units.append(Unit(index=len(units), start=s, end=e, text=text[s:e], paragraph=p))
    return units
