#!/usr/bin/env python3
"""Source-aware detectors alone (no LM): false alarms on human references, detection of synthetic corruptions.

    PYTHONPATH=. python scripts/eval_source.py [--spans PATH] [--write-prior]

Table 1: the share of the human reference rows of mqm_ted_zhen_spans.jsonl
(is_ref=1, each with its Chinese source; all talks, and the test talks alone)
on which each source-aware detector fires, and per finding kind.
Table 3: on the MT output of the test talks, the share of segments with each
MQM Major category (and of error-free ones) that each detector fires on, and
the AUC of the length z alone for omissions.
Table 2: for each synthetic corruption of garble.synth_source, made from the
same reference rows, the share its own detector catches, the share any
source-aware detector catches, and the share of the clean pairs that
detector fires on. Each pair is scored as a one-unit document (as
Scorer.score_segments does), source language given as zh.

The source column of that file still holds the raters' ``<v>...</v>`` span
markers; garble.eval.data.read_spans removes them (they are annotation, not text).

--write-prior: measure the zh-en length prior on the train talks' references
and write garble/detectors/source_length.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from garble.detectors import registry  # noqa: E402
from garble.document import Document  # noqa: E402
from garble.eval.data import read_spans, split_of  # noqa: E402
from garble.synth_source import DETECTOR_OF, KINDS, corruptions  # noqa: E402
from garble.types import Unit  # noqa: E402

SOURCE_DETECTORS = ("numbers", "placeholders", "untranslated", "source_tokens", "structure", "length_ratio")


def findings(dets, source: str, target: str, lang: str = "zh") -> list:
    doc = Document(target, [Unit(0, 0, len(target), target, 0)], sources=[source], source_lang=lang)
    return [f for d in dets for f in d.detect(doc)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spans", type=Path, default=ROOT.parent / "shared" / "eval" / "mqm_ted_zhen_spans.jsonl")
    ap.add_argument("--write-prior", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    refs = [r for r in read_spans(args.spans) if r.is_ref]
    if args.write_prior:
        from garble.detectors.length_ratio import PRIOR_FILE, measure_prior

        train = [(r.source, r.text) for r in refs if split_of(r.doc) == "train"]
        out = {
            "about": "log((letters and digits of target + 1) / (letters and digits of source + 1)), placeholders left out (garble.detectors.length_ratio.log_ratio), of human reference translations, per source-length bin (source letters and digits >= the key); written by scripts/eval_source.py --write-prior",
            "pairs": {"zh-en": {**measure_prior(train), "measured_on": f"mqm_ted_zhen_spans.jsonl is_ref=1 rows of the train talks (garble.eval.data.split_of), {len(train)} segments"}},
        }
        (ROOT / "garble" / "detectors" / PRIOR_FILE).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote garble/detectors/{PRIOR_FILE} ({len(train)} train-talk references)")
    reg = registry()
    dets = {n: reg[n]() for n in SOURCE_DETECTORS}

    test = [r for r in refs if split_of(r.doc) == "test"]
    print(f"## False alarms on human references (is_ref=1 with source): {len(refs)} segments, {len(test)} of them in test talks\n")
    print("| detector | fires on (all) | fires on (test talks) | kinds (all) |")
    print("|---|---|---|---|")
    per = {n: [findings([d], r.source, r.text) for r in refs] for n, d in dets.items()}
    is_test = [split_of(r.doc) == "test" for r in refs]
    for n in SOURCE_DETECTORS:
        fired = [bool(fs) for fs in per[n]]
        ft = [f for f, t in zip(fired, is_test) if t]
        kinds = Counter(f.kind for fs in per[n] for f in fs)
        print(f"| {n} | {sum(fired)} ({sum(fired) / len(refs):.2%}) | {sum(ft)} ({sum(ft) / max(1, len(ft)):.2%}) | {', '.join(f'{k} {v}' for k, v in kinds.most_common())} |")
    anyf = [any(per[n][i] for n in SOURCE_DETECTORS) for i in range(len(refs))]
    print(f"| any of them | {sum(anyf)} ({sum(anyf) / len(refs):.2%}) | | |")

    print(f"\n## Synthetic source-aware corruptions of the same references (seed {args.seed})\n")
    print("| corruption | pairs | own detector | caught by it | caught by any source-aware detector | its detector on the clean pairs |")
    print("|---|---|---|---|---|---|")
    allc = corruptions([(r.source, r.text) for r in refs], KINDS, seed=args.seed)
    all_dets = list(dets.values())
    for kind in KINDS:
        cs = allc[kind]
        own = dets[DETECTOR_OF[kind]]
        hit = sum(bool(findings([own], c.source, c.target)) for c in cs)
        anyhit = sum(bool(findings(all_dets, c.source, c.target)) for c in cs)
        clean = sum(bool(findings([own], c.clean_source, c.clean_target)) for c in cs)
        n = max(1, len(cs))
        print(f"| {kind} | {len(cs)} | {own.name} | {hit / n:.1%} | {anyhit / n:.1%} | {clean / n:.1%} |")
    mt_table(args.spans, dets)
    return 0


GROUPS = ("Accuracy/Omission", "Accuracy/Addition", "Accuracy/Mistranslation", "Accuracy/Untranslated text", "Fluency/")


def mt_table(path: Path, dets: dict) -> None:
    """Table 3: on MT output (is_ref=0) of the test talks, how often each detector fires per MQM Major category."""
    from sklearn.metrics import roc_auc_score

    from garble.detectors.length_ratio import z_of

    rows = [r for r in read_spans(path) if not r.is_ref and split_of(r.doc) == "test"]

    def majors(r):
        return {cat for _, _, sev, cat in r.errors if sev == 2}

    def clean(r):
        return not r.errors

    groups = {"error-free": [r for r in rows if clean(r)]}
    for g in GROUPS:
        groups[f"Major {g}{'*' if g.endswith('/') else ''}"] = [r for r in rows if any(c.startswith(g) for c in majors(r))]
    fired = {id(r): {n: bool(findings([d], r.source, r.text)) for n, d in dets.items()} for r in rows}
    print(f"\n## MT output of the test talks (is_ref=0, {len(rows)} segments): share of segments each detector fires on, by MQM Major category\n")
    print("| segments | n | " + " | ".join(SOURCE_DETECTORS) + " |")
    print("|---|---|" + "---|" * len(SOURCE_DETECTORS))
    for name, rs in groups.items():
        cells = [f"{sum(fired[id(r)][n] for r in rs) / max(1, len(rs)):.1%}" for n in SOURCE_DETECTORS]
        print(f"| {name} | {len(rs)} | " + " | ".join(cells) + " |")
    om = [r for r in groups["Major Accuracy/Omission"]]
    neg = groups["error-free"]
    if om and neg:
        auc = roc_auc_score([1] * len(om) + [0] * len(neg), [-z_of(r.source, r.text) for r in om + neg])
        print(f"\nAUC of the length z alone (shorter = more suspect), Major Accuracy/Omission vs error-free: {auc:.3f}")


if __name__ == "__main__":
    sys.exit(main())
