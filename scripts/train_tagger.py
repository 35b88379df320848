#!/usr/bin/env python3
"""Rebuild the error model (the token-level head) from the data in ../shared/eval.

    python scripts/train_tagger.py extract   # one LM pass over the MQM talks and the synthetic pairs (~20 min, 2 cores)
    python scripts/train_tagger.py train     # fit the head on the train talks + train-split pairs, report held-out metrics
    python scripts/train_tagger.py all       # both; then copy out/tagger/tagger_*.npz/.json to data/
    python scripts/train_tagger.py seed-cache  # put the extracted streams into garble eval's LM cache (no second LM pass)

``--model`` trains a head for another Hugging Face causal LM (its hidden
states); the head is written as ``out/tagger/tagger_<model name>.npz`` with
its card. Test talks (garble.eval.data.split_of) and test-split synthetic
pairs are never used for fitting; they give the card's metrics.
"""  # noqa: E501 (the usage lines above are the --help text, printed as they stand)

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from garble.errormodel import extract_all, train_head  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=["extract", "train", "all", "seed-cache", "threshold"])
    ap.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "tagger")
    ap.add_argument("--model", default=None, help="HF causal LM name or path (default: SmolLM2-135M-Instruct)")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument(
        "--per-kind", type=int, default=70, help="synthetic pairs per error type, train split (test split: 40%% of it)"
    )
    ap.add_argument("--hidden-units", type=int, default=0, help="0: logistic head; N: one hidden layer of N units")
    args = ap.parse_args(argv)
    t0 = time.time()
    if args.stage in ("extract", "all"):
        extract_all(
            args.eval_dir,
            args.out,
            model=args.model,
            dtype=args.dtype,
            per_kind=args.per_kind,
            log=lambda m: print(f"[{time.time() - t0:7.1f}s] {m}", flush=True),
        )
    if args.stage == "threshold":  # re-choose the finding threshold of an existing head (its card), out of fold
        from garble.errormodel import choose_threshold, out_of_fold_p
        from garble.lm import DEFAULT_MODEL
        from garble.tagger import Tagger

        path = args.out / f"tagger_{Path(args.model or DEFAULT_MODEL).name}.npz"
        head = Tagger.load(path)
        oof = out_of_fold_p(args.eval_dir, args.out, head, per_kind=args.per_kind, hidden_units=args.hidden_units)
        thr, table = choose_threshold(args.eval_dir, args.out, head, p_mqm=oof["mqm"])
        head.card.pop("finding_threshold_train_talks", None)
        head.card["finding_threshold"] = thr
        head.card["finding_threshold_train_talks_out_of_fold"] = {
            str(k): {kk: (round(vv, 4) if isinstance(vv, float) else vv) for kk, vv in v.items()}
            for k, v in table.items()
        }
        head.save(path)
        print(f"finding threshold {thr} written to {path.with_suffix('.json')}")
    if args.stage == "seed-cache":
        from garble.errormodel import seed_stream_cache
        from garble.eval.cache import make_cached_lm

        lm = make_cached_lm(args.model, dtype=args.dtype)
        print(
            f"stored {seed_stream_cache(args.eval_dir, args.out, lm, per_kind=args.per_kind)} streams "
            f"under {lm.path.parent / 'streams'}"
        )
    if args.stage in ("train", "all"):
        train_head(
            args.out,
            model=args.model,
            hidden_units=args.hidden_units,
            eval_dir=args.eval_dir,
            log=lambda m: print(f"[{time.time() - t0:7.1f}s] {m}", flush=True),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
