"""Per-unit LM readings from one token stream (see :meth:`garble.lm.LanguageModel.score_stream`).

The one place that turns a document's token arrays into the numbers each unit
is ranked by, used by :class:`garble.Scorer` and by the training scripts
alike (so training and use never disagree on a feature).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from .lm import StreamLM

#: how many of a unit's most error-like tokens ``p_top`` averages
TOP_K = 3


@dataclass(frozen=True)
class UnitReading:
    """What the LM pass says about one unit.

    ``first``/``last``: indices of the unit's first token and one past its
    last in the stream; ``n_tokens`` = last - first. Surprisals in nats.
    ``p_*``: the error model's token probabilities (``None`` without a head):
    mean, max, mean of the ``TOP_K`` largest, and their sum (the expected
    number of error tokens).
    """

    first: int
    last: int
    mean_surprisal: float
    max_surprisal: float
    max_index: int  # stream index of the most surprising token (-1: none)
    end_surprisal: float  # surprisal of the token read right after the unit
    mean_entropy: float
    p_mean: Optional[float] = None
    p_max: Optional[float] = None
    p_top: Optional[float] = None
    p_sum: Optional[float] = None
    p_index: int = -1  # stream index of the most error-like token

    @property
    def n_tokens(self) -> int:
        return self.last - self.first


def token_ranges(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """For each ``(start, end)`` character span (in stream order, not overlapping), the range of tokens inside it.

    A token belongs to the span that holds its last character (a leading
    space is part of the token that follows it).
    """
    out = []
    j = 0
    n = len(offsets)
    for a, b in spans:
        while j < n and offsets[j][1] <= a:
            j += 1
        k = j
        while k < n and offsets[k][1] - 1 < b:
            k += 1
        out.append((j, k))
        j = k
    return out


def unit_readings(stream, spans: Sequence[tuple[int, int]]) -> list[Optional[UnitReading]]:
    """One :class:`UnitReading` per character span (``None`` for a span with no token)."""
    import numpy as np

    s = stream.surprisal
    n = len(s)
    p = stream.p_error
    out: list[Optional[UnitReading]] = []
    for a, b in token_ranges(stream.offsets, spans):
        if b <= a:
            out.append(None)
            continue
        seg = s[a:b]
        j = int(np.argmax(seg))
        end = float(s[b]) if b < n else float(stream.end_surprisal)
        kw = {}
        if p is not None and len(p) >= b:
            ps = p[a:b]
            top = np.sort(ps)[-TOP_K:]
            kw = dict(
                p_mean=float(ps.mean()),
                p_max=float(ps.max()),
                p_top=float(top.mean()),
                p_sum=float(ps.sum()),
                p_index=a + int(np.argmax(ps)),
            )
        out.append(
            UnitReading(
                first=a,
                last=b,
                mean_surprisal=float(seg.mean()),
                max_surprisal=float(seg[j]),
                max_index=a + j,
                end_surprisal=end,
                mean_entropy=float(stream.entropy[a:b].mean()),
                **kw,
            )
        )
    return out


class PrefetchedStreams:
    """A :class:`~garble.lm.StreamLM` that answers :meth:`score_stream` from streams computed earlier (keyed by text).

    Texts it has not seen go to ``lm`` (and are kept); with ``lm=None`` every
    text must be there (training code that runs the real Scorer over streams
    extracted once). Other attributes (``name``, ``tagger``...) come from
    ``lm`` unless given. Used to batch the LM over many small documents: one
    ``score_stream`` call for a whole batch, then one Scorer call per document.
    """

    def __init__(self, lm: Optional[StreamLM], streams: dict, name: Optional[str] = None, tagger=None):
        self.lm = lm
        self.streams = streams
        if name is not None or lm is None:
            self.name = name or "prefetched"
        if tagger is not None or lm is None:
            self.tagger = tagger

    def __getattr__(self, attr: str):
        lm = self.__dict__.get("lm")
        if lm is None:
            raise AttributeError(attr)
        return getattr(lm, attr)

    def score_stream(self, texts: Sequence[str], keep_hidden: bool = False):
        missing = [t for t in dict.fromkeys(texts) if t not in self.streams]
        if missing:
            if self.lm is None:
                raise KeyError(f"no stream for {missing[0][:60]!r}")
            self.streams.update(zip(missing, self.lm.score_stream(missing, keep_hidden=keep_hidden)))
        return [self.streams[t] for t in texts]

    def score(self, texts, contexts=None):
        if self.lm is None:
            raise NotImplementedError("a PrefetchedStreams without an LM answers score_stream only")
        return self.lm.score(texts, contexts)
