"""Measure detection quality on human-annotated MT errors (``garble eval``).

Input: an annotated TSV like ``mqm_ted_zhen.tsv``. Each ``(system, doc)`` is
rebuilt in ``seg`` order and scored as ONE document with
:meth:`garble.Scorer.score_units`, so document-level detectors (name
consistency, repetition across units) see the whole talk. The metrics of
each score column (ROC-AUC, length-controlled AUC, pairwise accuracy,
precision@5 per document, recall per error category) are defined in
:mod:`garble.eval.metrics`.

Modules:

* :mod:`~garble.eval.data`: the annotated and clean-English TSVs, the spans
  file, documents, the talk split, the scored segments (:func:`load_segments`);
* :mod:`~garble.eval.cache`: the LM cache (:class:`CachedLM`) and the feature caches;
* :mod:`~garble.eval.metrics`: the metrics, pure functions;
* :mod:`~garble.eval.tables`: score columns and the tables built from them;
* :mod:`~garble.eval.synthetic`: synthetic errors and their detection rates;
* :mod:`~garble.eval.source`: the source-aware detectors on references, synthetic source-aware
  corruptions and MT output (``--with-source``, ``scripts/eval_source.py``);
* :mod:`~garble.eval.report`: the whole evaluation and its text report;
* :mod:`~garble.eval.pairs`: ``garble eval pairs`` (minimal pairs);
* :mod:`~garble.eval.false_alarms`: ``garble eval false-alarms`` (detectors on clean text and MT rows).
"""

from .cache import CachedLM, make_cached_lm
from .data import load_segments, read_annotated, read_clean, split_of
from .false_alarms import false_alarms, format_false_alarms
from .pairs import evaluate_pairs, format_pairs_report
from .report import format_report, run_evaluation

__all__ = [
    "CachedLM",
    "evaluate_pairs",
    "false_alarms",
    "format_false_alarms",
    "format_pairs_report",
    "format_report",
    "load_segments",
    "make_cached_lm",
    "read_annotated",
    "read_clean",
    "run_evaluation",
    "split_of",
]
