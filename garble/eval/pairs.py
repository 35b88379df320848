"""Minimal pairs: ``garble eval pairs FILE``, each sentence of a good/bad pair scored alone."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Callable, Optional

from ..errors import InputError
from ..lm import reads_streams
from .metrics import rounded as _r


def read_pairs(path: Path) -> list[dict]:
    """``{"good", "bad", "type"}`` records of a JSONL file; a bad line is an :class:`InputError` naming it."""
    out = []
    try:
        fh = open(path, encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror or e}", path=str(path)) from None
    with fh:
        for no, ln in enumerate(fh, 1):
            if not ln.strip():
                continue
            try:
                d = json.loads(ln)
                if not isinstance(d, dict) or not isinstance(d.get("good"), str) or not isinstance(d.get("bad"), str):
                    raise ValueError("needs string fields good and bad")
            except ValueError as e:
                raise InputError(f"line {no}: not a minimal pair ({e})", path=str(path)) from None
            out.append({"good": d["good"], "bad": d["bad"], "type": str(d.get("type", "(none)")), "line": no})
    if not out:
        raise InputError("no minimal pairs in the file", path=str(path))
    return out


def evaluate_pairs(path: Path, scorer, progress: Optional[Callable[[str, int, int], None]] = None) -> dict:
    """Detection rate per type on minimal pairs, each sentence scored alone: garble against LM mean and total surprisal
    and length.

    A pair is detected when the bad sentence scores strictly higher than the
    good one (ties count half). All sentences go to the LM in batches first.
    """
    import copy

    from ..combiner import BASELINES, FrozenLM
    from ..scorer import unit_features

    items = read_pairs(path)
    texts = list(dict.fromkeys(t for it in items for t in (it["good"], it["bad"])))
    sc = scorer
    lm = scorer.lm
    if reads_streams(lm):
        streams = {}
        for i in range(0, len(texts), 256):
            streams.update(zip(texts[i : i + 256], lm.score_stream(texts[i : i + 256])))
            if progress:
                progress("sentences", min(i + 256, len(texts)), len(texts))
        sc = copy.copy(scorer)
        sc.lm = FrozenLM(streams, getattr(lm, "name", "lm"), getattr(lm, "tagger", None))
    xs = {}
    for t in texts:
        u = sc.score_units([t]).units[0]
        xs[t] = unit_features(u.text, u.findings, u.lm)
    cols = {"garble": scorer.weights.score, **BASELINES}
    by: dict = defaultdict(lambda: defaultdict(list))
    for it in items:
        for name, f in cols.items():
            d = f(xs[it["bad"]]) - f(xs[it["good"]])
            v = 1.0 if d > 0 else 0.5 if d == 0 else 0.0
            by[it["type"]][name].append(v)
            by["(all)"][name].append(v)
    rows = {
        k: {"n": len(v["garble"]), **{name: _r(sum(x) / len(x)) for name, x in v.items()}}
        for k, v in sorted(by.items(), key=lambda kv: (kv[0] == "(all)", kv[0]))
    }
    return {
        "file": str(path),
        "model": getattr(lm, "name", None) if lm is not None else None,
        "weights": scorer.weights.source,
        "rows": rows,
        "columns": list(cols),
    }


def format_pairs_report(res: dict) -> str:
    """The result of :func:`evaluate_pairs` as a plain-text table."""
    cols = res["columns"]
    lines = [
        f"garble eval pairs {res['file']}  model={res['model'] or 'none (--no-lm)'}",
        "detection rate (bad sentence scores above the good one; ties half), each sentence scored alone",
        "",
    ]
    lines.append("type".ljust(26) + "n".rjust(6) + "".join(c.rjust(20) for c in cols))
    for k, r in res["rows"].items():
        lines.append(
            k.ljust(26)
            + str(r["n"]).rjust(6)
            + "".join(("—" if r[c] is None else f"{r[c]:.3f}").rjust(20) for c in cols)
        )
    return "\n".join(lines) + "\n"
