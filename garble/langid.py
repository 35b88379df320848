"""Which language a source text is in, and which script it is written in.

:func:`identify` uses ``lingua-language-detector`` (the ``qa`` extra of
garble-mt) when it is installed; without it, or when it cannot tell, it falls
back to the script: Han alone is Chinese, Han with kana Japanese, Hangul
Korean, and so on (``None`` for a Latin- or Cyrillic-script text).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Optional

# scripts whose language the script alone tells (ISO 639-1)
_SCRIPT_LANG = {
    "Han": "zh",
    "Hangul": "ko",
    "Thai": "th",
    "Greek": "el",
    "Hebrew": "he",
    "Georgian": "ka",
    "Armenian": "hy",
    "Khmer": "km",
    "Lao": "lo",
    "Myanmar": "my",
}


def char_script(ch: str) -> str:
    """The script of one letter: Latin, Han, Kana, Hangul, Cyrillic, Arabic, ... ("" for a non-letter)."""
    o = ord(ch)
    if o < 0x80:
        return "Latin" if ch.isalpha() else ""
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FFFF or 0xF900 <= o <= 0xFAFF or ch == "〇":
        return "Han"
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF:
        return "Kana" if ch not in "・ー゠" else ""
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "Hangul"
    if not ch.isalpha():
        return ""
    name = unicodedata.name(ch, "")
    word = name.split(" ", 1)[0]
    if word in ("LATIN", "FULLWIDTH"):
        return "Latin"
    return word.title()


def scripts(text: str) -> Counter:
    """Letters of ``text`` by script."""
    c: Counter = Counter()
    for ch in text:
        s = char_script(ch)
        if s:
            c[s] += 1
    return c


def main_script(text: str) -> str:
    """The script most letters of ``text`` are in ("" without letters); Han with kana counts as Japanese ("Kana")."""
    c = scripts(text)
    if not c:
        return ""
    if c.get("Kana") and c.get("Han"):
        c["Kana"] += c.pop("Han")
    return c.most_common(1)[0][0]


@lru_cache(maxsize=1)
def _lingua():
    try:
        from lingua import LanguageDetectorBuilder
    except ImportError:
        return None
    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def identify(text: str) -> Optional[str]:
    """The ISO 639-1 code of ``text``'s language (lowercase), or ``None`` when unknown."""
    script = main_script(text)
    if script == "Kana":
        return "ja"
    if script in _SCRIPT_LANG:
        return _SCRIPT_LANG[script]
    det = _lingua()
    if det is not None and text.strip():
        lang = det.detect_language_of(text)
        if lang is not None:
            return lang.iso_code_639_1.name.lower()
    return None
