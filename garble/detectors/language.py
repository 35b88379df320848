"""Untranslated text: spans left in the source language inside English output."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Optional

from ..document import Document
from ..lexicon import zipf
from ..types import Finding, Unit
from . import Detector, register
from ._text import norm_word, script_of

# scripts written without spaces between words, where one character is a word
_LOGOGRAPHIC = {"CJK", "Hangul", "Thai", "Lao", "Khmer", "Myanmar", "Tibetan"}

_LATIN_LANGS = ("de", "fr", "es", "it", "pt", "nl", "pl", "sv", "tr", "id", "ro", "cs")


@lru_cache(maxsize=65536)
def _zipfs(word: str, langs: tuple[str, ...]) -> tuple[float, float, str]:
    """(English zipf, best other-language zipf, that language) of a lowercase word."""
    en = zipf(word, "en")
    best, lang = 0.0, ""
    for lg in langs:
        # the "small" lists hold every word of zipf >= 3 and load in a fraction of
        # the time of the large ones; the foreign test needs zipf >= min_zipf >= 3
        z = zipf(word, lg, wordlist="small")
        if z > best:
            best, lang = z, lg
    return en, best, lang


@lru_cache(maxsize=65536)
def _classify(word: str, langs: tuple[str, ...], margin: float, min_zipf: float) -> tuple[str, str]:
    """:meth:`ForeignLanguage._classify` with the detector's thresholds as arguments (memoised)."""
    if len(word) < 2 or not any(c.isalpha() for c in word) or any(c.isdigit() for c in word):
        return "neutral", ""
    en, fo, lang = _zipfs(word, langs)
    if fo - en >= margin and fo >= min_zipf and en < 5.0:
        return "foreign", lang
    if en >= 3.0 and fo - en < 0.5:
        return "english", ""
    return "neutral", ""


_LANG_NAMES = {
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "sv": "Swedish",
    "tr": "Turkish",
    "id": "Indonesian",
    "ro": "Romanian",
    "cs": "Czech",
}
_OPEN = "([（【「『"
_OPEN_QUOTES = "“\"«„‘'‚‹「『"
_CLOSE_QUOTES = "”\"»“’'›」』"
_CLOSE = ")]）】」』"


@register("language", colour=("#e9dfd3", "#8a5a2b"), prior=4.0)
@dataclass(eq=False)
class ForeignLanguage(Detector):
    """Text left in the source language inside English output.

    >>> from garble.detectors import flagged
    >>> flagged(ForeignLanguage(), "The minister said 我们不会接受 today.")
    [('foreign_script', '我们不会接受')]
    >>> flagged(ForeignLanguage(), "He replied que no es posible hacerlo today.")
    [('foreign_words', 'que no es posible hacerlo')]

    Two cases:

    * a run of letters of a non-Latin script (CJK ideographs and kana,
      Hangul, Cyrillic, Arabic, Hebrew, Devanagari, Thai, ...) inside an
      English unit, and a
      unit wholly in another script: ``"The minister said 我们不会接受 today."``
      A run may hold spaces, digits and punctuation between its letters. In
      an alphabetic script the run needs a word of two letters; Greek letters
      are symbols in English (α-helix, ``α + β = γ``, ΔG, μm), so a Greek run
      needs a word of ``min_greek=3`` letters.
      A run wholly inside brackets right after a word, ``Moscow (Москва)``,
      is usually a deliberate gloss and gets ``gloss_weight``.
    * a run of at least ``min_words`` Latin-script words that are not English:
      ``"He replied que no es posible hacerlo today."``. A word is foreign when
      wordfreq rates it at least ``margin`` zipf higher in one of ``langs``
      than in English, at least ``min_zipf`` there, and below 5 in English (so
      "de", "la", "die", "per" never count). A word English uses about as often
      as the other language (within 0.5 zipf, at least 3 in English) ends the
      run; words in between ("klein", "café") neither count nor end it.
      Capitalised words are names and titles: they neither count nor end the
      run (sentence-initial words are looked up in lower case), and a run with
      more capitalised words than foreign ones (``Ministerio de Asuntos
      Exteriores y de Cooperación``) is a proper name and left alone.
      One-letter words never count. Single loanwords and short set phrases ("café",
      "déjà vu", "per se", "à la carte") stay below ``min_words``. A run in
      quotation marks (``“je ne regrette rien”``) is often a deliberate quote
      or title and gets ``quoted_weight``.

    Symbols and emoji have no script and are never flagged.

    Defaults: ``min_words=3`` (two-word loan phrases are ordinary English);
    ``margin=2.0``/``min_zipf=4.0`` keep English words that are also foreign
    words ("die", "rose", "vice", "status") out (``min_zipf`` must stay ≥ 3:
    the other languages are read from wordfreq's "small" lists); ``langs`` are the Latin-script
    languages most often machine-translated into English.

    Measured with ``garble eval false-alarms clean_en.tsv mqm_ted_zhen.tsv
    --detector language``: 0 findings in 1,995 units of clean human English
    (clean_en.tsv and the human references of mqm_ted_zhen.tsv) and on 0 of
    the 6,877 MT rows of mqm_ted_zhen.tsv. That corpus has no “Non-translation” category and no
    non-Latin letters; its one “Accuracy/Untranslated text” row reads as plain
    English (“...my friends at Proton Studios...”), so it cannot measure recall.
    Planted in clean paragraphs: 5 random words from the 300 commonest of
    de/fr/es/it/pt/nl are found 276/300 times (the misses are phrases broken
    up by cognates: “art”, “was”, “website”); a CJK phrase 300/300.
    """

    min_words: int = 3
    margin: float = 2.0
    min_zipf: float = 4.0
    langs: tuple[str, ...] = _LATIN_LANGS
    min_greek: int = 3
    weight: float = 0.9
    gloss_weight: float = 0.35
    quoted_weight: float = 0.5

    def __post_init__(self):
        self.langs = tuple(self.langs)

    def detect(self, doc: Document) -> Iterator[Finding]:
        for unit in doc.units:
            yield from self._scripts(doc, unit)
            yield from self._latin(doc, unit)

    # -- non-Latin script runs ------------------------------------------------
    def _scripts(self, doc: Document, unit: Unit) -> Iterator[Finding]:
        ut = unit.text
        if ut.isascii():
            return
        # runs of one non-Latin script; spaces, digits and punctuation may lie
        # inside a run, a Latin letter ends it. [script, start, end, letters, longest word]
        runs: list[list] = []
        word = 0
        prev_sc: Optional[str] = None
        for i, ch in enumerate(ut):
            sc = script_of(ch)
            word = word + 1 if sc is not None and sc == prev_sc else (1 if sc is not None else 0)
            prev_sc = sc
            if sc is None:
                continue
            is_letter = unicodedata.category(ch)[0] == "L"
            if runs and runs[-1][0] == sc:
                r = runs[-1]
                r[2] = i + 1
                r[3] += is_letter
                r[4] = max(r[4], word)
            else:
                runs.append([sc, i, i + 1, int(is_letter), 1])
        total_letters = sum(1 for ch in ut if ch.isalpha())
        for sc, a, b, n, longest in runs:
            if sc == "Latin":
                continue
            if sc not in _LOGOGRAPHIC:
                # an alphabetic script needs a real word: one or two Greek letters
                # are symbols (α-helix, "α + β = γ", ΔG, μm)
                need = self.min_greek if sc == "Greek" else 2
                if longest < need:
                    continue
            # take trailing full-width punctuation of a CJK run with it ("我们。")
            while (
                b < len(ut)
                and sc in _LOGOGRAPHIC
                and unicodedata.east_asian_width(ut[b]) in "FW"
                and not ut[b].isalnum()
            ):
                b += 1
            s, e = unit.start + a, unit.start + b
            span = doc.text[s:e]
            if total_letters and n >= 0.5 * total_letters:
                yield self.finding(
                    "untranslated_unit", s, e, 1.0, f"unit not in English ({sc} script): “{_short(span)}”"
                )
            elif _bracketed(ut, a, b):
                yield self.finding(
                    "foreign_script",
                    s,
                    e,
                    self.gloss_weight,
                    f"{sc} text in brackets, maybe a deliberate gloss: “{_short(span)}”",
                )
            else:
                yield self.finding("foreign_script", s, e, self.weight, f"untranslated {sc} text: “{_short(span)}”")

    # -- Latin-script foreign words ---------------------------------------------
    def _classify(self, word: str) -> tuple[str, str]:
        """``("foreign", lang)``, ``("english", "")`` or ``("neutral", "")`` for a lowercase word."""
        return _classify(word, self.langs, self.margin, self.min_zipf)

    def _latin(self, doc: Document, unit: Unit) -> Iterator[Finding]:
        toks = doc.unit_tokens(unit)
        if len(toks) < self.min_words:
            return
        labels: list[tuple[str, str]] = []
        thresholds = (self.langs, self.margin, self.min_zipf)
        for t in toks:
            w = t.text
            if not w.isascii() and not all(script_of(c) in ("Latin", None) for c in w):
                labels.append(("other", ""))  # non-Latin words are the other method's business
            elif w.isupper() and len(w) > 1:
                labels.append(("cap", ""))  # acronym
            elif w[:1].isupper():
                if _sentence_start(doc.text, unit.start, t.start):
                    lab = _classify(w.lower(), *thresholds)
                    labels.append(lab if lab[0] != "neutral" else ("cap", ""))
                else:
                    labels.append(("cap", ""))
            else:
                labels.append(_classify(norm_word(w), *thresholds))
        if sum(1 for lab, _ in labels if lab == "foreign") < self.min_words:
            return  # no run can hold enough foreign words
        # maximal stretches without English (or non-Latin) words
        i = 0
        n = len(toks)
        while i < n:
            if labels[i][0] in ("english", "other"):
                i += 1
                continue
            j = i
            while j < n and labels[j][0] not in ("english", "other"):
                j += 1
            left = toks[i - 1].end if i > 0 else unit.start
            right = toks[j].start if j < n else unit.end
            yield from self._run(doc, toks[i:j], labels[i:j], left, right)
            i = j

    def _run(self, doc: Document, toks, labels, left: int, right: int) -> Iterator[Finding]:
        idx = [k for k, (lab, _) in enumerate(labels) if lab == "foreign"]
        if len(idx) < self.min_words:
            return
        lo, hi = idx[0], idx[-1]
        inner = labels[lo : hi + 1]
        n_foreign = len(idx)
        n_caps = sum(1 for lab, _ in inner if lab == "cap")
        n_lower = sum(1 for lab, _ in inner if lab != "cap")
        if n_caps > n_foreign or n_foreign < 0.6 * n_lower:
            return
        langs: dict[str, int] = {}
        for lab, lg in inner:
            if lab == "foreign":
                langs[lg] = langs.get(lg, 0) + 1
        lang = max(langs, key=langs.get)
        s, e = toks[lo].start, toks[hi].end
        span = doc.text[s:e]
        language = _LANG_NAMES.get(lang, lang)
        if any(c in _OPEN_QUOTES for c in doc.text[left:s]) and any(c in _CLOSE_QUOTES for c in doc.text[e:right]):
            msg = f"quoted {language} ({n_foreign} words), maybe a deliberate quotation: “{_short(span)}”"
            yield self.finding("foreign_words", s, e, self.quoted_weight, msg)
            return
        msg = f"{n_foreign} words that look {language}, not English: “{_short(span)}”"
        yield self.finding("foreign_words", s, e, self.weight, msg)


def _sentence_start(text: str, unit_start: int, pos: int) -> bool:
    """Whether the word at ``pos`` opens its unit, a quotation or a clause after a colon."""
    i = pos
    while i > unit_start and text[i - 1] in " \u00a0":
        i -= 1
    return i == unit_start or text[i - 1] in _OPEN_QUOTES + ":" or all(not c.isalnum() for c in text[unit_start:pos])


def _bracketed(ut: str, a: int, b: int) -> bool:
    i = a - 1
    while i >= 0 and ut[i] == " ":
        i -= 1
    j = b
    while j < len(ut) and ut[j] == " ":
        j += 1
    return i >= 0 and j < len(ut) and ut[i] in _OPEN and ut[j] in _CLOSE and i > 0


def _short(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"
