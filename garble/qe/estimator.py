"""Quality estimation with the source: the reader, the sentence head and the word head together.

:class:`QualityEstimator` reads (source, translation) pairs with :class:`~garble.qe.reader.SourceReader` and
returns one :class:`~garble.types.QEResult` per pair: the predicted human score (a DA z-score; higher =
better), the probability that the translation needs a fix, and the words the source does not support
(``adequacy`` findings, offsets into the translation).
"""

from __future__ import annotations

import math
import re
from typing import Optional, Sequence, Union

import numpy as np

from ..types import Finding, QEResult
from .features import aggregates, word_features, word_tokens
from .head import LinearHead, packaged
from .reader import SourceReader, language_name

#: words as MLQE-PE's tokeniser cut them (Moses): runs of letters/digits (with inner apostrophes, hyphens,
#: dots and commas between digits), or one other non-space character
WORD = re.compile(r"\d+(?:[.,]\d+)*|\w+(?:['’-]\w+)*|[^\w\s]", re.UNICODE)


def available() -> bool:
    """Whether the packaged QE model and its dependencies are installed (torch, transformers, the Gemma wheel)."""
    import importlib.util

    from ..lm import _QE_PACKAGE

    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", _QE_PACKAGE))


def words_of(text: str) -> list[tuple[int, int]]:
    """Character spans of the words of ``text`` (see :data:`WORD`)."""
    return [m.span() for m in WORD.finditer(text)]


class QualityEstimator:
    """Source-aware QE: ``estimate(sources, translations, languages)``.

    ``reader``: a :class:`SourceReader` (or its model name/path; ``None``: the packaged Gemma 3 270M).
    ``sentence``/``words``: the heads (``None``: the packaged ones, fitted for that model; ``False`` for no word
    head). ``transfer``: the sentence head for source languages ``sentence`` was not fitted on (``None``: the
    packaged one when ``sentence`` is the packaged one; ``False``: ``sentence`` reads every language).
    ``detector_scale``: the detectors' share of the score (from the sentence head's card). Each head's card
    holds its ``p_fix`` calibration, ``p_fix = sigmoid((bias - z) / scale)``, fitted on held-out MLQE-PE train rows
    (the post-editor changed at least a fifth of the words, HTER >= 0.2; for the transfer head, each pair's rows
    predicted by a head fitted on the other two).
    """

    def __init__(
        self,
        reader: Union[None, str, SourceReader] = None,
        device: str = "auto",
        dtype: str = "auto",
        sentence: Optional[LinearHead] = None,
        words: Union[None, bool, LinearHead] = None,
        transfer: Union[None, bool, LinearHead] = None,
    ):
        self.reader = reader if isinstance(reader, SourceReader) else SourceReader(reader, device, dtype)
        self.sentence = sentence if sentence is not None else packaged("qe_sentence.npz")
        #: the head for source languages the sentence head was not fitted on (its settings chosen for them: each
        #: MLQE-PE pair scored by a head fitted on the other two); None: the sentence head reads every language
        if transfer is None:
            transfer = packaged("qe_transfer.npz", missing_ok=True) if sentence is None else None
        self.transfer = transfer or None
        self.words = (packaged("qe_words.npz", missing_ok=True) if words is None else words) or None
        #: how much the detectors' evidence adds to the QE logit (``Weights.with_qe``): chosen on held-out
        #: MLQE-PE train rows by scripts/fit_qe_scale.py (0.1; 1.0 there: mean Pearson 0.574 against 0.675)
        self.detector_scale = float(self.sentence.card.get("detector_scale", {}).get("scale", 1.0))

    def head_for(self, language: Optional[str]) -> LinearHead:
        """The sentence head for translations from ``language``: the one fitted on it, else the transfer head."""
        if self.transfer is None or language_name(language) in self.sentence.card.get("languages", ()):
            return self.sentence
        return self.transfer

    @staticmethod
    def _p_fix(head: LinearHead, z: float) -> float:
        cal = head.card.get("p_fix", {})
        return 1.0 / (1.0 + math.exp(-(float(cal.get("bias", 0.0)) - z) / float(cal.get("scale", 1.0))))

    @property
    def name(self) -> str:
        return self.reader.name

    def knows(self, language: Optional[str]) -> bool:
        """Whether the prompt can name ``language`` (an ISO 639-1 code or an English name)."""
        return language_name(language) is not None

    def estimate(self, sources: Sequence[str], translations: Sequence[str], languages: Sequence[str]) -> list[QEResult]:
        """One result per pair (every source non-empty, every language known: callers check with
        :meth:`knows` and fall back to the source-free score otherwise)."""
        readings = self.reader.read(sources, translations, languages, alone=True, token_hidden=self.words is not None)
        out = []
        for mt, lang, r in zip(translations, languages, readings):
            agg = aggregates(r.surprisal, r.entropy, r.rank, r.surprisal_alone, r.source_tokens)
            head = self.head_for(lang)
            z = float(head.predict(np.concatenate([agg, r.pooled])[None])[0]) + head.offset(language_name(lang))
            p_fix = self._p_fix(head, z)
            found = self._word_findings(mt, r) if self.words is not None else []
            s = r.surprisal[:-1]
            out.append(
                QEResult(
                    z=z,
                    p_fix=p_fix,
                    lm_total=float(s.sum()),
                    lm_mean=float(s.mean()) if len(s) else 0.0,
                    pmi_mean=float((r.surprisal_alone[:-1] - s).mean()) if len(s) else 0.0,
                    source_lang=language_name(lang) or "",
                    model=self.name,
                    findings=found,
                )
            )
        return out

    def _word_findings(self, text: str, r) -> list[Finding]:
        spans = words_of(text)
        if not spans or r.n_tokens <= 1:
            return []
        groups = word_tokens(r.offsets[:-1], spans)
        x = word_features(groups, r.surprisal, r.entropy, r.rank, r.surprisal_alone, r.token_hidden)
        p = self.words.predict(x)
        bad = p >= self.words.threshold
        found, k = [], 0
        while k < len(spans):  # runs of BAD words (punctuation between them joins the run) become one finding
            if not bad[k]:
                k += 1
                continue
            j = k
            while j + 1 < len(spans) and bad[j + 1]:
                j += 1
            a, b = spans[k][0], spans[j][1]
            pk = float(p[k : j + 1].max())
            if any(ch.isalnum() for ch in text[a:b]):
                why = f"not supported by the source here (p={pk:.2f})"
                found.append(Finding("adequacy", "unsupported", a, b, round(pk, 4), why))
            k = j + 1
        return found
