"""Language models: what garble needs of one, and the models it ships with.

The package, one module a concern:

- :mod:`garble.lm.protocols`: the interface (:class:`LM`, :class:`PairLM`, :class:`StreamLM`, :func:`is_lm`,
  :func:`scores_pairs`, :func:`reads_streams`), what a model returns (:class:`TokenScores`,
  :class:`TokenStream`) and :func:`score_in_context`;
- :mod:`garble.lm.loading`: the default model names and install hints, the cache (``$GARBLE_CACHE``), GGUF
  de-quantisation into it and :func:`resolve_model`, the choice of device and dtype, importing torch,
  :func:`release_memory`;
- :mod:`garble.lm.model`: :class:`LanguageModel`, the transformers / plain-torch scorer garble uses;
- :mod:`garble.lm.llama` and :mod:`garble.lm.gemma`: plain-torch decoders (Llama-architecture models,
  Gemma 3), loaded without transformers;
- :mod:`garble.lm.backends`: optional backends (llama.cpp) with the two-pass interface.

The names other code uses are re-exported here: ``from garble.lm import LanguageModel`` and so on.
"""

from __future__ import annotations

# the noqa: the private names here (_QE_PACKAGE, _pick_device, ...) are re-exported too, for garble's own
# modules (garble.qe, garble.eval.cache), the tests and scripts/bench.py, which import them from garble.lm
from .loading import (  # noqa: F401
    _QE_PACKAGE,
    DEFAULT_MODEL,
    QE_INSTALL,
    QE_MODEL,
    TORCH_CPU_INSTALL,
    _cpu_has_fast_bf16,
    _gguf_bar_on_terminals_only,
    _import_torch,
    _pick_device,
    _pick_dtype,
    cache_dir,
    default_gguf_path,
    install_hint,
    log,
    qe_gguf_path,
    release_memory,
    resolve_model,
)
from .model import CHARS_PER_TOKEN_CAP, LanguageModel
from .protocols import (
    LM,
    PairLM,
    StreamLM,
    TokenScores,
    TokenStream,
    is_lm,
    reads_streams,
    score_in_context,
    scores_pairs,
)

__all__ = [
    "CHARS_PER_TOKEN_CAP",
    "DEFAULT_MODEL",
    "LM",
    "LanguageModel",
    "PairLM",
    "QE_INSTALL",
    "QE_MODEL",
    "StreamLM",
    "TORCH_CPU_INSTALL",
    "TokenScores",
    "TokenStream",
    "cache_dir",
    "default_gguf_path",
    "install_hint",
    "is_lm",
    "log",
    "qe_gguf_path",
    "reads_streams",
    "release_memory",
    "resolve_model",
    "score_in_context",
    "scores_pairs",
]
