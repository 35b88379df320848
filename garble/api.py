"""The library entry point: :class:`Scorer`."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Iterable, Iterator, Optional, Sequence, Union

from .detectors import Detector, all_detectors, run_detectors
from .document import Document
from .errors import UsageError
from .scorer import Weights, unit_features
from .segment import UnitMode, segment
from .types import DocumentResult, LMFeatures, Unit, UnitResult, assign_ranks


class Scorer:
    """Scores the units of documents for review.

    ``model``: ``None`` for the default LM (SmolLM2-135M-Instruct), a Hugging
    Face name or path, a ``.gguf`` file, an already built
    :class:`garble.lm.LanguageModel`, or ``False`` to run the detectors alone
    (torch is then never imported). The model loads once, here.
    ``detectors``: detector instances (default: every registered detector).
    ``weights``: a :class:`garble.scorer.Weights` or a path to a weights JSON.
    ``context``: also score each unit after the previous one (one more LM
    pass; gives the ``lm_ctx_gain`` feature).

    A Scorer holds no per-call state: ``score_document`` may be called from
    several threads at once (torch runs one forward at a time per call).
    """

    def __init__(
        self,
        model: Union[None, bool, str, "object"] = None,
        device: str = "auto",
        *,
        detectors: Optional[Sequence[Detector]] = None,
        weights: Union[None, str, Path, Weights] = None,
        unit: UnitMode = "sentence",
        context: bool = True,
        dtype: str = "auto",
        max_tokens: int = 256,
        batch_tokens: int = 8192,
    ):
        if model is True:
            model = None
        if model is False:
            self.lm = None
        elif model is None or isinstance(model, (str, Path)):
            from .lm import LanguageModel

            self.lm = LanguageModel(None if model is None else str(model), device=device, dtype=dtype, max_tokens=max_tokens, batch_tokens=batch_tokens)
        else:
            self.lm = model  # a LanguageModel-like object with .score(texts, contexts)
        self.detectors = list(detectors) if detectors is not None else all_detectors()
        self.weights = weights if isinstance(weights, Weights) else Weights.load(weights)
        if unit not in ("sentence", "line", "paragraph"):
            raise UsageError(f"unknown unit {unit!r}: expected sentence, line or paragraph")
        self.unit = unit
        self.context = context

    # -- public API -------------------------------------------------------
    def score_document(self, text: str, doc_id: str = "") -> DocumentResult:
        """Segment ``text`` and score every unit; offsets are into ``text``."""
        return self._score(text, segment(text, self.unit), doc_id)

    def score_units(self, units: Sequence[str], doc_id: str = "") -> DocumentResult:
        """Score given units (already segmented) as one document.

        The result's ``text`` is the units joined by newlines, and unit and
        finding offsets are into it; ``result.units[i].text == units[i]``
        (surrounding whitespace is kept as given).
        """
        spans: list[Unit] = []
        pos = 0
        for i, u in enumerate(units):
            if not isinstance(u, str):
                raise UsageError(f"unit {i} is {type(u).__name__}, not str")
            spans.append(Unit(index=i, start=pos, end=pos + len(u), text=u, paragraph=i))
            pos += len(u) + 1
        return self._score("\n".join(units), spans, doc_id)

    def score_documents(self, texts: Iterable[str]) -> Iterator[DocumentResult]:
        """Score many documents, one result each, in order."""
        for i, text in enumerate(texts):
            yield self.score_document(text, doc_id=str(i))

    # -- internals --------------------------------------------------------
    def _score(self, text: str, units: list[Unit], doc_id: str) -> DocumentResult:
        doc = Document(text, units)
        findings = run_detectors(self.detectors, doc)
        lm_feats = self._lm_features(units) if self.lm is not None else [None] * len(units)
        by_unit: list[list] = [[] for _ in units]
        for f in findings:
            u = doc.unit_at(f.start if f.end == f.start else f.start)
            if u is None:  # a junction finding between units: give it to the next unit
                u = doc.unit_at(f.end) or (units[-1] if units else None)
            if u is not None:
                by_unit[u.index].append(f)
        results = []
        for u, fs, lm in zip(units, by_unit, lm_feats):
            x = unit_features(u.text, fs, lm)
            results.append(UnitResult(unit=u, score=self.weights.score(x), findings=fs, lm=lm))
        assign_ranks(results)
        return DocumentResult(text=text, units=results, doc_id=doc_id)

    def _lm_features(self, units: list[Unit]) -> list[Optional[LMFeatures]]:
        if not units:
            return []
        texts = [u.text for u in units]
        alone = self.lm.score(texts)
        ctx = None
        if self.context:
            contexts = [None] + texts[:-1]
            ctx = self.lm.score(texts, contexts)
        means = [statistics.fmean(s.surprisals) if s.n_tokens else 0.0 for s in alone]
        med = statistics.median(means)
        out: list[Optional[LMFeatures]] = []
        for i, (u, s) in enumerate(zip(units, alone)):
            if not s.n_tokens:
                out.append(LMFeatures(0.0, 0.0, (u.start, u.start), 0, 0.0, None, s.truncated))
                continue
            j = max(range(s.n_tokens), key=s.surprisals.__getitem__)
            a, b = s.offsets[j]
            while a < b and u.text[a].isspace():
                a += 1
            c = None
            if ctx is not None and ctx[i].n_tokens:
                c = statistics.fmean(ctx[i].surprisals)
            out.append(
                LMFeatures(
                    mean_surprisal=means[i],
                    max_surprisal=s.surprisals[j],
                    max_span=(u.start + a, u.start + b),
                    n_tokens=s.n_tokens,
                    rel_median=means[i] - med,
                    context_mean_surprisal=c,
                    truncated=s.truncated,
                )
            )
        return out
