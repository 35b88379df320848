#!/usr/bin/env python3
"""Write grammatical/ungrammatical minimal pairs for `garble eval pairs` from clean text you have.

    python scripts/make_minimal_pairs.py -o out/minimal_pairs.jsonl            # test split of ../shared/eval
    garble eval pairs out/minimal_pairs.jsonl

Sources: the human reference translations of mqm_ted_zhen.tsv and clean_en.tsv
(garble.eval.synthetic.synthetic_sources), the TEST split only by default, so the
pairs are held out from everything the shipped weights were fitted on.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from garble.eval.data import read_annotated, read_clean  # noqa: E402
from garble.eval.synthetic import synthetic_sources  # noqa: E402
from garble.segment import segment  # noqa: E402
from garble.synth import ALL_TYPES, minimal_pairs  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    ap.add_argument("--split", default="test", choices=["test", "train", "all"])
    ap.add_argument("--per-kind", type=int, default=40)
    ap.add_argument(
        "--seed", type=int, default=1, help="1: other corruptions than the synthetic pairs of garble eval (seed 0)"
    )
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    rows = read_annotated(args.eval_dir / "mqm_ted_zhen.tsv")
    clean = read_clean(args.eval_dir / "clean_en.tsv")
    # one sentence per unit (clean_en.tsv holds paragraphs): a minimal pair is two sentences
    src = [
        (d, [u.text for t in texts for u in segment(t)])
        for d, texts, s in synthetic_sources(rows, clean)
        if args.split == "all" or s == args.split
    ]
    pairs = minimal_pairs(src, ALL_TYPES, per_kind=args.per_kind, seed=args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as fh:
        for p in pairs:
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(f"wrote {len(pairs)} pairs to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
