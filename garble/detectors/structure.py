"""Placeholders and structure (brackets, quotes, ?/!, list markers, line breaks) on one side only."""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterator

from ..document import Document
from ..types import Finding
from . import Detector

# printf, Python, .NET/ICU, shell/JS template, Mustache placeholders, XML/HTML tags
PLACEHOLDER_RE = re.compile(
    r"\{\{[^{}\n]{1,60}\}\}"  # {{name}}
    r"|\$\{[^{}\n]{1,60}\}"  # ${x}
    r"|\{[\w.:,#-]{0,40}\}"  # {0} {name} {0:d} {}
    r"|%\([\w.-]{1,40}\)[-+#0]*\d*(?:\.\d+)?[sdifrxXeEgGc]"  # %(name)s
    r"|(?<![\w%])%(?:\d+\$)?[-+#0]*\d*(?:\.\d+)?(?:l{0,2}|h)[sdifuxXeEgGc@]\b"  # %s %d %1$s %.2f %@
    r"|</?[A-Za-z][\w:.-]*(?:\s+[\w:.-]+(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s<>'\"]+))?)*\s*/?>"  # <b> </b> <br/> <x id="1"/>
    r"|&(?:[A-Za-z]\w{1,10}|#\d{1,7}|#x[0-9A-Fa-f]{1,6});"  # &amp; &#160;
)


def placeholders(text: str) -> list[re.Match]:
    """The placeholders and tags of ``text``."""
    return list(PLACEHOLDER_RE.finditer(text))


class Placeholders(Detector):
    """A placeholder or inline tag of the source missing, changed or added in the translation (needs the source).

    Placeholders are compared as a multiset of exact strings: ``{0}``,
    ``{name}``, ``{{name}}``, ``%s``, ``%1$s``, ``%(name)s``, ``${x}``, XML/HTML
    tags (``<b>``, ``</b>``, ``<x id="1"/>``) and character entities:

    >>> source "已删除 %(count)s 个文件 <b>{name}</b>", target "Deleted %(count) files <b>{nom}</b>"

    flags ``missing`` ``%(count)s`` (zero-width at the unit start; the source
    offsets in ``source_span``), and ``changed`` ``{name}`` -> ``{nom}``. A
    broken placeholder is an error in any software string, so ``weight=1.0``;
    ``extra_weight=0.8`` for one the translation added. Plain prose has
    none, so on the human references of mqm_ted_zhen it never fires.
    """

    name = "placeholders"

    def __init__(self, weight: float = 1.0, extra_weight: float = 0.8):
        self.weight = weight
        self.extra_weight = extra_weight

    def detect(self, doc: Document) -> Iterator[Finding]:
        if not doc.has_sources:
            return
        for unit in doc.units:
            src = doc.source(unit)
            if not src or not ("%" in src or "{" in src or "<" in src or "&" in src or "%" in unit.text or "{" in unit.text or "<" in unit.text):
                continue
            sp, tp = placeholders(src), placeholders(unit.text)
            left = Counter(m.group() for m in tp)
            missing = []
            for m in sp:
                if left[m.group()] > 0:
                    left[m.group()] -= 1
                else:
                    missing.append(m)
            extra = []
            used = Counter()
            for m in tp:
                if left[m.group()] - used[m.group()] > 0:
                    used[m.group()] += 1
                    extra.append(m)
            while missing and extra:
                s, t = missing.pop(0), extra.pop(0)
                yield self.finding("changed", unit.start + t.start(), unit.start + t.end(), self.weight, f"placeholder changed: source “{s.group()}”, translation “{t.group()}”", s.span())
            for s in missing:
                yield self.finding("missing", unit.start, unit.start, self.weight, f"placeholder “{s.group()}” of the source is missing", s.span())
            for t in extra:
                yield self.finding("extra", unit.start + t.start(), unit.start + t.end(), self.extra_weight, f"placeholder “{t.group()}” is not in the source")


_FOLD = str.maketrans({"（": "(", "）": ")", "【": "[", "】": "]", "［": "[", "］": "]", "？": "?", "！": "!", "｛": "{", "｝": "}"})
_LIST_RE = re.compile(r"^[ \t]*(?:[-*•·▪●]|\d{1,3}[.)、]|[a-z][.)]|[（(]\d{1,3}[)）])[ \t]+", re.M)
_QUOTES_SRC = "\"“”„«»「」『』"
_QUOTES_TGT = "\"“”„«»"


class Structure(Detector):
    """Structure marks present on one side only (needs the source): a soft hint, not an error by itself.

    Compares source and target for brackets (fullwidth folded: "（" is "("),
    quotation marks, question and exclamation marks, list markers at line
    starts and line breaks:

    >>> source "你会来吗？", target "You will come."

    is ``question`` (the source asks, the translation does not). Each kind
    has its own weight (constructor args), all low: translators drop a
    bracket or turn a rhetorical question into a statement for good reasons.
    ``question_weight=0.4``, ``exclamation_weight=0.25``, ``bracket_weight=0.3``,
    ``quote_weight=0.2``, ``list_weight=0.5``, ``linebreak_weight=0.5``: line
    breaks and list markers are layout a CAT tool keeps; the others are
    style choices. On the mqm_ted_zhen references the rate of each kind is in
    scripts/eval_source.py's table.
    """

    name = "structure"

    def __init__(self, question_weight: float = 0.4, exclamation_weight: float = 0.25, bracket_weight: float = 0.3, quote_weight: float = 0.2, list_weight: float = 0.5, linebreak_weight: float = 0.5):
        self.weights = {"question": question_weight, "exclamation": exclamation_weight, "bracket": bracket_weight, "quote": quote_weight, "list": list_weight, "linebreak": linebreak_weight}

    def detect(self, doc: Document) -> Iterator[Finding]:
        for unit, src in doc.source_pairs():
            s, t = src.translate(_FOLD), unit.text
            checks = [
                ("question", "?", s.count("?"), t.count("?"), "question mark"),
                ("exclamation", "!", s.count("!"), t.count("!"), "exclamation mark"),
                ("bracket", "(", s.count("(") + s.count("["), t.count("(") + t.count("["), "brackets"),
                ("quote", "\"", sum(s.count(c) for c in _QUOTES_SRC), sum(t.count(c) for c in _QUOTES_TGT), "quotation marks"),
                ("list", "", len(_LIST_RE.findall(s)), len(_LIST_RE.findall(t)), "list markers"),
                ("linebreak", "\n", s.strip().count("\n"), t.strip().count("\n"), "line breaks"),
            ]
            for kind, ch, ns, nt, what in checks:
                if (ns == 0) == (nt == 0) and not (kind in ("list", "linebreak") and ns != nt):
                    continue
                w = self.weights[kind]
                if ns > nt:
                    k = s.find(ch) if ch else 0
                    yield self.finding(kind, unit.start, unit.start, w, f"{what} in the source ({ns}) but {'not ' if nt == 0 else 'fewer '}in the translation{'' if nt == 0 else f' ({nt})'}", (k, k + 1) if k >= 0 and ch else None)
                else:
                    k = t.find(ch) if ch else -1
                    a, b = (unit.start + k, unit.start + k + 1) if k >= 0 else (unit.start, unit.start)
                    yield self.finding(kind, a, b, w, f"{what} in the translation ({nt}) but {'not ' if ns == 0 else 'fewer '}in the source{'' if ns == 0 else f' ({ns})'}")
