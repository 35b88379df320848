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
what a reviewer must see.

Limits (time and memory stay linear in the text, whatever its layout; pysbd
is quadratic in the length of what it is given, ~70 s for one 100,000-character
paragraph):

* a paragraph longer than :data:`MAX_PARAGRAPH_CHARS` is cut into pieces of
  at most that length before pysbd, at its last line break, else its last
  sentence end, else its last space, else anywhere (not inside a character
  and its combining marks);
* a unit longer than ``max_chars`` (:data:`MAX_SENTENCE_CHARS` for sentences,
  :data:`MAX_BLOCK_CHARS` for lines and paragraphs) is split the same way.

A unit that starts or ends at such a forced cut (a space or nothing, not a
line break or a sentence end) has ``cut_start``/``cut_end`` set; the scorer
reports it (detector ``limits``, kind ``split``).

Every unit satisfies
``text[unit.start:unit.end] == unit.text`` and has no leading or trailing
whitespace; units are in document order and never overlap.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Iterator, Literal, Optional

from .types import Unit

UnitMode = Literal["sentence", "line", "paragraph"]

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
# a full stop/?/! glued to a capitalised word: "2024.Photo", "said.The"
_GLUED = re.compile(r"(?<=[a-z0-9\)\]”’\"'])[.!?](?=[A-Z][a-z])")
# a full stop after a closing bracket, then space and a capital: "not). It"
_BRACKET_STOP = re.compile(r"(?<=[\)\]])[.!?](?=\s+[“\"‘']?[A-Z])")
_ONLY_CLOSERS = re.compile(r"^[\s”’\"'»)\]}.,;:!?…]+$")

MAX_PARAGRAPH_CHARS = 5_000  # longer paragraphs are cut into pieces before pysbd (its cost is quadratic)
MAX_SENTENCE_CHARS = 2_000  # longer sentence units are split (no reviewer reads a 2,000-character "sentence")
MAX_BLOCK_CHARS = 10_000  # longer line/paragraph units are split

# where a long text may be cut, best first: "newline", a line break; "sentence",
# a sentence end before a space, after a lowercase word or digits (so "U.S."
# and "Dr." are none), or a CJK full stop; "space", any whitespace
_CUT_SENTENCE = re.compile(
    r"[.!?…](?:(?<=[^\W\d_A-Z]{2}.)|(?<=\d\d.)|(?<=[^\W\d_][)\]\"”’'].))[.!?…]*[\"”’')\]»]*(?=\s)|[。！？]+"
)
_ANY_STOP = re.compile(r"[.!?…。！？]")
_LAST_SPACE = re.compile(r"\s(?=\S*\Z)")


_local = threading.local()


def _segmenter():
    """This thread's pysbd segmenter (a Segmenter keeps the text it works on in
    attributes, so one shared by two threads mixes up their paragraphs)."""
    seg = getattr(_local, "segmenter", None)
    if seg is None:
        import pysbd

        seg = _local.segmenter = pysbd.Segmenter(language="en", clean=False)
    return seg


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
    for sent in _pysbd(para):
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
    spans = _close_gaps(para, spans)
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


def _pysbd(para: str) -> list[str]:
    """pysbd's sentences of ``para`` (the whole paragraph when pysbd fails on it)."""
    try:
        return _segmenter().segment(para)
    except Exception:  # pysbd's regexes on odd input: never lose the text for it
        return [para]


def _close_gaps(para: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` with any non-blank text between them (pysbd dropped it) joined to the span before."""
    out: list[tuple[int, int]] = []
    pos = 0
    for a, b in spans:
        if para[pos:a].strip():
            if out:
                out[-1] = (out[-1][0], pos + len(para[pos:a].rstrip()))
            else:
                a = len(para) - len(para.lstrip())
        out.append((a, b))
        pos = b
    return out


def _safe_cut(text: str, lo: int, c: int) -> int:
    """``c`` moved back (not below ``lo + 1``) so that no combining mark or joiner starts the next piece."""
    k = c
    while (
        k > lo + 1
        and k < len(text)
        and (
            unicodedata.combining(text[k])
            or unicodedata.category(text[k]) in ("Mn", "Mc", "Me")
            or text[k] in "\u200d\u200c\ufe0f"
            or "\udc00" <= text[k] <= "\udfff"
        )
    ):
        k -= 1
    return k if k > lo else c


def _last_cut(text: str, pos: int, end: int, kind: str) -> Optional[int]:
    """The offset after the last boundary of ``kind`` in ``text[pos:end]`` (None: none there)."""
    if kind == "newline":
        i = text.rfind("\n", pos, end)
        return i + 1 if i >= 0 else None
    if kind == "sentence":
        last = None
        for m in _CUT_SENTENCE.finditer(text, pos, end):
            last = m.end()
        return last if last is not None and last > pos else None
    m = _LAST_SPACE.search(text, pos + 1, end)  # "space"
    return m.end() if m is not None else None


def _cut_points(text: str, lo: int, hi: int, limit: int, kinds: tuple[str, ...]) -> Iterator[tuple[int, bool]]:
    """Where to cut ``text[lo:hi]`` so that no piece is longer than ``limit``.

    Yields ``(offset, forced)``: ``forced`` is False for a cut at a line break
    or a sentence end, True for one at a space or at no boundary at all.
    """
    pos = lo
    while hi - pos > limit:
        window_end = pos + limit
        cut, kind = None, ""
        for kind in kinds:
            cut = _last_cut(text, pos, window_end, kind)
            if cut is not None:
                break
        forced = kind not in ("newline", "sentence") or cut is None
        if cut is None:
            cut = _safe_cut(text, pos, window_end)
        yield cut, forced
        pos = cut
        while pos < hi and text[pos].isspace():  # the next piece starts at a non-blank character
            pos += 1


def _pieces(text: str, lo: int, hi: int, limit: int, kinds: tuple[str, ...]) -> list[tuple[int, int, bool, bool]]:
    """``text[lo:hi]`` cut into trimmed pieces of at most ``limit``: ``(start, end, cut_start, cut_end)``."""
    out: list[tuple[int, int, bool, bool]] = []
    pos, forced_before = lo, False
    for cut, forced in _cut_points(text, lo, hi, limit, kinds):
        for a, b in _trimmed(text, pos, cut):
            out.append((a, b, forced_before, forced))
        pos, forced_before = cut, forced
    for a, b in _trimmed(text, pos, hi):
        out.append((a, b, forced_before, False))
    return out


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


def default_max_chars(unit: UnitMode) -> int:
    """The longest unit of mode ``unit`` before it is split (:data:`MAX_SENTENCE_CHARS` or :data:`MAX_BLOCK_CHARS`)."""
    return MAX_SENTENCE_CHARS if unit == "sentence" else MAX_BLOCK_CHARS


def _block_spans(text: str, ps: int, pe: int, unit: UnitMode) -> list[tuple[int, int, bool, bool]]:
    """The units of one paragraph (line) ``text[ps:pe]``, before the length limit."""
    if unit != "sentence":
        return [(ps, pe, False, False)]
    if pe - ps <= MAX_PARAGRAPH_CHARS:
        return [(a, b, False, False) for a, b in _sentence_spans(text, ps, pe)]
    out: list[tuple[int, int, bool, bool]] = []
    for a, b, cs, ce in _pieces(text, ps, pe, MAX_PARAGRAPH_CHARS, ("newline", "sentence", "space")):
        if _ANY_STOP.search(text, a, b) is None:
            spans = [(a, b)]  # no sentence end in it: pysbd has nothing to find (and is slow on it)
        else:
            spans = _sentence_spans(text, a, b)
        for i, (s, e) in enumerate(spans):
            out.append((s, e, cs and i == 0, ce and i == len(spans) - 1))
    return out


def segment(text: str, unit: UnitMode = "sentence", max_chars: Optional[int] = None) -> list[Unit]:
    """Split ``text`` into units.

    ``unit="sentence"`` (default): paragraphs, then sentences.
    ``unit="line"``: each non-blank input line is one unit (MT corpora).
    ``unit="paragraph"``: each paragraph is one unit.
    ``max_chars``: longer units are split (at a space where there is one) and
    marked ``cut_start``/``cut_end``; default :func:`default_max_chars`.
    """
    if unit not in ("sentence", "line", "paragraph"):
        raise ValueError(f"unknown unit {unit!r}: expected sentence, line or paragraph")
    if not isinstance(text, str):
        raise TypeError(f"text is {type(text).__name__}, not str")
    limit = default_max_chars(unit) if max_chars is None else int(max_chars)
    if limit < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars}")
    units: list[Unit] = []
    blocks = lines(text) if unit == "line" else paragraphs(text)
    for p, (ps, pe) in enumerate(blocks):
        for s, e, cs, ce in _block_spans(text, ps, pe, unit):
            if e - s <= limit:
                pieces = [(s, e, cs, ce)]
            else:
                pieces = _pieces(
                    text, s, e, limit, ("newline", "sentence", "space") if unit != "sentence" else ("space",)
                )
                pieces[0] = (pieces[0][0], pieces[0][1], cs or pieces[0][2], pieces[0][3])
                pieces[-1] = (pieces[-1][0], pieces[-1][1], pieces[-1][2], ce or pieces[-1][3])
            for a, b, c0, c1 in pieces:
                units.append(
                    Unit(index=len(units), start=a, end=b, text=text[a:b], paragraph=p, cut_start=c0, cut_end=c1)
                )
    return units
