#!/usr/bin/env python
"""Single-feature study on mqm_ted_zhen: which LM-derived score separates bad translations?

    python scripts/feature_study.py [--tsv ../shared/eval/mqm_ted_zhen.tsv] [--split train]

Reads the segments from the eval caches (``garble eval`` fills them) and prints,
for each candidate feature used alone as the score, the metrics of
``garble eval`` (length-controlled AUC, pairwise accuracy, ...). Choices are
made on ``--split train`` (the default); the test talks are for reporting.

Candidates (all from what a unit's LM pass and its text already give):

* ``lm_mean``: mean token surprisal (what perplexity tools report);
* ``lm_total``: total surprisal;
* ``uni_mean``: mean unigram surprisal, -ln p(word) from wordfreq summed over the
  unit's words, per LM token;
* ``slor``: ``lm_mean - uni_mean``, the negated SLOR of Lau et al. (2017) /
  Kann et al. (2018, "Sentence-level fluency evaluation: references help, but
  can be spared!"): the LM's surprisal beyond what the words' rarity explains;
* ``*_rel``: minus the median over the unit's document.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from garble.eval.cache import make_cached_lm  # noqa: E402
from garble.eval.data import load_segments, read_annotated, select_split  # noqa: E402
from garble.eval.metrics import Labels, metric_row  # noqa: E402
from garble.scorer import unigram_surprisal  # noqa: E402


def features(segs) -> dict[str, list[float]]:
    cols: dict[str, list[float]] = defaultdict(list)
    for s in segs:
        lm = s.lm
        n = max(lm["n_tokens"], 1)
        mean = lm["mean_surprisal"]
        uni = unigram_surprisal(s.row.text) / n
        ctx = lm.get("context_mean_surprisal", mean)
        cols["lm_mean"].append(mean)
        cols["lm_total"].append(mean * n)
        cols["lm_ctx_mean"].append(ctx)
        cols["uni_mean"].append(uni)
        cols["slor"].append(mean - uni)
        cols["slor_ctx"].append(ctx - uni)
        cols["lm_max"].append(lm["max_surprisal"])
        cols["chars"].append(float(len(s.row.text)))
    by = defaultdict(list)
    for i, s in enumerate(segs):
        by[(s.row.system, s.row.doc)].append(i)
    for k in ("lm_mean", "slor", "slor_ctx", "lm_max"):
        rel = [0.0] * len(segs)
        for idx in by.values():
            med = statistics.median(cols[k][i] for i in idx)
            for i in idx:
                rel[i] = cols[k][i] - med
        cols[k + "_rel"] = rel
    return cols


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tsv", type=Path, default=ROOT.parent / "shared" / "eval" / "mqm_ted_zhen.tsv")
    ap.add_argument("--split", default="train", choices=["train", "test", "all"])
    args = ap.parse_args(argv)
    rows = read_annotated(args.tsv)
    segs = select_split(load_segments(args.tsv, rows, lm=make_cached_lm()), args.split)
    lab = Labels.of(segs)
    cols = features(segs)
    keys = ("auc_flu", "auc_flu_len", "pairwise", "spearman")
    print(f"split={args.split}: {len(segs)} segments")
    print(f"{'feature':<16}" + "".join(f"{k:>13}" for k in keys))
    for name, v in cols.items():
        m = metric_row(v, lab)
        print(f"{name:<16}" + "".join(f"{m[k]:13.3f}" for k in keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
