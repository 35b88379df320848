"""Score columns and the tables of ``garble eval``: the score and its baselines, features alone, ablations, misses."""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping, Optional, Sequence

from ..scorer import LM_FEATURES as LM_KEYS  # the features that need an LM
from .data import Segment
from .metrics import Labels, metric_row

# README figures (all 7,935 rows of mqm_ted_zhen.tsv) that the metric code must reproduce
README_BASELINES = {
    "LM mean surprisal": {"auc_flu": 0.433, "auc_flu_len": 0.502, "spearman": -0.056, "pairwise": 0.522},
    "LM total surprisal": {"auc_flu": 0.671, "auc_flu_len": 0.579, "spearman": 0.319, "pairwise": 0.512},
    "length (chars)": {"auc_flu": 0.670, "auc_flu_len": 0.563, "spearman": 0.301, "pairwise": 0.477},
}


def without_lm(x: Mapping[str, float]) -> dict:
    return {k: v for k, v in x.items() if k not in LM_KEYS}


def detector_logit(x: Mapping[str, float], weights) -> float:
    """The combiner's detector terms only (no bias, LM or length)."""
    return sum(
        weights.detectors.get(k[4:], weights.default_detector_weight) * v for k, v in x.items() if k.startswith("det:")
    )


def has_lm(segs: Sequence[Segment]) -> bool:
    return any(s.lm is not None for s in segs)


def score_columns(
    segs: Sequence[Segment], weights, seed: int = 0, xs: Optional[Sequence[Mapping[str, float]]] = None
) -> dict:
    """Score columns (name -> array) for ``segs``: the combined score and the baselines.

    ``xs``: feature dicts to use instead of ``s.x`` (ablations).
    """
    import numpy as np

    xs = list(xs) if xs is not None else [s.x for s in segs]
    cols = {"garble": np.array([weights.score(x) for x in xs])}
    lm = has_lm(segs)
    if lm:
        cols["garble --no-lm"] = np.array([weights.score(without_lm(x)) for x in xs])
    cols["detectors alone"] = np.array([detector_logit(x, weights) for x in xs])
    if lm:
        mean = np.array([s.lm["mean_surprisal"] if s.lm else 0.0 for s in segs])
        ntok = np.array([s.lm["n_tokens"] if s.lm else 0 for s in segs])
        cols["LM mean surprisal"] = mean
        cols["LM total surprisal"] = mean * ntok
    cols["length (chars)"] = np.array([s.chars for s in segs], dtype=float)
    cols["random"] = np.random.default_rng(seed).random(len(segs))
    return cols


def feature_table(segs: Sequence[Segment]) -> dict:
    """Every feature of the combiner alone (absent = 0), as a score column: its metrics."""
    lab = Labels.of(segs)
    keys = sorted({k for s in segs for k in s.x})
    return {k: metric_row([s.x.get(k, 0.0) for s in segs], lab) for k in keys}


def evaluation_table(segs: Sequence[Segment], weights, seed: int = 0) -> dict:
    """``{"n": .., "n_flu": .., "n_clean": .., "n_major": .., "rows": {column: metrics}}`` for ``segs``."""
    lab = Labels.of(segs)
    cols = score_columns(segs, weights, seed)
    return {
        "n": len(segs),
        "n_flu": int((lab.flu > 0).sum()),
        "n_major": int((lab.major > 0).sum()),
        "n_clean": int((lab.mqm == 0).sum()),
        "docs": sorted({s.row.doc for s in segs}),
        "rows": {name: metric_row(score, lab) for name, score in cols.items()},
    }


def ablation_table(segs: Sequence[Segment], weights) -> dict:
    """Metrics of the combined score with each detector's feature removed (no refit), and with no LM."""
    lab = Labels.of(segs)
    full = metric_row([weights.score(s.x) for s in segs], lab)
    names = sorted({k[4:] for s in segs for k in s.x if k.startswith("det:")})
    out = {"(none removed)": full}
    for n in names:
        xs = [{k: v for k, v in s.x.items() if k != f"det:{n}"} for s in segs]
        out[f"-{n}"] = metric_row([weights.score(x) for x in xs], lab)
    if has_lm(segs):
        out["-LM (all LM features)"] = metric_row([weights.score(without_lm(s.x)) for s in segs], lab)
        for k in LM_KEYS:
            out[f"-{k}"] = metric_row([weights.score({a: b for a, b in s.x.items() if a != k}) for s in segs], lab)
    out["-log_chars"] = metric_row(
        [weights.score({a: b for a, b in s.x.items() if a != "log_chars"}) for s in segs], lab
    )
    fires = {n: sum(1 for s in segs if s.x.get(f"det:{n}", 0) > 0) for n in names}
    return {"rows": out, "fires": fires}


def misses_and_false_alarms(segs: Sequence[Segment], score, n: int = 20) -> dict:
    """The ``n`` fluency-major segments scored lowest (misses) and the ``n`` error-free segments scored highest (false
    alarms)."""
    import numpy as np

    s = np.asarray(score, dtype=float)
    # within-document rank percentile: what a reviewer sees (0 = top of the list)
    pct = np.zeros(len(segs))
    by: dict = defaultdict(list)
    for i, seg in enumerate(segs):
        by[(seg.row.system, seg.row.doc)].append(i)
    for idx in by.values():
        order = sorted(idx, key=lambda i: (-s[i], i))
        for r, i in enumerate(order):
            pct[i] = r / max(len(order) - 1, 1)

    def item(i):
        seg = segs[i]
        return {
            "system": seg.row.system,
            "doc": seg.row.doc,
            "seg": seg.row.seg,
            "mqm": seg.row.mqm,
            "major": seg.row.major,
            "fluency_major": seg.row.fluency_major,
            "categories": list(seg.row.categories),
            "score": float(s[i]),
            "doc_rank_pct": float(pct[i]),
            "findings": [f"{f[0]}:{f[1]} {f[2]}" for f in seg.findings[:3]],
            "text": seg.row.text,
        }

    pos = [i for i, seg in enumerate(segs) if seg.row.fluency_major > 0]
    neg = [i for i, seg in enumerate(segs) if seg.row.mqm == 0]
    misses = sorted(pos, key=lambda i: (s[i], -segs[i].row.fluency_major, i))[:n]
    alarms = sorted(neg, key=lambda i: (-s[i], i))[:n]
    return {"misses": [item(i) for i in misses], "false_alarms": [item(i) for i in alarms]}
