#!/usr/bin/env python3
"""Source-aware detectors alone (no LM): false alarms on human references, detection of synthetic corruptions.

    PYTHONPATH=. python scripts/eval_source.py [--spans PATH] [--write-prior]

Table 1: the share of the human reference rows of mqm_ted_zhen_spans.jsonl
(is_ref=1, each with its Chinese source; all talks, and the test talks alone)
on which each source-aware detector fires, and per finding kind.
Table 2: for each synthetic corruption of garble.synth_source, made from the
same reference rows, the share its own detector catches, the share any
source-aware detector catches, and the share of the clean pairs that
detector fires on.
Table 3: on the MT output of the test talks, the share of segments with each
MQM Major category (and of error-free ones) that each detector fires on, and
the AUC of the length z alone for omissions.
Each pair is scored as a one-unit document (as Scorer.score_segments does),
source language given as zh. The measuring is garble.eval.source's.

--write-prior: measure the zh-en length prior on the train talks' references
and write garble/detectors/source_length.json.
--trade-off: table 4, dropped clauses caught against false alarms for
settings of length_ratio and clauses, train and test talks apart (the
thresholds are chosen on the train talks).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from garble.detectors import registry  # noqa: E402
from garble.eval.data import read_spans, split_of  # noqa: E402
from garble.eval.source import (  # noqa: E402
    SOURCE_DETECTORS,
    alarm_table,
    corruption_rates,
    corruption_table,
    length_tradeoff,
    mt_rates,
    mt_table,
    reference_alarms,
    tradeoff_table,
    write_length_prior,
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spans", type=Path, default=ROOT.parent / "shared" / "eval" / "mqm_ted_zhen_spans.jsonl")
    ap.add_argument("--write-prior", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--trade-off", action="store_true", help="also the dropped-clause trade-off table (about a minute)")
    args = ap.parse_args()
    rows = read_spans(args.spans)
    refs = [r for r in rows if r.is_ref]
    if args.write_prior:
        from garble.detectors.length_ratio import PRIOR_FILE

        n = write_length_prior(refs, ROOT / "garble" / "detectors" / PRIOR_FILE)
        print(f"wrote garble/detectors/{PRIOR_FILE} ({n} train-talk references)")
    reg = registry()
    dets = {n: reg[n]() for n in SOURCE_DETECTORS}
    print("\n".join(alarm_table(reference_alarms(refs, dets))))
    print()
    print("\n".join(corruption_table(corruption_rates(refs, dets, seed=args.seed), args.seed)))
    mt = [r for r in rows if not r.is_ref and split_of(r.doc) == "test"]
    print()
    print("\n".join(mt_table(mt_rates(mt, dets))))
    if args.trade_off:
        print()
        print("\n".join(tradeoff_table(length_tradeoff(rows, seed=args.seed))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
