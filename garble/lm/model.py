"""Causal language-model scorer: token surprisals for many short texts (:class:`LanguageModel`).

Works with any Hugging Face causal LM, loaded by name or path with the
standard ``AutoModelForCausalLM`` / ``AutoTokenizer`` code (a local
Llama-architecture model with :mod:`garble.lm.llama`, plain torch); the weights
are found, converted and cached by :mod:`garble.lm.loading`.

Texts are scored in batches sorted by length (little padding), under
``torch.inference_mode()``; results do not depend on batch order.
Surprisal is ``-log p(token | prefix)`` in nats. Every text is preceded by the
model's BOS token (EOS when it has none) so its first token is scored too.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, Union

from ..errors import GarbleError, ModelError, UsageError
from .loading import (
    DEFAULT_MODEL,
    _import_torch,
    _pick_device,
    _pick_dtype,
    install_hint,
    load_native,
    log,
    release_memory,
    resolve_model,
)
from .protocols import TokenScores, TokenStream

# a text is cut to max_tokens * this many characters before tokenizing (bounds the
# tokenizer's time and memory on a 10 MB "unit"); English BPE tokens average ~4
CHARS_PER_TOKEN_CAP = 32


class LanguageModel:
    """A causal LM that reads texts token by token: surprisal, entropy, rank, hidden states.

    Two ways in: :meth:`score_stream` reads each text (a whole document) in
    one pass, every token after all the text before it, and is what
    :class:`garble.Scorer` uses; :meth:`score` / :meth:`score_pairs` score
    short texts alone or after a context (the two-pass interface other
    backends share).

    ``model``: ``None`` for the default SmolLM2-135M-Instruct, a hub name, a
    model directory, or a ``.gguf`` file. ``device``: ``auto`` (CUDA, then
    MPS, then CPU), or a torch device string. ``dtype``: ``auto`` picks
    bfloat16 on GPUs and on CPUs with native bf16 matmul, else float32.
    ``max_tokens``: longest text :meth:`score` reads (longer ones are truncated
    and marked; a text is cut to ``max_tokens * 32`` characters before it is
    tokenized). ``window``/``overlap``: :meth:`score_stream`'s window and how
    many tokens of context each later window re-reads (512 and 128: every
    token sees at least 128 tokens before it). ``tagger``: the error-model
    head (:mod:`garble.tagger`): ``None`` for the packaged one of this model
    (a warning and none when there is none), ``False`` for none, a path or a
    :class:`garble.tagger.Tagger`.
    ``native``: load a local Llama-architecture model (the default one among
    them) with :mod:`garble.lm.llama`, plain torch, which starts seconds sooner
    than transformers; ``False``, or any other model, loads it with transformers.
    ``batch_tokens``: padded tokens per batch (bounds memory).
    ``head_rows``: positions the output layer scores at a time (its logits
    are the largest tensor: ``head_rows`` x vocabulary; 256 x 49,152 float32
    logits are 50 MB; the default is measured: a float32 Scorer over 600 TED
    segments peaked at 2,048 MB RSS with 1,024 rows, 1,768-1,853 MB with
    512 and 1,687 MB with 256, scoring as fast within run-to-run noise),
    when the model's logits are its decoder's
    hidden states times that layer (checked on a probe when the first batch
    is scored; other models get their full logits).

    Thread-safe: tokenizer calls and forward passes are serialised by a lock
    (Hugging Face fast tokenizers fail with "Already borrowed" when one is used
    by two threads at once).

    ``progress``: ``None``, or a callable that :meth:`score_stream` calls as
    ``progress(done, total)`` while it reads: ``total`` is the tokens its
    windows hold (overlaps counted), ``done`` how many are read, an estimate
    within a batch (after each decoder layer and each block of the output
    layer), exact between batches; ``(0, total)`` first and ``(total, total)``
    last. The command line sets it to show progress on a long document.
    """

    progress: Optional[Callable[[int, int], None]] = None

    def __init__(
        self,
        model: Optional[str] = None,
        device: str = "auto",
        dtype: str = "auto",
        max_tokens: int = 256,
        batch_tokens: int = 8192,
        max_batch: int = 64,
        head_rows: int = 256,
        window: int = 512,
        overlap: int = 128,
        tagger: Union[None, bool, str, Path, Any] = None,
        native: bool = True,
    ):
        if not (isinstance(window, int) and isinstance(overlap, int) and 0 <= overlap < window // 2 and window >= 8):
            raise UsageError(
                f"window ({window!r}) and overlap ({overlap!r}) must be integers with 0 <= overlap < window / 2"
            )
        import time

        t0 = time.monotonic()
        log.info("loading the language model (%s)", model or DEFAULT_MODEL, extra={"transient": True})
        torch = _import_torch(model)
        self._torch = torch
        self.name = model or DEFAULT_MODEL
        self.device = _pick_device(device)  # bad options fail before a model is converted or loaded
        self.dtype = _pick_dtype(dtype, self.device)
        self._load(*resolve_model(model), native)
        self.max_tokens = max_tokens
        self.batch_tokens = batch_tokens
        self.max_batch = max_batch
        self.head_rows = head_rows
        self.window = window
        self.overlap = overlap
        self._use_rows: Optional[bool] = None  # decided on the first batch (see _rows_match_full)
        if self.native:  # garble.lm.llama's logits are its decoder's output times its head, by construction
            self._use_rows = True
            self._decoder, self._head = self.model.get_decoder(), self.model.get_output_embeddings()
        self._lock = threading.Lock()
        from ..tagger import load_tagger

        self.tagger = load_tagger(tagger, self)
        log.info(
            "language model %s ready (%s, %s) in %.1f s",
            self.name,
            str(self.dtype).replace("torch.", ""),
            self.device,
            time.monotonic() - t0,
            extra={"transient": True},
        )

    def _load(self, name: str, gguf: Optional[str], native: bool) -> None:
        """The model and tokenizer (garble.lm.llama when it covers the model, else transformers) on the device,
        and the tokenizer's special ids."""
        try:
            loaded = load_native(name, self.dtype, "llama") if native and gguf is None else None
            self.native = loaded is not None
            self.model, self.tokenizer = loaded or self._load_transformers(name, gguf)
        except GarbleError:
            raise
        except Exception as e:  # OSError, ValueError, and whatever a broken checkpoint raises
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise ModelError(f"cannot load model {self.name!r}: {first}") from e
        try:
            self.model.to(self.device).eval()
        except Exception as e:  # no such GPU, CUDA not compiled in, out of memory
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise ModelError(f"cannot put model {self.name!r} on device {self.device!r}: {first}") from e
        if not getattr(self.tokenizer, "is_fast", False):
            raise ModelError(f"model {self.name!r}: a fast tokenizer (with offset mapping) is needed")
        tok = self.tokenizer
        self.prefix_id = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        if self.prefix_id is None:
            raise ModelError(f"model {self.name!r}: its tokenizer has neither a BOS nor an EOS token")
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else self.prefix_id
        nl = tok("\n", add_special_tokens=False)["input_ids"]
        self.end_id = nl[0] if len(nl) == 1 else (tok.eos_token_id if tok.eos_token_id is not None else self.prefix_id)

    def _load_transformers(self, name: str, gguf: Optional[str]):
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as e:
            raise ModelError(
                f"the language model needs transformers ({e}): {install_hint(self.name == DEFAULT_MODEL)}"
            ) from e
        hf_logging.disable_progress_bar()
        kw = {"gguf_file": gguf} if gguf else {}
        return AutoModelForCausalLM.from_pretrained(name, dtype=self.dtype, **kw), AutoTokenizer.from_pretrained(
            name, **kw
        )

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str]) -> list[tuple[list[int], list[tuple[int, int]]]]:
        with self._lock:
            enc = self.tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True)
        return [(ids, [tuple(o) for o in offs]) for ids, offs in zip(enc["input_ids"], enc["offset_mapping"])]

    def score(self, texts: Sequence[str], contexts: Optional[Sequence[Optional[str]]] = None) -> list[TokenScores]:
        """Surprisals of each text's tokens, optionally after a context text.

        With ``contexts[i]`` set, text i is scored as the continuation of that
        context (only its own tokens are returned); the context is cut to its
        last ``max_tokens // 2`` tokens.
        """
        return self._score(texts, contexts)[0]

    def score_pairs(
        self, texts: Sequence[str], contexts: Sequence[Optional[str]]
    ) -> tuple[list[TokenScores], list[Optional[TokenScores]]]:
        """``(score(texts, contexts), the contexts scored alone)`` from one pass.

        The sequence that scores text i after context i is ``[BOS] +
        tokens(context) + tokens(" " + text)``; its prefix is exactly the
        sequence that scores the context alone (causal attention: a prefix
        never sees what follows), so the context's own surprisals are read off
        it, equal to ``score([context])`` up to float rounding. They are
        ``None`` where the context was cut (longer than ``max_tokens // 2``
        tokens) or missing. Scoring a document's units alone and each after
        the one before it this way takes two thirds of the tokens of two
        :meth:`score` calls (see :func:`score_in_context`).
        """
        return self._score(texts, contexts, want_context_alone=True)

    def score_stream(self, texts: Sequence[str], keep_hidden: bool = False) -> list[TokenStream]:
        """Every token of each text read in one pass, each after all the text before it.

        A text (a whole document, or one corpus line) is one token stream:
        ``[BOS] + tokens(text) + [newline]``. A stream longer than ``window``
        tokens is read in windows that overlap by ``overlap`` tokens: each
        window scores only its tokens after the overlap, which serve as their
        context, so every token sees at least ``overlap`` tokens before it
        (all of them in a text that fits one window). Windows of all texts are
        batched by length. ``keep_hidden``: also return each token's last
        hidden state (the error model's input; for training).
        """
        import numpy as np

        if isinstance(texts, str):
            raise UsageError("texts is a str: pass a list of texts")
        texts = list(texts)
        if not texts:
            return []
        encoded = self._encode(texts)
        windows = self._windows(encoded)
        n_of = [len(ids) + 1 for ids, _ in encoded]  # scored positions: the tokens and the newline
        want_h = keep_hidden or self.tagger is not None
        surpr = [np.zeros(n, np.float32) for n in n_of]
        ent = [np.zeros(n, np.float32) for n in n_of]
        rank = [np.zeros(n, np.int64) for n in n_of]
        hid = [None] * len(texts)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i][1]))
        batch: list[int] = []
        ticks = _Ticks(self, sum(len(w[1]) for w in windows))

        def flush():
            ticks.batch(sum(len(windows[i][1]) for i in batch))
            res = self._run_stream([windows[i][1] for i in batch], want_h, ticks)
            ticks.batch_done()
            for i, (s_, e_, r_, h_) in zip(batch, res):
                t, seq, first, lo = windows[i]
                # position p of the window predicts token p+1; stream token j (1-based, BOS = 0) is stored at j-1
                a, b = lo + first - 1, lo + len(seq) - 1
                surpr[t][a:b] = s_[first - 1 :]
                ent[t][a:b] = e_[first - 1 :]
                rank[t][a:b] = r_[first - 1 :]
                if h_ is not None:
                    if hid[t] is None:
                        hid[t] = np.zeros((n_of[t], h_.shape[1]), np.float32)
                    # the hidden state of token j is at window position j - lo
                    hid[t][a:b] = h_[first:]
            release_memory()  # the batch's freed activations, back to the OS before the next batch

        try:
            for i in order:
                longest = len(windows[i][1])
                if batch and (longest * (len(batch) + 1) > self.batch_tokens or len(batch) >= self.max_batch):
                    flush()
                    batch = []
                batch.append(i)
            if batch:
                flush()
            out = [self._stream(encoded[t], surpr[t], ent[t], rank[t], hid[t], keep_hidden) for t in range(len(texts))]
        finally:
            ticks.close()
        return out

    def _windows(self, encoded) -> list[tuple]:
        """``(text index, token ids, first scored position, start)`` of each window of each text's stream."""
        windows = []
        for t, (ids, _) in enumerate(encoded):
            seq = [self.prefix_id] + ids + [self.end_id]
            lo, first = 0, 1
            while True:
                hi = min(lo + self.window, len(seq))
                windows.append((t, seq[lo:hi], first - lo, lo))
                if hi >= len(seq):
                    break
                first = hi
                lo = hi - self.overlap
        return windows

    def _stream(self, encoded, surpr, ent, rank, hid, keep_hidden: bool) -> TokenStream:
        """One text's readings (its tokens, then the newline after it) as a TokenStream, with P(error) per token."""
        import numpy as np

        ids, offs = encoded
        n = len(ids)
        p = None
        if self.tagger is not None:
            p = self.tagger.predict_tokens(surpr, ent, rank, hid)[:n] if n else np.zeros(0, np.float32)
        h = hid[:n] if hid is not None and keep_hidden else None
        offsets = tuple(tuple(o) for o in offs)
        return TokenStream(offsets, surpr[:n], ent[:n], rank[:n], float(surpr[n]), p, h, float(ent[n]), int(rank[n]))

    def _run_stream(self, seqs: list[list[int]], want_hidden: bool, ticks: Optional["_Ticks"] = None):
        """Per window: surprisal, entropy and rank of each next token (position p predicts p+1), and hidden states.

        ``ticks``: told how far the output layer's blocks have got (progress within the batch)."""
        torch = self._torch
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for row, s in enumerate(seqs):
            ids[row, : len(s)] = torch.tensor(s)
            mask[row, : len(s)] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        try:
            with self._lock, torch.inference_mode():
                if self._use_rows is None:
                    self._use_rows = self._rows_match_full()
                if self._use_rows:
                    hidden = self._decoder(input_ids=ids, attention_mask=mask).last_hidden_state
                    head = self._head
                    logits_all = None
                else:
                    o = self.model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
                    hidden, logits_all = o.hidden_states[-1], o.logits
                valid = mask[:, 1:].bool()
                target = ids[:, 1:][valid]
                rows = hidden[:, :-1][valid] if logits_all is None else logits_all[:, :-1][valid]
                n = rows.shape[0]
                s_out = torch.empty(n, dtype=torch.float32, device=ids.device)
                e_out = torch.empty(n, dtype=torch.float32, device=ids.device)
                r_out = torch.empty(n, dtype=torch.long, device=ids.device)
                for a in range(0, n, self.head_rows):
                    blk = rows[a : a + self.head_rows]
                    lg = (head(blk) if logits_all is None else blk).float()
                    lse = torch.logsumexp(lg, -1)
                    tl = lg.gather(-1, target[a : a + self.head_rows, None]).squeeze(-1)
                    s_out[a : a + self.head_rows] = lse - tl
                    prob = torch.softmax(lg, -1)
                    e_out[a : a + self.head_rows] = lse - (prob * lg).sum(-1)
                    r_out[a : a + self.head_rows] = (lg > tl[:, None]).sum(-1)
                    if ticks is not None:
                        ticks.head(min(a + self.head_rows, n) / n)
                hid = hidden.float().cpu().numpy() if want_hidden else None
        except torch.cuda.OutOfMemoryError as e:
            raise ModelError(
                f"model {self.name!r} ran out of memory on {self.device} scoring a batch of {len(seqs)} x {width} "
                "tokens; use a smaller batch_tokens or window, or --device cpu"
            ) from e
        s_cpu, e_cpu, r_cpu = s_out.cpu().numpy(), e_out.cpu().numpy(), r_out.cpu().numpy()
        out = []
        pos = 0
        for row, s in enumerate(seqs):
            k = len(s) - 1
            out.append(
                (
                    s_cpu[pos : pos + k],
                    e_cpu[pos : pos + k],
                    r_cpu[pos : pos + k],
                    hid[row, : len(s)] if hid is not None else None,
                )
            )
            pos += k
        return out

    def _score(
        self, texts: Sequence[str], contexts: Optional[Sequence[Optional[str]]], want_context_alone: bool = False
    ):
        if not texts:
            return [], []
        cap = self.max_tokens * CHARS_PER_TOKEN_CAP
        half = self.max_tokens // 2
        cut = [len(t) > cap for t in texts]
        texts = [t[:cap] for t in texts]
        encoded = self._encode(texts)
        ctx_ids: list[list[int]] = [[] for _ in texts]
        ctx_offs: list[Optional[list]] = [None] * len(texts)
        if contexts is not None:
            with_ctx = [i for i, c in enumerate(contexts) if c]
            if with_ctx:
                # a space joins context and text, so the text's first token is a word-initial one
                spaced = self._encode([" " + texts[i] for i in with_ctx])
                ctx_enc = self._encode([contexts[i][-cap // 2 :] for i in with_ctx])
                for i, (ids, offs), (cids, coffs) in zip(with_ctx, spaced, ctx_enc):
                    encoded[i] = (ids, [(max(a - 1, 0), max(b - 1, 0)) for a, b in offs])
                    if want_context_alone and len(cids) <= half and len(contexts[i]) <= cap // 2:
                        ctx_offs[i] = coffs  # the whole context: its alone scores are a by-product
                    ctx_ids[i] = cids[-half:]
        seqs = []
        for (ids, offs), cids, was_cut, coffs in zip(encoded, ctx_ids, cut, ctx_offs):
            truncated = was_cut or len(ids) > self.max_tokens
            seqs.append(
                ([self.prefix_id] + cids + ids[: self.max_tokens], len(cids), offs[: self.max_tokens], truncated, coffs)
            )
        results: list[Optional[TokenScores]] = [None] * len(texts)
        alone: list[Optional[TokenScores]] = [None] * len(texts)
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i][0]))
        batch: list[int] = []
        for i in order:
            longest = len(seqs[i][0])  # sorted ascending: the newest is the longest
            if batch and (longest * (len(batch) + 1) > self.batch_tokens or len(batch) >= self.max_batch):
                self._run(batch, seqs, results, alone)
                batch = []
            batch.append(i)
        if batch:
            self._run(batch, seqs, results, alone)
        return results, alone

    def _full_surprisals(self, ids, mask):
        """Surprisal of token p+1 at position p, from the model's own logits (every model)."""
        torch = self._torch
        logits = self.model(input_ids=ids, attention_mask=mask).logits
        logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
        return -logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)

    def _row_surprisals(self, ids, mask):
        """The same from the decoder's hidden states, the LM head applied to ``head_rows`` real positions at a time.

        A batch of 8,192 tokens has 8,192 x 49,152 logits (1.6 GB in float32,
        twice that with the log-softmax): blocks keep that to one block, and
        padding positions never reach the head.
        """
        torch = self._torch
        hidden = self._decoder(input_ids=ids, attention_mask=mask).last_hidden_state[:, :-1]
        valid = mask[:, 1:].bool()  # position p predicts token p+1, which must be real
        h, target = hidden[valid], ids[:, 1:][valid]
        out = torch.empty(h.shape[0], dtype=torch.float32, device=h.device)
        for a in range(0, h.shape[0], self.head_rows):
            logits = self._head(h[a : a + self.head_rows]).float()
            out[a : a + self.head_rows] = torch.logsumexp(logits, -1) - logits.gather(
                -1, target[a : a + self.head_rows, None]
            ).squeeze(-1)
        surpr = torch.zeros(valid.shape, dtype=torch.float32, device=h.device)
        surpr[valid] = out
        return surpr

    def _surprisals(self, ids, mask):
        if self._use_rows is None:
            self._use_rows = self._rows_match_full()
        return self._row_surprisals(ids, mask) if self._use_rows else self._full_surprisals(ids, mask)

    def _rows_match_full(self) -> bool:
        """Whether the blockwise head gives this model's own surprisals (checked once, on a probe).

        It needs a decoder and an output layer whose product is the logits;
        a model that post-processes its logits (soft-capping, scaling) or has
        no such parts keeps the full path.
        """
        torch = self._torch
        get_decoder = getattr(self.model, "get_decoder", None)
        get_head = getattr(self.model, "get_output_embeddings", None)
        try:
            decoder = get_decoder() if callable(get_decoder) else None
            head = get_head() if callable(get_head) else None
        except Exception:
            return False
        if decoder is None or head is None:
            return False
        self._decoder, self._head = decoder, head
        # called under self._lock (from _run): the tokenizer directly, not _encode
        probe = self.tokenizer(
            ["A short probe sentence, to check the scoring path.", "Another one."], add_special_tokens=False
        )["input_ids"]
        width = max(len(p) for p in probe) + 1
        ids = torch.full((2, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((2, width), dtype=torch.long)
        for row, toks in enumerate(probe):
            ids[row, : len(toks) + 1] = torch.tensor([self.prefix_id] + toks)
            mask[row, : len(toks) + 1] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        try:
            full = self._full_surprisals(ids, mask)
            rows = self._row_surprisals(ids, mask)
        except Exception:
            return False
        valid = mask[:, 1:].bool()
        tol = 1e-3 if self.dtype == torch.float32 else 0.1
        return bool((full[valid] - rows[valid]).abs().max() <= tol)

    def _run(self, batch: list[int], seqs, results, alone) -> None:
        torch = self._torch
        width = max(len(seqs[i][0]) for i in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            s = seqs[i][0]
            ids[row, : len(s)] = torch.tensor(s)
            mask[row, : len(s)] = 1
        try:
            with self._lock, torch.inference_mode():
                surpr = self._surprisals(ids.to(self.device), mask.to(self.device)).cpu()
        except torch.cuda.OutOfMemoryError as e:
            raise ModelError(
                f"model {self.name!r} ran out of memory on {self.device} scoring a batch of {len(batch)} x {width} "
                "tokens; use a smaller batch_tokens or max_tokens, or --device cpu"
            ) from e
        for row, i in enumerate(batch):
            s, n_ctx, offs, truncated, coffs = seqs[i]
            # position p of `surpr` scores token p+1; the text's tokens start after prefix + context
            vals = surpr[row, n_ctx : len(s) - 1].tolist()
            results[i] = TokenScores(tuple(vals), tuple(offs[: len(vals)]), truncated)
            if coffs is not None:
                alone[i] = TokenScores(tuple(surpr[row, :n_ctx].tolist()), tuple(tuple(o) for o in coffs), False)


class _Ticks:
    """Tells ``lm.progress`` how far a :meth:`LanguageModel.score_stream` call has read (nothing without one).

    Within a batch the tokens done are an estimate: the decoder's layers take
    ``share`` of a batch's time, each an equal part (a forward hook on each
    layer, while the call lasts), and the output layer's blocks the rest;
    ``share`` starts at :data:`DECODER_SHARE` and is then what the batch before
    measured. What it reports never goes back (the first batch's probe of the
    scoring path runs the layers once more).
    """

    #: the decoder's share of a batch's time to begin with (SmolLM2-135M on 2 CPU cores: ~0.65; the rest is the
    #: output layer and its statistics over the 49,152-token vocabulary)
    DECODER_SHARE = 0.65

    def __init__(self, lm: "LanguageModel", total: int):
        import time

        self.fn = lm.progress
        self.clock = time.monotonic
        self.total, self.done, self.size, self.shown = total, 0, 0, -1
        self.share = self.DECODER_SHARE
        self.t_batch = self.t_decoded = 0.0
        self.handles: list = []
        if self.fn is None:
            return
        try:
            layers = list(getattr(lm.model.get_decoder(), "layers", None) or ())
        except Exception:  # a model without get_decoder: ticks between batches and blocks only
            layers = []
        for k, layer in enumerate(layers):
            self.handles.append(layer.register_forward_hook(lambda *_a, k=k, n=len(layers): self._layer(k, n)))
        self._tell(0)

    def batch(self, size: int) -> None:
        self.size = size
        self.t_batch = self.t_decoded = self.clock()

    def _layer(self, k: int, n: int) -> None:
        if k == n - 1:
            self.t_decoded = self.clock()
        self._at(self.share * (k + 1) / n)

    def head(self, fraction: float) -> None:
        """The output layer has scored ``fraction`` of the batch's positions."""
        self._at(self.share + (1 - self.share) * fraction)

    def batch_done(self) -> None:
        now = self.clock()
        if self.handles and now > self.t_batch:
            self.share = min(max((self.t_decoded - self.t_batch) / (now - self.t_batch), 0.05), 0.95)
        self.done += self.size
        self.size = 0
        self._tell(self.done)

    def _at(self, fraction: float) -> None:
        self._tell(self.done + int(self.size * fraction))

    def _tell(self, done: int) -> None:
        if self.fn is None or done <= self.shown:
            return
        self.shown = min(done, self.total)
        try:
            self.fn(self.shown, self.total)
        except Exception:  # pragma: no cover - feedback never stops a run
            log.debug("progress callback failed", exc_info=True)

    def close(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []
        if self.fn is not None and self.done >= self.total:
            self._tell(self.total)
