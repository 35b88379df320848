"""Untranslated text: the translation repeats its source, or keeps runs of the source's script."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from ..document import Document
from ..langid import char_script, main_script
from ..types import Finding
from . import Detector, register

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_LATIN_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)


def _norm(s: str) -> str:
    return _NON_WORD.sub(" ", s.casefold()).strip()


@register("untranslated", colour=("#eef5d0", "#6b7d12"), prior=4.0)
@dataclass(eq=False)
class Untranslated(Detector):
    """Source text left in the English translation (needs the source text).

    * ``copy``: the target is the source again (letters and digits compared,
      case and punctuation ignored), as MT does with a segment it cannot
      translate;
    * ``script``: a run of letters in the source's own non-Latin script
      inside the target:

      >>> from garble.detectors import flagged
      >>> flagged(Untranslated(), "We need 更多的数据 now.", source="我们需要更多的数据")
      [('script', '更多的数据')]

    * ``phrase`` (Latin-script sources other than English): ``min_words`` or
      more consecutive target words that occur in the same order in the
      source, most of them rare in English (wordfreq Zipf below
      ``english_zipf``), so shared names and numbers do not count.

    ``min_script_chars=2``: one CJK character in an English sentence is
    usually a character being explained ("the character 人 means person");
    a run of two or more is text left behind. ``min_words=3``,
    ``english_zipf=3.0``: a quoted name is two words; three source words in a
    row, rare in English, are a phrase that was not translated. On the human
    reference rows of mqm_ted_zhen the detector fires on at most 1% of them
    (scripts/eval_source.py).
    """

    min_script_chars: int = 2
    min_words: int = 3
    english_zipf: float = 3.0
    weight: float = 0.9

    def detect(self, doc: Document) -> Iterator[Finding]:
        for unit, src in doc.source_pairs():
            t = unit.text
            ns, nt = _norm(src), _norm(t)
            script = main_script(src)
            if (
                ns
                and ns == nt
                and (script != "Latin" or doc.source_language not in ("en", None) or len(ns.split()) >= 3)
            ):
                if script != "Latin" or doc.source_language != "en":
                    a = len(t) - len(t.lstrip())
                    yield self.finding(
                        "copy",
                        unit.start + a,
                        unit.start + len(t.rstrip()),
                        1.0,
                        "the translation is a copy of the source",
                        (0, len(src)),
                    )
                    continue
            if script and script != "Latin":
                yield from self._script_runs(unit, src, script)
            elif script == "Latin" and doc.source_language not in ("en", None):
                yield from self._copied_phrases(unit, src)

    def _script_runs(self, unit, src: str, script: str) -> Iterator[Finding]:
        t = unit.text
        mine = {"Han", "Kana"} if script in ("Han", "Kana") else {script}
        i, n = 0, len(t)
        while i < n:
            if char_script(t[i]) not in mine:
                i += 1
                continue
            j, letters = i, 0
            # a run: letters of the script, and spaces or punctuation between them ("你好，世界", "домой вечером")
            while j < n and (char_script(t[j]) in mine or (not t[j].isalnum() and _next_in(t, j + 1, mine))):
                letters += char_script(t[j]) in mine
                j += 1
            if letters >= self.min_script_chars:
                run = t[i:j]
                k = src.find(run)
                yield self.finding(
                    "script",
                    unit.start + i,
                    unit.start + j,
                    self.weight,
                    f"untranslated: “{run}” is in the source's script ({script})",
                    (k, k + len(run)) if k >= 0 else None,
                )
            i = j

    def _copied_phrases(self, unit, src: str) -> Iterator[Finding]:
        from ..lexicon import zipf

        tw = [(m.start(), m.end(), m.group().casefold()) for m in _LATIN_WORD.finditer(unit.text)]
        sw = [m.group().casefold() for m in _LATIN_WORD.finditer(src)]
        if len(tw) < self.min_words or len(sw) < self.min_words:
            return
        grams = {tuple(sw[k : k + self.min_words]) for k in range(len(sw) - self.min_words + 1)}
        i = 0
        while i + self.min_words <= len(tw):
            g = tuple(w for _, _, w in tw[i : i + self.min_words])
            if g in grams and sum(zipf(w) < self.english_zipf for w in g) * 2 > len(g):
                j = i + self.min_words
                while j < len(tw) and tuple(w for _, _, w in tw[j - self.min_words + 1 : j + 1]) in grams:
                    j += 1
                a, b = tw[i][0], tw[j - 1][1]
                phrase = unit.text[a:b]
                k = src.casefold().find(phrase.casefold())
                yield self.finding(
                    "phrase",
                    unit.start + a,
                    unit.start + b,
                    self.weight * 0.8,
                    f"untranslated: “{phrase}” is copied from the source",
                    (k, k + len(phrase)) if k >= 0 else None,
                )
                i = j
            else:
                i += 1


def _next_in(t: str, i: int, scripts: set) -> bool:
    """Whether the first letter or digit at or after ``i`` (within 3 characters) is in ``scripts``."""
    for k in range(i, min(len(t), i + 3)):
        if t[k].isalnum():
            return char_script(t[k]) in scripts
    return False
