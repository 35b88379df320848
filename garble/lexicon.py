"""Word frequencies (wordfreq), looked up fast.

``wordfreq.zipf_frequency`` tokenises and normalises its argument on every
call (about 100 µs); detectors ask about single words thousands of times per
document, so a plain word is looked up directly in wordfreq's frequency table
(loaded once per language and list), and anything else goes through
``zipf_frequency`` as before. Both give the same Zipf value for a plain word.
"""

from __future__ import annotations

import math
from functools import lru_cache


@lru_cache(maxsize=None)
def frequency_table(lang: str = "en", wordlist: str = "best") -> dict[str, float]:
    """wordfreq's word → frequency table for ``lang`` (read once, shared, never changed)."""
    from wordfreq import get_frequency_dict

    return get_frequency_dict(lang, wordlist)


@lru_cache(maxsize=262144)
def zipf(word: str, lang: str = "en", wordlist: str = "best") -> float:
    """Zipf frequency of ``word`` (log10 of occurrences per billion words; 0 if unknown)."""
    w = word.casefold()
    if w.isalpha() and w.isascii():
        f = frequency_table(lang, wordlist).get(w, 0.0)
        return round(math.log10(f) + 9.0, 2) if f > 0 else 0.0
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang, wordlist=wordlist)
