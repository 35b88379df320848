"""Helpers of the source-aware detector tests: one (source, target) pair as a one-unit document."""

from __future__ import annotations

from garble.detectors import flagged
from garble.document import Document
from garble.types import Unit

#: translation pairs with nothing for a source-aware check to flag (questions, brackets, quotes, line breaks)
CLEAN_PAIRS = [
    ("你会来吗？", "Will you come?"),
    ("这是新方法（见附录）。", "This is the new method (see the appendix)."),
    ("他说：“不。”", "He said: “No.”"),
    ("第一行\n第二行", "First line\nsecond line"),
    ("我们走吧。", "Let's go."),
]


def pair_doc(source, target: str, lang="zh") -> Document:
    return Document(target, [Unit(0, 0, len(target), target, 0)], sources=[source], source_lang=lang)


def found(detector, source, target: str, lang="zh") -> list[tuple[str, str]]:
    """(kind, target span text) of each finding; for a zero-width finding, the source span text as "src:..."."""
    return flagged(detector, target, source=source, source_lang=lang)
