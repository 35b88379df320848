"""Scoring whole documents for ``rank`` and ``report``: one file is one document; a progress bar on a terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from ..lm import LM, reads_streams
from ..types import DocumentResult
from .options import ScorerOptions


def warn(msg: str) -> None:
    """``garble: warning: MSG`` on standard error."""
    sys.stderr.write(f"garble: warning: {msg}\n")


def score_files(
    inputs: Sequence[Path], opts: ScorerOptions, *, quiet: bool = False, what: str = "rank"
) -> list[DocumentResult]:
    """Read each input as one document and score it.

    Feedback on standard error unless ``quiet``: the model's status line while
    it loads, and a progress bar over units (a terminal only, with the LM, when
    there are more units than the terminal has lines). The LM reads a document
    in batches of up to 8,192 tokens, so within a document the bar moves a
    batch at a time.
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
    bar = None
    counts: list[int] = []
    if not quiet and scorer.lm is not None and feedback.isatty(sys.stderr):
        from ..segment import segment

        counts = [len(segment(text, opts.unit)) for _, text in docs_text]
        if sum(counts) > feedback.screen_lines():
            bar = feedback.bar(sum(counts), desc=f"garble {what}", unit="unit")
    if bar is None:
        results = [scorer.score_document(text, doc_id=name) for name, text in docs_text]
        feedback.clear()
        return results
    ticker = _LMTicker(scorer.lm, bar)
    results = []
    try:
        done = 0
        for (name, text), n in zip(docs_text, counts):
            # a one-pass LM reads each token once (plus the windows' overlap); a score()-only LM about
            # twice with context
            one_pass = reads_streams(scorer.lm)
            ticker.start(done, n, tokens=max(1, len(text) // 4) * (1 if one_pass or not opts.context else 2))
            results.append(scorer.score_document(text, doc_id=name))
            done += n
            bar.update(done - bar.n)
    finally:
        ticker.remove()
        bar.close()
        feedback.clear()
    return results


class _LMTicker:
    """Moves a progress bar over the units of the document in hand by the tokens its LM passes read.

    A forward hook on the model's decoder (every scoring path runs it once per
    batch) counts the real tokens of each batch done; the bar shows that share of an
    estimate of the document's tokens (about 4 characters a token), never
    past the document's last unit. When the document is done the bar is set
    to the exact count, so a wrong estimate only makes it move unevenly.
    """

    def __init__(self, lm: LM, bar):
        self.bar, self.handle = bar, None
        self.base = self.n = self.seen = 0
        self.tokens = 1
        model = getattr(lm, "model", None)
        get_decoder = getattr(model, "get_decoder", None)
        try:
            module = get_decoder() if callable(get_decoder) else model
            if module is not None and hasattr(module, "register_forward_pre_hook"):
                self.handle = module.register_forward_hook(self._tick, with_kwargs=True)
        except Exception:
            self.handle = None

    def start(self, base: int, n: int, tokens: int) -> None:
        self.base, self.n, self.tokens, self.seen = base, n, tokens, 0

    def _tick(self, module, args, kwargs, output=None) -> None:
        try:
            mask = kwargs.get("attention_mask") if kwargs else None
            ids = kwargs.get("input_ids") if kwargs else None
            if ids is None and args:
                ids = args[0]
            self.seen += int(mask.sum()) if mask is not None else int(ids.numel()) if ids is not None else 0
            target = self.base + min(self.n, self.n * self.seen // self.tokens)
            if target > self.bar.n:
                self.bar.update(target - self.bar.n)
        except Exception:  # pragma: no cover - feedback never stops a run
            pass

    def remove(self) -> None:
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
