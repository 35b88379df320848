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


#: frequency given to a word wordfreq does not list: its smallest listed frequency
#: is 1e-8 (Zipf 1.0), so an unknown word counts as rarer than any listed one
UNKNOWN_WORD_FREQ = 5e-9

_UNIGRAM_WORD = None


def unigram_surprisal(text: str, lang: str = "en") -> float:
    """Total unigram surprisal of ``text``'s words in nats: sum of ``-ln p(word)``, p from wordfreq.

    Words are runs of letters, digits and inner apostrophes/hyphens; a word
    wordfreq does not know gets :data:`UNKNOWN_WORD_FREQ`. This is the
    unigram term of SLOR (Lau et al. 2017; Kann et al. 2018): a sentence's LM
    surprisal minus it is how much less likely the sentence is than its words'
    rarity alone explains.
    """
    global _UNIGRAM_WORD
    if _UNIGRAM_WORD is None:
        import re

        _UNIGRAM_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
    table = frequency_table(lang, "best")
    total = 0.0
    for m in _UNIGRAM_WORD.finditer(text):
        w = m.group().casefold().replace("’", "'")
        f = table.get(w) if (w.isascii() and w.isalpha()) else None
        if f is None:
            z = zipf(w, lang)
            f = 10.0 ** (z - 9.0) if z > 0 else 0.0
        total -= math.log(f if f > 0 else UNKNOWN_WORD_FREQ)
    return total
