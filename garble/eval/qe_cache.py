"""Features cached by ``scripts/qe_extract.py`` for MLQE-PE, loaded back row by row."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from ..qe.features import aggregates


@dataclass
class CachedRows:
    """Rows of one pair and split, in row order: ``index`` (row numbers in the split), ``agg`` (the sentence
    aggregates), ``pooled`` (sentence vectors) and the per-token arrays of each row (for the word head)."""

    index: np.ndarray
    agg: np.ndarray
    pooled: np.ndarray
    tokens: list[dict]


def load_cached(folder: Path, pair: str, split: str, limit: Optional[int] = None) -> Optional[CachedRows]:
    """Every cached chunk of ``pair``/``split`` (None when there is none), rows in order."""
    files = sorted(Path(folder).glob(f"{pair}-{split}-*.npz"))
    if not files:
        return None
    index, agg, pooled, tokens = [], [], [], []
    for f in files:
        with np.load(f) as npz:
            z = {k: npz[k] for k in npz.files}  # each npz[k] reads the array again: once per file
            cuts = z["cuts"]
            for k, row in enumerate(z["index"]):
                a, b = cuts[k], cuts[k + 1]
                t = {
                    "surprisal": z["surprisal"][a:b],
                    "entropy": z["entropy"][a:b],
                    "rank": z["rank"][a:b],
                    "alone": z["alone"][a:b],
                    "offsets": [tuple(o) for o in z["offsets"][a:b]],
                    "token_hidden": np.nan_to_num(z["token_hidden"][a:b], posinf=65504.0, neginf=-65504.0),
                    "source_tokens": int(z["source_tokens"][k]),
                }
                index.append(int(row))
                agg.append(aggregates(t["surprisal"], t["entropy"], t["rank"], t["alone"], t["source_tokens"]))
                pooled.append(z["pooled"][k])
                tokens.append(t)
        if limit is not None and len(index) >= limit:
            break
    order = np.argsort(index, kind="stable")
    return CachedRows(
        np.asarray(index)[order],
        np.asarray(agg)[order],
        np.asarray(pooled)[order],
        [tokens[i] for i in order],
    )
