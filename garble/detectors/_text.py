"""Text helpers shared by several detectors."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from functools import lru_cache
from typing import Optional

from ..document import Document
from ..types import Unit


def norm_word(word: str) -> str:
    """A word as the detectors compare it: lower case, typographic apostrophe made straight."""
    return word.lower().replace("’", "'")


def paragraphs(doc: Document) -> dict[int, list[Unit]]:
    """The units of ``doc`` by paragraph index, each list in document order."""
    paras: dict[int, list[Unit]] = defaultdict(list)
    for u in doc.units:
        paras[u.paragraph].append(u)
    return paras


def paragraph_spans(doc: Document) -> list[tuple[int, int]]:
    """``[start, end)`` of each paragraph of ``doc`` (its first unit's start, its last unit's end), in order."""
    paras = paragraphs(doc)
    return [(paras[p][0].start, paras[p][-1].end) for p in sorted(paras)]


# Unicode script of a letter from its character name; only real scripts are
# recognised, so letter-like symbols (MATHEMATICAL ITALIC X, SCRIPT L) count as
# "Common" and are never flagged.
_SCRIPT_NAMES = {
    "LATIN": "Latin",
    "FULLWIDTH": "Latin",
    "CYRILLIC": "Cyrillic",
    "GREEK": "Greek",
    "ARABIC": "Arabic",
    "HEBREW": "Hebrew",
    "CJK": "CJK",
    "HIRAGANA": "CJK",
    "KATAKANA": "CJK",
    "HANGUL": "Hangul",
    "BOPOMOFO": "CJK",
    "IDEOGRAPHIC": "CJK",
    "DEVANAGARI": "Devanagari",
    "BENGALI": "Bengali",
    "GURMUKHI": "Gurmukhi",
    "GUJARATI": "Gujarati",
    "ORIYA": "Oriya",
    "TAMIL": "Tamil",
    "TELUGU": "Telugu",
    "KANNADA": "Kannada",
    "MALAYALAM": "Malayalam",
    "SINHALA": "Sinhala",
    "THAI": "Thai",
    "LAO": "Lao",
    "TIBETAN": "Tibetan",
    "MYANMAR": "Myanmar",
    "GEORGIAN": "Georgian",
    "ARMENIAN": "Armenian",
    "ETHIOPIC": "Ethiopic",
    "KHMER": "Khmer",
    "MONGOLIAN": "Mongolian",
    "SYRIAC": "Syriac",
    "THAANA": "Thaana",
}


@lru_cache(maxsize=8192)
def script_of(ch: str) -> Optional[str]:
    """Script of a letter or combining mark (kana and Han are "CJK"), ``None`` for everything else (Common)."""
    cat = unicodedata.category(ch)
    if cat[0] not in "LM":
        return None
    if "\u3040" <= ch <= "\u30ff" or "\u31f0" <= ch <= "\u31ff":
        return "CJK"  # kana
    name = unicodedata.name(ch, "")
    first = name.split(" ", 1)[0]
    if first in ("FULLWIDTH", "HALFWIDTH"):
        return "Latin" if "LATIN" in name else ("Hangul" if "HANGUL" in name else "CJK")
    return _SCRIPT_NAMES.get(first)
