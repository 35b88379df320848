"""The caches of ``garble eval``: LM surprisals and streams by content, feature vectors by file and detector set.

The expensive part, the LM's token surprisals, is cached by content (model,
context, text) in ``<cache>/lm/<model>.jsonl`` (:class:`CachedLM`), so a new
detector, a corrupted copy of a document (synthetic errors) or a changed file
only pays for unseen texts. The feature vectors of a file's segments are
cached under ``<cache>/features``, keyed by the file's hash, the model and the
detector set (names and source code: :func:`detector_signature`).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

from ..lm import is_lm


def cache_root() -> Path:
    """``$GARBLE_CACHE/eval`` when set, else ``out/cache`` (ignored by git)."""
    env = os.environ.get("GARBLE_CACHE")
    return Path(env) / "eval" if env else Path("out") / "cache"


class CachedLM:
    """A memoising wrapper around :class:`garble.lm.LanguageModel` (same ``score`` signature).

    Results are keyed by (max_tokens, context, text) and appended to a JSONL
    file, so an interrupted run keeps its progress and any later run (another
    detector set, corrupted copies of documents) pays only for unseen texts.
    ``lm`` may be a zero-argument callable that builds the model: it is then
    only loaded when a text is missing from the cache.
    """

    def __init__(self, lm, path: Optional[Path] = None, name: Optional[str] = None, cache_id: Optional[str] = None):
        self._lm = lm
        self.name = name or getattr(lm, "name", "lm")
        # what the feature caches are keyed on: the model and the numerics it runs in
        self.cache_id = cache_id or self.name
        self.path = Path(path) if path else None
        self._mem: dict[str, object] = {}
        self.hits = 0
        self.misses = 0
        # key -> key of a stand-in result, used only when the key itself is not cached
        # (synthetic errors: the unit after a corrupted one keeps its clean-context score)
        self.alias: dict[str, str] = {}
        if self.path and self.path.is_file():
            from ..lm import TokenScores

            with open(self.path, encoding="utf-8") as fh:
                for ln in fh:
                    try:
                        d = json.loads(ln)
                    except ValueError:
                        continue  # a line cut short by an interrupted run
                    self._mem[d["k"]] = TokenScores(tuple(d["s"]), tuple(tuple(o) for o in d["o"]), bool(d["t"]))

    @property
    def lm(self):
        if callable(self._lm) and not is_lm(self._lm):  # a maker, called on first use
            self._lm = self._lm()
        return self._lm

    @property
    def max_tokens(self) -> int:
        return getattr(self._lm, "max_tokens", 256) if is_lm(self._lm) else 256

    def _key(self, text: str, ctx: Optional[str]) -> str:
        return hashlib.sha1(f"{self.max_tokens}\x00{ctx or ''}\x00{text}".encode("utf-8")).hexdigest()

    def score(self, texts: Sequence[str], contexts: Optional[Sequence[Optional[str]]] = None):
        ctxs = list(contexts) if contexts is not None else [None] * len(texts)
        keys = [self._key(t, c) for t, c in zip(texts, ctxs)]
        if self.alias:
            keys = [self.alias[k] if k not in self._mem and self.alias.get(k) in self._mem else k for k in keys]
        todo: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k not in self._mem and k not in todo:
                todo[k] = i
        self.misses += len(todo)
        self.hits += len(keys) - len(todo)
        if todo:
            idx = list(todo.values())
            sub_ctx = [ctxs[i] for i in idx]
            res = self.lm.score([texts[i] for i in idx], sub_ctx if any(sub_ctx) else None)
            for i, r in zip(idx, res):
                self._mem[keys[i]] = r
            self._append([(keys[i], r) for i, r in zip(idx, res)])
        return [self._mem[k] for k in keys]

    def _append(self, items: Sequence[tuple[str, object]]) -> None:
        """Append ``(key, TokenScores)`` records to the cache file (if any)."""
        if not (self.path and items):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            for k, r in items:
                record = {"k": k, "s": list(r.surprisals), "o": [list(o) for o in r.offsets], "t": r.truncated}
                fh.write(json.dumps(record) + "\n")

    # -- one-pass streams (garble.lm.LanguageModel.score_stream) -------------
    @property
    def tagger(self):
        """The error-model head applied to cached streams (the packaged one for this model; ``False`` in ``__init__``'s
        ``tagger``: none)."""
        if not hasattr(self, "_tagger"):
            from ..tagger import load_tagger

            self._tagger = load_tagger(getattr(self, "_tagger_spec", None), self)
        return self._tagger

    def _stream_path(self, text: str) -> Optional[Path]:
        if not self.path:
            return None
        key = hashlib.sha1(f"{self.cache_id}\x00{text}".encode("utf-8")).hexdigest()
        return self.path.parent / "streams" / slug(self.cache_id) / key[:2] / f"{key}.npz"

    def put_stream(self, text: str, st) -> None:
        """Store one stream (hidden states included: the head is applied when it is read)."""
        import numpy as np

        self._streams = getattr(self, "_streams", {})
        self._streams[text] = st
        path = self._stream_path(text)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            offsets=np.asarray(st.offsets, np.int64).reshape(-1, 2),
            s=st.surprisal,
            e=st.entropy,
            r=st.rank,
            end=np.asarray([st.end_surprisal, st.end_entropy, st.end_rank], np.float32),
            h=st.hidden.astype(np.float16),
        )
        os.replace(tmp, path)

    def _get_stream(self, text: str):
        import numpy as np

        from ..lm import TokenStream

        mem = getattr(self, "_streams", {})
        if text in mem:
            return mem[text]
        path = self._stream_path(text)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path) as z:
                end = z["end"]
                st = TokenStream(
                    tuple(map(tuple, z["offsets"].tolist())),
                    z["s"],
                    z["e"],
                    z["r"],
                    float(end[0]),
                    None,
                    z["h"].astype(np.float32),
                    float(end[1]),
                    int(end[2]),
                )
        except (OSError, ValueError, KeyError):
            return None
        return st

    def score_stream(self, texts: Sequence[str], keep_hidden: bool = False):
        """:meth:`garble.lm.LanguageModel.score_stream` through the cache (one file per text)."""
        import dataclasses

        texts = list(texts)
        got = {t: self._get_stream(t) for t in dict.fromkeys(texts)}
        todo = [t for t, v in got.items() if v is None]
        self.misses += len(todo)
        self.hits += len(got) - len(todo)
        if todo:
            for t, st in zip(todo, self.lm.score_stream(todo, keep_hidden=True)):
                self.put_stream(t, st)
                got[t] = st
        out = []
        for t in texts:
            st = got[t]
            p = None
            if self.tagger is not None:
                from ..tagger import stream_matrix

                p = self.tagger.predict(stream_matrix(st))
            out.append(dataclasses.replace(st, p_error=p, hidden=st.hidden if keep_hidden else None))
        return out

    def prefill(self, texts: Sequence[str]) -> None:
        """Fill the cache for one document's units, alone and after the previous unit, with one pass
        (:meth:`garble.lm.LanguageModel.score_pairs`: the alone scores of unit i-1 are read off the
        sequence that scores unit i after it). Needs a model with ``score_pairs``.
        """
        texts = list(texts)
        n = len(texts)
        if n == 0:
            return
        todo = [i for i in range(1, n) if self._key(texts[i], texts[i - 1]) not in self._mem]
        if todo:
            lm = self.lm
            ctx_res, alone_res = lm.score_pairs([texts[i] for i in todo], [texts[i - 1] for i in todo])
            new = []
            for i, r, a in zip(todo, ctx_res, alone_res):
                for key, val in ((self._key(texts[i], texts[i - 1]), r), (self._key(texts[i - 1], None), a)):
                    if val is not None and key not in self._mem:
                        self._mem[key] = val
                        new.append((key, val))
            self.misses += len(todo)
            self._append(new)
        self.score(texts)  # units whose alone score was not a by-product (the last, long contexts)


def slug(s: str) -> str:
    """``s`` as a file name (the last 80 characters; letters, digits, ``-_.``)."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in s)[-80:]


def make_cached_lm(
    model: Optional[str] = None, device: str = "auto", dtype: str = "auto", cache: Optional[Path] = None
) -> CachedLM:
    """A :class:`CachedLM` over the named model (loaded lazily, only on a cache miss)."""
    from ..lm import DEFAULT_MODEL, _pick_device, _pick_dtype

    name = model or DEFAULT_MODEL
    root = Path(cache) if cache else cache_root()
    # bfloat16 and float32 surprisals differ in the second decimal: never mix them in one cache
    # (dtype "auto" resolves per machine: bfloat16 on a CPU with native bf16, else float32)
    dev = _pick_device(device)
    numerics = str(_pick_dtype(dtype, dev)).replace("torch.", "")
    cache_id = f"{name}-{numerics}"

    def build():
        from ..lm import LanguageModel

        return LanguageModel(model, device=device, dtype=dtype, tagger=False)

    return CachedLM(build, root / "lm" / f"{slug(cache_id)}.jsonl", name=name, cache_id=cache_id)


def detector_signature(detectors: Sequence) -> str:
    """Names and source code of a detector set, and of the feature extraction
    (:mod:`garble.scorer`, :mod:`garble.api`, :mod:`garble.lexicon`): a changed
    detector or feature changes the cache key."""
    h = hashlib.sha256()
    from .. import api, lexicon, readings, scorer, tagger

    for m in (api, lexicon, scorer, readings, tagger):
        h.update(inspect.getsource(m).encode())
    from ..lm import DEFAULT_MODEL

    head = tagger.packaged_head(DEFAULT_MODEL)
    if head is not None:
        h.update(head.read_bytes())
        card = head.with_suffix(".json")
        if card.is_file():  # the finding threshold lives in the card
            h.update(card.read_bytes())
    for d in sorted(detectors, key=lambda d: d.name):
        h.update(d.name.encode())
        try:
            h.update(inspect.getsource(sys.modules[type(d).__module__]).encode())
        except (OSError, TypeError, KeyError):
            h.update(repr(vars(d)).encode())
    return h.hexdigest()[:16]


def model_key(lm) -> str:
    """What the feature caches call ``lm``: its ``cache_id`` (model and numerics), else its name; ``no-lm``."""
    return (getattr(lm, "cache_id", None) or getattr(lm, "name", "lm")) if lm is not None else "no-lm"


def features_cache_path(
    data_hash: str,
    model_name: str,
    detectors: Sequence,
    context: bool,
    cache: Optional[Path],
    with_source: bool = False,
    kind: str = "features",
) -> Path:
    """The cache file of the feature vectors of some data (``data_hash``) read by a model and a detector set.

    ``kind``: the folder (``features``: an annotated file's segments; ``synth``: synthetic pairs).
    """
    root = Path(cache) if cache else cache_root()
    reading = f"{'ctx' if context else 'noctx'}{'-src' if with_source else ''}"
    return root / kind / f"{data_hash[:16]}-{slug(model_name)}-{reading}-{detector_signature(detectors)}.jsonl"


def read_cached(path: Path, make: Callable[[dict], object], n: int) -> Optional[list]:
    """``make`` applied to each record of a JSONL cache file.

    ``None`` when the file is missing, stale, cut short or not ``n`` records long.
    """
    if not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            got = [make(json.loads(ln)) for ln in fh]
    except (ValueError, KeyError, TypeError):
        return None
    return got if len(got) == n else None


def write_jsonl(path: Path, records: Iterable[dict]) -> None:
    """Write ``records`` as JSON lines, atomically (a temporary file renamed over ``path``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
    os.replace(tmp, path)
