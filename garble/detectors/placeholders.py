"""Placeholders and inline tags of the source missing, changed or added in the translation."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterator

from ..document import Document
from ..types import Finding
from . import Detector, register

# printf, Python, .NET/ICU, shell/JS template, Mustache placeholders, XML/HTML tags
PLACEHOLDER_RE = re.compile(
    r"\{\{[^{}\n]{1,60}\}\}"  # {{name}}
    r"|\$\{[^{}\n]{1,60}\}"  # ${x}
    r"|\{[\w.:,#-]{0,40}\}"  # {0} {name} {0:d} {}
    r"|%\([\w.-]{1,40}\)[-+#0]*\d*(?:\.\d+)?[sdifrxXeEgGc]"  # %(name)s
    r"|(?<![\w%])%(?:\d+\$)?[-+#0]*\d*(?:\.\d+)?(?:l{0,2}|h)[sdifuxXeEgGc@]\b"  # %s %d %1$s %.2f %@
    # <b> </b> <br/> <x id="1"/>
    r"|</?[A-Za-z][\w:.-]*(?:\s+[\w:.-]+(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s<>'\"]+))?)*\s*/?>"
    r"|&(?:[A-Za-z]\w{1,10}|#\d{1,7}|#x[0-9A-Fa-f]{1,6});"  # &amp; &#160;
)


def placeholders(text: str) -> list[re.Match]:
    """The placeholders and tags of ``text``."""
    return list(PLACEHOLDER_RE.finditer(text))


@register("placeholders", colour=("#e0f5e9", "#1f7a5a"), prior=4.0)
@dataclass(eq=False)
class Placeholders(Detector):
    """A placeholder or inline tag of the source missing, changed or added in the translation (needs the source).

    Placeholders are compared as a multiset of exact strings: ``{0}``,
    ``{name}``, ``{{name}}``, ``%s``, ``%1$s``, ``%(name)s``, ``${x}``, XML/HTML
    tags (``<b>``, ``</b>``, ``<x id="1"/>``) and character entities:

    >>> from garble.detectors import flagged
    >>> flagged(Placeholders(), "Deleted %(count) files <b>{nom}</b>", source="已删除 %(count)s 个文件 <b>{name}</b>")
    [('missing', 'src:%(count)s'), ('changed', '{nom}')]

    flags ``missing`` ``%(count)s`` (zero-width at the unit start; the source
    offsets in ``source_span``), and ``changed`` ``{name}`` -> ``{nom}``. A
    broken placeholder is an error in any software string, so ``weight=1.0``;
    ``extra_weight=0.8`` for one the translation added. Plain prose has
    none, so on the human references of mqm_ted_zhen it never fires.
    """

    weight: float = 1.0
    extra_weight: float = 0.8

    def detect(self, doc: Document) -> Iterator[Finding]:
        if not doc.has_sources:
            return
        for unit in doc.units:
            src = doc.source(unit)
            if not src or not (
                "%" in src
                or "{" in src
                or "<" in src
                or "&" in src
                or "%" in unit.text
                or "{" in unit.text
                or "<" in unit.text
            ):
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
                t = extra.pop(0)  # paired with a missing one of the same kind ({…}, %…, <…>, &…;) when there is one
                s = missing.pop(next((k for k, m in enumerate(missing) if m.group()[0] == t.group()[0]), 0))
                yield self.finding(
                    "changed",
                    unit.start + t.start(),
                    unit.start + t.end(),
                    self.weight,
                    f"placeholder changed: source “{s.group()}”, translation “{t.group()}”",
                    s.span(),
                )
            for s in missing:
                yield self.finding(
                    "missing",
                    unit.start,
                    unit.start,
                    self.weight,
                    f"placeholder “{s.group()}” of the source is missing",
                    s.span(),
                )
            for t in extra:
                yield self.finding(
                    "extra",
                    unit.start + t.start(),
                    unit.start + t.end(),
                    self.extra_weight,
                    f"placeholder “{t.group()}” is not in the source",
                )
