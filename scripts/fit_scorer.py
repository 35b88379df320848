#!/usr/bin/env python
"""Fit the scorer's logistic combiner from data and write ``data/scorer.json``.

Data (never the test talks):

* the TRAIN talks of ``mqm_ted_zhen.tsv`` (:func:`garble.evaluate.split_of`:
  talks whose SHA-256 starts with a 0 bit: talk.6, talk.7, talk.9), every
  (system, doc) scored as one document with the default LM and every
  registered detector;
* synthetic errors (:mod:`garble.synth`) in the human references and the
  clean-English documents of the train split.

Model: the named features of :func:`garble.scorer.unit_features` — detector
strengths (in [0, 1], unscaled, weights kept >= 0), ``log_chars``,
``lm_rel_median``, ``lm_max``, ``lm_ctx_gain`` (standardised: center = mean,
scale = standard deviation on the training segments). The weights are fitted
as a ranking model, an L2-regularised logistic regression without intercept
on differences of feature vectors of pairs (label: which of the two is worse),
solved with scipy's L-BFGS-B because detector weights are bounded below by 0
and pulled toward a prior weight (a detector that never fires in TED talks
keeps the prior instead of dropping to 0); for the continuous features it is
exactly sklearn's ``LogisticRegression(C, fit_intercept=False)``. Pairs:

* ``mt``: two MT systems' translations of the same (doc, seg) with different
  mqm (what the pairwise accuracy measures);
* ``bin``: a fluency-major segment and an error-free one of the same talk and
  length quintile (what the length-controlled AUC measures);
* ``synth``: a corrupted unit and its clean original.

The bias is then fitted by a one-feature logistic regression of "has a Major
error" on the ranking score (a calibration: it sets the scale and the
intercept, the ranking does not change), and ``no_lm_bias`` the same way on
the score without the LM features, so ``--no-lm`` scores stay calibrated.

Choices (pair sources and their weights, regularisation of the LM/length
weights and of the detector weights) are made by leave-one-talk-out
cross-validation over the three train talks only (criterion: length-controlled
AUC + pairwise accuracy); the best configuration whose full fit meets the seed
article's requirements (tests/test_seed.py: its three planted MT errors
"Lavorov", "it’s legal and it’s legal", "Ukrainian targets on Russian soil" in
its top 5, and its fragments, garbled quotes and page furniture above all its
clean sentences; with and without the LM) and detects every synthetic error
type at least ``--synth-min`` (0.8, issue 4's bar) of the time on check pairs
(train split, ``--val-seed`` 2: other corruptions than the fitted ones, never
the test talks) is written. The length weight has its
own regularisation in the grid: a length term ranks long clean sentences above
short artifacts.

Usage::

    python scripts/fit_scorer.py [--tsv ../shared/eval/mqm_ted_zhen.tsv] [--clean ../shared/eval/clean_en.tsv]
        [--out data/scorer.json] [--per-kind 100] [--cv-only]

Needs the LM cache (``garble eval`` fills it; a missing text is scored now).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import random
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from garble.detectors import all_detectors  # noqa: E402
from garble.evaluate import (  # noqa: E402
    LM_KEYS,
    Labels,
    load_segments,
    make_cached_lm,
    metric_row,
    read_annotated,
    read_clean,
    score_synthetic,
    split_of,
    synthetic_rates,
    synthetic_sources,
    without_lm,
)
from garble.scorer import Weights  # noqa: E402
from garble.synth import make_pairs  # noqa: E402

CONT = ("log_chars",) + LM_KEYS


class Design:
    """Feature names and the standardisation of the continuous ones."""

    def __init__(self, det_names, cont, center, scale):
        self.det = list(det_names)
        self.cont = list(cont)
        self.center = dict(center)
        self.scale = dict(scale)
        self.names = [f"det:{d}" for d in self.det] + self.cont

    @classmethod
    def fit(cls, xs, det_names, cont=CONT):
        center, scale = {}, {}
        for k in cont:
            v = np.array([x[k] for x in xs if k in x], dtype=float)
            center[k] = float(v.mean()) if len(v) else 0.0
            scale[k] = float(v.std()) if len(v) and v.std() > 0 else 1.0
        return cls(det_names, cont, center, scale)

    def matrix(self, xs, lm=True):
        m = np.zeros((len(xs), len(self.names)))
        for i, x in enumerate(xs):
            for j, d in enumerate(self.det):
                m[i, j] = x.get(f"det:{d}", 0.0)
            for j, k in enumerate(self.cont):
                if k in x and (lm or k not in LM_KEYS):
                    m[i, len(self.det) + j] = (x[k] - self.center[k]) / self.scale[k]
        return m


def mt_pairs(segs, rng, max_per_group=None):
    """(worse index, better index) for MT systems on the same (doc, seg) with different mqm."""
    by = defaultdict(list)
    for i, s in enumerate(segs):
        if not s.row.is_ref:
            by[(s.row.doc, s.row.seg)].append(i)
    out = []
    for idx in by.values():
        for a in idx:
            for b in idx:
                if segs[a].row.mqm > segs[b].row.mqm:
                    out.append((a, b))
    return out


def bin_pairs(segs, rng, n_per_pos=5):
    """(fluency-major index, error-free index) in the same talk and length quintile (sampled)."""
    lab = Labels.of(segs)
    by = defaultdict(lambda: ([], []))
    for i, s in enumerate(segs):
        key = (s.row.doc, int(lab.len_bin[i]))
        if s.row.fluency_major > 0:
            by[key][0].append(i)
        elif s.row.mqm == 0:
            by[key][1].append(i)
    out = []
    for pos, neg in by.values():
        if not neg:
            continue
        for p in pos:
            for n in rng.sample(neg, min(n_per_pos, len(neg))):
                out.append((p, n))
    return out


# Prior weight of each detector's finding (logit units per unit of finding weight): the hand-set
# weights of garble 0.1 (data/scorer.json before the first fit), which order artifacts by how easily
# they slip past a reader (a contradicted place, a garbled name or a repeated phrase most; page
# furniture, fragments and punctuation least). The data pulls each weight from its prior; a
# detector that rarely fires in the training data (boilerplate and mojibake do not occur in TED
# talks) keeps its prior.
DET_PRIOR = {"places": 7.0, "names": 5.5, "repetition": 5.5, "language": 4.0, "encoding": 3.5, "fragments": 3.0, "mt_noise": 3.0, "punctuation": 2.5, "boilerplate": 2.5}
DET_PRIOR_DEFAULT = 4.0  # a detector without a prior weight (garble 0.1's default_detector_weight)
DET_L2 = 100.0  # strength of the pull toward the prior (pseudo-evidence, in pairs)


def fit_logistic(X, y, sw, l2, prior, lower):
    """L2-regularised logistic regression without intercept, each weight pulled toward its prior and bounded below.

    Minimises ``sum_i sw_i * logloss(y_i, X_i w) + 1/2 sum_j l2_j (w_j - prior_j)^2`` subject to
    ``w_j >= lower_j`` (L-BFGS-B). With ``prior = 0`` and no bounds this is sklearn's
    ``LogisticRegression(C=1/l2, fit_intercept=False)``.
    """
    from scipy.optimize import minimize
    from scipy.special import expit

    m = 2 * np.asarray(y, dtype=float) - 1

    def f(w):
        z = m * (X @ w)
        loss = float((sw * np.logaddexp(0, -z)).sum() + 0.5 * (l2 * (w - prior) ** 2).sum())
        g = X.T @ (sw * -m * expit(-z)) + l2 * (w - prior)
        return loss, g

    bounds = [(lo, None) for lo in lower]
    x0 = np.maximum(prior, np.where(np.isfinite(lower), lower, -np.inf))
    res = minimize(f, x0, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 5000})
    return res.x


def fit_ranker(design, xs, pair_sets, synth, C=1.0, det_l2=None, len_l2=None):
    """Weights (one per design name) of a logistic ranking model on pair differences.

    ``pair_sets``: list of (pairs, weight); ``synth``: (corrupt X, clean X, weight).
    Continuous features: L2 toward 0 with strength 1/C. Detector weights: >= 0
    (a finding never makes a unit look cleaner) and pulled toward
    its ``DET_PRIOR`` weight with strength ``DET_L2``, so a detector that the
    data rarely sees fire (boilerplate and mojibake do not occur in TED talks)
    keeps its prior weight instead of dropping to 0, and one that fires on
    clean text is pulled down by the data.
    """
    X = design.matrix(xs)
    rows, wts = [], []
    for pairs, w in pair_sets:
        if not pairs or w == 0:
            continue
        a = np.array([p[0] for p in pairs])
        b = np.array([p[1] for p in pairs])
        d = X[a] - X[b]
        rows.append(d)
        wts.append(np.full(len(d), w / len(d)))
    if synth is not None and synth[2] > 0:
        d = synth[0] - synth[1]
        rows.append(d)
        wts.append(np.full(len(d), synth[2] / len(d)))
    D = np.vstack(rows)
    W = np.concatenate(wts) * len(D) / sum(w.sum() for w in wts)
    # symmetric: each pair once as (worse - better) -> 1 and once as (better - worse) -> 0
    Xs = np.vstack([D, -D])
    ys = np.concatenate([np.ones(len(D)), np.zeros(len(D))])
    ws = np.concatenate([W, W]) / 2
    nd = len(design.det)
    l2 = np.array([DET_L2 if det_l2 is None else det_l2] * nd + [1.0 / C] * (len(design.names) - nd))
    if len_l2 is not None and "log_chars" in design.names:
        l2[design.names.index("log_chars")] = len_l2  # a length term ranks long clean sentences above short artifacts
    prior = np.array([DET_PRIOR.get(d, DET_PRIOR_DEFAULT) for d in design.det] + [0.0] * (len(design.names) - nd))
    lower = np.array([0.0] * nd + [-np.inf] * (len(design.names) - nd))
    return fit_logistic(Xs, ys, ws, l2, prior, lower)


def calibrate(s, y):
    """(scale, intercept) of a one-feature logistic regression of y on s."""
    clf = LogisticRegression(C=1e4, max_iter=1000)
    clf.fit(np.asarray(s).reshape(-1, 1), y)
    return float(clf.coef_[0, 0]), float(clf.intercept_[0])


def fit_intercept_only(z, y):
    """The intercept b maximising the likelihood of y under sigmoid(b + z) (Newton's method)."""
    b = 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-(b + z)))
        g = (y - p).sum()
        h = (p * (1 - p)).sum()
        if h <= 0:
            break
        step = g / h
        b += step
        if abs(step) < 1e-10:
            break
    return float(b)


def to_weights(design, coef, scale, bias, no_lm_bias, source, extra=None):
    det = {d: round(float(coef[j] * scale), 4) for j, d in enumerate(design.det)}
    feats = {}
    for j, k in enumerate(design.cont):
        feats[k] = {"weight": round(float(coef[len(design.det) + j] * scale), 4), "center": round(design.center[k], 4), "scale": round(design.scale[k], 4)}
    pos = sorted(v for v in det.values() if v > 0)
    default = round(float(np.median(pos)), 4) if pos else DET_PRIOR_DEFAULT
    return Weights(
        bias=round(bias, 4),
        detectors=det,
        features=feats,
        default_detector_weight=default,
        no_lm_bias=round(no_lm_bias, 4),
        source=source,
        extra=extra or {},
    )


def synth_matrices(design, results):
    """Corrupted and clean feature matrices of synthetic pairs (corrupted: its highest-scoring unit is not known yet: use every marked unit).

    Pairs whose clean original already has a detector finding are left out: a
    corruption that breaks, say, a boilerplate line's pattern would otherwise
    teach that a boilerplate finding makes a unit look cleaner.
    """
    cor, cle = [], []
    for r in results:
        if any(k.startswith("det:") for k in r.clean_x):
            continue
        for x in r.corrupt_xs:
            cor.append(x)
            cle.append(r.clean_x)
    return design.matrix(cor), design.matrix(cle)


def fit(segs, synth_results, det_names, cfg, xs=None, cont=CONT):
    """Fit on ``segs`` (feature dicts ``xs``, default ``s.x``) and synthetic results: (design, coef, scale, bias, no_lm_bias)."""
    xs = [s.x for s in segs] if xs is None else xs
    design = Design.fit(xs, det_names, cont)
    rng = random.Random(0)
    pair_sets = [(mt_pairs(segs, rng), cfg["w_mt"]), (bin_pairs(segs, rng), cfg["w_bin"])]
    synth = None
    if synth_results and cfg["w_synth"] > 0:
        cx, kx = synth_matrices(design, synth_results)
        # corruptions change length by construction (a dropped, doubled or split-off word):
        # the synthetic pairs say nothing about length, so their length difference is removed
        for k in ("log_chars",):
            if k in design.names:
                j = design.names.index(k)
                cx[:, j] = kx[:, j]
        synth = (cx, kx, cfg["w_synth"])
    coef = fit_ranker(design, xs, pair_sets, synth, C=cfg["C"], det_l2=cfg.get("det_l2"), len_l2=cfg.get("len_l2"))
    X = design.matrix(xs)
    s = X @ coef
    y = np.array([s_.row.major > 0 for s_ in segs], dtype=float)
    keep = np.array([s_.row.major > 0 or s_.row.mqm == 0 for s_ in segs])
    a, b = calibrate(s[keep], y[keep])
    # --no-lm: the same weights, LM terms absent; its own intercept
    s0 = design.matrix(xs, lm=False) @ coef
    b0 = fit_intercept_only(a * s0[keep], y[keep])
    return design, coef, a, b, b0


def linear_scores(design, coef, a, b, xs, lm=True):
    return b + a * (design.matrix(xs, lm=lm) @ coef)


def cv(segs, synth_by_talk, det_names, cfg, talks, extended=False):
    """Leave-one-talk-out: [(held-out talk, metrics, metrics without the LM)]."""
    from garble.evaluate import EXTENDED, extended_features

    xs_all = extended_features(segs) if extended else [s.x for s in segs]
    cont = CONT + EXTENDED if extended else CONT
    out = []
    for held in talks:
        tr = [i for i, s in enumerate(segs) if s.row.doc != held]
        te = [i for i, s in enumerate(segs) if s.row.doc == held]
        syn = [r for t, rs in synth_by_talk.items() if t != held for r in rs]
        design, coef, a, b, b0 = fit([segs[i] for i in tr], syn, det_names, cfg, [xs_all[i] for i in tr], cont)
        xte = [xs_all[i] for i in te]
        lab = Labels.of([segs[i] for i in te])
        m = metric_row(linear_scores(design, coef, a, b, xte), lab)
        m0 = metric_row(linear_scores(design, coef, a, b0, xte, lm=False), lab)
        out.append((held, m, m0))
    return out


# the seed article's requirements (as in tests/test_seed.py): the three planted MT errors in the top 5,
# and every artifact of these kinds above every clean unit; with the LM and with the detectors alone
SEED_MUST = ("Lavorov said", "it’s legal and it’s legal", "Ukrainian targets on Russian soil")
SEED_ARTIFACTS = {
    "garbled quote": ["Putin” from the Rossiya-1", "“seriously talking about the “decolonization”"],
    "fragment": ["For state media.", "In an interview with a British newspaper.", "Russian Federation.", "The Kremlin.", "publication The New York Times"],
    "misspelled name": ["Lavorov said", "on Azovstel Steelworks"],
    "page furniture": ["\"Invasion of Ukraine is an outrage", "Live text Ukraine War", "Leave a Reply", "Your email address will not be published", "Required fields are marked", "Photo: Kommersant"],
}
SEED_NO_LM_KINDS = ("garbled quote", "fragment", "page furniture")  # "Azovstel" has no correct form in the text: only the LM sees it
SEED_CLEAN = [
    "“Discussions by US officials", "Earlier, Lavrov said that the use", "According to the Russian foreign minister, Moscow claims",
    "US Assistant Secretary for European", "In an interview published by the British magazine", "Stoltenberg shared the same sentiment",
    "“Depriving Ukraine of the possibility", "“Some allies have already lifted", "But many of Kiev’s allies", "“If you deny Ukraine the right",
    "“This includes the possibility", "The West has banned Ukraine", "But in early May, Britain",
]


def seed_check(weights, lm, dets, path, top=5):
    """(whether the seed article's requirements hold with and without the LM, a short reason)."""
    from garble.api import Scorer

    if not path or not Path(path).is_file():
        return True, "(no seed article)"
    text = Path(path).read_text(encoding="utf-8")
    why = []
    for model, kinds in ((lm, tuple(SEED_ARTIFACTS)), (False, SEED_NO_LM_KINDS)):
        res = Scorer(model=model, detectors=dets, weights=weights).score_document(text)
        tag = "LM" if model is not False else "no-LM"

        def unit(needle):
            return next(u for u in res if needle in u.text)

        for m in SEED_MUST:
            if unit(m).rank > top:
                why.append(f"{tag}: {m!r} ranked {unit(m).rank}")
        best_clean = max(unit(c).score for c in SEED_CLEAN)
        for k in kinds:
            for needle in SEED_ARTIFACTS[k]:
                if unit(needle).score <= best_clean:
                    why.append(f"{tag}: {k} {needle!r} {unit(needle).score:.3f} <= clean {best_clean:.3f}")
    return not why, "; ".join(why[:3]) + (f" (+{len(why) - 3} more)" if len(why) > 3 else "")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tsv", type=Path, default=ROOT.parent / "shared" / "eval" / "mqm_ted_zhen.tsv")
    ap.add_argument("--clean", type=Path, default=ROOT.parent / "shared" / "eval" / "clean_en.tsv")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "scorer.json")
    ap.add_argument("--per-kind", type=int, default=100, help="synthetic pairs per error type (train split)")
    ap.add_argument("--seed", type=int, default=1, help="synthetic errors seed (the evaluation uses seed 0 on the test split)")
    ap.add_argument("--val-seed", type=int, default=2, help="seed of the synthetic errors (train split) that only check a candidate (every type detected >= --synth-min)")
    ap.add_argument("--synth-min", type=float, default=0.8, help="detection rate every synthetic error type must reach on the check pairs (issue 4's bar)")
    ap.add_argument("--cv-only", action="store_true", help="print the cross-validation grid and write nothing")
    ap.add_argument("--no-synth", action="store_true", help="leave the synthetic errors out")
    ap.add_argument("--seed-article", type=Path, default=ROOT.parent / "shared" / "seed" / "article.txt", help="the article whose planted errors must stay in the top 5")
    ap.add_argument("--extended", action="store_true", help="also cross-validate the extra features of garble.evaluate.extended_features")
    args = ap.parse_args(argv)

    from garble.api import Scorer

    rows = read_annotated(args.tsv)
    dets = all_detectors()
    det_names = [d.name for d in dets]
    lm = make_cached_lm()
    prog = lambda i, n: (i % 10 == 0 or i == n) and print(f"  scored {i}/{n}", file=sys.stderr, flush=True)  # noqa: E731
    segs = load_segments(args.tsv, rows, lm=lm, detectors=dets, progress=prog)
    train = [s for s in segs if split_of(s.row.doc) == "train"]
    talks = sorted({s.row.doc for s in train})
    print(f"train talks {talks}: {len(train)} segments", file=sys.stderr)

    synth_results = []
    synth_by_talk = defaultdict(list)
    if not args.no_synth:
        src = [(d, t) for d, t, s in synthetic_sources(rows, read_clean(args.clean) if args.clean.is_file() else []) if s == "train"]
        pairs = make_pairs(src, per_kind=args.per_kind, seed=args.seed)
        scorer = Scorer(model=lm, detectors=dets)
        synth_results = score_synthetic(pairs, scorer, progress=prog)
        # for cross-validation: references of a talk go with the talk; other clean docs are always in training
        for r in synth_results:
            talk = r.doc_id.split("/", 1)[1] if r.doc_id.split("/", 1)[1] in talks else "_other"
            synth_by_talk[talk].append(r)
        print(f"synthetic pairs (train split, seed {args.seed}): {len(synth_results)}", file=sys.stderr)
    val_results = []
    if args.synth_min > 0:
        src = [(d, t) for d, t, s in synthetic_sources(rows, read_clean(args.clean) if args.clean.is_file() else []) if s == "train"]
        val_results = score_synthetic(make_pairs(src, per_kind=args.per_kind, seed=args.val_seed), Scorer(model=lm, detectors=dets), progress=prog)
        print(f"synthetic check pairs (train split, seed {args.val_seed}, not fitted on): {len(val_results)}", file=sys.stderr)

    def synth_check(w):
        if not val_results:
            return True, ""
        rates = {k: v["rate"] for k, v in synthetic_rates(val_results, w).items()}
        low = {k: round(v, 3) for k, v in rates.items() if v < args.synth_min}
        return not low, (f"synthetic below {args.synth_min}: {low}" if low else "synthetic " + " ".join(f"{k}={v:.2f}" for k, v in rates.items()))

    grid = [
        {"w_mt": mt, "w_bin": bn, "w_synth": sy, "C": C, "det_l2": dl, "len_l2": ll}
        for mt, bn in ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0))
        for sy in (0.0, 0.3, 1.0)
        for C in (1.0, 0.01)
        for dl in (1.0, 10.0, 100.0)
        for ll in (None, 1e3, 1e5)
    ]
    if args.no_synth:
        grid = [g for g in grid if g["w_synth"] == 0]
    scored = []
    print("leave-one-talk-out CV on the train talks (mean over held-out talks); *0 = the same weights without the LM (--no-lm):")
    print(f"{'config':<70}{'lenAUC':>8}{'pairw':>8}{'AUCflu':>8}{'P@5':>7}{'lenAUC0':>9}{'pairw0':>8}")
    for cfg in grid:
        res = cv(train, synth_by_talk, det_names, cfg, talks)
        la = np.mean([m["auc_flu_len"] for _, m, _ in res])
        pw = np.mean([m["pairwise"] for _, m, _ in res])
        af = np.mean([m["auc_flu"] for _, m, _ in res])
        p5 = np.mean([m["p_at_5"] for _, m, _ in res])
        la0 = np.mean([m0["auc_flu_len"] for _, _, m0 in res])
        pw0 = np.mean([m0["pairwise"] for _, _, m0 in res])
        name = " ".join(f"{k}={v:g}" for k, v in cfg.items() if v is not None)
        print(f"{name:<70}{la:8.3f}{pw:8.3f}{af:8.3f}{p5:7.3f}{la0:9.3f}{pw0:8.3f}", flush=True)
        scored.append((la + pw, cfg))  # selection: the sum of the two target metrics
    scored.sort(key=lambda t: -t[0])
    # the seed article's requirements (tests/test_seed.py) must hold: the best CV config that meets them all;
    # failing that, the best that keeps the 3 planted errors in the top 5 (the brief's seed check)
    cfg, tier = None, None
    checked = []
    for _, c in scored:
        design, coef, a, b, b0 = fit(train, synth_results, det_names, c)
        w = to_weights(design, coef, a, b, b0, "candidate")
        ok, why = seed_check(w, lm, dets, args.seed_article)
        top5 = ok or "ranked" not in why
        sok, swhy = synth_check(w)
        checked.append((c, ok and sok, top5))
        print(f"seed check {'passed' if ok else 'FAILED'}, synthetic check {'passed' if sok else 'FAILED'} for {c}: {why} {swhy}", flush=True)
        if ok and sok:
            cfg, tier = c, f"all seed requirements (tests/test_seed.py) and every synthetic error type >= {args.synth_min} on the check pairs"
            break
    if cfg is None:
        top5_ok = [c for c, _, t5 in checked if t5]
        if top5_ok:
            cfg, tier = top5_ok[0], "the 3 planted errors in the top 5 only (no configuration met all of tests/test_seed.py)"
        else:
            cfg, tier = scored[0][1], "none (no configuration kept the planted errors in the top 5)"
    print(f"seed requirements met: {tier}")
    print(f"chosen: {cfg}")
    if args.extended:
        print("the same with the extra features of garble.evaluate.extended_features (a proposal for unit_features; no synthetic pairs):")
        for c in ({**cfg, "w_synth": 0.0}, {"w_mt": 1.0, "w_bin": 0.0, "w_synth": 0.0, "C": 1.0}, {"w_mt": 0.0, "w_bin": 1.0, "w_synth": 0.0, "C": 1.0}):
            for ext in (False, True):
                res = cv(train, {}, det_names, c, talks, extended=ext)
                la = np.mean([m["auc_flu_len"] for _, m, _ in res])
                pw = np.mean([m["pairwise"] for _, m, _ in res])
                af = np.mean([m["auc_flu"] for _, m, _ in res])
                name = ("extended " if ext else "plain    ") + " ".join(f"{k}={v}" for k, v in c.items())
                print(f"{name:<48}{la:8.3f}{pw:8.3f}{af:8.3f}", flush=True)
        # the proposal, measured once on the test talks (no choice is made from these numbers)
        from garble.evaluate import EXTENDED, extended_features

        test = [s_ for s_ in segs if split_of(s_.row.doc) == "test"]
        c = {**cfg, "w_synth": 0.0}
        print(f"test talks, fitted on all train talks with {c}:")
        for ext in (False, True):
            xs_tr = extended_features(train) if ext else None
            design, coef, a, b, b0 = fit(train, [], det_names, c, xs_tr, CONT + EXTENDED if ext else CONT)
            xs_te = extended_features(test) if ext else [s_.x for s_ in test]
            m = metric_row(linear_scores(design, coef, a, b, xs_te), Labels.of(test))
            print(f"  {'extended' if ext else 'plain   '}  " + "  ".join(f"{k} {v:.3f}" for k, v in m.items() if k != "n_pairs"))
            if ext:
                print("    weights: " + ", ".join(f"{n} {a * w:+.3f}" for n, w in zip(design.names, coef) if not n.startswith("det:")))
    if args.cv_only:
        return 0

    design, coef, a, b, b0 = fit(train, synth_results, det_names, cfg)
    today = datetime.date.today().isoformat()
    cmd = "python scripts/fit_scorer.py " + " ".join(sys.argv[1:] if argv is None else argv)
    source = (
        f"fitted {today} by `{cmd.strip()}` on the TRAIN talks of {args.tsv.name} ({', '.join(talks)}: {len(train)} segments, "
        f"split by garble.evaluate.split_of, sha256 first bit)"
        + (f" plus {len(synth_results)} synthetic-error pairs (garble.synth, seed {args.seed}) from the train split's human references and clean_en documents" if cfg["w_synth"] > 0 else "")
        + (f"; {len(val_results)} other synthetic pairs of the train split (seed {args.val_seed}) only checked the candidates" if val_results else "")
        + f"; LM {lm.name}; ranking logistic regression on pair differences "
        f"(MT systems on the same segment weight {cfg['w_mt']}, fluency-major vs error-free in the same length quintile weight {cfg['w_bin']}, "
        f"synthetic weight {cfg['w_synth']}, L2 1/C={1 / cfg['C']:g} on LM weights and {cfg['len_l2'] if cfg.get('len_l2') is not None else 1 / cfg['C']:g} on log_chars; detector weights >= 0 with an L2 pull of {cfg['det_l2']:g} toward garble 0.1's hand-set weights; chosen by leave-one-talk-out CV on the train talks (length-controlled AUC + pairwise accuracy) subject to the seed article's requirements; met: {tier}), then calibrated on P(major error) with a one-feature sklearn LogisticRegression; test talks never used."
    )
    w = to_weights(design, coef, a, b, b0, source, extra={"fit": {"date": today, "train_talks": talks, "config": cfg, "detectors": det_names}})
    args.out.write_text(json.dumps(w.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    print(json.dumps({k: v for k, v in w.to_dict().items() if k != "source"}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
