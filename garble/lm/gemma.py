"""A Gemma 3 text decoder in plain torch: the source-reading model (Gemma 3 270M) without transformers.

It computes what ``transformers.Gemma3ForCausalLM`` computes for right-padded batches with no cache:
sliding-window and global attention layers (each with its own rotary base), RMSNorms that scale by
``1 + weight`` in float32, q/k norms before the rotation, a norm before and after both the attention and the
MLP, GeGLU (tanh GELU), embeddings scaled by ``sqrt(hidden_size)`` and an output layer tied to them.
tests/test_gemma.py checks its surprisals and hidden states against transformers' on a tiny random config, in
float32.

Why not transformers' class: start-up and memory. The weights stay mapped from the cached safetensors file
(``safetensors.torch.load_file`` maps it), so the 262k x 640 embedding costs memory only for the rows read:
the tokens of the text and the output shortlist (read from the file, :func:`read_rows`), not 335 MB.
Importing transformers is skipped too. :func:`load` returns ``None`` for what this module does not cover;
:class:`garble.qe.reader.SourceReader` then loads the model with transformers.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import llama
from .llama import Embedding, Linear, Tokenizer, _rotate, _weights


def supported(config: dict) -> bool:
    """Whether :class:`Gemma3` computes this config's model exactly as transformers does."""
    rope = config.get("rope_parameters") or {}
    types = config.get("layer_types") or []
    return (
        config.get("model_type") == "gemma3_text"
        and config.get("hidden_activation", "gelu_pytorch_tanh") == "gelu_pytorch_tanh"
        and not config.get("attention_bias", False)
        and config.get("attn_logit_softcapping") is None
        and not config.get("use_bidirectional_attention", False)
        and len(types) == config.get("num_hidden_layers")
        and all(t in ("sliding_attention", "full_attention") for t in types)
        and all(isinstance(rope.get(t), dict) and rope[t].get("rope_type", "default") == "default" for t in set(types))
    )


class RMSNorm(llama.RMSNorm):
    """Gemma's RMSNorm: in float32, scaled by ``1 + weight``, cast back (Llama's scales after the cast)."""

    def forward(self, x):
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return (x32 * (1.0 + self.weight.float())).type_as(x)


class Attention(nn.Module):
    def __init__(self, c: SimpleNamespace):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.scaling = c.query_pre_attn_scalar**-0.5
        self.q_proj = Linear(c.hidden_size, self.heads * self.head_dim)
        self.k_proj = Linear(c.hidden_size, self.kv_heads * self.head_dim)
        self.v_proj = Linear(c.hidden_size, self.kv_heads * self.head_dim)
        self.o_proj = Linear(self.heads * self.head_dim, c.hidden_size)
        self.q_norm = RMSNorm(self.head_dim, c.rms_norm_eps)
        self.k_norm = RMSNorm(self.head_dim, c.rms_norm_eps)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_norm(self.q_proj(x).view(b, t, self.heads, self.head_dim)).transpose(1, 2)
        k = self.k_norm(self.k_proj(x).view(b, t, self.kv_heads, self.head_dim)).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
        # right padding only: a real token never attends to a later (padding) position, so causal is enough;
        # a sliding layer gets its band mask only when the batch is wider than the window
        o = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            is_causal=mask is None,
            scale=self.scaling,
            enable_gqa=self.kv_heads != self.heads,
        )
        return self.o_proj(o.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))


class MLP(llama.MLP):
    """Llama's gated MLP with tanh GELU for SiLU (GeGLU)."""

    def forward(self, x):
        return self.down_proj(F.gelu(self.gate_proj(x), approximate="tanh") * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c: SimpleNamespace, sliding: bool):
        super().__init__()
        self.sliding = sliding
        self.self_attn = Attention(c)
        self.mlp = MLP(c.hidden_size, c.intermediate_size)
        eps = c.rms_norm_eps
        self.input_layernorm = RMSNorm(c.hidden_size, eps)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, eps)
        self.pre_feedforward_layernorm = RMSNorm(c.hidden_size, eps)
        self.post_feedforward_layernorm = RMSNorm(c.hidden_size, eps)

    def forward(self, h, cos, sin, mask):
        h = h + self.post_attention_layernorm(self.self_attn(self.input_layernorm(h), cos, sin, mask))
        return h + self.post_feedforward_layernorm(self.mlp(self.pre_feedforward_layernorm(h)))


class Config(SimpleNamespace):
    """The config fields garble reads, with transformers' ``get_text_config()``."""

    def get_text_config(self) -> "Config":
        return self


class Decoder(nn.Module):
    """The decoder stack: ``forward(input_ids, attention_mask, output_hidden_states)`` -> ``.last_hidden_state``
    (after the final norm) and ``.hidden_states`` (the scaled embeddings, then each layer's output; the last one
    normed), as transformers returns them."""

    def __init__(self, c: Config):
        super().__init__()
        self.config = c
        self.embed_tokens = Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList(Layer(c, t == "sliding_attention") for t in c.layer_types)
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        for kind in ("sliding_attention", "full_attention"):  # made here, on the CPU, in float32
            self.register_buffer(f"{kind}_inv_freq", llama.inv_freq(c, c.rope_theta[kind]), persistent=False)

    def forward(self, input_ids=None, attention_mask=None, output_hidden_states: bool = False):
        c = self.config
        t = input_ids.shape[1]
        w = self.embed_tokens.weight
        h = F.embedding(input_ids, w) * torch.tensor(c.hidden_size**0.5, dtype=torch.float32).to(w.dtype)
        kinds = ("sliding_attention", "full_attention")
        ropes = {k: llama.rope(getattr(self, f"{k}_inv_freq"), t, h.dtype, h.device) for k in kinds}
        band = None
        if t > c.sliding_window:  # causal and within the window: key k seen from query q when q - window < k <= q
            q_idx = torch.arange(t, device=h.device)[:, None]
            k_idx = torch.arange(t, device=h.device)[None, :]
            band = (k_idx <= q_idx) & (q_idx - k_idx < c.sliding_window)
        states = [h] if output_hidden_states else None
        for layer in self.layers:
            kind = "sliding_attention" if layer.sliding else "full_attention"
            h = layer(h, *ropes[kind], band if layer.sliding else None)
            if states is not None:
                states.append(h)
        h = self.norm(h)
        if states is not None:
            states[-1] = h
        return SimpleNamespace(last_hidden_state=h, hidden_states=tuple(states) if states is not None else None)


class Gemma3(nn.Module):
    """Decoder + tied output layer, with the parts of transformers' interface garble uses (``.model``,
    ``get_output_embeddings()``, ``config.get_text_config()``)."""

    def __init__(self, config: dict):
        super().__init__()
        heads = config["num_attention_heads"]
        rope = config.get("rope_parameters") or {}
        self.config = Config(
            hidden_size=config["hidden_size"],
            num_attention_heads=heads,
            num_key_value_heads=config.get("num_key_value_heads") or heads,
            head_dim=config.get("head_dim") or config["hidden_size"] // heads,
            intermediate_size=config["intermediate_size"],
            num_hidden_layers=config["num_hidden_layers"],
            vocab_size=config["vocab_size"],
            rms_norm_eps=float(config.get("rms_norm_eps", 1e-6)),
            query_pre_attn_scalar=float(config.get("query_pre_attn_scalar") or config.get("head_dim") or 256),
            sliding_window=int(config.get("sliding_window") or 4096),
            layer_types=list(config["layer_types"]),
            rope_theta={k: float(v.get("rope_theta", 10000.0)) for k, v in rope.items()},
            final_logit_softcapping=config.get("final_logit_softcapping"),
            tie_word_embeddings=bool(config.get("tie_word_embeddings", True)),
        )
        for kind in ("sliding_attention", "full_attention"):
            self.config.rope_theta.setdefault(kind, 10000.0)
        self.model = Decoder(self.config)
        self.lm_head = Linear(self.config.hidden_size, self.config.vocab_size)

    def get_output_embeddings(self):
        return self.lm_head

    def forward(self, input_ids=None, attention_mask=None, output_hidden_states: bool = False):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=output_hidden_states)
        logits = self.lm_head(out.last_hidden_state)
        cap = self.config.final_logit_softcapping
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return SimpleNamespace(logits=logits, hidden_states=out.hidden_states)


def load(directory: str, dtype, cache: bool = False) -> Optional[tuple[Gemma3, Tokenizer]]:
    """``(model, tokenizer)`` for a local Gemma 3 text directory this module covers, else ``None``.

    ``cache``: the directory is garble's own: keep weights converted to another ``dtype`` there."""
    d = Path(directory)
    files = [d / "config.json", d / "model.safetensors", d / "tokenizer.json"]
    if not all(f.is_file() for f in files):
        return None
    config = json.loads(files[0].read_text(encoding="utf-8"))
    if not supported(config):
        return None
    model = Gemma3(config)  # parameters on the meta device until the weights are assigned
    state = _weights(files[1], dtype, d if cache else None)
    if "lm_head.weight" not in state:
        if not model.config.tie_word_embeddings:
            return None
        state["lm_head.weight"] = state["model.embed_tokens.weight"]  # one tensor, as transformers ties them
    model.load_state_dict(state, strict=True, assign=True)
    model.weights_file = files[1]  # read_rows reads the shortlist's rows from it
    return model.eval(), Tokenizer(d)


_DTYPES = {"BF16": (np.int16, torch.bfloat16), "F16": (np.float16, torch.float16), "F32": (np.float32, torch.float32)}


def read_rows(path: Path, name: str, ids: np.ndarray, chunk_rows: int = 8192) -> Optional[torch.Tensor]:
    """Rows ``ids`` of matrix ``name`` in safetensors file ``path``, read through the file, not a mapping.

    The weights are mapped from the file, and indexing the mapped 262k x 640 embedding at 32,768 scattered rows
    (the output shortlist) faults in nearly every page of it: 335 MB counted in the process's memory until it
    exits. Reading the file ``chunk_rows`` rows at a time goes through the page cache instead. ``None`` when the
    file has no such 2-D tensor in a dtype this reads."""
    with open(path, "rb") as fh:
        n = int.from_bytes(fh.read(8), "little")
        meta = json.loads(fh.read(n)).get(name)
        if not meta or meta.get("dtype") not in _DTYPES or len(meta.get("shape", ())) != 2:
            return None
        np_dtype, torch_dtype = _DTYPES[meta["dtype"]]
        rows, cols = meta["shape"]
        base = 8 + n + meta["data_offsets"][0]
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty((len(ids), cols), dtype=np_dtype)
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        row_bytes = cols * np.dtype(np_dtype).itemsize
        for lo in range(0, rows, chunk_rows):
            a, b = np.searchsorted(sorted_ids, [lo, lo + chunk_rows])
            if a == b:
                continue
            k = min(chunk_rows, rows - lo)
            fh.seek(base + lo * row_bytes)
            block = np.frombuffer(fh.read(k * row_bytes), dtype=np_dtype).reshape(k, cols)
            out[order[a:b]] = block[sorted_ids[a:b] - lo]
    return torch.from_numpy(out).view(torch_dtype)
