"""Fit the QE heads on MLQE-PE train (features cached by scripts/qe_extract.py) and measure them on dev.

    python scripts/fit_qe.py [--cache DIR] [--write] [--words] [--lopo]

Choices (ridge strength, features, the word head's C and threshold) are made on held-out train rows (row
index >= 6000 of each pair's train split); dev is only measured. ``--write`` refits on all cached train rows and
writes data/qe_sentence.npz and data/qe_words.npz with their JSON cards. ``--lopo``: each pair left out of
training, measured on its dev. Prints Markdown tables: Pearson and Spearman with the DA z-scores per pair, beside
the baselines measured on the same rows (the MT system's own log-probability, the LM's total and mean surprisal
with and without the source, length, random).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from garble.eval.metrics import mcc, pearson, spearman  # noqa: E402
from garble.eval.mlqe import PAIRS, load_split  # noqa: E402
from garble.eval.qe_cache import load_cached  # noqa: E402
from garble.lm import QE_MODEL, cache_dir  # noqa: E402
from garble.qe.features import AGGREGATES, WORD_SCALARS, word_features, word_spans, word_tokens  # noqa: E402
from garble.qe.head import LinearHead  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HOLDOUT_FROM = 6000  # train rows at or past this index choose the hyperparameters
ALPHAS = (300.0, 1000.0, 3000.0, 10000.0, 30000.0, 100000.0)


class Split:
    """One pair/split: cached features joined with the human labels."""

    def __init__(self, data: Path, cache: Path, pair: str, split: str):
        rows = load_split(data, pair, split).rows
        c = load_cached(cache, pair, split)
        if c is None:
            raise SystemExit(f"no cached features for {pair} {split} in {cache}: run scripts/qe_extract.py")
        self.pair, self.split = pair, split
        self.rows = [rows[i] for i in c.index]
        self.index = c.index
        self.agg, self.pooled, self.tokens = c.agg, c.pooled, c.tokens
        self.z = np.array([r.z_mean for r in self.rows])
        self.model_scores = np.array([r.model_scores for r in self.rows])

    def x(self, kind: str) -> np.ndarray:
        return self.agg if kind == "agg" else np.hstack([self.agg, self.pooled])

    def take(self, mask: np.ndarray) -> "Split":
        s = object.__new__(Split)
        s.pair, s.split = self.pair, self.split
        s.rows = [r for r, m in zip(self.rows, mask) if m]
        s.index, s.agg, s.pooled = self.index[mask], self.agg[mask], self.pooled[mask]
        s.tokens = [t for t, m in zip(self.tokens, mask) if m]
        s.z, s.model_scores = self.z[mask], self.model_scores[mask]
        return s


def fit_sentence(parts: list[Split], kind: str, alpha: float, agg_weight: float = 1.0, k_hter: float = 0.0):
    """Ridge on standardised features; the aggregates weigh ``agg_weight`` times a pooled dimension (a smaller
    penalty for 18 columns among 3,858); the target is the DA z-score minus ``k_hter`` times the HTER."""
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    x = np.vstack([p.x(kind) for p in parts])
    y = np.concatenate([p.z - k_hter * np.array([r.hter for r in p.rows]) for p in parts])
    scaler = StandardScaler().fit(x)
    scaler.scale_[: len(AGGREGATES)] /= agg_weight  # folded into the scale: the head stays x -> (x - m) / s
    model = Ridge(alpha=alpha).fit(scaler.transform(x), y)
    return LinearHead.from_sklearn(scaler, model)


def baselines(s: Split) -> dict[str, np.ndarray]:
    a = {name: s.agg[:, AGGREGATES.index(name)] for name in AGGREGATES}
    rng = np.random.default_rng(0)
    return {
        "MT system's own (model_scores)": s.model_scores,
        "LM + source, total": -a["total"],
        "LM + source, mean": -a["mean"],
        "LM alone, total": -a["alone_total"],
        "LM alone, mean": -a["alone_mean"],
        "length (tokens), shorter = better": -a["log_tokens"],
        "random": rng.standard_normal(len(s.z)),
    }


def choose(train: list[Split], hold: list[Split]) -> tuple[dict, dict]:
    """The settings with the best mean Pearson over the pairs' held-out rows.

    Ridge for every strength at once from one eigendecomposition of X'X per feature weighting (same solution as
    sklearn's Ridge on standardised columns)."""
    from sklearn.preprocessing import StandardScaler

    table = {}
    ys = {k: np.concatenate([p.z - k * np.array([r.hter for r in p.rows]) for p in train]) for k in (0.0, 1.0)}
    for kind, weights, alphas in (("agg", (1.0,), (1.0, 10.0, 100.0)), ("agg+pooled", (1.0, 5.0), ALPHAS)):
        x = np.vstack([p.x(kind) for p in train])
        for w in weights:
            sc = StandardScaler().fit(x)
            sc.scale_[: len(AGGREGATES)] /= w
            xs = sc.transform(x)
            lam, vec = np.linalg.eigh(xs.T @ xs)
            hx = [sc.transform(h.x(kind)) @ vec for h in hold]
            for k, y in ys.items() if kind != "agg" else [(0.0, ys[0.0])]:
                proj = vec.T @ (xs.T @ (y - y.mean()))
                for a in alphas:
                    coef = proj / (lam + a)
                    r = float(np.mean([pearson(hxi @ coef, h.z) for hxi, h in zip(hx, hold)]))
                    table[(kind, a, w, k)] = r
    best = max(table, key=table.get)
    return dict(zip(("kind", "alpha", "agg_weight", "k_hter"), best)), table


def word_rows(s: Split, with_hidden: bool = True) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for row, t in zip(s.rows, s.tokens):
        if not row.tags:
            continue
        spans = word_spans(row.translation, row.mt_tokens)
        groups = word_tokens(t["offsets"][:-1], spans)
        xs.append(
            word_features(
                groups,
                t["surprisal"],
                t["entropy"],
                t["rank"],
                t["alone"],
                t["token_hidden"] if with_hidden else None,
            )
        )
        ys.append(np.asarray(row.tags, dtype=bool))
    return np.vstack(xs).astype(np.float32), np.concatenate(ys)


def fit_words(x, y, c: float, seed: int = 0, cap: int = 200_000):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if len(y) > cap:
        keep = np.random.default_rng(seed).choice(len(y), cap, replace=False)
        x, y = x[keep], y[keep]
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=300, class_weight="balanced").fit(scaler.transform(x), y)
    return LinearHead.from_sklearn(scaler, model, kind="logistic")


def best_threshold(p, y) -> tuple[float, float]:
    grid = np.quantile(p, np.linspace(0.3, 0.95, 40))
    scores = [(mcc(p >= t, y), float(t)) for t in grid]
    return max(scores)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=cache_dir() / "qe" / "mlqe")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval" / "mlqe")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--words", action="store_true")
    ap.add_argument("--lopo", action="store_true")
    args = ap.parse_args(argv)
    train = {p: Split(args.data, args.cache, p, "train") for p in PAIRS}
    dev = {p: Split(args.data, args.cache, p, "dev") for p in PAIRS}
    fit = [t.take(t.index < HOLDOUT_FROM) for t in train.values()]
    hold = [t.take(t.index >= HOLDOUT_FROM) for t in train.values()]
    if min(len(h.z) for h in hold) < 100:  # extraction still short of row 6000: hold out the last 15% instead
        cut = {t.pair: np.quantile(t.index, 0.85) for t in train.values()}
        fit = [t.take(t.index < cut[t.pair]) for t in train.values()]
        hold = [t.take(t.index >= cut[t.pair]) for t in train.values()]
    print("train rows cached:", {p: len(t.z) for p, t in train.items()}, "held out:", {h.pair: len(h.z) for h in hold})
    best, table = choose(fit, hold)
    print("\nchoice on held-out train rows (mean Pearson over pairs):")
    for key, r in sorted(table.items()):
        print(f"  {key}: {r:.4f}")
    print(f"chosen: {best}")
    kind = best["kind"]
    agg_best = max((k for k in table if k[0] == "agg"), key=table.get)
    heads = {
        "learned: aggregates (ridge)": ("agg", fit_sentence(list(train.values()), *agg_best)),
        "learned: aggregates + pooled hidden states (ridge), garble's head": (
            kind,
            fit_sentence(list(train.values()), **best),
        ),
    }
    print("\n## MLQE-PE dev: Pearson (Spearman) with the DA z-scores, 1,000 rows a pair\n")
    print("| score | " + " | ".join(PAIRS) + " |")
    print("|---|" + "---|" * len(PAIRS))
    cols = {p: baselines(d) for p, d in dev.items()}
    for name in cols[PAIRS[0]]:
        cells = [f"{pearson(cols[p][name], dev[p].z):.3f} ({spearman(cols[p][name], dev[p].z):.3f})" for p in PAIRS]
        print(f"| {name} | " + " | ".join(cells) + " |")
    results = {}
    for name, (k, head) in heads.items():
        preds = {p: head.predict(dev[p].x(k)) for p in PAIRS}
        results[name] = {p: pearson(preds[p], dev[p].z) for p in PAIRS}
        cells = [f"**{pearson(preds[p], dev[p].z):.3f}** ({spearman(preds[p], dev[p].z):.3f})" for p in PAIRS]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.lopo:
        print("\n## Each pair left out of training (train on the other two), its dev\n")
        print("| left out | MT system's own | learned on the other two |")
        print("|---|---|---|")
        for p in PAIRS:
            head = fit_sentence([t for q, t in train.items() if q != p], **best)
            r = pearson(head.predict(dev[p].x(kind)), dev[p].z)
            print(f"| {p} | {pearson(dev[p].model_scores, dev[p].z):.3f} | {r:.3f} |")
    word_head = None
    if args.words:
        word_head = words(fit, hold, train, dev)
    if args.write:
        name = "learned: aggregates + pooled hidden states (ridge), garble's head"
        head = heads[name][1]
        head.card = {
            "what": "sentence QE head: predicts the MLQE-PE DA z-score (higher = better) of a translation read by "
            "the source-reading LM",
            "lm": QE_MODEL,
            "features": list(AGGREGATES) + (["pooled hidden states"] if kind != "agg" else []),
            "pooled_layers": [6, 12, 18],
            "fitted_on": {p: int(len(t.z)) for p, t in train.items()},
            "data": "MLQE-PE train (ro-en, et-en, ru-en), DA z_mean; CC0",
            "settings": best,
            "chosen_on": f"MLQE-PE train rows with index >= {HOLDOUT_FROM} (held out, then refitted on all)",
            "dev_pearson": {p: round(results[name][p], 4) for p in PAIRS},
            "date": datetime.date.today().isoformat(),
            "made_by": "scripts/fit_qe.py --write",
        }
        head.card["p_fix"] = calibrate(fit_sentence(fit, **best), hold, kind)
        head.save(ROOT / "data" / "qe_sentence.npz")
        print("wrote data/qe_sentence.npz")
        if word_head is not None:
            word_head.save(ROOT / "data" / "qe_words.npz")
            print("wrote data/qe_words.npz")
    return 0


def calibrate(head: LinearHead, hold: list[Split], kind: str) -> dict:
    """p_fix = sigmoid((bias - z) / scale): a logistic fit of 'the post-editor changed at least a fifth of the
    words' (HTER >= 0.2) on the z predicted for held-out train rows by a head fitted without them."""
    from sklearn.linear_model import LogisticRegression

    z = np.concatenate([head.predict(h.x(kind)) for h in hold])
    y = np.concatenate([[r.hter >= 0.2 for r in h.rows] for h in hold])
    m = LogisticRegression(C=100.0).fit(z[:, None], y)
    a, b = float(m.coef_[0, 0]), float(m.intercept_[0])
    scale = -1.0 / a
    print(f"p_fix calibration on {len(y)} held-out rows (HTER >= 0.2 in {y.mean():.1%}): a {a:.3f}, b {b:.3f}")
    return {"bias": b * scale, "scale": scale, "label": "HTER >= 0.2", "rows": int(len(y))}


def words(fit, hold, train, dev) -> LinearHead:
    xf, yf = _stack([word_rows(s) for s in fit])
    xh, yh = _stack([word_rows(s) for s in hold])
    best = None
    for c in (0.01, 0.1):
        head = fit_words(xf, yf, c, cap=100_000)
        m, t = best_threshold(head.predict(xh), yh)
        print(f"  word head C {c:g}: held-out MCC {m:.3f} at threshold {t:.3f}")
        if best is None or m > best[0]:
            best = (m, c, t)
    _, c, _ = best
    xa, ya = _stack([word_rows(s) for s in train.values()])
    head = fit_words(xa, ya, c)
    # the threshold: chosen on the held-out rows with a head fitted without them
    _, threshold = best_threshold(fit_words(xf, yf, c).predict(xh), yh)
    head.threshold = threshold
    print("\n## Word level (MLQE-PE dev): MCC of OK/BAD over MT words\n")
    print("| pair | BAD share | garble word head | s_max alone (threshold at the same BAD rate) | all BAD |")
    print("|---|---|---|---|---|")
    card = {}
    for p, d in dev.items():
        x, y = word_rows(d)
        pred = head.predict(x) >= threshold
        smax = x[:, WORD_SCALARS.index("s_max")]
        base = smax >= np.quantile(smax, 1 - pred.mean())
        card[p] = round(mcc(pred, y), 4)
        print(f"| {p} | {y.mean():.3f} | **{mcc(pred, y):.3f}** | {mcc(base, y):.3f} | 0.000 |")
    head.card = {
        "what": "word adequacy head: p that a post-editor changed the word (MLQE-PE word tags, BAD = changed)",
        "lm": QE_MODEL,
        "features": list(WORD_SCALARS) + ["mean hidden state of the word's tokens, layers 12 and 18"],
        "data": "MLQE-PE train (ro-en, et-en, ru-en) word tags; CC0",
        "C": c,
        "threshold": threshold,
        "chosen_on": f"MLQE-PE train rows with index >= {HOLDOUT_FROM}",
        "dev_mcc": card,
        "date": datetime.date.today().isoformat(),
        "made_by": "scripts/fit_qe.py --write --words",
    }
    return head


def _stack(parts):
    return np.vstack([x for x, _ in parts]), np.concatenate([y for _, y in parts])


if __name__ == "__main__":
    sys.exit(main())
