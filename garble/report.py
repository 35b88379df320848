"""Ranked output: terminal table, JSONL and TSV.

JSONL has one record per unit, in rank order within each document (its fields:
docs/USAGE.md, "Output"). The terminal view marks flagged spans: with colour on a
terminal, with ``[[…]]`` in plain text (pipes, files), where each unit stays on
one line so that ``grep`` finds it.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from typing import IO, Iterable, Optional, Sequence

from .types import DocumentResult, UnitResult

FORMATS = ("table", "jsonl", "tsv", "html")

_ANSI_MARK = "\x1b[1;4;31m", "\x1b[0m"
_ANSI_DIM = "\x1b[2m", "\x1b[0m"
_PLAIN_MARK = "[[", "]]"

#: what the score means, in the table's header line (the review page flags at the same 0.5)
SCORE_GUIDE = "score 0-1: higher = more likely to need a fix; >= 0.5 flagged"


#: the reason line of a unit without findings: with the LM its score is the LM's features alone
_NO_REASON = {True: "(no finding; LM surprisal only)", False: "(no finding)"}


def merged_spans(unit: UnitResult) -> list[tuple[int, int]]:
    """Unit-relative spans to mark: finding spans merged; else the LM's most surprising word."""
    u = unit.unit
    spans = []
    for f in unit.findings:
        a, b = max(f.start, u.start) - u.start, min(f.end, u.end) - u.start
        if b > a:
            spans.append((a, b))
    if not spans and unit.lm is not None and unit.lm.max_span[1] > unit.lm.max_span[0]:
        a, b = unit.lm.max_span[0] - u.start, unit.lm.max_span[1] - u.start
        text = u.text
        while a > 0 and text[a - 1].isalnum():  # widen a sub-word token to its word
            a -= 1
        while b < len(text) and text[b].isalnum():
            b += 1
        spans.append((a, b))
    spans.sort()
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def mark(text: str, spans: Sequence[tuple[int, int]], marks: tuple[str, str]) -> str:
    parts, pos = [], 0
    for a, b in spans:
        parts += [text[pos:a], marks[0], text[a:b], marks[1]]
        pos = b
    parts.append(text[pos:])
    return "".join(parts)


def reasons(unit: UnitResult) -> list[str]:
    """Human-readable reasons: findings first, then the LM's view when it matters."""
    out = [f"{f.detector}: {f.message}" for f in sorted(unit.findings, key=lambda f: -f.weight)]
    seen: list[str] = []
    for r in out:
        if r not in seen:
            seen.append(r)
    if unit.qe is not None:
        seen.insert(0, qe_reason(unit.qe))
    elif unit.lm is not None and unit.lm.rel_median >= 1.0:
        seen.append(f"lm: {unit.lm.rel_median:+.1f} nats/token vs the document median")
    return seen


def qe_reason(q) -> str:
    """The QE estimate in words: the predicted human score and the probability of a fix."""
    lang = f"{q.source_lang} " if q.source_lang else ""
    return f"qe: read with its {lang}source, needs a fix with p={q.p_fix:.2f} (predicted DA z {q.z:+.2f})"


def _select(
    docs: Iterable[DocumentResult], top: Optional[int], min_score: float
) -> Iterable[tuple[DocumentResult, list[UnitResult]]]:
    for d in docs:
        units = [u for u in d.ranked() if u.score >= min_score]
        yield d, (units[:top] if top else units)


def write_table(
    docs: Iterable[DocumentResult],
    out: IO[str],
    *,
    top: Optional[int] = None,
    min_score: float = 0.0,
    color: bool = False,
    width: Optional[int] = None,
) -> None:
    """A ranked table per document. ``color`` uses ANSI marks and wraps to ``width``."""
    marks = _ANSI_MARK if color else _PLAIN_MARK
    width = width or (shutil.get_terminal_size((100, 24)).columns if color else 0)
    indent = " " * 13
    for n, (d, units) in enumerate(_select(docs, top, min_score)):
        if n:
            out.write("\n")
        title = f"{d.doc_id or 'document'}: {len(d.units)} units"
        if top and top < len(d.units):
            title += f", top {len(units)}"
        out.write(title + "\n")
        out.write(f"{'rank':>5} {'score':>6}  text / reasons   ({SCORE_GUIDE})\n")
        for u in units:
            text = mark(u.text, merged_spans(u), marks)
            head = f"{u.rank:>5} {u.score:6.3f}  "
            if width:
                # whole words only (a word longer than a line overflows it); the ANSI marks add
                # no width on screen, so the wrap counts only the visible characters
                lines = _wrap_visible(text, max(40, width - len(head))) or [""]
                out.write(head + lines[0] + "\n")
                for ln in lines[1:]:
                    out.write(indent + ln + "\n")
            else:
                out.write(head + text + "\n")
            for r in reasons(u) or [_NO_REASON[u.lm is not None]]:
                if width:
                    wrapped = textwrap.wrap(
                        r, width=max(40, width - len(indent) - 2), break_long_words=False, break_on_hyphens=False
                    ) or [""]
                    lines = [f"{indent}- {wrapped[0]}"] + [f"{indent}  {w}" for w in wrapped[1:]]
                else:
                    lines = [f"{indent}- {r}"]
                for line in lines:
                    out.write((_ANSI_DIM[0] + line + _ANSI_DIM[1] if color else line) + "\n")


def _wrap_visible(text: str, width: int) -> list[str]:
    """``text`` cut at spaces into lines of at most ``width`` visible characters (ANSI codes count 0)."""
    import re

    lines: list[str] = []
    cur, cur_w = "", 0
    for word in text.split(" "):
        w = len(re.sub(r"\x1b\[[0-9;]*m", "", word))
        if cur and cur_w + 1 + w > width:
            lines.append(cur)
            cur, cur_w = word, w
        else:
            cur, cur_w = (cur + " " + word, cur_w + 1 + w) if cur else (word, w)
    if cur:
        lines.append(cur)
    # a mark that spans a line break is closed at the end of the line and reopened on the next
    # (else the indent of the next line would be underlined)
    for i in range(len(lines) - 1):
        if lines[i].rfind(_ANSI_MARK[0]) > lines[i].rfind(_ANSI_MARK[1]):
            lines[i] += _ANSI_MARK[1]
            lines[i + 1] = _ANSI_MARK[0] + lines[i + 1]
    return lines


def write_jsonl(
    docs: Iterable[DocumentResult], out: IO[str], *, top: Optional[int] = None, min_score: float = 0.0
) -> None:
    """One JSON object per unit, in rank order within each document."""
    for d, units in _select(docs, top, min_score):
        for u in units:
            out.write(json.dumps(u.to_dict(d.doc_id), ensure_ascii=False) + "\n")


TSV_COLUMNS = ("doc", "rank", "score", "unit", "start", "end", "detectors", "reasons", "text")


def _tsv_cell(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write_tsv(
    docs: Iterable[DocumentResult], out: IO[str], *, top: Optional[int] = None, min_score: float = 0.0
) -> None:
    """Tab-separated, header row; tabs/newlines in text escaped as ``\\t``/``\\n``."""
    out.write("\t".join(TSV_COLUMNS) + "\n")
    for d, units in _select(docs, top, min_score):
        for u in units:
            dets = sorted({f.detector for f in u.findings})
            row = [
                d.doc_id,
                str(u.rank),
                f"{u.score:.6f}",
                str(u.unit.index),
                str(u.start),
                str(u.end),
                ",".join(dets),
                " | ".join(reasons(u)),
                u.text,
            ]
            out.write("\t".join(_tsv_cell(c) for c in row) + "\n")
