"""The library entry point: :class:`Scorer`."""

from __future__ import annotations

import copy
import dataclasses
import math
import statistics
import threading
import unicodedata
import warnings
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

from .detectors import Detector, all_detectors, run_detectors
from .document import Document, NFCMap
from .errors import GarbleError, GarbleWarning, UsageError
from .lexicon import unigram_surprisal
from .lm import LM, is_lm, reads_streams, score_in_context
from .readings import unit_readings
from .scorer import Weights, unit_features
from .segment import MAX_BLOCK_CHARS, UnitMode, default_max_chars, segment
from .types import DocumentResult, Finding, LMFeatures, Unit, UnitResult, assign_ranks

#: the name of the findings the pipeline itself adds (not a detector: it cannot be
#: selected or excluded); kinds ``split`` and ``truncated``
LIMITS = "limits"
#: the weight of a ``limits`` finding: enough to show, too little to rank a unit high
LIMITS_WEIGHT = 0.1
#: the name of the error model's findings (:mod:`garble.tagger`): spans whose tokens it
#: thinks lie inside a translation error; their evidence reaches the score through the
#: ``err_*`` features, not as a detector
TAGGER = "tagger"

_UNITS = ("sentence", "line", "paragraph")


def _check_text(text: object, what: str = "text") -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray)):
        raise UsageError(f"{what} is {type(text).__name__}, not str: decode it first (garble.io.decode)")
    raise UsageError(f"{what} is {type(text).__name__}, not str")


class _QESlot:
    """The QE model of one :class:`Scorer`, loaded on first use and shared with the Scorer's shallow copies (the
    corpus driver and :meth:`Scorer.score_segments` work through copies: each loading its own would read the
    model once per chunk). ``spec`` as the Scorer's ``qe`` argument; ``qe`` an estimator given ready-made."""

    def __init__(self, spec: Any, qe: Any = None):
        self.spec, self.qe = spec, qe
        self.lock = threading.Lock()

    def __getstate__(self) -> dict:  # picklable for process workers and Ray: the lock is made anew
        return {"spec": self.spec, "qe": self.qe}

    def __setstate__(self, state: dict) -> None:
        self.spec, self.qe = state["spec"], state["qe"]
        self.lock = threading.Lock()

    def get(self, device: str) -> Any:
        """The estimator, loaded now if need be; None when disabled or not installed (``qe=None``)."""
        if self.qe is not None or self.spec is False:
            return self.qe
        with self.lock:
            if self.qe is None and self.spec is not False:
                from .qe.estimator import QualityEstimator, available

                if self.spec is None and not available():
                    self.spec = False
                    return None
                self.qe = QualityEstimator(None if self.spec in (None, True) else str(self.spec), device=device)
        return self.qe


class Scorer:
    """Scores the units of documents for review.

    ``model``: ``None`` for the default LM (SmolLM2-135M-Instruct), a Hugging
    Face name or path, a ``.gguf`` file, an already built LM object (a
    :class:`garble.lm.LanguageModel`, or anything with its ``score``: the
    :class:`garble.lm.LM` protocol; one with ``score_stream`` is read in one
    pass), or ``False`` to run the detectors alone (torch is then never
    imported). The model loads once, here.
    ``detectors``: detector instances or names (default: every registered
    detector). ``weights``: a :class:`garble.scorer.Weights` or a path to a
    weights JSON. ``context``: the LM reads each unit after the text before it in
    the document (default), or each unit alone (``False``; an LM with only
    ``score()`` then skips its second, in-context pass).
    ``qe``: quality estimation with the source (:mod:`garble.qe`), for units given with sources: ``None``
    (default) uses the packaged Gemma 3 270M reader and heads when installed (loaded on the first call with
    sources), ``False`` never (also implied by ``model=False``), a model name or path for another reader, or a
    :class:`garble.qe.estimator.QualityEstimator`. With it a unit's score is the QE's probability that it needs
    a fix, to which the detectors' evidence adds; a unit without a usable source (empty, English, a language
    the model's prompt cannot name) gets the source-free score and one warning per call.
    ``max_unit_chars``: :meth:`score_document` splits longer units (default
    2,000 characters for sentences, 10,000 for lines and paragraphs);
    :meth:`score_units`, which keeps its units whole, checks only the first
    ``max(max_unit_chars, 10000)`` characters of a longer one. Either is
    reported on the unit as a finding of ``limits`` (weight 0.1), and so is a
    unit the LM truncated at ``max_tokens``.

    Text is scored in Unicode NFC (a decomposed "José" gets the findings of a
    composed one); every offset is into the text as given.

    Errors are typed: a bad argument (wrong type, unknown unit or detector,
    unreadable or malformed weights) is a :class:`~garble.errors.UsageError`,
    a model that cannot be loaded a :class:`~garble.errors.ModelError`.

    A Scorer holds no per-call state: ``score_document`` may be called from
    several threads at once (the LM serialises its tokenizer and forward pass).
    """

    def __init__(
        self,
        model: Union[None, bool, str, Path, LM] = None,
        device: str = "auto",
        *,
        detectors: Optional[Sequence[Union[Detector, str]]] = None,
        weights: Union[None, str, Path, Weights] = None,
        unit: UnitMode = "sentence",
        context: bool = True,
        dtype: str = "auto",
        max_tokens: int = 256,
        batch_tokens: int = 8192,
        max_unit_chars: Optional[int] = None,
        qe: Union[None, bool, str, Any] = None,
    ):
        # arguments first: a bad one fails before a model loads
        if unit not in _UNITS:
            raise UsageError(f"unknown unit {unit!r}: expected sentence, line or paragraph")
        if max_unit_chars is not None and (
            not isinstance(max_unit_chars, int) or isinstance(max_unit_chars, bool) or max_unit_chars < 1
        ):
            raise UsageError(f"max_unit_chars must be a positive integer, not {max_unit_chars!r}")
        for name, v in (("max_tokens", max_tokens), ("batch_tokens", batch_tokens)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise UsageError(f"{name} must be a positive integer, not {v!r}")
        self.unit = unit
        self.context = context
        self.max_unit_chars = max_unit_chars if max_unit_chars is not None else default_max_chars(unit)
        self.detectors = _detectors(detectors)
        self.weights = _weights(weights)
        if model is True:
            model = None
        ready = qe if qe not in (None, False, True) and not isinstance(qe, (str, Path)) else None
        self._qe_slot = _QESlot(False if model is False else qe, ready)
        self.lm: Optional[LM]
        if model is False:
            self.lm = None
        elif model is None or isinstance(model, (str, Path)):
            from .lm import LanguageModel

            self.lm = LanguageModel(
                None if model is None else str(model),
                device=device,
                dtype=dtype,
                max_tokens=max_tokens,
                batch_tokens=batch_tokens,
            )
        elif is_lm(model):
            self.lm = model
        else:
            raise UsageError(
                f"model is {type(model).__name__}: expected None, False, a model name or path, or a LanguageModel"
            )

    # -- public API -------------------------------------------------------
    def score_document(self, text: str, doc_id: str = "") -> DocumentResult:
        """Segment ``text`` and score every unit; offsets are into ``text``."""
        text = _check_text(text)
        if not text.isascii() and not unicodedata.is_normalized("NFC", text):
            m = NFCMap(text)
            if m.changed:
                units = segment(m.text, self.unit, self.max_unit_chars)
                if not any(m.inside_chunk(u.start) or m.inside_chunk(u.end) for u in units):
                    return _restore(self._score(m.text, units, doc_id), m)
        return self._score(text, segment(text, self.unit, self.max_unit_chars), doc_id)

    def score_units(
        self,
        units: Sequence[str],
        doc_id: str = "",
        *,
        sources: Optional[Sequence[Optional[str]]] = None,
        source_lang: Optional[str] = None,
    ) -> DocumentResult:
        """Score given units (already segmented) as one document.

        The result's ``text`` is the units joined by newlines, and unit and
        finding offsets are into it; ``result.units[i].text == units[i]``
        (surrounding whitespace is kept as given).

        ``sources``: the source text of each unit (same length as ``units``;
        ``None`` or ``""`` for a unit without one). With them the source-aware
        detectors run (omissions and additions by length, numbers, names,
        untranslated text, placeholders); their findings carry
        ``source_span``, offsets into the unit's source. ``source_lang``: the
        source language (ISO 639-1) when known; else it is identified.
        Units are one document: document-level findings (a unit repeated
        verbatim, the length distribution) compare them with each other; for
        unrelated segments use :meth:`score_segments`.
        """
        units = _str_list(units, "units", "unit", " (or use score_document)")
        spans: list[Unit] = []
        pos = 0
        for i, u in enumerate(units):
            spans.append(Unit(index=i, start=pos, end=pos + len(u), text=u, paragraph=i))
            pos += len(u) + 1
        srcs = _check_sources(sources, len(units))
        text = "\n".join(units)
        if not text.isascii() and not unicodedata.is_normalized("NFC", text):
            m = NFCMap(text)
            if m.changed and not any(
                m.inside_chunk(u.start, original=True) or m.inside_chunk(u.end, original=True) for u in spans
            ):
                nspans = []
                for u in spans:
                    a, b = m.to_nfc(u.start), m.to_nfc(u.end, "end")
                    nspans.append(Unit(index=u.index, start=a, end=b, text=m.text[a:b], paragraph=u.paragraph))
                return _restore(self._score(m.text, nspans, doc_id, srcs, source_lang), m, spans)
        return self._score(text, spans, doc_id, srcs, source_lang)

    def score_segments(
        self,
        texts: Sequence[str],
        sources: Optional[Sequence[Optional[str]]] = None,
        *,
        source_lang: Optional[str] = None,
    ) -> list[UnitResult]:
        """Score independent segments (a QA batch, several systems' outputs of one source).

        Unlike :meth:`score_units`, each segment is scored as its own
        one-unit document: nothing compares segments with each other (no
        "unit repeated verbatim", no document median). Returns one
        :class:`~garble.types.UnitResult` per segment, in order; its
        ``unit.index`` is the segment's position, offsets are into the
        segment's own text, and ``rank`` orders the whole batch (1 = most in
        need of review). ``sources`` as for :meth:`score_units`.
        """
        texts = _str_list(texts, "texts", "segment")
        srcs = _check_sources(sources, len(texts))
        if srcs is not None and source_lang is None:  # one language for the batch, identified once
            from .langid import identify

            source_lang = identify(" ".join(s for s in srcs if s)[:4000])
        scorer = self
        qes: list[Any] = [None] * len(texts)
        if srcs is not None and any(srcs) and self._estimator() is not None:  # QE reads the batch at once, warns once
            qes = self._qe_results(texts, srcs, source_lang)
            scorer = copy.copy(self)
            scorer._qe_prefetched = {(srcs[i], t): q for i, (t, q) in enumerate(zip(texts, qes)) if q is not None}
            if not scorer._qe_prefetched:  # nothing usable: the segments get source-free scores, no more warnings
                scorer._qe_slot = _QESlot(False)
        if texts and reads_streams(self.lm):
            # one batched LM call for the segments QE does not score: each its own stream, as score_units([t]) reads it
            from .readings import PrefetchedStreams

            uniq = list(dict.fromkeys(t for t, q in zip(texts, qes) if q is None))
            scorer = copy.copy(self) if scorer is self else scorer
            scorer.lm = PrefetchedStreams(self.lm, dict(zip(uniq, self.lm.score_stream(uniq))) if uniq else {})
        out: list[UnitResult] = []
        for i, t in enumerate(texts):
            ur = scorer.score_units(
                [t], doc_id=str(i), sources=None if srcs is None else [srcs[i]], source_lang=source_lang
            ).units[0]
            ur.unit = dataclasses.replace(ur.unit, index=i, paragraph=i)
            out.append(ur)
        assign_ranks(out)
        return out

    def score_documents(self, texts: Iterable[str]) -> Iterator[DocumentResult]:
        """Score many documents, one result each, in order."""
        for i, text in enumerate(texts):
            yield self.score_document(text, doc_id=str(i))

    # -- internals --------------------------------------------------------
    def _score(
        self,
        text: str,
        units: list[Unit],
        doc_id: str,
        sources: Optional[list[Optional[str]]] = None,
        source_lang: Optional[str] = None,
    ) -> DocumentResult:
        doc = Document(text, units, sources=sources, source_lang=source_lang)
        # units too long to check whole (only score_units can give them): the
        # detectors and the LM see their first `limit` characters
        limit = max(self.max_unit_chars, MAX_BLOCK_CHARS)
        heads = [u if len(u.text) <= limit else _head(u, limit) for u in units]
        if all(h is u for h, u in zip(heads, units)) and all(not u.text.isspace() and u.text for u in units):
            checked = doc
        else:  # detectors get units with text in them (score_units may give blank ones), indexed 0..n-1
            kept = [h for h in heads if h.text.strip()]
            checked = Document(
                text,
                [dataclasses.replace(h, index=k) for k, h in enumerate(kept)],
                sources=None if sources is None else [sources[h.index] for h in kept],
                source_lang=source_lang,
            )
        findings = run_detectors(self.detectors, checked)
        qes = self._qe_results([u.text for u in units], sources, source_lang)
        if self.lm is None or all(q is not None for q in qes):  # a QE-scored unit's score does not read the LM
            lm_feats, lm_stops = [None] * len(units), [None] * len(units)
        elif reads_streams(self.lm):
            lm_feats, tagged = self._stream_features(text, heads)
            lm_stops = [None] * len(units)
            findings = list(findings) + tagged
        else:
            lm_feats, lm_stops = self._lm_features(heads)
        by_unit: list[list] = [[] for _ in units]
        for f in findings:
            u = doc.unit_at(f.start)
            if u is None:  # a junction finding between units: give it to the next unit
                u = doc.unit_at(f.end) or (units[-1] if units else None)
            if u is not None:
                by_unit[u.index].append(f)
        for u, h, stop, fs in zip(units, heads, lm_stops, by_unit):
            fs.extend(self._limit_findings(u, h, stop))
        scale = float(getattr(self._qe_slot.qe, "detector_scale", 1.0)) if any(q is not None for q in qes) else 1.0
        results = []
        for u, fs, lm, q in zip(units, by_unit, lm_feats, qes):
            if q is not None:
                fs.extend(dataclasses.replace(f, start=u.start + f.start, end=u.start + f.end) for f in q.findings)
                score = self.weights.with_qe(q.p_fix, unit_features(u.text, fs, None), scale)
            else:
                score = self.weights.score(unit_features(u.text, fs, lm))
            results.append(UnitResult(unit=u, score=score, findings=fs, lm=lm, qe=q))
        assign_ranks(results)
        return DocumentResult(text=text, units=results, doc_id=doc_id)

    # -- quality estimation with the source ----------------------------------
    @property
    def _qe_spec(self) -> Any:
        """The ``qe`` argument as it stands (False once QE turned out to be disabled or not installed)."""
        return self._qe_slot.spec

    def _estimator(self) -> Any:
        """The QE model, loaded on first use; None when disabled or not installed (``qe=None``)."""
        return self._qe_slot.get(getattr(self.lm, "device", "auto"))

    def _qe_plan(
        self, texts: Sequence[str], sources: Optional[Sequence[Optional[str]]], source_lang: Optional[str]
    ) -> Optional[tuple[list[bool], Optional[str], Optional[str]]]:
        """None when QE does not apply (no source given, no QE model); else which units get a QE estimate (the
        model is loaded if need be), the source language (identified when not given), and why none do (None when
        the language is usable). Warns of nothing."""
        qe = self._estimator() if sources and any(sources) else None
        if qe is None:
            return None
        none = [False] * len(texts)
        if source_lang is None:
            from .langid import identify

            source_lang = identify(" ".join(s for s in sources if s)[:4000])
        if source_lang is None or not qe.knows(source_lang):
            return none, source_lang, f"source language {source_lang or 'unknown'} is not one the QE prompt can name"
        if source_lang.split("-")[0].lower() == "en":
            return none, source_lang, "the source is English, the translation's own language"
        return [bool(s and s.strip() and t.strip()) for s, t in zip(sources, texts)], source_lang, None

    def _qe_results(
        self, texts: list[str], sources: Optional[list[Optional[str]]], source_lang: Optional[str]
    ) -> list[Any]:
        """A :class:`QEResult` per unit with a usable source, else None (one warning per call for the rest)."""
        out: list[Any] = [None] * len(texts)
        plan = self._qe_plan(texts, sources, source_lang)
        if plan is None:
            return out
        covered, source_lang, why = plan
        if why is not None:
            warnings.warn(f"quality estimation skipped: {why}; source-free scores", GarbleWarning, stacklevel=3)
            return out
        todo = [i for i, c in enumerate(covered) if c]
        if len(todo) < sum(1 for s in sources if s is not None):
            warnings.warn(
                f"{sum(1 for s in sources if s is not None) - len(todo)} unit(s) with an empty source or text: "
                "source-free scores for them",
                GarbleWarning,
                stacklevel=3,
            )
        pre = getattr(self, "_qe_prefetched", None)
        need = [i for i in todo if pre is None or (sources[i], texts[i]) not in pre]
        if need:
            got = self._estimator().estimate(
                [sources[i] for i in need], [texts[i] for i in need], [source_lang] * len(need)
            )
            for i, q in zip(need, got):
                out[i] = q
        for i in todo:
            if out[i] is None:
                out[i] = pre[(sources[i], texts[i])]
        return out

    def _limit_findings(self, u: Unit, head: Unit, lm_stop: Optional[int]) -> list[Finding]:
        """``limits`` findings of unit ``u``: split at the length limit, checked or LM-scored only in part."""
        out = []
        if u.cut_start:
            a, b = _first_word(u)
            out.append(
                Finding(
                    LIMITS,
                    "split",
                    a,
                    b,
                    LIMITS_WEIGHT,
                    f"starts mid-text: cut from the unit before at the {self.max_unit_chars:,}-character limit "
                    "(no sentence end)",
                )
            )
        if u.cut_end:
            a, b = _last_word(u)
            out.append(
                Finding(
                    LIMITS,
                    "split",
                    a,
                    b,
                    LIMITS_WEIGHT,
                    f"cut here at the {self.max_unit_chars:,}-character limit (no sentence end); "
                    "continues in the next unit",
                )
            )
        if head.end < u.end:
            out.append(
                Finding(
                    LIMITS,
                    "truncated",
                    head.end,
                    u.end,
                    LIMITS_WEIGHT,
                    f"only the first {len(head.text):,} of {len(u.text):,} characters were checked (unit length limit)",
                )
            )
        elif lm_stop is not None and lm_stop < u.end:
            n = getattr(self.lm, "max_tokens", None)
            out.append(
                Finding(
                    LIMITS,
                    "truncated",
                    lm_stop,
                    u.end,
                    LIMITS_WEIGHT,
                    f"the language model scored only the first {n} tokens; not from here"
                    if n
                    else "the language model did not score the rest of the unit",
                )
            )
        return out

    def _stream_features(self, text: str, units: list[Unit]) -> tuple[list[Optional[LMFeatures]], list[Finding]]:
        """LM features of each unit from one pass over the document (each unit alone without ``context``),
        and the error model's findings (:data:`TAGGER`)."""
        if not units:
            return [], []
        if self.context:
            stream = self.lm.score_stream([text[: units[-1].end]])[0]
            readings = unit_readings(stream, [(u.start, u.end) for u in units])
            pairs = [(stream, 0)] * len(units)
        else:
            streams = self.lm.score_stream([u.text for u in units])
            readings = [unit_readings(st, [(0, len(u.text))])[0] for st, u in zip(streams, units)]
            pairs = [(st, u.start) for st, u in zip(streams, units)]
        means = [r.mean_surprisal for r in readings if r is not None]
        med = statistics.median(means) if means else 0.0
        tagger = getattr(self.lm, "tagger", None)
        threshold = float(tagger.card.get("finding_threshold", 0.5)) if tagger is not None else 1.0
        out: list[Optional[LMFeatures]] = []
        tagged: list[Finding] = []
        for u, r, (st, base) in zip(units, readings, pairs):
            if r is None:
                out.append(LMFeatures(0.0, 0.0, (u.start, u.start), 0, 0.0))
                continue
            a, b = st.offsets[r.max_index]
            a, b = _strip_span(text, base + a, base + b)
            n = r.n_tokens
            end_char = base + st.offsets[r.last - 1][1]
            out.append(
                LMFeatures(
                    mean_surprisal=r.mean_surprisal,
                    max_surprisal=r.max_surprisal,
                    max_span=(a, b),
                    n_tokens=n,
                    rel_median=r.mean_surprisal - med,
                    slor=r.mean_surprisal - unigram_surprisal(text[u.start : max(end_char, u.start)]) / n,
                    end_surprisal=r.end_surprisal,
                    mean_entropy=r.mean_entropy,
                    error_p_mean=r.p_mean,
                    error_p_max=r.p_max,
                    error_p_top=r.p_top,
                    error_p_sum=r.p_sum,
                )
            )
            if r.p_max is not None and r.p_max >= threshold:
                tagged.extend(_tagger_findings(text, st, base, r.first, r.last, threshold, u))
        return out, tagged

    def _lm_features(self, units: list[Unit]) -> tuple[list[Optional[LMFeatures]], list[Optional[int]]]:
        """LM features of each unit, and where the LM stopped in a truncated one (document offset).

        For LM objects with only ``score(texts, contexts)`` (e.g. :class:`garble.lm.backends.LlamaCppModel`):
        each unit alone and after the one before it."""
        if not units:
            return [], []
        texts = [u.text for u in units]
        ctx = None
        if self.context:
            alone, ctx = score_in_context(self.lm, texts)
        else:
            alone = self.lm.score(texts)
        means = [statistics.fmean(s.surprisals) if s.n_tokens else 0.0 for s in alone]
        med = statistics.median(means)
        out: list[Optional[LMFeatures]] = []
        stops: list[Optional[int]] = []
        for i, (u, s) in enumerate(zip(units, alone)):
            truncated = bool(getattr(s, "truncated", False))
            stop = None
            if truncated:
                stop = u.start + (s.offsets[-1][1] if s.n_tokens else 0)
                while stop < u.end and u.text[stop - u.start].isspace():
                    stop += 1
            stops.append(stop)
            if not s.n_tokens:
                out.append(LMFeatures(0.0, 0.0, (u.start, u.start), 0, 0.0, None, truncated))
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
                    truncated=truncated,
                    slor=means[i] - unigram_surprisal(u.text[: s.offsets[-1][1]]) / s.n_tokens,
                )
            )
        return out, stops


def _check_sources(sources: Optional[Sequence[Optional[str]]], n: int) -> Optional[list[Optional[str]]]:
    """``sources`` as a list of ``n`` strings or ``None`` (a usage error otherwise); ``None`` when absent or all
    empty."""
    if sources is None:
        return None
    sources = _str_list(sources, "sources", "source", ", one per unit", allow_none=True)
    if len(sources) != n:
        raise UsageError(
            f"{len(sources)} sources for {n} units: give one source per unit (None for a unit without one)"
        )
    if not any(sources):
        return None
    return [s or None for s in sources]


def _str_list(values, name: str, item: str, hint: str = "", allow_none: bool = False) -> list:
    """``values`` as a list of str (and ``None`` with ``allow_none``), or a :class:`UsageError` naming what is wrong
    (``name``, ``item`` i)."""
    if isinstance(values, (str, bytes, bytearray)):
        raise UsageError(f"{name} is {type(values).__name__}: pass a list of strings{hint}")
    try:
        values = list(values)
    except TypeError:
        raise UsageError(f"{name} is {type(values).__name__}, not a sequence of strings") from None
    for i, v in enumerate(values):
        if not isinstance(v, str) and not (allow_none and v is None):
            raise UsageError(f"{item} {i} is {type(v).__name__}, not str")
    return values


def _strip_span(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    return a, b


def _tagger_findings(
    text: str, stream, base: int, first: int, last: int, threshold: float, unit: Unit
) -> list[Finding]:
    """Runs of tokens whose error probability passes ``threshold``, widened to whole words, as findings."""
    p = stream.p_error
    out: list[Finding] = []
    i = first
    while i < last:
        if p[i] < threshold:
            i += 1
            continue
        j = i
        while j + 1 < last and p[j + 1] >= threshold:
            j += 1
        a, b = _strip_span(text, base + stream.offsets[i][0], base + stream.offsets[j][1])
        while a > unit.start and text[a - 1].isalnum():
            a -= 1
        while b < unit.end and text[b].isalnum():
            b += 1
        pm = float(max(p[i : j + 1]))
        if b > a:
            out.append(
                Finding(
                    TAGGER, "error_span", a, b, pm, f"error model: reads like a translation error here (p={pm:.2f})"
                )
            )
        i = j + 1
    return out


def _detectors(detectors: Optional[Sequence[Union[Detector, str]]]) -> list[Detector]:
    if detectors is None:
        return all_detectors()
    if isinstance(detectors, (str, bytes)):
        detectors = [d.strip() for d in str(detectors).split(",") if d.strip()]
    out: list[Detector] = []
    for d in detectors:
        if isinstance(d, str):
            try:
                out.extend(all_detectors(only=[d]))
            except ValueError as e:
                raise UsageError(str(e)) from None
        elif callable(getattr(d, "detect", None)) and isinstance(getattr(d, "name", None), str):
            out.append(d)
        else:
            raise UsageError(f"detector {d!r} is not a Detector (an object with a name and detect(doc))")
    return out


def _weights(weights: Union[None, str, Path, Weights]) -> Weights:
    if isinstance(weights, Weights):
        w = weights
    elif weights is None or isinstance(weights, (str, Path)):
        try:
            w = Weights.load(weights)
        except GarbleError as e:
            if e.path is None and weights is not None:
                raise UsageError(str(e), path=str(weights)) from None
            raise
        except Exception as e:  # a JSON of the wrong shape
            raise UsageError(
                f"malformed scorer weights: {type(e).__name__}: {e}", path=None if weights is None else str(weights)
            ) from None
    else:
        raise UsageError(f"weights is {type(weights).__name__}: expected a path or a garble.scorer.Weights")
    numbers = [
        w.bias,
        w.default_detector_weight,
        *w.detectors.values(),
        *(v for f in w.features.values() for v in f.values()),
    ]
    if w.no_lm_bias is not None:
        numbers.append(w.no_lm_bias)
    if not all(math.isfinite(x) for x in numbers):
        raise UsageError(
            "malformed scorer weights: every weight must be a finite number",
            path=None if weights is None or isinstance(weights, Weights) else str(weights),
        )
    return w


def _head(u: Unit, limit: int) -> Unit:
    """The first ``limit`` characters of ``u`` (back to a space when there is one in the last tenth)."""
    cut = limit
    k = u.text.rfind(" ", limit - limit // 10, limit)
    if k > 0:
        cut = k
    text = u.text[:cut].rstrip() or u.text[:limit]
    return dataclasses.replace(u, end=u.start + len(text), text=text)


def _first_word(u: Unit) -> tuple[int, int]:
    n = len(u.text.split(None, 1)[0]) if u.text.strip() else 0
    return u.start, u.start + max(1, min(n, 40))


def _last_word(u: Unit) -> tuple[int, int]:
    n = len(u.text.rsplit(None, 1)[-1]) if u.text.strip() else 0
    return u.end - max(1, min(n, 40)), u.end


def _restore(res: DocumentResult, m: NFCMap, units: Optional[Sequence[Unit]] = None) -> DocumentResult:
    """``res`` (scored on ``m.text``, the NFC form) with every offset into the original text."""
    orig = m.original

    def span(a: int, b: int) -> tuple[int, int]:
        if a == b:
            x = m.to_original(a)
            return x, x
        return m.to_original(a, "start"), m.to_original(b, "end")

    out: list[UnitResult] = []
    for i, ur in enumerate(res.units):
        nu = ur.unit
        if units is not None:
            u = units[i]
        else:
            s, e = span(nu.start, nu.end)
            u = Unit(
                index=nu.index,
                start=s,
                end=e,
                text=orig[s:e],
                paragraph=nu.paragraph,
                cut_start=nu.cut_start,
                cut_end=nu.cut_end,
            )
        fs = [dataclasses.replace(f, start=a, end=b) for f in ur.findings for a, b in [span(f.start, f.end)]]
        lm = ur.lm
        if lm is not None:
            lm = dataclasses.replace(lm, max_span=span(*lm.max_span))
        out.append(UnitResult(unit=u, score=ur.score, findings=fs, lm=lm, rank=ur.rank))
    return DocumentResult(text=orig, units=out, doc_id=res.doc_id)
