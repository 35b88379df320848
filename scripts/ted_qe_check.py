"""The TED zh-en test talks scored with their sources and the QE model: the columns of docs/EVALUATION.md's
with-source table (AUC flu-major, length-controlled AUC, AUC major, Spearman with MQM, pairwise accuracy,
P@5 per document), for garble's score with QE and for the QE parts alone.

    python scripts/ted_qe_check.py [--tsv ../shared/eval/mqm_ted_zhen.tsv] [--split test]

Each (system, talk) is one document (``Scorer.score_units`` with sources, source language zh), as
``garble eval --with-source`` scores it; the detectors run without the source-free LM (with a QE estimate a
unit's score uses none of its features). A check, never a fit: nothing here is trained or tuned on TED.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from garble.eval.data import _unit_records, build_documents, read_annotated, read_spans, split_of  # noqa: E402
from garble.eval.metrics import Labels, metric_row  # noqa: E402

COLUMNS = ("auc_flu", "auc_flu_len", "auc_major", "spearman", "pairwise", "p_at_5")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = Path(__file__).resolve().parents[2] / "shared" / "eval"
    ap.add_argument("--tsv", type=Path, default=here / "mqm_ted_zhen.tsv")
    ap.add_argument("--spans", type=Path, default=here / "mqm_ted_zhen_spans.jsonl")
    ap.add_argument("--split", default="test")
    args = ap.parse_args(argv)
    import garble
    from garble.qe.estimator import QualityEstimator

    rows = [r for r in read_annotated(args.tsv) if args.split == "all" or split_of(r.doc) == args.split]
    srcs = {(r.system, r.doc, r.seg): r.source for r in read_spans(args.spans)}
    scorer = garble.Scorer(model=False, qe=QualityEstimator())
    segs, cols = [], {k: [] for k in ("garble with QE", "QE p_fix", "Gemma + source, total", "Gemma + source, mean")}
    docs = build_documents(rows)
    for i, d in enumerate(docs):
        res = scorer.score_units(d.texts, sources=[srcs.get(r.key) for r in d.rows], source_lang="zh")
        segs.extend(_unit_records(res, i, d.rows))
        for u in res.units:
            q = u.qe
            cols["garble with QE"].append(u.score)
            cols["QE p_fix"].append(q.p_fix if q else 0.5)
            cols["Gemma + source, total"].append(q.lm_total if q else 0.0)
            cols["Gemma + source, mean"].append(q.lm_mean if q else 0.0)
        print(f"documents {i + 1}/{len(docs)}", file=sys.stderr, flush=True)
    lab = Labels.of(segs)
    print(f"{len(segs)} segments ({args.split} talks), with sources")
    print(f"{'score':24s} " + " ".join(f"{c:>12s}" for c in COLUMNS))
    for name, v in cols.items():
        m = metric_row(v, lab)
        print(f"{name:24s} " + " ".join(f"{m[c]:12.3f}" for c in COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
