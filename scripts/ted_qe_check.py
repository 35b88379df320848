"""The TED zh-en test talks scored with their sources and the QE model: the columns of docs/EVALUATION.md's
with-source table (AUC flu-major, length-controlled AUC, AUC major, Spearman with MQM, pairwise accuracy,
P@5 per document), for garble's score with QE and for the QE parts alone. garble reads Chinese with the sentence
head (fitted on MLQE-PE ro/et/ru and the TED train talks); the transfer head (MLQE-PE only, for languages the
sentence head was not fitted on) is shown beside.

    python scripts/ted_qe_check.py [--tsv ../shared/eval/mqm_ted_zhen.tsv] [--split test] [--bootstrap N]
    python scripts/ted_qe_check.py --corruptions     # the test talks' references, corrupted (garble.synth_source)

Each (system, talk) is one document (``Scorer.score_units`` with sources, source language zh), as
``garble eval --with-source`` scores it; the detectors run without the source-free LM (with a QE estimate a
unit's score uses none of its features). A check, never a fit: nothing here is trained or tuned on TED.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from garble.eval.data import _unit_records, build_documents, read_annotated, read_spans, split_of  # noqa: E402
from garble.eval.metrics import Labels, metric_row  # noqa: E402
from garble.qe.reader import SourceReader  # noqa: E402

COLUMNS = ("auc_flu", "auc_flu_len", "auc_major", "spearman", "pairwise", "p_at_5")


class _Remembering(SourceReader):
    """A SourceReader that reads each (source, translation, language) once: two estimators share its readings."""

    def __init__(self):
        super().__init__()
        self._seen = {}

    def read(self, sources, translations, languages, alone=True, token_hidden=False):
        keys = [(s, t, lang, alone, token_hidden) for s, t, lang in zip(sources, translations, languages)]
        new = [k for k in dict.fromkeys(keys) if k not in self._seen]
        if new:
            got = super().read([k[0] for k in new], [k[1] for k in new], [k[2] for k in new], alone, token_hidden)
            self._seen.update(zip(new, got))
        return [self._seen[k] for k in keys]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = Path(__file__).resolve().parents[2] / "shared" / "eval"
    ap.add_argument("--tsv", type=Path, default=here / "mqm_ted_zhen.tsv")
    ap.add_argument("--spans", type=Path, default=here / "mqm_ted_zhen_spans.jsonl")
    ap.add_argument("--split", default="test")
    ap.add_argument(
        "--bootstrap",
        type=int,
        default=0,
        help="resamples of the source segments (every system's version of one "
        "together): 95%% intervals of garble with QE minus garble with the transfer head",
    )
    ap.add_argument(
        "--corruptions",
        action="store_true",
        help="instead: the split's human translations corrupted by garble.synth_source (seed 0), the share of each "
        "kind that the QE head, garble's score and Gemma's total surprisal put below the clean version",
    )
    args = ap.parse_args(argv)
    import garble
    from garble.qe.estimator import QualityEstimator

    if args.corruptions:
        return _corruptions(args, garble.Scorer(model=False, qe=QualityEstimator()))

    rows = [r for r in read_annotated(args.tsv) if args.split == "all" or split_of(r.doc) == args.split]
    srcs = {(r.system, r.doc, r.seg): r.source for r in read_spans(args.spans)}
    reader = _Remembering()
    packaged = QualityEstimator(reader)
    scorer = garble.Scorer(model=False, qe=packaged)  # Chinese: the sentence head (TED train talks in its fit)
    unseen = copy.deepcopy(packaged.sentence)  # the same head with Chinese taken out of its languages
    unseen.card["languages"] = [x for x in unseen.card["languages"] if x != "Chinese"]
    in_language = garble.Scorer(model=False, qe=QualityEstimator(reader, sentence=unseen, transfer=packaged.transfer))
    names = ("garble with QE", "QE p_fix", "garble, transfer head", "p_fix, transfer head")
    segs, cols = [], {k: [] for k in (*names, "Gemma + source, total", "Gemma + source, mean")}
    docs = build_documents(rows)
    for i, d in enumerate(docs):
        sources = [srcs.get(r.key) for r in d.rows]
        res = scorer.score_units(d.texts, sources=sources, source_lang="zh")
        other = in_language.score_units(d.texts, sources=sources, source_lang="zh")  # read once: remembered
        segs.extend(_unit_records(res, i, d.rows))
        for u, o in zip(res.units, other.units):
            q = u.qe
            cols["garble with QE"].append(u.score)
            cols["QE p_fix"].append(q.p_fix if q else 0.5)
            cols["garble, transfer head"].append(o.score)
            cols["p_fix, transfer head"].append(o.qe.p_fix if o.qe else 0.5)
            cols["Gemma + source, total"].append(q.lm_total if q else 0.0)
            cols["Gemma + source, mean"].append(q.lm_mean if q else 0.0)
        print(f"documents {i + 1}/{len(docs)}", file=sys.stderr, flush=True)
    lab = Labels.of(segs)
    print(f"{len(segs)} segments ({args.split} talks), with sources")
    print(f"{'score':24s} " + " ".join(f"{c:>12s}" for c in COLUMNS))
    for name, v in cols.items():
        m = metric_row(v, lab)
        print(f"{name:24s} " + " ".join(f"{m[c]:12.3f}" for c in COLUMNS))
    if args.bootstrap:
        _bootstrap(cols["garble with QE"], cols["garble, transfer head"], lab, args.bootstrap)
    return 0


def _corruptions(args, scorer) -> int:
    """Each corruption kind of the split's references: the share scored worse than the clean pair."""
    from garble.synth_source import KINDS, corruptions

    refs = [s for s in read_spans(args.spans) if s.is_ref and (args.split == "all" or split_of(s.doc) == args.split)]
    made = corruptions([(r.source, r.text) for r in refs], KINDS, seed=0)
    print(f"{len(refs)} human translations ({args.split} talks), each kind's corruptions scored worse than clean:")
    print(f"{'kind':22s} {'rows':>5s} {'QE head':>8s} {'garble':>7s} {'Gemma total':>12s}")
    for kind, cs in made.items():
        if not cs:
            continue
        n = len(cs)
        texts = [c.target for c in cs] + [c.clean_target for c in cs]
        res = scorer.score_segments(texts, [c.source for c in cs] + [c.clean_source for c in cs], source_lang="zh")
        head = sum(res[i].qe.z < res[n + i].qe.z for i in range(n)) / n
        score = sum(res[i].score > res[n + i].score for i in range(n)) / n
        total = sum(res[i].qe.lm_total > res[n + i].qe.lm_total for i in range(n)) / n
        print(f"{kind:22s} {n:5d} {head:8.2f} {score:7.2f} {total:12.2f}")
    return 0


def _bootstrap(a, b, lab: Labels, n: int) -> None:
    """Paired bootstrap over source segments of metric(a) - metric(b), column by column."""
    import dataclasses

    import numpy as np

    groups: dict = {}
    for i, g in enumerate(lab.seg_group):
        groups.setdefault(g, []).append(i)
    members = list(groups.values())
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    rng = np.random.default_rng(0)
    diffs = {c: [] for c in COLUMNS}
    for _ in range(n):
        pick = rng.integers(0, len(members), len(members))
        idx = np.concatenate([members[k] for k in pick])
        # a resampled segment group is a new group: pairwise accuracy pairs systems within one draw only
        sub = dataclasses.replace(
            lab, **{f: getattr(lab, f)[idx] for f in ("mqm", "major", "flu", "chars", "is_ref", "len_bin")},
            seg_group=[(j, 0) for j, k in enumerate(pick) for _ in members[k]],
            doc_group=[lab.doc_group[i] for i in idx],
        )  # fmt: skip
        ma, mb = metric_row(a[idx], sub), metric_row(b[idx], sub)
        for c in COLUMNS:
            diffs[c].append(ma[c] - mb[c])
    print(f"\ngarble with QE minus garble with the transfer head, {n} resamples of {len(members)} source segments:")
    for c in COLUMNS:
        d = np.array(diffs[c])
        lo, hi = np.nanpercentile(d, [2.5, 97.5])
        print(f"  {c:12s} 95% interval [{lo:+.3f}, {hi:+.3f}], share <= 0: {np.mean(d <= 0):.2f}")


if __name__ == "__main__":
    sys.exit(main())
