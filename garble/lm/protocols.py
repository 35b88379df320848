"""What garble needs of a language model, and what a model gives back.

:class:`TokenScores` (a text's surprisals, the two-pass interface) and :class:`TokenStream` (per-token readings
of a text read in one pass); the protocols :class:`LM` (``score``), :class:`PairLM` (``score_pairs``) and
:class:`StreamLM` (``score_stream``) with their checks :func:`is_lm`, :func:`scores_pairs` and
:func:`reads_streams`; and :func:`score_in_context`, which scores a document's units alone and in context
with any :class:`LM`. Imports nothing heavy (no torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Protocol, Sequence


@dataclass(frozen=True)
class TokenScores:
    """Surprisals of one text's tokens; ``offsets`` are character offsets into that text."""

    surprisals: tuple[float, ...]
    offsets: tuple[tuple[int, int], ...]
    truncated: bool = False

    @property
    def n_tokens(self) -> int:
        return len(self.surprisals)


@dataclass(frozen=True)
class TokenStream:
    """Per-token LM readings of one text scored in one pass.

    Every token is read after all the text before it (up to the window's
    context, see :meth:`LanguageModel.score_stream`). Arrays have one entry per
    token of the text; ``offsets`` are character offsets into the text.

    ``surprisal``: -log p(token | text before it), nats; ``entropy``: the
    entropy of the predicted distribution at that position, nats; ``rank``:
    how many vocabulary entries the model preferred to the actual token
    (0 = its first choice); ``end_surprisal``: surprisal of a newline right
    after the text (high when the text stops mid-sentence); ``p_error``: the
    error model's probability that the token lies inside a translation error
    (``None`` when the model has no error-model head); ``hidden``: the last
    hidden state of each token (only when asked for: training).
    """

    offsets: tuple[tuple[int, int], ...]
    surprisal: Any  # numpy float32 (n,)
    entropy: Any  # numpy float32 (n,)
    rank: Any  # numpy int64 (n,)
    end_surprisal: float
    p_error: Any = None  # numpy float32 (n,) or None
    hidden: Any = None  # numpy float32 (n, d) or None
    end_entropy: float = 0.0
    end_rank: int = 0

    @property
    def n_tokens(self) -> int:
        return len(self.offsets)


class LM(Protocol):
    """What garble needs of a language model: the two-pass interface.

    ``score(texts, contexts)``: one :class:`TokenScores` per text, the text
    read alone or after ``contexts[i]``; ``name``: the model's name. Every
    backend has it: :class:`LanguageModel`, :class:`garble.lm.backends.LlamaCppModel`,
    and the wrappers :class:`garble.eval.cache.CachedLM` and
    :class:`garble.readings.PrefetchedStreams`. :class:`garble.Scorer` takes
    any object with a callable ``score`` (:func:`is_lm`) as its ``model``.
    """

    name: str

    def score(self, texts: Sequence[str], contexts: Optional[Sequence[Optional[str]]] = None) -> list[TokenScores]: ...


class PairLM(LM, Protocol):
    """An :class:`LM` that scores texts after contexts and the contexts alone in one pass
    (:meth:`LanguageModel.score_pairs`; see :func:`scores_pairs`)."""

    def score_pairs(
        self, texts: Sequence[str], contexts: Sequence[Optional[str]]
    ) -> tuple[list[TokenScores], list[Optional[TokenScores]]]: ...


class StreamLM(LM, Protocol):
    """An :class:`LM` that reads a whole text in one pass, every token after all the text before it
    (:meth:`LanguageModel.score_stream`; see :func:`reads_streams`). The Scorer prefers this way in."""

    def score_stream(self, texts: Sequence[str], keep_hidden: bool = False) -> list[TokenStream]: ...


# The checks below look the method up on the object, as garble always has: wrappers that
# forward attributes with __getattr__ count, and a method set to None does not (a
# runtime-checkable Protocol's isinstance sees forwarded attributes only up to Python 3.11).


def is_lm(obj: object) -> bool:
    """Whether ``obj`` can stand for a language model (an :class:`LM`: it has a callable ``score``)."""
    return callable(getattr(obj, "score", None))


def scores_pairs(lm: object) -> bool:
    """Whether ``lm`` is a :class:`PairLM` (has a callable ``score_pairs``)."""
    return callable(getattr(lm, "score_pairs", None))


def reads_streams(lm: object) -> bool:
    """Whether ``lm`` is a :class:`StreamLM` (has a callable ``score_stream``); ``None`` is not."""
    return callable(getattr(lm, "score_stream", None))


def score_in_context(lm: LM, texts: Sequence[str]) -> tuple[list[TokenScores], list[TokenScores]]:
    """``(each text alone, each text after the one before it)`` for a document's units.

    ``ctx[0]`` is ``alone[0]`` (the first unit has no context). With a model
    that has ``score_pairs`` (:class:`LanguageModel`) the alone scores of a
    unit are read off the sequence that scores the next unit after it, so the
    LM runs over about 2 instead of 3 tokens per unit token; any other model
    (``score(texts, contexts)`` only) is called twice.
    """
    texts = list(texts)
    if not texts:
        return [], []
    if not scores_pairs(lm) or len(texts) == 1:
        alone = lm.score(texts)
        ctx = lm.score(texts, [None] + texts[:-1])
        return alone, ctx
    after, prev_alone = lm.score_pairs(texts[1:], texts[:-1])
    alone: list[Optional[TokenScores]] = list(prev_alone) + [None]
    missing = [i for i, a in enumerate(alone) if a is None]
    for i, r in zip(missing, lm.score([texts[i] for i in missing])):
        alone[i] = r
    return alone, [alone[0]] + list(after)  # type: ignore[return-value]
