#!/usr/bin/env python3
"""How far can any linear combination of garble's features go on the TED test talks? (a ceiling, not a model)

    python scripts/feature_ceiling.py [--check data/scorer_check.json.gz]
    python scripts/feature_ceiling.py --with-source ../shared/eval/mqm_ted_zhen.tsv

Reads the held-out features stored with the shipped weights (the test talks'
segments, every combiner feature, as scripts/fit_scorer.py wrote them) and
fits logistic models *on those test rows themselves*: pairwise (worse minus
better translation of the same source segment), fluency-Major within length
bins, and Major per segment. The in-sample numbers are an upper bound on what
any weighting of these features could reach there, shipped or not; nothing
this script fits is saved or shipped. A 5-fold cross-validation over source
segments inside the test talks (linear and gradient-boosted pair models) says
how much of that bound is fitting noise.

Used to tell whether a target of issue 12 (pairwise >= 0.58, length-controlled
AUC >= 0.65, P@5/doc >= 0.50) is reachable by a better combiner or needs a
signal these features do not carry.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import sys
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from garble.eval.metrics import binned_auc, precision_at_k, quantile_bins  # noqa: E402


def load(path: Path):
    return _matrix(json.loads(gzip.decompress(path.read_bytes()))["segments"])


def load_with_source(tsv: Path, spans: Path):
    """The test talks' segments scored with their sources (garble eval's LM and feature caches; the
    default Scorer's detectors, source-aware ones included), in the stored features' format."""
    from garble.combiner import check_records
    from garble.eval.cache import make_cached_lm
    from garble.eval.data import load_segments, read_annotated, read_spans, select_split

    rows = read_annotated(tsv)
    sources = {(r.system, r.doc, r.seg): r.source for r in read_spans(spans)}
    segs = select_split(load_segments(tsv, rows, lm=make_cached_lm(), sources=sources), "test")
    return _matrix(check_records(segs, [])["segments"])  # the stored held-out features' format


def _matrix(segs: list[dict]):
    keys = sorted({k for s in segs for k in s["x"]})
    x = np.array([[s["x"].get(k, 0.0) for k in keys] for s in segs])
    x = (x - x.mean(0)) / (x.std(0) + 1e-9)
    col = {k: np.array([s[k] for s in segs]) for k in ("mqm", "flu", "major", "chars", "is_ref")}
    return segs, keys, x, col


def worse_better_pairs(segs, mqm, is_ref) -> np.ndarray:
    by = defaultdict(list)
    for i, s in enumerate(segs):
        if not is_ref[i]:
            by[(s["doc"], s["seg"])].append(i)
    pairs = [
        (a, b) if mqm[a] > mqm[b] else (b, a)
        for idx in by.values()
        for a, b in itertools.combinations(idx, 2)
        if mqm[a] != mqm[b]
    ]
    return np.array(pairs)


def pairwise(score, pairs) -> float:
    d = score[pairs[:, 0]] - score[pairs[:, 1]]
    return float(np.mean(d > 0) + 0.5 * np.mean(d == 0))


def fit_pairs(diff, model):
    return model.fit(np.vstack([diff, -diff]), np.r_[np.ones(len(diff)), np.zeros(len(diff))])


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", type=Path, default=ROOT / "data" / "scorer_check.json.gz")
    ap.add_argument(
        "--with-source",
        type=Path,
        metavar="TSV",
        help="instead of --check: the test talks of TSV scored with the sources of the spans file beside it "
        "(garble eval's caches; an LM pass where they miss)",
    )
    args = ap.parse_args()
    if args.with_source:
        segs, keys, x, c = load_with_source(args.with_source, args.with_source.with_name("mqm_ted_zhen_spans.jsonl"))
    else:
        segs, keys, x, c = load(args.check)
    pairs = worse_better_pairs(segs, c["mqm"], c["is_ref"])
    bins = quantile_bins(c["chars"], 5)
    fm = (c["flu"] > 0) | (c["mqm"] == 0)
    groups = [(s["system"], s["doc"]) for s in segs]
    diff = x[pairs[:, 0]] - x[pairs[:, 1]]

    def row(name, score):
        lauc = binned_auc(score[fm], c["flu"][fm] > 0, bins[fm], weighted=True)
        print(
            f"{name:44s} pairwise {pairwise(score, pairs):.3f}  len-ctrl AUC {lauc:.3f}  "
            f"P@5/doc {precision_at_k(score, c['major'] > 0, groups, 5):.3f}"
        )

    print(f"{len(segs)} segments, {len(pairs)} worse/better pairs, {len(keys)} features: {', '.join(keys)}")
    for k in ("lm_mean", "lm_total", "log_chars"):
        row(f"{k} alone", x[:, keys.index(k)])
    for cost in (0.01, 1.0, 100.0):
        w_pair = fit_pairs(diff, LogisticRegression(C=cost, max_iter=3000, fit_intercept=False)).coef_[0]
        onehot = np.eye(5)[bins]
        w_flu = (
            LogisticRegression(C=cost, max_iter=3000).fit(np.c_[x, onehot][fm], c["flu"][fm] > 0).coef_[0][: x.shape[1]]
        )
        w_major = LogisticRegression(C=cost, max_iter=3000).fit(x, c["major"] > 0).coef_[0]
        print(f"in-sample ceiling, C={cost:g} (each metric with its own fit on the test rows):")
        row("  pairwise fit", x @ w_pair)
        row("  fluency-within-length-bin fit", x @ w_flu)
        row("  Major fit", x @ w_major)
    fold = np.array([zlib.crc32(f"{segs[a]['doc']}/{segs[a]['seg']}".encode()) % 5 for a in pairs[:, 0]])
    for name, make in (
        ("linear", lambda: LogisticRegression(C=1.0, max_iter=3000, fit_intercept=False)),
        ("boosted trees", lambda: HistGradientBoostingClassifier(max_iter=200, max_depth=3, learning_rate=0.05)),
    ):
        accs = [
            np.mean(fit_pairs(diff[fold != f], make()).predict_proba(diff[fold == f])[:, 1] > 0.5) for f in range(5)
        ]
        print(f"5-fold CV over source segments, {name} pair model: pairwise {np.mean(accs):.3f}")


if __name__ == "__main__":
    main()
