"""Scoring whole documents for ``rank`` and ``report``: one file is one document; progress on standard error."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Sequence

from ..types import DocumentResult
from .options import ScorerOptions

#: a document this long is announced with lasting lines on standard error (a start, the language model's progress,
#: an end), in a pipe too: with the LM about 8,000 tokens (one batch, seconds to minutes on a CPU), without it
#: several seconds of segmentation and checks
LONG_CHARS = 30_000
LONG_CHARS_NO_LM = 300_000


def warn(msg: str) -> None:
    """``garble: warning: MSG`` on standard error."""
    sys.stderr.write(f"garble: warning: {msg}\n")


def score_files(
    inputs: Sequence[Path], opts: ScorerOptions, *, quiet: bool = False, what: str = "rank"
) -> list[DocumentResult]:
    """Read each input as one document and score it.

    Feedback on standard error unless ``quiet`` (:mod:`garble.feedback`): the
    model's status line while it loads; on a terminal, a line with the
    language model's progress through each document (tokens read of all, rate,
    time left), rewritten every few seconds. A long document
    (:data:`LONG_CHARS` characters, :data:`LONG_CHARS_NO_LM` without the
    LM) also gets lasting lines, in a pipe as on a terminal: when its scoring
    starts, when the LM starts reading it (and every minute in a pipe), and
    when each is done. Standard output holds only the results.
    """
    from .. import feedback
    from ..io import read_document

    feedback.setup(quiet)
    docs_text = []
    for path in inputs:
        text, warnings = read_document(path)
        for w in warnings:
            warn(w)
        if not text.strip():
            warn(f"{path}: empty document (no units)")
        docs_text.append((str(path), text))
    scorer = opts.build()
    lm = scorer.lm
    results = []
    for k, (name, text) in enumerate(docs_text):
        label = "standard input" if name == "-" else name
        label = label if len(docs_text) == 1 else f"{label} ({k + 1} of {len(docs_text)})"
        long = len(text) >= (LONG_CHARS if lm is not None else LONG_CHARS_NO_LM)
        t0 = time.monotonic()
        if long:
            feedback.status(f"{label}: scoring {len(text):,} characters")
        watch = hasattr(lm, "progress") and feedback.showing()
        if watch:
            lm.progress = feedback.Progress(label, lasting=long)
        try:
            results.append(scorer.score_document(text, doc_id=name))
        finally:
            if watch:
                lm.progress = None
        if long:
            feedback.status(f"{label}: scored in {feedback.duration(time.monotonic() - t0)}")
    feedback.clear()
    return results
