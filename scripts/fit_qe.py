"""Fit the QE heads on MLQE-PE train (features cached by scripts/qe_extract.py) and measure them on dev.

    python scripts/fit_qe.py [--cache DIR] [--write] [--words] [--lopo] [--ted-cv] [--no-ted]

Choices (ridge strength, target, the word head's C and threshold) are made on held-out train rows (row index
>= 6000 of each pair's train split); dev is only measured. ``--write`` refits on all cached train rows and writes
data/qe_sentence.npz and data/qe_words.npz with their JSON cards. ``--lopo``: each pair left out of training,
measured on its dev, its settings chosen without any of its rows (train on one of the other two pairs, score the
other's held-out rows, both ways). Prints Markdown tables: Pearson and Spearman with the DA z-scores per pair,
beside the baselines measured on the same rows (the MT system's own log-probability, the LM's total and mean
surprisal with and without the source, length, random).

Two sentence heads, one per use:
- SENTENCE, for the source languages it is fitted on (Romanian, Estonian, Russian, and Chinese from the TED train
  talks): the 18 aggregates and all pooled states (the MT tokens' and the source tokens'), the setting with the
  best mean held-out Pearson (on MLQE-PE's held-out rows; the TED rows are always in the fit).
- TRANSFER, for every other source language (data/qe_transfer.npz): the aggregates and the MT half of the pooled
  states only (the source half is language-specific: the SENTENCE recipe fell below the MT system's own score on
  a pair it never saw); each pair's features and targets centred on the pair's own means while fitting (only the
  variation within a pair teaches the head); settings chosen on each pair's held-out rows by a ridge fitted on the
  other two pairs, the largest ridge within one standard error of the best (a new language is further from the
  training rows than held-out rows of the same pairs are). This recipe is what ``--lopo`` measures. It was chosen
  among eight by that train-only criterion (each left-out pair's held-out train rows), after the dev numbers of
  the SENTENCE recipe with a pair left out had been seen (docs/QE.md).

The TED zh-en train talks (``garble.eval.data.split_of``; MT and human translations, features cached by
``scripts/qe_extract.py --ted``) join the SENTENCE head's training rows unless ``--no-ted``: one rater's MQM
penalty a segment, as the target ``-log(1 + mqm)`` standardised to the mean and spread of the MLQE-PE rows' target
(DA z minus HTER). ``--ted-cv`` prints the evidence for that: each train talk held out, Spearman with its MQM and
pairwise accuracy between systems on the same source segment, for the head fitted with and without the other
talks' rows. The test talks are never read here (scripts/ted_qe_check.py measures them). The TRANSFER head and
the word head stay on MLQE-PE alone.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path
from typing import Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from garble.eval.metrics import mcc, pearson, spearman  # noqa: E402
from garble.eval.mlqe import PAIRS, load_split  # noqa: E402
from garble.eval.qe_cache import load_cached  # noqa: E402
from garble.lm import QE_MODEL, cache_dir  # noqa: E402
from garble.qe.features import AGGREGATES, WORD_SCALARS, word_features, word_spans, word_tokens  # noqa: E402
from garble.qe.head import LinearHead  # noqa: E402
from garble.qe.reader import language_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TED = ROOT.parent / "shared" / "eval"
HOLDOUT_FROM = 6000  # train rows at or past this index choose the hyperparameters
ALPHAS = (1000.0, 3000.0, 10000.0, 30000.0, 100000.0, 300000.0, 1000000.0)
K_HTERS = (0.0, 1.0)
N_AGG = len(AGGREGATES)
#: how many leading columns of [aggregates, pooled states] each kind fits on (the head keeps the full width, with
#: zero weight past them): the pooled states are the MT tokens' mean hidden state at layers 6, 12 and 18 (first
#: 1,920), then the source tokens' (last 1,920)
WIDTH = {"agg": N_AGG, "agg+mt": N_AGG + 1920, "agg+pooled": N_AGG + 3840}
#: garble's sentence heads: kind, aggregate weight, centring and selection rule fixed; ridge and HTER weight chosen
SENTENCE = {"kind": "agg+pooled", "agg_weight": 5.0, "center": "none", "rule": "best"}
TRANSFER = {"kind": "agg+mt", "agg_weight": 5.0, "center": "pair", "rule": "one-se"}


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

    @classmethod
    def of(cls, pair: str, split: str, rows: list, cached, keep: list[int], z: np.ndarray, **per_row) -> "Split":
        """A split of rows that are not MLQE-PE's own: ``cached``'s rows at positions ``keep``, targets ``z``;
        ``per_row`` arrays (or lists) are kept row for row by :meth:`take`."""
        s = object.__new__(cls)
        s.pair, s.split, s.rows = pair, split, rows
        s.index, s.agg, s.pooled = cached.index[keep], cached.agg[keep], cached.pooled[keep]
        s.tokens = [cached.tokens[k] for k in keep]
        s.z, s.model_scores = np.asarray(z, dtype=float), np.full(len(keep), np.nan)
        s.per_row = tuple(per_row)
        for name, v in per_row.items():
            setattr(s, name, v)
        return s

    def take(self, mask: np.ndarray) -> "Split":
        s = object.__new__(Split)
        s.pair, s.split = self.pair, self.split
        s.rows = [r for r, m in zip(self.rows, mask) if m]
        s.index, s.agg, s.pooled = self.index[mask], self.agg[mask], self.pooled[mask]
        s.tokens = [t for t, m in zip(self.tokens, mask) if m]
        s.z, s.model_scores = self.z[mask], self.model_scores[mask]
        s.per_row = getattr(self, "per_row", ())
        for name in s.per_row:
            v = getattr(self, name)
            setattr(s, name, v[mask] if isinstance(v, np.ndarray) else [x for x, m in zip(v, mask) if m])
        return s

    def shifted(self, delta: float) -> "Split":
        """The same rows with every target ``delta`` lower."""
        s = self.take(np.ones(len(self.z), dtype=bool))
        s.z = self.z - delta
        return s


class _ExtraRow:
    """A training row that is not an MLQE-PE row (a TED segment, a corruption): no word tags, no model_scores."""

    def __init__(self, hter: float = 0.0, seg=None, kind: Optional[str] = None):
        self.hter, self.seg, self.kind, self.tags, self.model_scores = hter, seg, kind, None, float("nan")


def target_of(parts: list[Split]) -> np.ndarray:
    """The MLQE-PE training target of ``parts``' rows, DA z minus the HTER (the scale the extra rows are put on)."""
    return np.concatenate([p.z - np.array([r.hter for r in p.rows]) for p in parts])


def ted_train(cache: Path, spans: Path, tsv: Path, like: list[Split]) -> Optional[Split]:
    """The TED zh-en train talks as one more training pair (``zh-en``), or None when their features are not
    cached. Target: ``-log(1 + mqm)`` (one rater's MQM penalty; the log tames Non-translation's 25) standardised to
    the mean and standard deviation of ``like``'s DA z minus HTER. ``.mqm``, ``.keys`` (system, doc, seg) and
    ``.doc`` kept for :func:`ted_cv`."""
    import csv

    from garble.eval.data import read_spans, split_of

    c = load_cached(cache, "zh-en", "train")
    if c is None:
        return None
    segs = read_spans(spans)
    with open(tsv, encoding="utf-8") as fh:
        rows = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        mqm_of = {(r["system"], r["doc"], int(r["seg"])): float(r["mqm"]) for r in rows}
    keep = [k for k, i in enumerate(c.index) if split_of(segs[i].doc) == "train"]  # never a test talk
    keys = [(segs[i].system, segs[i].doc, segs[i].seg) for i in c.index[keep]]
    mqm = np.array([mqm_of[k] for k in keys])
    t = -np.log1p(mqm)
    ref = target_of(like)
    z = (t - t.mean()) / t.std() * ref.std() + ref.mean()
    rows = [_ExtraRow(seg=segs[i]) for i in c.index[keep]]
    return Split.of("zh-en", "train", rows, c, keep, z, mqm=mqm, keys=keys, doc=np.array([k[1] for k in keys]))


def pairwise_accuracy(pred: np.ndarray, s: Split) -> float:
    """Pairs of MT outputs (references left out) of the same source segment with different MQM: the share that
    ``pred`` (higher = better) orders as MQM does (a tie in ``pred`` counts a half)."""
    groups: dict = {}
    for p, m, (_, doc, seg), r in zip(pred, s.mqm, s.keys, s.rows):
        if not r.seg.is_ref:
            groups.setdefault((doc, seg), []).append((p, m))
    ok = n = 0.0
    for g in groups.values():
        for i in range(len(g)):
            for j in range(i + 1, len(g)):
                if g[i][1] != g[j][1]:
                    n += 1
                    ok += 0.5 if g[i][0] == g[j][0] else float((g[i][0] > g[j][0]) == (g[i][1] < g[j][1]))
    return ok / n if n else float("nan")


def ted_cv(train: list[Split], ted: Split, settings: dict, transfer: dict) -> dict:
    """Each TED train talk held out: Spearman with -MQM and pairwise accuracy of the SENTENCE head fitted on MLQE-PE
    train with and without the other talks' rows, and of the TRANSFER head (MLQE-PE only: what read Chinese
    before). Means over the talks."""
    kind, t_kind = settings["kind"], transfer["kind"]
    without = fit_sentence(train, **settings)
    t_head = fit_sentence(train, **transfer)
    names = ("sentence head, MLQE-PE only", "sentence head + the other TED train talks", "transfer head (MLQE-PE)")
    out: dict = {n: [] for n in names}
    print("\n## TED train talks, each held out: Spearman with -MQM / pairwise accuracy\n")
    print("| held-out talk | rows | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for doc in sorted(set(ted.doc)):
        test, rest = ted.take(ted.doc == doc), ted.take(ted.doc != doc)
        with_ted = fit_sentence(train + [rest], **settings)
        preds = (without.predict(test.x(kind)), with_ted.predict(test.x(kind)), t_head.predict(test.x(t_kind)))
        cells = []
        for n, p in zip(names, preds):
            r = (spearman(p, -test.mqm), pairwise_accuracy(p, test))
            out[n].append(r)
            cells.append(f"{r[0]:.3f} / {r[1]:.3f}")
        print(f"| {doc} | {len(test.z)} | " + " | ".join(cells) + " |")
    means = {n: tuple(float(np.mean([r[k] for r in v])) for k in (0, 1)) for n, v in out.items()}
    print("| mean | | " + " | ".join(f"**{m[0]:.3f}** / {m[1]:.3f}" for m in means.values()) + " |")
    return means


def load_synthetic(cache: Path, clean: Split) -> Optional[Split]:
    """The corruptions of ``clean``'s rows cached by ``scripts/qe_extract.py --synthetic`` (None when there are
    none), each with its clean row's target (:meth:`Split.shifted` puts them below it); ``.clean_at``: the clean
    row's position in ``clean``, ``.kinds``."""
    import json

    c = load_cached(cache, clean.pair, "synth")
    if c is None:
        return None
    kinds = {}
    for f in sorted(Path(cache).glob(f"{clean.pair}-synth-*.json")):
        kinds.update({int(d["index"]): d["kind"] for d in json.loads(f.read_text(encoding="utf-8"))})
    at = {int(i): k for k, i in enumerate(clean.index)}
    keep = [k for k, i in enumerate(c.index) if int(i) in at]
    clean_at = np.array([at[int(c.index[k])] for k in keep], dtype=int)
    kind_of = np.array([kinds[int(c.index[k])] for k in keep])
    rows = [_ExtraRow(hter=clean.rows[j].hter, kind=k) for j, k in zip(clean_at, kind_of)]
    return Split.of(clean.pair, "synth", rows, c, keep, clean.z[clean_at], clean_at=clean_at, kinds=kind_of)


def synth_cv(fit: list[Split], hold: list[Split], train: dict, extra: list[Split], settings: dict, cache: Path,
             deltas=(0.5, 1.0, 2.0)) -> Optional[float]:  # fmt: skip
    """Whether corruptions of train rows help as training rows, and with which target gap: for each ``delta`` (in
    standard deviations of the target), the SENTENCE head fitted on the fit rows (and ``extra``) plus the
    corruptions of the fit rows; measured on MLQE-PE's held-out rows (mean Pearson) and on the corruptions of the
    held-out rows (the share scored below their clean row, per kind). Returns the chosen delta (None: leave them
    out): the best share among deltas whose mean Pearson is within one standard error of the head without them,
    if it gains at least 0.02."""
    kind = settings["kind"]
    synths = load_synthetics(train, extra[0] if extra else None, cache)
    full = {s.pair: s for s in synths}
    if any(p not in full for p in train):
        return None
    s_hold = [full[h.pair].take(full[h.pair].index >= HOLDOUT_FROM) for h in hold]
    kinds = sorted(set(np.concatenate([s.kinds for s in s_hold])))
    print("\n## Synthetic corruptions as training rows (held-out MLQE-PE rows and their corruptions)\n")
    print("| corruptions in the fit | mean Pearson, held out | share below the clean row | " + " | ".join(kinds) + " |")
    print("|---|---|---|" + "---|" * len(kinds))
    results = {}
    for delta in (None, *deltas):
        parts = list(fit) + extra
        if delta is not None:
            parts += synthetic_rows(synths, train, delta, fit_only=True)
        head = fit_sentence(parts, **settings)
        r = float(np.mean([pearson(predict(head, h, kind), h.z) for h in hold]))
        below, per = [], {k: [] for k in kinds}
        for s in s_hold:
            clean_z = predict(head, train[s.pair], kind)[s.clean_at]
            b = predict(head, s, kind) < clean_z
            below.append(b)
            for k in kinds:
                per[k].extend(b[s.kinds == k])
        share = float(np.mean(np.concatenate(below)))
        results[delta] = (r, share)
        name = "none" if delta is None else f"target {delta:g} SD below the clean row"
        cells = " | ".join(f"{np.mean(per[k]):.3f}" for k in kinds)
        print(f"| {name} | {r:.4f} | {share:.3f} | {cells} |")
    base_r, base_share = results[None]
    se = (1 - base_r**2) / np.sqrt(min(len(h.z) for h in hold) - 1) / np.sqrt(len(hold))
    ok = [d for d in deltas if results[d][0] >= base_r - se and results[d][1] >= base_share + 0.02]
    chosen = max(ok, key=lambda d: results[d][1]) if ok else None
    print(f"chosen: {chosen} (one SE of the mean Pearson: {se:.4f})")
    return chosen


def load_synthetics(train: dict, ted: Optional[Split], cache: Path) -> list[Split]:
    """The cached corruptions of every MLQE-PE train split and of the TED train talks' references (those cached)."""
    loaded = [load_synthetic(cache, clean) for clean in [*train.values(), *([ted] if ted is not None else [])]]
    return [s for s in loaded if s is not None]


def synthetic_rows(synths: list[Split], train: dict, delta_sd: float, fit_only: bool) -> list[Split]:
    """The corruptions garble's sentence head is fitted with (:func:`load_synthetics`; of MLQE-PE rows only those
    below row 6000 with ``fit_only``), each ``delta_sd`` standard deviations of the MLQE-PE target below its clean
    row."""
    gap = delta_sd * target_of(list(train.values())).std()
    out = []
    for sp in synths:
        out.append((sp.take(sp.index < HOLDOUT_FROM) if fit_only and sp.pair != "zh-en" else sp).shifted(gap))
    return out


def _design(parts: list[Split], kind: str, agg_weight: float, center: str):
    """Columns of ``kind``, centred (per pair for ``center="pair"``) and scaled (the aggregates weigh
    ``agg_weight`` times a pooled dimension: a smaller penalty for 18 columns among many)."""
    n = WIDTH[kind]
    xs = [p.x(kind)[:, :n] for p in parts]
    if center == "pair":
        xs = [x - x.mean(0) for x in xs]
    x = np.vstack(xs)
    m = x.mean(0)
    s = x.std(0)
    s[s == 0] = 1.0
    s[:N_AGG] /= agg_weight
    return (x - m) / s, m, s


def _targets(parts: list[Split], k_hter: float, center: str) -> np.ndarray:
    ys = [p.z - k_hter * np.array([r.hter for r in p.rows]) for p in parts]
    if center == "pair":
        ys = [y - y.mean() for y in ys]
    y = np.concatenate(ys)
    return y - y.mean()


def fit_sentence(
    parts: list[Split],
    kind: str,
    alpha: float,
    agg_weight: float = 1.0,
    k_hter: float = 0.0,
    center: str = "none",
    rule: str = "best",
) -> LinearHead:
    """Ridge on standardised features; the target is the DA z-score minus ``k_hter`` times the HTER.

    ``center="pair"``: each pair's features and targets are centred on the pair's own means before the fit, so
    that only the variation within a pair is learnt. ``rule``: how the settings were chosen (:func:`pick`), kept in
    the settings for the card; the fit does not read it. The head itself standardises with the mean over all rows
    (a new language needs no statistics of its own; its offset moves its scores, not their order)."""
    xs, _, s = _design(parts, kind, agg_weight, center)
    y = _targets(parts, k_hter, center)
    coef = np.linalg.solve(xs.T @ xs + alpha * np.eye(xs.shape[1]), xs.T @ y)
    width = parts[0].x(kind).shape[1]
    raw = np.vstack([p.x(kind) for p in parts])
    scale = np.ones(width)
    scale[: len(s)] = s
    full = np.zeros(width)
    full[: len(coef)] = coef
    intercept = float(np.mean(np.concatenate([p.z - k_hter * np.array([r.hter for r in p.rows]) for p in parts])))
    head = LinearHead(raw.mean(0), scale, full, intercept)
    if center == "pair":  # each pair's mean back (its features' offset from the mean over all rows is arbitrary)
        head.card["source_offsets"] = {
            language_name(p.pair[:2]): float(np.mean(p.z - k_hter * np.array([r.hter for r in p.rows])))
            - float(np.mean(head.predict(p.x(kind))))
            for p in parts
        }
    return head


def predict(head: LinearHead, s: Split, kind: str) -> np.ndarray:
    """The head's z for the rows of ``s``, with the offset of the pair's source language as garble adds it."""
    return head.predict(s.x(kind)) + head.offset(language_name(s.pair[:2]))


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


def ridge_grid(
    train: list[Split], evals: list[Split], kind: str, agg_weight: float, center: str, alphas=ALPHAS
) -> dict:
    """Pearson on each of ``evals`` for every (k_hter, alpha) of the grid, the ridge fitted on ``train``: every
    strength at once from one eigendecomposition of X'X (same solution as fit_sentence)."""
    xs, m, s = _design(train, kind, agg_weight, center)
    lam, vec = np.linalg.eigh(xs.T @ xs)
    n = xs.shape[1]
    hx = [((e.x(kind)[:, :n] - m) / s) @ vec for e in evals]  # an offset per pair leaves its Pearson as it is
    out = {}
    for k in K_HTERS:
        proj = vec.T @ (xs.T @ _targets(train, k, center))
        for a in alphas:
            coef = proj / (lam + a)
            out[(k, a)] = [pearson(h @ coef, e.z) for h, e in zip(hx, evals)]
    return out


def pick(table: dict, rows: int, sets: int, rule: str = "one-se"):
    """``rule="best"``: the setting with the best mean Pearson. ``"one-se"``: the largest ridge whose mean Pearson
    is within one standard error of the best (the SE of a Pearson r over ``rows`` rows, (1 - r^2) / sqrt(rows - 1),
    over ``sets`` held-out sets); the best such setting."""
    best = max(table, key=table.get)
    if rule == "best":
        return best
    r = table[best]
    se = (1 - r**2) / np.sqrt(rows - 1) / np.sqrt(sets)
    ok = [key for key in table if table[key] >= r - se]
    alpha = max(key[1] for key in ok)
    return max((key for key in ok if key[1] == alpha), key=table.get)


def choose(train: list[Split], hold: list[Split], recipe: dict = SENTENCE, alphas=ALPHAS) -> tuple[dict, dict]:
    """``recipe`` with the (k_hter, alpha) picked on the pairs' held-out rows (mean Pearson over pairs)."""
    grid = ridge_grid(train, hold, recipe["kind"], recipe["agg_weight"], recipe["center"], alphas)
    table = {key: float(np.mean(v)) for key, v in grid.items()}
    k, a = pick(table, min(len(h.z) for h in hold), len(hold), recipe.get("rule", "one-se"))
    return {**recipe, "alpha": a, "k_hter": k}, table


def choose_without(pair: str, fit: dict, hold: dict, recipe: dict = TRANSFER) -> tuple[dict, float]:
    """Settings for a head that leaves ``pair`` out, chosen without its rows: fitted on one of the other pairs'
    fit rows and scored on the other's held-out rows, both ways, mean Pearson."""
    a, b = [q for q in PAIRS if q != pair]
    ab = ridge_grid([fit[a]], [hold[b]], recipe["kind"], recipe["agg_weight"], recipe["center"])
    ba = ridge_grid([fit[b]], [hold[a]], recipe["kind"], recipe["agg_weight"], recipe["center"])
    table = {key: (ab[key][0] + ba[key][0]) / 2 for key in ab}
    k, alpha = pick(table, min(len(hold[a].z), len(hold[b].z)), 2, recipe.get("rule", "one-se"))
    return {**recipe, "alpha": alpha, "k_hter": k}, table[(k, alpha)]


def choose_transfer(fit: list[Split], hold: list[Split], recipe: dict = TRANSFER) -> tuple[dict, dict]:
    """Settings for the head garble reads other source languages with: each pair's held-out rows scored by a
    ridge fitted on the other two pairs' fit rows, mean Pearson over the three pairs, the one-SE rule."""
    grids = []
    for p in PAIRS:
        others = [f for f in fit if f.pair != p]
        grids.append(ridge_grid(others, [h for h in hold if h.pair == p], recipe["kind"], recipe["agg_weight"],
                                recipe["center"]))  # fmt: skip
    table = {key: float(np.mean([g[key][0] for g in grids])) for key in grids[0]}
    k, a = pick(table, min(len(h.z) for h in hold), len(hold), recipe.get("rule", "one-se"))
    return {**recipe, "alpha": a, "k_hter": k}, table


def calibrate_transfer(fit: list[Split], hold: list[Split], settings: dict) -> dict:
    """p_fix for the transfer head as it is used, on a language it was not fitted on: each pair's held-out rows
    predicted by a head fitted on the other two pairs' fit rows (no offset), one logistic fit over them all."""
    z = [fit_sentence([f for f in fit if f.pair != h.pair], **settings).predict(h.x(settings["kind"])) for h in hold]
    return {**_fit_p_fix(z, hold, "held-out rows, each pair unseen"), "unseen": True}


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
    ap.add_argument("--no-ted", action="store_true", help="leave the TED train talks out of the sentence head")
    ap.add_argument("--ted-cv", action="store_true", help="each TED train talk held out: with and without TED rows")
    ap.add_argument("--ted-cache", type=Path, default=cache_dir() / "qe" / "ted")
    ap.add_argument("--ted-spans", type=Path, default=TED / "mqm_ted_zhen_spans.jsonl")
    ap.add_argument("--ted-tsv", type=Path, default=TED / "mqm_ted_zhen.tsv")
    ap.add_argument("--no-synth", action="store_true", help="leave the synthetic corruptions out (no measuring)")
    ap.add_argument("--synth-cache", type=Path, default=cache_dir() / "qe" / "synth")
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
    ted = None if args.no_ted else ted_train(args.ted_cache, args.ted_spans, args.ted_tsv, list(train.values()))
    extra = [ted] if ted is not None else []
    print(f"TED train talks: {len(ted.z)} rows" if ted is not None else "TED train talks: not used")
    best, table = choose(fit + extra, hold)
    delta = None if args.no_synth else synth_cv(fit, hold, train, extra, best, args.synth_cache)
    synths = load_synthetics(train, ted, args.synth_cache) if delta is not None else []
    synth_all = synthetic_rows(synths, train, delta, False) if delta is not None else []
    synth_fit = synthetic_rows(synths, train, delta, True) if delta is not None else []
    print(f"\nchoice on held-out train rows (mean Pearson over pairs), recipe {SENTENCE}:")
    for key, r in sorted(table.items()):
        print(f"  k_hter {key[0]:g}, alpha {key[1]:g}: {r:.4f}")
    print(f"chosen: {best}")
    kind = best["kind"]
    transfer, ttable = choose_transfer(fit, hold)
    print("\nchoice for other languages (each pair's held-out rows, the ridge fitted on the other two pairs):")
    for key, r in sorted(ttable.items()):
        print(f"  k_hter {key[0]:g}, alpha {key[1]:g}: {r:.4f}")
    print(f"chosen: {transfer}")
    agg_recipe = {"kind": "agg", "agg_weight": 1.0, "center": "none", "rule": "best"}
    agg_best, _ = choose(fit, hold, agg_recipe, alphas=(1.0, 10.0, 100.0))
    name = "learned: aggregates + pooled hidden states (ridge), garble's sentence head (ro/et/ru/zh)"
    t_name = "learned: aggregates + MT-side pooled states, centred per pair, garble's transfer head"
    heads = {
        "learned: aggregates (ridge)": ("agg", fit_sentence(list(train.values()), **agg_best)),
        name: (kind, fit_sentence(list(train.values()) + extra + synth_all, **best)),
        t_name: (transfer["kind"], fit_sentence(list(train.values()), **transfer)),
    }
    print("\n## MLQE-PE dev: Pearson (Spearman) with the DA z-scores, 1,000 rows a pair\n")
    print("| score | " + " | ".join(PAIRS) + " |")
    print("|---|" + "---|" * len(PAIRS))
    cols = {p: baselines(d) for p, d in dev.items()}
    for label in cols[PAIRS[0]]:
        cells = [f"{pearson(cols[p][label], dev[p].z):.3f} ({spearman(cols[p][label], dev[p].z):.3f})" for p in PAIRS]
        print(f"| {label} | " + " | ".join(cells) + " |")
    results = {}
    for label, (k, head) in heads.items():
        preds = {p: predict(head, dev[p], k) for p in PAIRS}
        results[label] = {p: pearson(preds[p], dev[p].z) for p in PAIRS}
        cells = [f"**{pearson(preds[p], dev[p].z):.3f}** ({spearman(preds[p], dev[p].z):.3f})" for p in PAIRS]
        print(f"| {label} | " + " | ".join(cells) + " |")
    lopo_dev = lopo(train, dev, fit, hold, transfer) if args.lopo else None
    ted_means = ted_cv(list(train.values()), ted, best, transfer) if args.ted_cv and ted is not None else None
    word_head = None
    if args.words:
        word_head = words(fit, hold, train, dev)
    if args.write:
        head = heads[name][1]
        head.card = {
            **head.card,
            "what": "sentence QE head: predicts the MLQE-PE DA z-score (higher = better) of a translation read by "
            "the source-reading LM",
            "lm": QE_MODEL,
            "features": list(AGGREGATES) + ["pooled hidden states: the MT tokens', then the source tokens'"],
            "pooled_layers": [6, 12, 18],
            "languages": sorted(language_name(p.pair[:2]) for p in list(train.values()) + extra),
            "fitted_on": {p.pair: int(len(p.z)) for p in list(train.values()) + extra},
            "data": f"MLQE-PE train (ro-en, et-en, ru-en), DA z_mean minus {best['k_hter']:g} x HTER; CC0"
            + (
                "; TED zh-en MQM train talks (talk.6, talk.7, talk.9; MT and human translations), -log(1 + mqm) "
                "standardised to the MLQE-PE target's mean and spread; Apache-2.0"
                if ted is not None
                else ""
            ),
            "settings": best,
            "chosen_on": f"MLQE-PE train rows with index >= {HOLDOUT_FROM} (held out, then refitted on all)",
            "dev_pearson": {p: round(results[name][p], 4) for p in PAIRS},
            "date": datetime.date.today().isoformat(),
            "made_by": "scripts/fit_qe.py --write",
        }
        if ted_means is not None:
            head.card["ted_train_talks_cv"] = {k: [round(v, 4) for v in m] for k, m in ted_means.items()}
        if delta is not None:
            head.card["synthetic"] = {
                "what": "source-aware corruptions (garble.synth_source: a dropped clause, a changed number, a dropped "
                "name, an untranslated stretch) of MLQE-PE train rows and of the TED train talks' references, made by "
                "scripts/qe_extract.py --synthetic; target: the clean row's less delta_sd standard deviations",
                "delta_sd": delta,
                "rows": {p.pair: int(len(p.z)) for p in synth_all},
            }
        head.card["p_fix"] = calibrate(fit_sentence(fit + extra + synth_fit, **best), hold, kind)
        head.save(ROOT / "data" / "qe_sentence.npz")
        print("wrote data/qe_sentence.npz")
        t_head = heads[t_name][1]
        t_head.card = {
            **{
                k: v for k, v in head.card.items() if k not in ("p_fix", "languages", "ted_train_talks_cv", "synthetic")
            },
            "what": "sentence QE head for source languages the sentence head was not fitted on (all but Romanian, "
            "Estonian, Russian and Chinese): predicts the DA z-score (higher = better)",
            "fitted_on": {p: int(len(t.z)) for p, t in train.items()},
            "data": "MLQE-PE train (ro-en, et-en, ru-en), DA z_mean; CC0",
            "features": list(AGGREGATES) + ["pooled hidden states of the MT tokens (the source tokens' have weight 0)"],
            "centring": "each pair's features and targets centred on its own means while fitting; no offset for a "
            "language (its scores' level is not learnt, their order is)",
            "settings": transfer,
            "chosen_on": f"MLQE-PE train rows with index >= {HOLDOUT_FROM} of each pair, scored by a ridge fitted on "
            "the other two pairs' rows (then refitted on all)",
            "dev_pearson": {p: round(results[t_name][p], 4) for p in PAIRS},
        }
        t_head.card.pop("source_offsets", None)
        if lopo_dev:  # with --lopo: each pair left out of the recipe, its dev
            t_head.card["lopo_dev_pearson"] = {p: round(r, 4) for p, r in lopo_dev.items()}
        t_head.card["p_fix"] = calibrate_transfer(fit, hold, transfer)
        t_head.save(ROOT / "data" / "qe_transfer.npz")
        print("wrote data/qe_transfer.npz")
        if word_head is not None:
            word_head.save(ROOT / "data" / "qe_words.npz")
            print("wrote data/qe_words.npz")
    return 0


def lopo(train: dict, dev: dict, fit: list, hold: list, best: dict) -> dict:
    """The transfer recipe with each pair left out: settings chosen without its rows (choose_without), fitted on
    the other two pairs' train rows, measured on its dev; beside it ``best``'s settings (the transfer head's, chosen
    with all three pairs' held-out rows) and the in-language recipe fitted on the other two."""
    fit, hold = {s.pair: s for s in fit}, {s.pair: s for s in hold}
    out = {}
    print("\n## Each pair left out of training (train on the other two), its dev\n")
    print(
        "| left out | MT system's own | learned on the other two | settings (k_hter, alpha), chosen without it "
        "| at the transfer head's settings | in-language recipe (SENTENCE) on the other two |"
    )
    print("|---|---|---|---|---|---|")
    for p in PAIRS:
        others = [t for q, t in train.items() if q != p]
        settings, r_nested = choose_without(p, fit, hold)
        r = pearson(fit_sentence(others, **settings).predict(dev[p].x(settings["kind"])), dev[p].z)
        r_head = pearson(fit_sentence(others, **best).predict(dev[p].x(best["kind"])), dev[p].z)
        s_set, _ = choose([fit[q] for q in PAIRS if q != p], [hold[q] for q in PAIRS if q != p], SENTENCE)
        r_in = pearson(fit_sentence(others, **s_set).predict(dev[p].x(s_set["kind"])), dev[p].z)
        ms = pearson(dev[p].model_scores, dev[p].z)
        chosen = f"{settings['k_hter']:g}, {settings['alpha']:g} (held out {r_nested:.3f})"
        print(f"| {p} | {ms:.3f} | **{r:.3f}** | {chosen} | {r_head:.3f} | {r_in:.3f} |")
        out[p] = r
    return out


def calibrate(head: LinearHead, hold: list[Split], kind: str) -> dict:
    """p_fix = sigmoid((bias - z) / scale): a logistic fit of 'the post-editor changed at least a fifth of the
    words' (HTER >= 0.2) on the z predicted for held-out train rows by a head fitted without them."""
    return _fit_p_fix([predict(head, h, kind) for h in hold], hold, "held-out rows")


def _fit_p_fix(z: list[np.ndarray], hold: list[Split], what: str) -> dict:
    """The logistic fit of HTER >= 0.2 on ``z`` (one array per split of ``hold``), as a p_fix calibration."""
    from sklearn.linear_model import LogisticRegression

    z = np.concatenate(z)
    y = np.concatenate([[r.hter >= 0.2 for r in h.rows] for h in hold])
    m = LogisticRegression(C=100.0).fit(z[:, None], y)
    a, b = float(m.coef_[0, 0]), float(m.intercept_[0])
    scale = -1.0 / a
    print(f"p_fix calibration on {len(y)} {what} (HTER >= 0.2 in {y.mean():.1%}): a {a:.3f}, b {b:.3f}")
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
