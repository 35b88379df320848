"""Punctuation: unbalanced quotes and brackets, missing or misplaced spaces around punctuation."""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterator, Optional

from ..document import Document
from ..lexicon import zipf
from ..types import Finding
from . import Detector, register
from ._text import paragraph_spans

# --- missing space after punctuation ----------------------------------------------------------
# a full stop / ! / ? between a letter or digit and a letter: "2024.Photo", "said.and"
_GLUED_STOP = re.compile(r"(?<=[^\W_])[.!?](?=[^\W\d_])")
# a comma or semicolon between letters (or digit, letter): "said,and", "2024,and", "here;there"
_GLUED_COMMA = re.compile(r"(?<=[^\W_])[,;](?=[^\W\d_])")
# sentence punctuation, closing quote/bracket, then a capital with no space: "said.”The"
_GLUED_AFTER_CLOSER = re.compile(r"(?<=[^\W_])[.!?,][”\")\]](?=[A-Z][a-z])")
# top-level domains and file extensions: "example.com", "report.pdf", "node.js"
_TLD_EXT = frozenset(
    """com org net gov edu mil int io co uk de fr ru es it nl be ch at se no dk fi pl cz ua kz by
    cn jp kr in au nz ca us eu info biz tv me ly gl app dev ai xyz online site news top html htm
    php asp aspx jsp js ts py rb java cpp txt pdf doc docx xls xlsx ppt pptx csv json xml jpg jpeg
    png gif svg webp mp3 mp4 avi mov wav zip rar gz tar exe dll md yml yaml ini cfg log sh bat""".split()
)
# function words that begin a clause: a lowercase "word.word" pair is a glued sentence
# boundary only before one of these ("said.and"), otherwise it is a dotted name ("os.path")
_CLAUSE_STARTERS = frozenset(
    """and but or so the a an in on at to of for with he she it they we i you this that these those
    there then when which who as if not is was are were his her their its our my""".split()
)
# --- spaces before punctuation ----------------------------------------------------------------
_SPACE_BEFORE = re.compile(
    r"(?<=[^\s])[ \t\u00a0]+(?:[,;](?=[^\W\d_])|(?:[,;!?]|\.(?!\.)|:(?=\s|$))(?=\s|$|[”\"’)\]]))"
)
# a quote mark with space on both sides: " black holes ", “ word ”
_LOOSE_QUOTE = re.compile(r"(?:^|(?<=\s))[\"“”](?=\s|$)")
# --- doubled punctuation ----------------------------------------------------------------------
_DOUBLED = re.compile(r",,|;;|,;|;,|:,|,:|,\.(?!\.)")
# list enumerators, emoticons: brackets that close nothing
_ENUM_CLOSE = re.compile(r"(?:^|(?<=\s))(?:\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{1,5})\)")
_EMOTICON = re.compile(r"(?:^|(?<=\s))(?:[:;=][-o'^]?[()\[\]DPp]|[()\[\]][-o'^]?[:;=])(?=\s|$|[.,!?])")
_WORD_LEFT = re.compile(r"[^\W_]+(?:[’'\-.][^\W_]+)*$")
# a word matched at an offset: ``_WORD_AT.match(text, i)`` (no copy of the text after ``i``)
_WORD_AT = re.compile(r"[^\W_]+(?:[’'\-][^\W_]+)*")
_SPACE = re.compile(r"\s")  # str.isspace(), as a pattern
_LONGEST_WORD = 1_000
_NOT_TRAILING = re.compile(r"[^.,;:!?)\]”\"']")  # what .rstrip(".,;:!?)]”\"'") stops at
_PAIRS = {")": "(", "]": "["}
_BRACKET = re.compile(r"[()\[\]]")
# what every match of _GLUED_STOP, _GLUED_COMMA or _GLUED_AFTER_CLOSER contains, and
# what every match of _SPACE_BEFORE contains: cheap tests that a paragraph has none
_GLUED_HINT = re.compile(r"[.!?,;][”\")\]]?[^\W\d_]")
_SPACE_BEFORE_HINT = re.compile(r"[ \t\u00a0][,;!?.:]")


def _common_word(word: str) -> bool:
    return zipf(word, "en") >= 3.0


class _Runs:
    """The whitespace-free runs of one paragraph: :meth:`at` finds the run around an offset by bisection.

    A paragraph can be a whole document (a file on one line); scanning out from
    each offset, and testing each run again for every mark in it, would make the
    time quadratic in its length. Tests of a run are kept by :meth:`check`.
    """

    def __init__(self, text: str):
        self.text = text
        self._spaces: Optional[list[int]] = None
        self._checks: dict[tuple, bool] = {}

    def at(self, i: int) -> tuple[int, int]:
        """``(start, end)`` of the whitespace-free run around offset ``i`` (``end == i`` where ``text[i]`` is one)."""
        if self._spaces is None:
            self._spaces = [m.start() for m in _SPACE.finditer(self.text)]
        k = bisect.bisect_left(self._spaces, i)  # the spaces before i, and the first at or after it
        a = self._spaces[k - 1] + 1 if k > 0 else 0
        b = self._spaces[k] if k < len(self._spaces) else len(self.text)
        return a, b

    def check(self, test, a: int, b: int) -> bool:
        """``test(text[a:b])``, computed once per run and test."""
        key = (test, a, b)
        if key not in self._checks:
            self._checks[key] = bool(test(self.text[a:b]))
        return self._checks[key]


def _left_word(text: str, ra: int, i: int):
    """The word (with inner ’ ' - .) that ends at offset ``i``, inside the run that starts at ``ra``; a "word" of
    more than :data:`_LONGEST_WORD` characters is read as its last ones (a regex search from far back costs time
    quadratic in a long whitespace-free run)."""
    return _WORD_LEFT.search(text, max(ra, i - _LONGEST_WORD), i)


def _comma_run_excused(run: str) -> bool:
    """URLs, numbers, argument lists: "f(a,b)", "cv(i,j)"."""
    return _urlish(run) or re.search(r"\d[,;]\d", run) is not None or re.search(r"[(\[].*[,;].*[)\]]", run) is not None


def _codeish(run: str) -> bool:
    return re.search(r"[(\[_`'’=]", run) is not None


def _dot_inside(text: str, a: int, b: int) -> bool:
    """Whether ``text[a:b]`` has a "." before its trailing punctuation (``"." in text[a:b].rstrip(...)``, without
    copying the rest of a long run for every mark in it)."""
    d = text.find(".", a, b)
    return d >= 0 and _NOT_TRAILING.search(text, d + 1, b) is not None


def _urlish(run: str) -> bool:
    r = run.lower()
    return "@" in r or "://" in r or r.startswith("www.") or "/" in r or "\\" in r or "=" in r or "&" in r or "#" in r


def _first_of(text: str, chars: str) -> str:
    """The first character of ``text`` that is one of ``chars`` ("" if none)."""
    found = [i for i in map(text.find, chars) if i >= 0]
    return text[min(found)] if found else ""


def _curly_open_at_end(text: str) -> int:
    """How many “ are still open at the end of ``text``."""
    if "“" not in text:
        return 0
    depth = 0
    for c in text:
        if c == "“":
            depth += 1
        elif c == "”" and depth:
            depth -= 1
    return depth


def _straight_shape(text: str, i: int) -> str:
    """``open``, ``close``, ``inch`` or ``ambiguous`` for the straight quote at ``text[i]``."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    opener = (before.isspace() or before in "([{—–-/") and not after.isspace()
    closer = not before.isspace() and (after.isspace() or after in ".,;:!?)]}—–-”’'")
    if opener and not closer:
        return "open"
    if closer and not opener:
        return "inch" if before.isdigit() else "close"
    return "ambiguous"


def _straight_scan(text: str) -> tuple[list[tuple[str, int]], Optional[int]]:
    """Pair straight quotes by shape: (unpaired marks as ("open"|"close", offset), quote open at the end)."""
    open_at: Optional[int] = None
    unpaired: list[tuple[str, int]] = []
    for m in re.finditer(r'"', text):
        i = m.start()
        shape = _straight_shape(text, i)
        if shape == "inch" and open_at is None:
            continue  # 12" screen
        if shape == "open":
            if open_at is not None:
                unpaired.append(("open", open_at))
            open_at = i
        elif shape in ("close", "inch"):
            if open_at is None:
                unpaired.append(("close", i))
            else:
                open_at = None
        else:  # ambiguous shape: toggles
            open_at = i if open_at is None else None
    return unpaired, open_at


@register("punctuation", colour=("#fff1a8", "#a48a00"), prior=2.5)
@dataclass(eq=False)
class Punctuation(Detector):
    """Broken punctuation: quotes and brackets that do not pair up, glued or detached marks.

    MT output and scraped text lose spaces and quote marks:

    >>> from garble.detectors import flagged
    >>> flagged(Punctuation(), "The mayor said “we will “rebuild” the bridge.")
    [('unmatched_quote', '“we'), ('nested_quote', '“rebuild”')]
    >>> flagged(Punctuation(), "It was over” from the radio show.")
    [('unmatched_quote', 'over”')]
    >>> flagged(Punctuation(), "The vote was held in May 2023.Results follow.")
    [('missing_space', '2023.Results')]
    >>> flagged(Punctuation(), "She agreed ,but only later .")
    [('space_before', ' ,'), ('space_before', ' .')]

    Kinds: ``nested_quote`` (“ opened while a quote is open: a lost ” or nested
    double quotes where English uses ‘ ’), ``unmatched_quote`` (a ” with no “,
    a “ never closed, an odd number of straight quotes), ``unmatched_bracket``,
    ``missing_space`` (after . ! ? , ; before a letter), ``space_before`` (" ,"),
    ``space_inside_quote`` (``" word "``), ``doubled`` (",,", ",.").

    Quotes and brackets are paired over the whole paragraph, because a quotation
    can run over several sentences; the finding goes where the imbalance is. A
    quote left open at the end of a paragraph is fine when the next paragraph
    opens with a quote (the convention for quotations of several paragraphs).
    Not flagged as missing spaces: abbreviations and initials ("U.S.", "e.g.",
    "Ph.D."), decimals ("3.5"), URLs, e-mail addresses, domains and file names
    ("example.com", "report.pdf"), all-caps datelines and product names
    ("ASTANA.KAZINFORM", "ASP.NET"), list numbers at a line start ("1.First"),
    and lowercase pairs ("os.path") unless the left one is a common English
    word (wordfreq Zipf >= 3) and the right one starts a clause ("said.and").

    Measured with ``garble eval false-alarms clean_en.tsv mqm_ted_zhen.tsv
    --detector punctuation``: on clean human text 3.0 findings per 1000 units (6 in 1,995 units; 0 on the TED
    references, 6.9 per 1000 on the WMT23 news sources, every one a real slip
    in the source: ``workers" compensation``, ``2017"s``, ``Twitter."That``).
    On TED zh-en MT rows it fires on 3.0% of the segments whose raters marked a
    punctuation error vs 0.27% of error-free ones (raters rate these slips
    minor, so against major-fluency segments it is 0.34% vs 0.27%).

    Defaults: ``glued_weight=0.7`` for a full stop glued to a capitalised word
    (no clean-text hit); ``nested_weight=0.6``; ``weight=0.5`` for the rest
    (quote and bracket slips happen in edited human text too);
    ``loose_weight=0.4`` for a quote mark with spaces on both sides
    (``" black holes "``: 19 MT segments, no clean one, a minor error).
    """

    weight: float = 0.5
    glued_weight: float = 0.7
    nested_weight: float = 0.6
    loose_weight: float = 0.4

    def detect(self, doc: Document) -> Iterator[Finding]:
        spans = paragraph_spans(doc)
        texts = [doc.text[a:b] for a, b in spans]
        for k, (start, _end) in enumerate(spans):
            text = texts[k]
            prev_text = texts[k - 1] if k > 0 else ""
            next_text = texts[k + 1] if k + 1 < len(texts) else ""
            found: list[Finding] = []
            found.extend(self._curly_quotes(text, start, prev_text, next_text))
            found.extend(self._straight_quotes(text, start, prev_text, next_text))
            found.extend(self._brackets(text, start))
            found.extend(self._missing_space(text, start))
            found.extend(self._space_before(text, start))
            found.extend(self._loose_quotes(text, start))
            found.extend(self._doubled(text, start))
            found.sort(key=lambda f: (f.start, f.end))
            yield from found

    # ------------------------------------------------------------------ quotes
    def _curly_quotes(self, text: str, base: int, prev_text: str, next_text: str) -> Iterator[Finding]:
        if "“" not in text and "”" not in text:
            return
        # a quotation may run over paragraphs: the previous one left a quote open and
        # this one closes it first, or the next one reopens (“...) or closes it
        prev_open = bool(_curly_open_at_end(prev_text))
        forgive_close = prev_open and _first_of(text, "“”") == "”"
        next_continues = _first_of(next_text, "“”") == "”" or next_text.lstrip()[:1] in ("“", '"')
        stack: list[int] = []
        nested: dict[int, list[tuple[int, int]]] = defaultdict(list)  # outer opener -> inner spans
        open_inner: dict[int, int] = {}  # inner opener -> its outer opener
        for m in re.finditer(r"[“”]", text):
            i = m.start()
            if m.group() == "“":
                if stack:
                    open_inner[i] = stack[-1]
                stack.append(i)
            else:
                if not stack:
                    if forgive_close:
                        forgive_close = False
                        continue
                    a = self._word_before(text, i)
                    yield self.finding(
                        "unmatched_quote",
                        base + a,
                        base + i + 1,
                        self.weight,
                        "closing quote ” with no opening quote “",
                    )
                    continue
                j = stack.pop()
                if j in open_inner:
                    nested[open_inner.pop(j)].append((j, i + 1))
        for spans in nested.values():
            a, b = spans[0][0], spans[-1][1]
            yield self.finding(
                "nested_quote",
                base + a,
                base + b,
                self.nested_weight,
                "quote “ opened inside an open quote: a lost ” or nested quotes that need ‘ ’",
            )
        for j in stack:
            if j in open_inner:  # opened twice, closed once: report the inner one
                b = self._word_after(text, j)
                yield self.finding(
                    "nested_quote", base + j, base + b, self.nested_weight, "quote “ opened twice and never closed"
                )
            elif not next_continues:
                b = self._word_after(text, j)
                yield self.finding(
                    "unmatched_quote", base + j, base + b, self.weight, "opening quote “ never closed in its paragraph"
                )

    def _straight_quotes(self, text: str, base: int, prev_text: str, next_text: str) -> Iterator[Finding]:
        if text.count('"') % 2 == 0:
            return
        candidates, open_at = _straight_scan(text)
        # a quotation over two paragraphs: one ends with a quote open, the next closes it first
        if candidates and candidates[0][0] == "close" and _straight_scan(prev_text)[1] is not None:
            candidates = candidates[1:]
        if open_at is not None:
            nxt, _ = _straight_scan(next_text)
            if not (next_text.lstrip()[:1] == '"' or (nxt and nxt[0][0] == "close")):
                candidates.append(("open", open_at))
        if not candidates:
            return
        kind, i = candidates[0]
        if kind == "open":
            a, b = i, self._word_after(text, i)
            msg = 'straight quote " opened and never closed (odd number of " in the paragraph)'
        else:
            a, b = self._word_before(text, i), i + 1
            msg = 'straight quote " closes nothing (odd number of " in the paragraph)'
        if _straight_shape(text, i) == "ambiguous":
            a, b = self._word_before(text, i), self._word_after(text, i)
        yield self.finding("unmatched_quote", base + a, base + b, self.weight, msg)

    # ------------------------------------------------------------------ brackets
    def _brackets(self, text: str, base: int) -> Iterator[Finding]:
        if _BRACKET.search(text) is None:
            return
        skip: set[int] = set()
        for m in _EMOTICON.finditer(text):
            skip.update(range(m.start(), m.end()))
        enum_close = {m.end() - 1 for m in _ENUM_CLOSE.finditer(text)}
        stack: list[tuple[str, int]] = []
        for m in _BRACKET.finditer(text):
            i, c = m.start(), m.group()
            if i in skip:
                continue
            if c in "([":
                stack.append((c, i))
            elif stack and stack[-1][0] == _PAIRS[c]:
                stack.pop()
            elif not stack and i in enum_close:
                continue  # "1) first", "a) second": a list enumerator
            else:
                a = self._word_before(text, i)
                msg = (
                    f"closing bracket {c} with no opening {_PAIRS[c]}"
                    if not stack
                    else f"bracket {stack[-1][0]} closed by {c}"
                )
                yield self.finding("unmatched_bracket", base + a, base + i + 1, self.weight, msg)
                if stack:
                    stack.pop()
        for c, i in stack:
            yield self.finding(
                "unmatched_bracket",
                base + i,
                base + self._word_after(text, i),
                self.weight,
                f"bracket {c} never closed in its paragraph",
            )

    # ------------------------------------------------------------------ spaces
    def _missing_space(self, text: str, base: int) -> Iterator[Finding]:
        if _GLUED_HINT.search(text) is None:
            return
        runs = _Runs(text)
        seen: set[int] = set()
        for m in _GLUED_STOP.finditer(text):
            i = m.start()
            f = self._glued_stop(text, i, base, runs)
            if f is not None:
                seen.add(i)
                yield f
        for m in _GLUED_COMMA.finditer(text):
            i = m.start()
            ra, rb = runs.at(i)
            if runs.check(_comma_run_excused, ra, rb):
                continue  # URLs, numbers, argument lists: "f(a,b)", "cv(i,j)"
            left = _left_word(text, ra, i)  # the word before the mark lies in its run
            right = _WORD_AT.match(text, i + 1)
            if left is None or right is None:
                continue
            lw, rw = left.group(), right.group()
            if lw.isdigit() and (len(rw) < 2 or not rw.islower()):
                continue
            yield self.finding(
                "missing_space",
                left.start() + base,
                right.end() + base,
                self.weight + 0.1,
                f"missing space after “{m.group()}”",
            )
        for m in _GLUED_AFTER_CLOSER.finditer(text):
            if m.start() in seen:
                continue
            i = m.start()
            ra, rb = runs.at(i)
            left = _left_word(text, ra, i)
            right = _WORD_AT.match(text, m.end())
            if left is None or right is None or runs.check(_urlish, ra, rb):
                continue
            yield self.finding(
                "missing_space",
                left.start() + base,
                right.end() + base,
                self.weight,
                "missing space after closing punctuation",
            )

    def _glued_stop(self, text: str, i: int, base: int, runs: _Runs) -> Optional[Finding]:
        ra, rb = runs.at(i)
        if runs.check(_urlish, ra, rb):
            return None
        left = _left_word(text, ra, i)
        right = _WORD_AT.match(text, i + 1, rb)
        if left is None or right is None:
            return None
        lw = left.group().split(".")[-1]
        rw = right.group()
        if len(lw) == 1 and lw.isalpha():
            return None  # initials, abbreviations: "U.S", "e.g", "J.K"
        if len(rw) == 1 or (len(rw) <= 2 and text[i + 1 + len(rw) : i + 2 + len(rw)] == "."):
            return None  # "Ph.D", "a.m."
        if rw.lower() in _TLD_EXT or _dot_inside(text, i + 1 + len(rw), rb):
            return None  # domains, file names, dotted identifiers: "bbc.co.uk"
        if lw.isupper() and rw.isupper():
            return None  # "ASTANA.KAZINFORM", "ASP.NET"
        if lw.isdigit() and len(lw) <= 2 and left.start() == ra and (ra == 0 or text[ra - 1] == "\n"):
            return None  # "1.First point" at a line start: a list number
        if len(rw) > 1 and rw[0].isupper() and rw[1:].islower():
            return self.finding(
                "missing_space",
                base + i - len(lw),
                base + i + 1 + len(rw),
                self.glued_weight,
                f"missing space after “{text[i]}”: “{lw}{text[i]}{rw}”",
            )
        if lw.isalpha() and rw.isalpha() and lw.islower() and rw.islower() and text[i] == ".":
            # "said.and": only before a word that starts a clause, never in code-like runs ("os.path")
            if rw in _CLAUSE_STARTERS and _common_word(lw) and len(lw) > 1 and not runs.check(_codeish, ra, rb):
                return self.finding(
                    "missing_space",
                    base + i - len(lw),
                    base + i + 1 + len(rw),
                    self.weight,
                    f"missing space after “.”: “{lw}.{rw}”",
                )
        return None

    def _space_before(self, text: str, base: int) -> Iterator[Finding]:
        if "«" in text or "»" in text:
            return  # French-style spacing in quoted material
        if _SPACE_BEFORE_HINT.search(text) is None:
            return
        for m in _SPACE_BEFORE.finditer(text):
            prev = text[m.start() - 1]
            if prev in "-–—/&*…":
                continue  # "yes - , no" style lists, ellipses
            mark = m.group().strip()
            yield self.finding("space_before", base + m.start(), base + m.end(), self.weight, f"space before “{mark}”")

    def _loose_quotes(self, text: str, base: int) -> Iterator[Finding]:
        if '"' not in text and "“" not in text and "”" not in text:
            return
        if len(text.strip()) == 1:
            return  # the paragraph is the lone quote mark
        for m in _LOOSE_QUOTE.finditer(text):
            yield self.finding(
                "space_inside_quote",
                base + m.start(),
                base + m.end(),
                self.loose_weight,
                f"quote mark {m.group()} detached by spaces on both sides",
            )

    def _doubled(self, text: str, base: int) -> Iterator[Finding]:
        runs = _Runs(text)
        for m in _DOUBLED.finditer(text):
            if runs.check(_urlish, *runs.at(m.start())):
                continue
            yield self.finding(
                "doubled", base + m.start(), base + m.end(), self.weight, f"doubled punctuation “{m.group()}”"
            )

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _word_before(text: str, i: int) -> int:
        """Start of the word right before offset ``i`` (or ``i`` when there is none)."""
        j = i
        while j > 0 and text[j - 1] in ".,!?;:":
            j -= 1  # "Putin.”": the word before the full stop
        m = _WORD_LEFT.search(text, max(0, j - 80), j)
        return m.start() if m is not None else i

    @staticmethod
    def _word_after(text: str, i: int) -> int:
        """End of the word right after the mark at ``i`` (or ``i + 1``)."""
        m = _WORD_AT.match(text, i + 1)
        return m.end() if m else i + 1
