"""Read a translation after its source: the source-conditioned pass of a multilingual causal LM.

The prompt is ``"{Source language}: {source}\\nEnglish:"``; the translation follows as ``" " + translation``
and a newline closes it. Only the translation's tokens (and that newline) are scored: the source is context.
The same translation is also read without its source (``"English:"`` then the translation), so each token's
pointwise mutual information with the source, ``surprisal_alone - surprisal``, says how much the source
explains it. Hidden states of chosen layers are mean-pooled over the translation's tokens and, separately,
over the source's: the sentence vector the learned QE head reads (:mod:`garble.qe.head`).

The output layer (262k wide for Gemma 3) runs at the translation's positions only, never the source's.
Pairs are read in batches sorted by length; results do not depend on batch order (tested).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np

from ..errors import GarbleError, ModelError
from ..lm import QE_MODEL, _import_torch, _pick_device, _pick_dtype, release_memory, resolve_model
from ..lm.loading import load_native

log = logging.getLogger("garble")
F16_MAX = 65504.0  # token hidden states are kept as float16, clipped to its range

#: ISO 639-1 code -> the English name the prompt uses (languages Gemma 3 was trained on; extend freely)
LANGUAGE_NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "et": "Estonian", "fi": "Finnish", "fr": "French", "he": "Hebrew",
    "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "ne": "Nepali", "nl": "Dutch", "no": "Norwegian",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "si": "Sinhala", "sk": "Slovak",
    "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian",
    "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip


def language_name(code: Optional[str]) -> Optional[str]:
    """``"ro"``/``"ro-RO"``/``"Romanian"`` -> ``"Romanian"``; None for an unknown or empty code."""
    if not code:
        return None
    c = code.strip().replace("_", "-").split("-")[0].lower()
    if c in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[c]
    by_name = {v.lower(): v for v in LANGUAGE_NAMES.values()}
    return by_name.get(code.strip().lower())


def packaged_shortlist() -> np.ndarray:
    """The output-layer shortlist shipped for the default model (data/qe_shortlist.npy)."""
    from importlib import resources

    with resources.files("garble.data").joinpath("qe_shortlist.npy").open("rb") as f:
        return np.load(f)


@dataclass
class PairReading:
    """One translation read by the LM, after its source and alone.

    Per token of the translation (``offsets``: character spans in the translation; the last entry of each
    per-token array is the closing newline, whose span is ``(len, len)``): ``surprisal`` after the source,
    ``entropy`` and ``rank`` of the model's prediction there, ``surprisal_alone`` without the source (None when
    the source-free pass was not asked for). ``pooled``: mean hidden state per layer in ``layers`` over the
    translation's tokens, then over the source's (zeros without a source), concatenated. ``token_hidden``: per
    translation token, the hidden states of ``token_layers`` concatenated (float16), for the word head.
    """

    offsets: list[tuple[int, int]]
    surprisal: np.ndarray
    entropy: np.ndarray
    rank: np.ndarray
    surprisal_alone: Optional[np.ndarray]
    pooled: np.ndarray
    token_hidden: Optional[np.ndarray]
    has_source: bool
    source_tokens: int

    @property
    def n_tokens(self) -> int:
        return len(self.offsets)


class SourceReader:
    """A multilingual causal LM that reads translations after their sources (default: Gemma 3 270M).

    ``model``: ``None`` for the packaged Gemma 3 270M (converted once into garble's cache), or any HF causal LM
    by name or path. ``layers``: hidden layers pooled into the sentence vector (0 = embeddings); measured on
    MLQE-PE dev (issue 21: layers 6, 12, 18 of Gemma 3 270M's 18). ``token_layers``: layers kept per token for
    the word head. ``batch_tokens``: padded tokens per batch. ``max_chars``: longest source or translation read
    (longer ones are cut there; 2,000 characters is several sentences). ``shortlist``: vocabulary ids the
    output layer normalises over (``None``: the packaged one for the default model, the full head for others;
    ``False``: the full head): data/qe_shortlist.npy, 32,768 ids chosen by ``scripts/qe_shortlist.py`` on
    MLQE-PE train rows, 20x less work in the head, per-row surprisal Spearman 0.9994 against the full head.
    """

    def __init__(
        self,
        model: Optional[str] = None,
        device: str = "auto",
        dtype: str = "auto",
        layers: Sequence[int] = (6, 12, 18),
        token_layers: Sequence[int] = (12, 18),
        batch_tokens: int = 4096,
        max_batch: int = 64,
        max_chars: int = 2000,
        shortlist: Union[None, bool, np.ndarray] = None,
        native: bool = True,
    ):
        t0 = time.monotonic()
        self.name = model or QE_MODEL
        log.info("loading the source-reading model (%s)", self.name, extra={"transient": True})
        torch = _import_torch(self.name)
        self._torch = torch
        self.device = _pick_device(device)
        self.dtype = _pick_dtype(dtype, self.device)
        path, _ = resolve_model(self.name)
        try:
            loaded = load_native(path, self.dtype, "gemma") if native else None  # garble.lm.gemma, plain torch
            self.native = loaded is not None
            self.model, self.tokenizer = loaded or self._load_transformers(path)
            self.model = self.model.to(self.device).eval()
        except GarbleError:
            raise
        except Exception as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise ModelError(f"cannot load model {self.name!r}: {first}") from e
        release_memory()  # the tokenizer's JSON parse leaves ~200 MB of freed heap behind
        n_layers = self.model.config.get_text_config().num_hidden_layers
        bad = [x for x in (*layers, *token_layers) if not 0 <= x <= n_layers]
        if bad:
            raise ModelError(f"model {self.name!r} has {n_layers} layers: cannot pool layer {bad[0]}")
        self.layers, self.token_layers = tuple(layers), tuple(token_layers)
        self.hidden_size = self.model.config.get_text_config().hidden_size
        self.batch_tokens, self.max_batch, self.max_chars = batch_tokens, max_batch, max_chars
        tok = self.tokenizer
        self.bos = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        self.pad = tok.pad_token_id if tok.pad_token_id is not None else self.bos
        self.newline = self._ids("\n")
        self.softcap = getattr(self.model.config.get_text_config(), "final_logit_softcapping", None)
        self._short_weight = self._in_short = None
        if shortlist is None and self.name == QE_MODEL:
            shortlist = packaged_shortlist()
        if shortlist is not None and shortlist is not False:
            self.set_shortlist(shortlist)
        self._lock = threading.Lock()
        log.info("%s ready (%s, %s) in %.1f s", self.name, str(self.dtype)[6:], self.device, time.monotonic() - t0)

    def _load_transformers(self, path: str):
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        return AutoModelForCausalLM.from_pretrained(path, dtype=self.dtype), AutoTokenizer.from_pretrained(path)

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _encode_translation(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = self.tokenizer(" " + text, add_special_tokens=False, return_offsets_mapping=True)
        offs = [(max(0, a - 1), max(0, b - 1)) for a, b in enc["offset_mapping"]]
        return enc["input_ids"], offs

    def read(
        self,
        sources: Sequence[Optional[str]],
        translations: Sequence[str],
        languages: Sequence[Optional[str]],
        alone: bool = True,
        token_hidden: bool = False,
    ) -> list[PairReading]:
        """One :class:`PairReading` per translation, in input order.

        ``sources[i]`` None or empty, or ``languages[i]`` not a known language: the translation is read after
        ``"English:"`` alone (``has_source`` False). ``alone``: also read each translation without its source.
        """
        if not (len(sources) == len(translations) == len(languages)):
            raise ValueError("sources, translations and languages must have the same length")
        with self._lock:
            return self._read(sources, translations, languages, alone, token_hidden)

    def _read(self, sources, translations, languages, alone, token_hidden) -> list[PairReading]:
        english = self._ids("English:")
        rows = []
        for src, mt, lang in zip(sources, translations, languages):
            mt = (mt or "")[: self.max_chars]
            ids, offs = self._encode_translation(mt)
            name = language_name(lang)
            src = (src or "").strip()[: self.max_chars]
            prompt = self._ids(f"{name}: {src}\nEnglish:") if (src and name) else english
            n_src = len(self._ids(f"{name}: {src}")) if (src and name) else 0
            rows.append((prompt, ids, offs, n_src, len(mt)))
        cond = self._run([(p, ids) for p, ids, *_ in rows], [r[3] for r in rows], token_hidden)
        # the source-free pass: its surprisals only (no hidden states kept, none pooled)
        free = self._run([(english, ids) for _, ids, *_ in rows], [0] * len(rows), False, False) if alone else None
        out = []
        for i, (_prompt, _ids, offs, n_src, n_chars) in enumerate(rows):
            s, h, r, pooled, th = cond[i]
            out.append(
                PairReading(
                    offsets=list(offs) + [(n_chars, n_chars)],
                    surprisal=s,
                    entropy=h,
                    rank=r,
                    surprisal_alone=free[i][0] if free is not None else None,
                    pooled=pooled,
                    token_hidden=th,
                    has_source=n_src > 0,
                    source_tokens=n_src,
                )
            )
        return out

    def _run(
        self, pairs: list[tuple[list[int], list[int]]], n_src: list[int], token_hidden: bool, pool: bool = True
    ) -> list:
        """Per pair: (surprisal, entropy, rank, pooled, token hidden) of the continuation and a closing newline;
        ``pool`` False: pooled None (the hidden states are not kept)."""
        seqs = [[self.bos, *p, *c, *self.newline[:1]] for p, c in pairs]
        starts = [1 + len(p) for p, _ in pairs]  # first continuation position
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
        results: list = [None] * len(seqs)
        batch: list[int] = []
        for i in order:
            width = len(seqs[i])
            if batch and (width * (len(batch) + 1) > self.batch_tokens or len(batch) >= self.max_batch):
                self._batch(batch, seqs, starts, n_src, token_hidden, pool, results)
                batch = []
            batch.append(i)
        if batch:
            self._batch(batch, seqs, starts, n_src, token_hidden, pool, results)
        return results

    def _batch(self, batch, seqs, starts, n_src, token_hidden, pool, results) -> None:
        torch = self._torch
        width = max(len(seqs[i]) for i in batch)
        ids = torch.full((len(batch), width), self.pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            ids[row, : len(seqs[i])] = torch.tensor(seqs[i])
            mask[row, : len(seqs[i])] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        with torch.inference_mode():
            out = self.model.model(input_ids=ids, attention_mask=mask, output_hidden_states=pool or token_hidden)
            hs = out.hidden_states
            last = out.last_hidden_state
            head = self.model.get_output_embeddings()
            spans = [(starts[i], len(seqs[i])) for i in batch]  # scored: positions a..b-1, predicted from a-1..b-2
            pred = torch.cat([last[row, a - 1 : b - 1] for row, (a, b) in enumerate(spans)])
            target = torch.cat([ids[row, a:b] for row, (a, b) in enumerate(spans)])
            surprisal, entropy, rank = self._head(head, pred, target, full=pool or token_hidden)
            cuts = np.cumsum([0] + [b - a for a, b in spans])
            for row, i in enumerate(batch):
                a, b = spans[row]
                lo, hi = cuts[row], cuts[row + 1]
                vec = self._pool(hs, row, a, b, n_src[i]) if pool else None
                th = None
                if token_hidden:
                    th = torch.cat([hs[layer][row, a:b].float() for layer in self.token_layers], -1)
                    th = np.clip(th.cpu().numpy(), -F16_MAX, F16_MAX).astype(np.float16)  # Gemma has huge dims
                results[i] = (surprisal[lo:hi], entropy[lo:hi], rank[lo:hi], vec, th)
        del out, hs, last, pred
        release_memory()  # else the freed activations fragment the heap, which grows batch after batch

    def _pool(self, hs, row: int, a: int, b: int, n_src: int) -> np.ndarray:
        """Mean hidden state of each pooled layer over the translation (positions a..b-2), then over the language
        name and the source (positions 1..n_src; zeros without a source)."""
        torch = self._torch
        over_mt, over_src = [], []
        for layer in self.layers:
            h = hs[layer][row].float()
            over_mt.append(h[a : b - 1].mean(0) if b - 1 > a else torch.zeros(h.shape[-1]))
            over_src.append(h[1 : 1 + n_src].mean(0) if n_src else torch.zeros(h.shape[-1]))
        return torch.cat(over_mt + over_src).cpu().numpy().astype(np.float32)

    def _head(self, head, pred, target, rows: int = 128, full: bool = True):
        """Surprisal, entropy and rank of each target token from the decoder's output before it, ``rows``
        positions at a time (the logits, rows x vocabulary, are the largest tensor; worked on in place).
        ``full`` False: the surprisal only (entropy and rank zeros), for the source-free pass.

        With a shortlist the normaliser runs over the shortlist and the target (its logit computed exactly):
        8x less work for Gemma's 262k-token head, ranks checked against the full head (SHORTLIST.md)."""
        torch = self._torch
        weight = head.weight
        short = self._short_weight
        s, h, r = [], [], []
        for k in range(0, len(pred), rows):
            x, tgt = pred[k : k + rows], target[k : k + rows]
            t_logit = (x * weight[tgt]).sum(-1).float()
            logits = (x @ short.T if short is not None else x @ weight.T).float()
            if self.softcap:
                logits.div_(self.softcap).tanh_().mul_(self.softcap)
                t_logit = torch.tanh(t_logit / self.softcap) * self.softcap
            lse = torch.logsumexp(logits, -1)
            if short is not None:  # the target joins the normaliser where the shortlist lacks it
                outside = ~self._in_short[tgt]
                lse = torch.where(outside, torch.logaddexp(lse, t_logit), lse)
            s.append(lse - t_logit)
            if full:
                r.append((logits > t_logit[:, None]).sum(-1))
                p = (logits - lse[:, None]).exp_()
                h.append(lse - p.mul_(logits).sum(-1))
                del p
            del logits
            if k and k % (rows * 2) == 0:
                release_memory()  # the freed logits would pile up in the heap over a long batch
        n = len(pred)
        return (
            torch.cat(s).cpu().numpy().astype(np.float32),
            torch.cat(h).cpu().numpy().astype(np.float32) if full else np.zeros(n, np.float32),
            torch.cat(r).cpu().numpy().astype(np.int32) if full else np.zeros(n, np.int32),
        )

    def set_shortlist(self, ids: Optional[np.ndarray]) -> None:
        """Normalise the output layer over these vocabulary ids (and each target) only; None: the full head."""
        torch = self._torch
        weight = self.model.get_output_embeddings().weight
        if ids is None:
            self._short_weight = self._in_short = None
            return
        ids = np.asarray(ids, dtype=np.int64)
        idx = torch.as_tensor(ids, device=weight.device)
        rows = None
        if getattr(self.model, "weights_file", None) is not None and weight.device.type == "cpu":
            from ..lm.gemma import read_rows  # the mapped embedding's pages stay out of memory

            rows = read_rows(self.model.weights_file, "model.embed_tokens.weight", ids)
        self._short_weight = rows.to(weight.dtype) if rows is not None else weight[idx].detach().clone()
        self._in_short = torch.zeros(weight.shape[0], dtype=torch.bool, device=weight.device)
        self._in_short[idx] = True
