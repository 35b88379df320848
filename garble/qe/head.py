"""The learned heads on the source-reading LM: sentence quality (a DA z-score) and word adequacy (p of BAD).

Each is a standardised linear model: ``y = ((x - mean) / scale) @ coef + intercept`` (a probability through the
logistic function for the word head), fitted by ``scripts/fit_qe.py`` (a ridge in numpy; scikit-learn's
LogisticRegression) and stored as a ``.npz`` of plain arrays beside a JSON card (data, date, metrics, the LM
it belongs to). A column the head does not use has weight 0 (the sentence head reads only the MT tokens'
pooled states, not the source tokens'). Scoring needs numpy only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import numpy as np

from ..errors import UsageError


@dataclass
class LinearHead:
    """``predict(X)``: a linear model on standardised features. ``kind`` is ``"regression"`` or ``"logistic"``;
    ``threshold`` is the logistic head's decision threshold (chosen on held-out rows); ``card`` what it is."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    kind: str = "regression"
    threshold: float = 0.5
    card: dict[str, Any] = field(default_factory=dict)

    def decision(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.shape[1] != len(self.coef):
            raise UsageError(f"head expects {len(self.coef)} features, got {x.shape[1]}")
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def predict(self, x: np.ndarray) -> np.ndarray:
        d = self.decision(x)
        return 1.0 / (1.0 + np.exp(-d)) if self.kind == "logistic" else d

    def offset(self, language: Optional[str]) -> float:
        """What the sentence head adds for translations from ``language`` (an English language name), from its
        card's ``source_offsets``: the head is fitted on each pair's own centred features, so a pair seen in
        fitting gets its mean back; 0 for any other language (or a head without offsets)."""
        return float(self.card.get("source_offsets", {}).get(language or "", 0.0))

    @classmethod
    def from_sklearn(cls, scaler, model, kind: str = "regression", **kw) -> "LinearHead":
        coef = np.ravel(model.coef_).astype(np.float64)
        intercept = float(np.ravel(model.intercept_)[0]) if np.ndim(model.intercept_) else float(model.intercept_)
        scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
        return cls(scaler.mean_.astype(np.float64), scale.astype(np.float64), coef, intercept, kind, **kw)

    def save(self, path: Union[str, Path]) -> None:
        path = Path(path)
        np.savez_compressed(
            path,
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=np.float64(self.intercept),
            threshold=np.float64(self.threshold),
            kind=np.array(self.kind),
        )
        path.with_suffix(".json").write_text(json.dumps(self.card, indent=1, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, path: Union[str, Path]) -> "LinearHead":
        path = Path(path)
        try:
            with np.load(path) as z:
                head = cls(
                    z["mean"].astype(np.float64),
                    z["scale"].astype(np.float64),
                    z["coef"].astype(np.float64),
                    float(z["intercept"]),
                    str(z["kind"]),
                    float(z["threshold"]),
                )
        except (OSError, KeyError, ValueError) as e:
            raise UsageError(f"{path}: not a garble QE head ({e})") from None
        card = path.with_suffix(".json")
        if card.is_file():
            head.card = json.loads(card.read_text())
        return head


def packaged(name: str, missing_ok: bool = False) -> Optional[LinearHead]:
    """A head shipped in garble's data folder (``qe_sentence.npz``, ``qe_words.npz``); None for a missing one
    when ``missing_ok``."""
    from importlib import resources

    path = resources.files("garble.data").joinpath(name)
    if missing_ok and not path.is_file():
        return None
    return LinearHead.load(Path(str(path)))
