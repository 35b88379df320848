"""Worker for scripts/bench.py: time lmppl 0.3.2 on the benchmark segments.

Runs under lmppl's own virtual environment (torch 2.13.0 CPU, transformers 4.x):

    /tmp/lmppl-venv/bin/python scripts/bench_lmppl_worker.py --model DIR --data texts.json [--batch 32] [--threads 2]

Prints one JSON line: load and scoring seconds, peak RSS, and log-perplexity
per text (for a rank correlation with garble's mean surprisal).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="plain HF model directory (transformers 4.x readable)")
    ap.add_argument("--data", required=True, help="JSON list of {'text': ...} records")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    texts = [r["text"] for r in json.load(open(args.data, encoding="utf-8"))]
    t0 = time.perf_counter()
    import lmppl  # sets OMP_NUM_THREADS=1 in os.environ on import
    import torch

    torch.set_num_threads(args.threads)  # compare at the same thread count as garble
    scorer = lmppl.LM(args.model)
    t1 = time.perf_counter()
    scorer.get_perplexity(texts[:8], batch_size=args.batch)  # warm-up, as garble's stages do
    t2 = time.perf_counter()
    ppl = scorer.get_perplexity(texts, batch_size=args.batch)
    t3 = time.perf_counter()
    print(
        json.dumps(
            {
                "n": len(texts),
                "load_s": t1 - t0,
                "seconds": t3 - t2,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "means": [math.log(p) if p and p > 0 and math.isfinite(p) else float("nan") for p in ppl],
                "lmppl_version": getattr(lmppl, "__version__", "0.3.2"),
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
