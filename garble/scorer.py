"""Combine LM features and detector findings into one review score per unit.

The combiner is a logistic model over a small, named feature vector:

* ``det:<name>`` — for each detector, the noisy-OR of its finding weights in
  the unit (0 when it found nothing);
* ``lm_mean`` — the unit's mean token surprisal, each token read after all
  the document's text before it (one LM pass per document; a corpus line
  alone); ``lm_total`` the same summed over its tokens; ``lm_log_tokens`` —
  log(1 + its number of tokens);
* ``lm_rel_median`` — ``lm_mean`` minus the document's median (how much less
  fluent than its neighbours; 0 for a one-unit document);
* ``lm_max`` — the largest token surprisal in the unit;
* ``lm_end`` — the surprisal of what follows the unit (a newline after the
  last one): high when a unit stops mid-sentence or lacks its full stop;
* ``lm_excess`` — mean surprisal minus the mean entropy of the predicted
  distributions: tokens less likely than the model's own uncertainty allows;
* ``lm_slor`` — ``lm_mean`` minus its words' unigram surprisal (wordfreq) per
  token: the negated SLOR of Lau et al. (2017) and Kann et al. (2018), which
  separates an unlikely sentence from one that is merely made of rare words;
* ``err_mean``, ``err_max``, ``err_top``, ``err_sum`` — the error model's
  token probabilities (:mod:`garble.tagger`) over the unit: mean, max, mean of
  the top 3, log(1 + sum) (the expected number of error tokens);
* ``lm_ctx_gain`` — LMs that only have ``score()`` (two passes): mean surprisal
  alone minus mean surprisal after the previous unit;
* ``log_chars`` — log of the unit length in characters.

Its weights live in a JSON data file (``data/scorer.json`` by default,
written by ``scripts/fit_scorer.py``, see :mod:`garble.combiner`). A feature a
weights file does not name contributes nothing; a detector it does not name
gets ``default_detector_weight``, so a new detector counts without a refit.
Units with LM features but no error-model features (an LM without a head) are
scored by the file's ``no_error_model`` weights, fitted without them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

from .errors import UsageError
from .lexicon import unigram_surprisal  # noqa: F401 (re-exported: a feature source)
from .resources import load_json
from .types import Finding, LMFeatures

LM_FEATURES = (
    "lm_rel_median",
    "lm_max",
    "lm_ctx_gain",
    "lm_slor",
    "lm_mean",
    "lm_log_tokens",
    "lm_total",
    "lm_end",
    "lm_excess",
    "err_mean",
    "err_max",
    "err_top",
    "err_sum",
)
#: findings that are not detector evidence: the error model's spans (their evidence is the err_* features)
#: and the QE word head's (``adequacy``: its evidence is the QE score itself)
NOT_DETECTORS = frozenset({"tagger", "adequacy"})


def distinct_evidence(findings: Sequence[Finding], overlap: float = 0.5) -> list[Finding]:
    """Findings with cross-detector duplicates removed.

    Two detectors may flag the same thing ("2024.Photo" is both a missing space
    and glued words); that is one piece of evidence, so of findings from
    different detectors whose spans overlap by at least ``overlap`` of the
    shorter span, only the strongest counts. All findings still show as reasons.
    """
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda f: -f.weight):
        flen = max(f.end - f.start, 1)
        dup = False
        for g in kept:
            if g.detector == f.detector:
                continue
            inter = min(f.end, g.end) - max(f.start, g.start)
            if inter > 0 and inter >= overlap * min(flen, max(g.end - g.start, 1)):
                dup = True
                break
        if not dup:
            kept.append(f)
    return kept


def detector_strengths(findings: Sequence[Finding]) -> dict[str, float]:
    """Per detector, the noisy-OR of its finding weights (after :func:`distinct_evidence`)."""
    keep: dict[str, float] = {}
    for f in distinct_evidence([f for f in findings if f.detector not in NOT_DETECTORS]):
        keep[f.detector] = 1.0 - (1.0 - keep.get(f.detector, 0.0)) * (1.0 - f.weight)
    return keep


def unit_features(text: str, findings: Sequence[Finding], lm: Optional[LMFeatures]) -> dict[str, float]:
    """The named feature vector of one unit (see module docstring)."""
    x = {f"det:{k}": v for k, v in detector_strengths(findings).items()}
    x["log_chars"] = math.log1p(len(text))
    if lm is not None:
        x["lm_rel_median"] = lm.rel_median
        x["lm_max"] = lm.max_surprisal
        x["lm_mean"] = lm.mean_surprisal
        x["lm_log_tokens"] = math.log1p(lm.n_tokens)
        x["lm_total"] = lm.mean_surprisal * lm.n_tokens
        if lm.context_mean_surprisal is not None:
            x["lm_ctx_gain"] = lm.mean_surprisal - lm.context_mean_surprisal
        if lm.slor is not None:
            x["lm_slor"] = lm.slor
        if lm.end_surprisal is not None:
            x["lm_end"] = lm.end_surprisal
        if lm.mean_entropy is not None:
            x["lm_excess"] = lm.mean_surprisal - lm.mean_entropy
        if lm.error_p_mean is not None:
            x["err_mean"] = lm.error_p_mean
            x["err_max"] = lm.error_p_max
            x["err_top"] = lm.error_p_top
            x["err_sum"] = math.log1p(lm.error_p_sum)
    return x


@dataclass
class Weights:
    """A logistic combiner: ``score = sigmoid(bias + sum_k w_k * (x_k - center_k) / scale_k)``."""

    bias: float
    detectors: dict[str, float]
    features: dict[str, dict[str, float]]
    default_detector_weight: float
    no_lm_bias: Optional[float] = None  # used instead of bias when no LM features are present
    source: str = ""
    extra: dict = field(default_factory=dict)
    # the weights used for units that have LM features but no error-model features (an LM without a
    # head, see garble.tagger): fitted on the same data without the err_* features
    no_error_model: Optional["Weights"] = None

    @classmethod
    def load(cls, path: Union[str, Path, None] = None) -> "Weights":
        """Weights from a JSON file, or the packaged default (``data/scorer.json``)."""
        if path is None:
            raw = load_json("scorer.json")
        else:
            try:
                raw = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise UsageError(f"cannot read scorer weights: {e}", path=str(path)) from e
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: Mapping) -> "Weights":
        try:
            return cls(
                bias=float(raw["bias"]),
                detectors={k: float(v) for k, v in raw.get("detectors", {}).items()},
                features={
                    k: {
                        "weight": float(v["weight"]),
                        "center": float(v.get("center", 0.0)),
                        "scale": float(v.get("scale", 1.0)) or 1.0,
                    }
                    for k, v in raw.get("features", {}).items()
                },
                default_detector_weight=float(raw.get("default_detector_weight", 4.0)),
                no_lm_bias=None if raw.get("no_lm_bias") is None else float(raw["no_lm_bias"]),
                source=str(raw.get("source", "")),
                extra={
                    k: v
                    for k, v in raw.items()
                    if k
                    not in {
                        "bias",
                        "detectors",
                        "features",
                        "default_detector_weight",
                        "no_lm_bias",
                        "source",
                        "no_error_model",
                    }
                },
                no_error_model=cls.from_dict(raw["no_error_model"])
                if isinstance(raw.get("no_error_model"), Mapping)
                else None,
            )
        except (KeyError, TypeError, ValueError) as e:
            raise UsageError(f"malformed scorer weights: {e!r}") from e

    def to_dict(self) -> dict:
        d = {
            "source": self.source,
            "bias": self.bias,
            "no_lm_bias": self.no_lm_bias,
            "default_detector_weight": self.default_detector_weight,
            "detectors": self.detectors,
            "features": self.features,
            **self.extra,
        }
        if self.no_error_model is not None:
            d["no_error_model"] = self.no_error_model.to_dict()
        return d

    def logit(self, x: Mapping[str, float]) -> float:
        if self.no_error_model is not None and "err_mean" not in x and "lm_mean" in x:
            return self.no_error_model.logit(x)
        has_lm = any(k in x for k in LM_FEATURES)
        z = self.bias if (has_lm or self.no_lm_bias is None) else self.no_lm_bias
        for k, v in x.items():
            if k.startswith("det:"):
                z += self.detectors.get(k[4:], self.default_detector_weight) * v
            elif k in self.features:
                f = self.features[k]
                z += f["weight"] * (v - f["center"]) / f["scale"]
        return z

    def detector_logit(self, x: Mapping[str, float]) -> float:
        """What the detectors' evidence adds to a logit: ``sum_d w_d * strength_d`` (no bias, no LM feature)."""
        return sum(
            self.detectors.get(k[4:], self.default_detector_weight) * v for k, v in x.items() if k.startswith("det:")
        )

    def with_qe(self, p_fix: float, x: Mapping[str, float], scale: float = 1.0) -> float:
        """The score of a unit with a source-aware QE estimate: the QE's ``p_fix`` is the backbone and each
        detector's evidence adds ``scale`` times its weight to its logit (a unit with no finding scores ``p_fix``)."""
        p = min(max(p_fix, 1e-6), 1 - 1e-6)
        z = math.log(p / (1 - p)) + scale * self.detector_logit(x)
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def score(self, x: Mapping[str, float]) -> float:
        z = self.logit(x)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
