"""A Llama decoder in plain torch, for fast start-up with Llama-architecture models (the default SmolLM2).

Importing transformers and building a model through its Auto classes costs
seconds before the first token is read (transformers pulls in torch._dynamo,
torch.distributed and sympy); this module needs torch, safetensors and
tokenizers only. It computes what ``transformers.LlamaForCausalLM`` computes
for right-padded batches with no cache: the same RMSNorm (in float32), rotary
embeddings, grouped-query attention and SiLU MLP; tests/test_lm.py checks its
surprisals and hidden states against transformers' on the same weights.

:func:`load` returns ``None`` for anything it does not cover (another
architecture, rope scaling, biases, a GGUF file, no ``tokenizer.json``);
:class:`garble.lm.LanguageModel` then loads the model with transformers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Optional

import torch
from torch import nn
from torch.nn import functional as F


def supported(config: dict) -> bool:
    """Whether :class:`Llama` computes this config's model exactly as transformers does."""
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    return (
        config.get("model_type") == "llama"
        and rope_type == "default"
        and config.get("hidden_act", "silu") == "silu"
        and not config.get("attention_bias", False)
        and not config.get("mlp_bias", False)
        and config.get("pretraining_tp", 1) == 1
    )


def _rope_theta(config: dict) -> float:
    rope = config.get("rope_parameters") or {}
    return float(rope.get("rope_theta", config.get("rope_theta", 10000.0)))


class Linear(nn.Linear):
    """An ``nn.Linear`` without bias, made on the meta device and not initialised (the weights are loaded)."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__(n_in, n_out, bias=False, device="meta")

    def reset_parameters(self) -> None:  # random init on the meta device would import torch._dynamo
        pass


class Embedding(nn.Embedding):
    def __init__(self, n: int, dim: int):
        super().__init__(n, dim, device="meta")

    def reset_parameters(self) -> None:
        pass


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(size, device="meta"))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        x32 = x.to(torch.float32)
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(dtype)


class Attention(nn.Module):
    def __init__(self, hidden: int, heads: int, kv_heads: int, head_dim: int):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, head_dim
        self.q_proj = Linear(hidden, heads * head_dim)
        self.k_proj = Linear(hidden, kv_heads * head_dim)
        self.v_proj = Linear(hidden, kv_heads * head_dim)
        self.o_proj = Linear(heads * head_dim, hidden)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = _rotate(q, cos, sin), _rotate(k, cos, sin)
        # right padding only: a real token never attends to a later (padding) position. enable_gqa reads each
        # key/value head for its group of query heads: the same numbers as repeating them, a third faster on CPU
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.kv_heads != self.heads)
        return self.o_proj(o.transpose(1, 2).reshape(b, t, self.heads * self.head_dim))


def _rotate(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class MLP(nn.Module):
    def __init__(self, hidden: int, inner: int):
        super().__init__()
        self.gate_proj = Linear(hidden, inner)
        self.up_proj = Linear(hidden, inner)
        self.down_proj = Linear(inner, hidden)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c: SimpleNamespace):
        super().__init__()
        self.self_attn = Attention(c.hidden_size, c.num_attention_heads, c.num_key_value_heads, c.head_dim)
        self.mlp = MLP(c.hidden_size, c.intermediate_size)
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)

    def forward(self, h, cos, sin):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin)
        return h + self.mlp(self.post_attention_layernorm(h))


def inv_freq(c: SimpleNamespace, theta: Optional[float] = None):
    """Rotary frequencies (float32, as transformers computes them for the default rope); ``theta``: another base
    than ``c.rope_theta``."""
    base = c.rope_theta if theta is None else theta
    return 1.0 / (base ** (torch.arange(0, c.head_dim, 2, dtype=torch.float32) / c.head_dim))


def rope(freq, t: int, dtype, device):
    """cos and sin of positions 0..t-1 at frequencies ``freq``, shaped to broadcast over (batch, heads)."""
    pos = torch.arange(t, device=device, dtype=torch.float32)
    freqs = torch.outer(pos, freq.to(device))
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype)[None, None], emb.sin().to(dtype)[None, None]


class Decoder(nn.Module):
    """The decoder stack: ``forward(input_ids, attention_mask)`` -> ``.last_hidden_state`` (after the final norm)."""

    def __init__(self, c: SimpleNamespace):
        super().__init__()
        self.config = c
        self.embed_tokens = Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList(Layer(c) for _ in range(c.num_hidden_layers))
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.register_buffer("inv_freq", inv_freq(c), persistent=False)  # made here, on the CPU

    def rotary(self, t: int, dtype, device):
        return rope(self.inv_freq, t, dtype, device)

    def forward(self, input_ids=None, attention_mask=None, output_hidden_states: bool = False):
        h = self.embed_tokens(input_ids)
        cos, sin = self.rotary(input_ids.shape[1], h.dtype, h.device)
        states = [h] if output_hidden_states else None
        for layer in self.layers:
            h = layer(h, cos, sin)
            if states is not None:
                states.append(h)
        h = self.norm(h)
        if states is not None:
            states[-1] = h
        return SimpleNamespace(last_hidden_state=h, hidden_states=tuple(states) if states is not None else None)


class Llama(nn.Module):
    """Decoder + output layer, with the parts of transformers' interface garble uses."""

    def __init__(self, config: dict):
        super().__init__()
        hidden, heads = config["hidden_size"], config["num_attention_heads"]
        self.config = SimpleNamespace(
            hidden_size=hidden,
            num_attention_heads=heads,
            num_key_value_heads=config.get("num_key_value_heads") or heads,
            head_dim=config.get("head_dim") or hidden // heads,
            intermediate_size=config["intermediate_size"],
            num_hidden_layers=config["num_hidden_layers"],
            vocab_size=config["vocab_size"],
            rms_norm_eps=float(config.get("rms_norm_eps", 1e-6)),
            rope_theta=_rope_theta(config),
            tie_word_embeddings=bool(config.get("tie_word_embeddings", False)),
        )
        self.model = Decoder(self.config)
        self.lm_head = Linear(hidden, self.config.vocab_size)

    def get_decoder(self):
        return self.model

    def get_output_embeddings(self):
        return self.lm_head

    def forward(self, input_ids=None, attention_mask=None, output_hidden_states: bool = False):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=output_hidden_states)
        return SimpleNamespace(logits=self.lm_head(out.last_hidden_state), hidden_states=out.hidden_states)


class Tokenizer:
    """A ``tokenizers`` tokenizer with the slice of transformers' fast-tokenizer interface garble uses."""

    is_fast = True

    def __init__(self, directory: Path):
        from tokenizers import Tokenizer as RustTokenizer

        self._tok = RustTokenizer.from_file(str(directory / "tokenizer.json"))
        cfg_path = directory / "tokenizer_config.json"
        cfg = json.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.is_file() else {}

        def special(key: str) -> Optional[int]:
            tok = cfg.get(key)
            if isinstance(tok, dict):
                tok = tok.get("content")
            return self._tok.token_to_id(tok) if isinstance(tok, str) else None

        self.bos_token_id, self.eos_token_id = special("bos_token"), special("eos_token")
        self.pad_token_id, self.unk_token_id = special("pad_token"), special("unk_token")

    def __len__(self) -> int:
        return self._tok.get_vocab_size(with_added_tokens=True)

    def __call__(self, texts, add_special_tokens: bool = True, return_offsets_mapping: bool = False) -> dict[str, Any]:
        single = isinstance(texts, str)
        encs = self._tok.encode_batch([texts] if single else list(texts), add_special_tokens=add_special_tokens)
        out: dict[str, Any] = {"input_ids": [e.ids for e in encs]}
        if return_offsets_mapping:
            out["offset_mapping"] = [e.offsets for e in encs]
        return {k: v[0] for k, v in out.items()} if single else out


def _weights(path: Path, dtype, cache: Optional[Path]) -> dict:
    """The checkpoint's tensors in ``dtype``; with ``cache``, converted once and kept beside it.

    Converting 135M float32 weights to bfloat16 costs about a second at every
    start; the cached copy (written atomically) loads as fast as the original.
    """
    from safetensors.torch import load_file, save_file

    name = str(dtype).replace("torch.", "")
    copy = cache / f"model.{name}.safetensors" if cache is not None else None
    if copy is not None and copy.is_file() and copy.stat().st_mtime >= path.stat().st_mtime:
        return load_file(str(copy))
    original = load_file(str(path))
    state = {k: v.to(dtype) for k, v in original.items()}
    if copy is not None and any(v.dtype != dtype for v in original.values()):
        tmp = copy.with_name(f".{copy.name}.{os.getpid()}.tmp")
        try:
            save_file({k: v.contiguous() for k, v in state.items()}, str(tmp))
            os.replace(tmp, copy)
        except OSError:  # a read-only cache: convert at every start
            tmp.unlink(missing_ok=True)
    return state


def load(directory: str, dtype, cache: bool = False) -> Optional[tuple[Llama, Tokenizer]]:
    """``(model, tokenizer)`` for a local Llama directory this module covers, else ``None``.

    ``cache``: the directory is garble's own (the default model's): keep the
    weights converted to ``dtype`` there.
    """
    d = Path(directory)
    files = [d / "config.json", d / "model.safetensors", d / "tokenizer.json"]
    if not all(f.is_file() for f in files):
        return None
    config = json.loads(files[0].read_text(encoding="utf-8"))
    if not supported(config):
        return None
    model = Llama(config)  # parameters on the meta device until the weights are assigned
    state = _weights(files[1], dtype, d if cache else None)
    if "lm_head.weight" not in state and not model.config.tie_word_embeddings:
        return None
    if model.config.tie_word_embeddings:
        state["lm_head.weight"] = state["model.embed_tokens.weight"]  # one tensor, as transformers ties them
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval(), Tokenizer(d)
