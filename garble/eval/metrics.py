"""The metrics of ``garble eval`` (numpy/scipy; pure functions, tested on hand-computed examples).

:func:`metric_row` computes, for one score column:

* ``auc_flu``: ROC-AUC, fluency-major segments (``fluency_major > 0``) vs
  error-free ones (``mqm == 0``);
* ``auc_flu_len``: the same inside 5 quintile bins of character length,
  averaged over the bins (length-controlled AUC);
* ``auc_major``: ROC-AUC, any Major error (``major > 0``) vs error-free;
* ``spearman``: Spearman correlation with ``mqm`` (all segments);
* ``pairwise``: over pairs of MT systems' translations of the same
  ``(doc, seg)`` with different ``mqm``, the fraction where the higher-mqm one
  scores higher (score ties count 0.5); human references are left out;
* ``p_at_5``: precision@5 per document (``system, doc``): the share of each
  document's 5 top-scored segments that carry a Major error, averaged over
  documents.

:func:`category_recall`: a segment is *caught* when its score is in the top
20% of all scored segments (global threshold); recall = caught / segments with
that category.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from .data import Segment

METRICS = (
    ("auc_flu", "AUC flu-major"),
    ("auc_flu_len", "len-ctrl AUC"),
    ("auc_major", "AUC major"),
    ("spearman", "Spearman mqm"),
    ("pairwise", "pairwise acc"),
    ("p_at_5", "P@5/doc"),
)

P_AT_K = 5
TOP_FRACTION = 0.2
N_LEN_BINS = 5


def rounded(v, nd: int = 3):
    """``v`` rounded to ``nd`` decimals for a report; ``None`` for ``None`` and NaN."""
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), nd)


def roc_auc(scores, labels) -> float:
    """ROC-AUC of ``scores`` for binary ``labels`` (ties count 0.5: Mann-Whitney U / n+ n-); NaN without both
    classes."""
    import numpy as np
    from scipy.stats import rankdata

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def quantile_bins(values, n_bins: int = 5):
    """Bin index 0..n_bins-1 of each value by its quantiles (equal-count bins; ties at an edge go to the lower bin)."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    edges = np.quantile(v, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.searchsorted(edges, v, side="left")


def binned_auc(scores, labels, bins, weighted: bool = False) -> float:
    """Length-controlled AUC: ROC-AUC inside each bin (``bins[i]`` = bin index of item i), averaged over bins.

    Bins lacking either class are skipped. ``weighted``: weight each bin by its
    number of positive-negative pairs (the AUC over pairs from the same bin)
    instead of a plain mean.
    """
    import numpy as np

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    b = np.asarray(bins)
    aucs, ws = [], []
    for k in np.unique(b):
        a = roc_auc(s[b == k], y[b == k])
        if not math.isnan(a):
            aucs.append(a)
            ws.append(int(y[b == k].sum()) * int((~y[b == k]).sum()))
    if not aucs:
        return float("nan")
    return float(np.average(aucs, weights=ws) if weighted else np.mean(aucs))


def pairwise_accuracy(scores, quality, groups) -> tuple[float, int]:
    """Over pairs in the same group with different ``quality`` (e.g. mqm), the share where the worse one (higher mqm)
    scores higher.

    Score ties count 0.5. Returns ``(accuracy, number of pairs)``.
    """
    import numpy as np

    s = np.asarray(scores, dtype=float)
    q = np.asarray(quality, dtype=float)
    by: dict = defaultdict(list)
    for i, g in enumerate(groups):
        by[g].append(i)
    good = 0.0
    n = 0
    for idx in by.values():
        if len(idx) < 2:
            continue
        idx = np.asarray(idx)
        dq = q[idx][:, None] - q[idx][None, :]
        ds = s[idx][:, None] - s[idx][None, :]
        mask = dq > 0  # i worse than j
        n += int(mask.sum())
        good += float((ds[mask] > 0).sum() + 0.5 * (ds[mask] == 0).sum())
    return (good / n if n else float("nan")), n


def precision_at_k(scores, positives, groups, k: int = 5) -> float:
    """Mean over groups (documents) of the share of positives among the group's ``k`` top-scored items (ties: earlier
    item first)."""
    import numpy as np

    s = np.asarray(scores, dtype=float)
    y = np.asarray(positives, dtype=bool)
    by: dict = defaultdict(list)
    for i, g in enumerate(groups):
        by[g].append(i)
    vals = []
    for idx in by.values():
        top = sorted(idx, key=lambda i: (-s[i], i))[:k]
        vals.append(float(y[top].mean()))
    return float(np.mean(vals)) if vals else float("nan")


def pearson(scores, target) -> float:
    """Pearson correlation of ``scores`` with ``target`` (NaN for a constant column)."""
    import numpy as np

    a, b = np.asarray(scores, dtype=float), np.asarray(target, dtype=float)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def mcc(pred, gold) -> float:
    """Matthews correlation of two boolean sequences (0 when either is constant)."""
    from sklearn.metrics import matthews_corrcoef

    return float(matthews_corrcoef(list(gold), list(pred)))


def spearman(scores, target) -> float:
    """Spearman correlation of ``scores`` with ``target`` (NaN for a constant column)."""
    import warnings

    from scipy.stats import spearmanr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant column: NaN, reported as such
        r = spearmanr(scores, target).statistic
    return float(r)


def top_fraction(scores, frac: float = 0.2):
    """Boolean mask of the items in the top ``frac`` of scores (rank-based: exactly ceil(frac*n) items; ties broken by
    position)."""
    import numpy as np

    s = np.asarray(scores, dtype=float)
    n = len(s)
    k = int(math.ceil(frac * n))
    order = np.lexsort((np.arange(n), -s))
    mask = np.zeros(n, dtype=bool)
    mask[order[:k]] = True
    return mask


@dataclass
class Labels:
    """The annotation of a list of segments as arrays."""

    mqm: object
    major: object
    flu: object
    chars: object
    is_ref: object
    len_bin: object
    seg_group: list  # (doc, seg)
    doc_group: list  # (system, doc)

    @classmethod
    def of(cls, segs: Sequence[Segment]) -> "Labels":
        import numpy as np

        chars = np.array([s.chars for s in segs], dtype=float)
        return cls(
            mqm=np.array([s.row.mqm for s in segs]),
            major=np.array([s.row.major for s in segs]),
            flu=np.array([s.row.fluency_major for s in segs]),
            chars=chars,
            is_ref=np.array([s.row.is_ref for s in segs], dtype=bool),
            len_bin=quantile_bins(chars, N_LEN_BINS) if len(segs) else np.zeros(0, int),
            seg_group=[(s.row.doc, s.row.seg) for s in segs],
            doc_group=[(s.row.system, s.row.doc) for s in segs],
        )


def metric_row(score, lab: Labels) -> dict:
    """All metrics of one score column (see module docstring)."""
    import numpy as np

    s = np.asarray(score, dtype=float)
    clean = lab.mqm == 0
    fm = (lab.flu > 0) | clean
    mm = (lab.major > 0) | clean
    mt = ~lab.is_ref
    pw, n_pairs = pairwise_accuracy(s[mt], lab.mqm[mt], [g for g, k in zip(lab.seg_group, mt) if k])
    return {
        "auc_flu": roc_auc(s[fm], lab.flu[fm] > 0),
        "auc_flu_len": binned_auc(s[fm], lab.flu[fm] > 0, lab.len_bin[fm], weighted=True),
        "auc_major": roc_auc(s[mm], lab.major[mm] > 0),
        "spearman": spearman(s, lab.mqm),
        "pairwise": pw,
        "p_at_5": precision_at_k(s, lab.major > 0, lab.doc_group, P_AT_K),
        "n_pairs": n_pairs,
    }


def category_recall(score, segs: Sequence[Segment], frac: float = TOP_FRACTION) -> dict:
    """Per error category: the share of its segments whose score is in the top ``frac`` of all segments.

    Also ``(no error)``: the share of error-free segments in the top ``frac``
    (the false-alarm rate at that cut).
    """
    top = top_fraction(score, frac)
    hit: dict = defaultdict(lambda: [0, 0])
    for s, t in zip(segs, top):
        cats = s.row.categories if s.row.mqm > 0 else ("(no error)",)
        for c in set(cats) or {"(minor, uncategorised)"}:
            hit[c][0] += int(t)
            hit[c][1] += 1
    return {c: {"recall": h[0] / h[1], "n": h[1]} for c, h in sorted(hit.items(), key=lambda kv: -kv[1][1])}


def span_metrics(segs: Sequence[Segment], spans: dict) -> dict:
    """Per detector (and ``(all)``): precision = share of its finding spans that overlap a rater's error span
    (any severity), recall = share of Major spans that one of its findings overlaps. MT segments only."""
    from collections import Counter

    flagged, hit, major_hit = Counter(), Counter(), defaultdict(set)
    n_major = 0
    for i, s in enumerate(segs):
        if s.row.is_ref:
            continue
        sp = spans.get(s.row.key, [])
        majors = [(a, b) for a, b, sev in sp if sev == 2]
        n_major += len(majors)
        for f in s.findings:
            if len(f) < 6:
                continue
            a, b = f[4], max(f[5], f[4] + 1)
            for name in (f[0], "(all)"):
                flagged[name] += 1
                if any(x < b and a < y for x, y, _ in sp):
                    hit[name] += 1
                for j, (x, y) in enumerate(majors):
                    if x < b and a < y:
                        major_hit[name].add((i, j))
    return {
        name: {
            "findings": n,
            "precision": hit[name] / n if n else float("nan"),
            "major_recall": len(major_hit[name]) / n_major if n_major else float("nan"),
        }
        for name, n in sorted(flagged.items(), key=lambda kv: -kv[1])
    }
