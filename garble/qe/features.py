"""Features of one read translation: sentence aggregates for the QE head, per-word rows for the word head.

Both are computed from plain arrays (a :class:`~garble.qe.reader.PairReading`'s, or the same arrays cached by
``scripts/qe_extract.py``), so training and scoring compute them with the same code.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

#: the sentence aggregates, in order (surprisal in nats; PMI = surprisal without the source minus with it)
AGGREGATES = (
    "log_tokens",
    "total",
    "mean",
    "max",
    "std",
    "p90",
    "entropy_mean",
    "excess_mean",
    "rank10_frac",
    "end",
    "alone_total",
    "alone_mean",
    "pmi_total",
    "pmi_mean",
    "pmi_min",
    "pmi_neg_frac",
    "log_source_tokens",
    "log_length_ratio",
)


def aggregates(
    surprisal: np.ndarray,
    entropy: np.ndarray,
    rank: np.ndarray,
    alone: Optional[np.ndarray],
    source_tokens: int,
) -> np.ndarray:
    """The :data:`AGGREGATES` of one translation; the arrays' last entry is the closing newline."""
    s, h, r = surprisal[:-1].astype(np.float64), entropy[:-1].astype(np.float64), rank[:-1]
    n = len(s)
    if n == 0:
        s = h = np.zeros(1)
        r = np.zeros(1, dtype=np.int64)
    a = alone[:-1].astype(np.float64) if alone is not None and len(alone) > 1 else s
    pmi = a - s
    return np.array(
        [
            np.log1p(n),
            s.sum(),
            s.mean(),
            s.max(),
            s.std(),
            np.percentile(s, 90),
            h.mean(),
            (s - h).mean(),
            (r >= 10).mean(),
            float(surprisal[-1]),
            a.sum(),
            a.mean(),
            pmi.sum(),
            pmi.mean(),
            pmi.min(),
            (pmi < 0).mean(),
            np.log1p(source_tokens),
            np.log1p(n) - np.log1p(source_tokens),
        ],
        dtype=np.float64,
    )


#: the per-word scalars, in order (a word's tokens: those whose span overlaps it)
WORD_SCALARS = (
    "s_max",
    "s_mean",
    "s_first",
    "pmi_min",
    "pmi_mean",
    "entropy_max",
    "log_rank_max",
    "log_tokens",
    "position",
    "sent_mean",
    "sent_pmi_mean",
)


def word_spans(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Character spans of tokenised ``words`` in ``text`` (Moses-style tokens of a detokenised sentence).

    Each word is looked for from the end of the previous one. One the text writes otherwise (``"`` for ``“``)
    takes the next non-space character when that is punctuation, else the empty span there."""
    spans, pos = [], 0
    for w in words:
        i = text.find(w, pos)
        if i < 0 or text[pos:i].strip():  # not found next: a token the text writes otherwise
            j = pos
            while j < len(text) and text[j].isspace():
                j += 1
            if j < len(text) and not text[j].isalnum() and not w.isalnum():
                spans.append((j, j + 1))
                pos = j + 1
            else:
                spans.append((j, j))
            continue
        spans.append((i, i + len(w)))
        pos = i + len(w)
    return spans


def word_tokens(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> list[list[int]]:
    """For each word span, the indices of the LM tokens (``offsets``, the closing newline excluded) overlapping
    it; a word no token overlaps (an empty span) takes the token at or after its position."""
    starts = np.array([a for a, _ in offsets], dtype=np.int64)
    ends = np.array([b for _, b in offsets], dtype=np.int64)
    out = []
    for a, b in spans:
        if b > a:
            idx = np.nonzero((starts < b) & (ends > a))[0]
        else:
            idx = np.nonzero(ends > a)[0][:1]
        if len(idx) == 0:
            idx = np.array([max(0, len(offsets) - 1)])
        out.append([int(i) for i in idx])
    return out


def word_features(
    groups: Sequence[Sequence[int]],
    surprisal: np.ndarray,
    entropy: np.ndarray,
    rank: np.ndarray,
    alone: Optional[np.ndarray],
    token_hidden: Optional[np.ndarray],
) -> np.ndarray:
    """One row per word: :data:`WORD_SCALARS`, then the mean hidden state of its tokens (when given)."""
    s = surprisal[:-1].astype(np.float64)
    a = alone[:-1].astype(np.float64) if alone is not None else s
    pmi = a - s
    n_words = max(1, len(groups))
    sent_mean, sent_pmi = (s.mean(), pmi.mean()) if len(s) else (0.0, 0.0)
    rows = []
    for k, g in enumerate(groups):
        g = [i for i in g if i < len(s)] or [max(0, len(s) - 1)]
        if len(s) == 0:
            rows.append(np.zeros(len(WORD_SCALARS)))
            continue
        rows.append(
            np.array(
                [
                    s[g].max(),
                    s[g].mean(),
                    s[g[0]],
                    pmi[g].min(),
                    pmi[g].mean(),
                    entropy[g].max(),
                    np.log1p(rank[g].max()),
                    np.log1p(len(g)),
                    k / n_words,
                    sent_mean,
                    sent_pmi,
                ]
            )
        )
    x = np.array(rows, dtype=np.float64).reshape(len(groups), len(WORD_SCALARS))
    if token_hidden is None:
        return x
    n = len(token_hidden)
    hid = np.stack([token_hidden[[i for i in g if i < n] or [0]].astype(np.float32).mean(0) for g in groups])
    return np.hstack([x, hid.reshape(len(groups), -1)])
