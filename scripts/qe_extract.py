"""Read MLQE-PE with the source-reading LM once and cache what the QE heads learn from.

    python scripts/qe_extract.py [--out DIR] [--chunk 500] [--train-rows 7000] [--splits dev,train]
    python scripts/qe_extract.py --ted [--out DIR]     # the TED zh-en train talks instead (DIR: qe/ted)

For each pair (ro-en, et-en, ru-en) and split, rows are read in chunks of ``--chunk`` and each chunk is saved as
``DIR/{pair}-{split}-{k:03d}.npz`` (a chunk already there is skipped: the run resumes). Dev chunks come first,
then train chunks taken in turn from each pair, so a run cut short still has every pair. Each chunk holds the
sentence vectors (``pooled``), the per-token arrays concatenated (``surprisal``, ``entropy``, ``rank``,
``alone``, ``token_hidden`` float16, ``offsets``) with ``cuts`` marking rows, and the row indices. Default DIR:
``$GARBLE_CACHE/qe/`` (never committed: features are derived from the model, rebuilt by this script).

``--ted``: the segments of mqm_ted_zhen_spans.jsonl's train talks (``garble.eval.data.split_of``; MT and human
translations), as pair ``zh-en``, split ``train``, each row's index its line number in the file less one; the
test talks are never read here.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from garble.eval.mlqe import PAIRS, load_split  # noqa: E402
from garble.lm import cache_dir  # noqa: E402


def save_chunk(path: Path, readings, index) -> None:
    cuts = np.cumsum([0] + [r.n_tokens for r in readings])
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        index=np.asarray(index),
        pooled=np.stack([r.pooled for r in readings]).astype(np.float32),
        cuts=cuts,
        surprisal=np.concatenate([r.surprisal for r in readings]),
        entropy=np.concatenate([r.entropy for r in readings]),
        rank=np.concatenate([r.rank for r in readings]),
        alone=np.concatenate([r.surprisal_alone for r in readings]),
        token_hidden=np.concatenate([r.token_hidden for r in readings]),
        offsets=np.asarray([o for r in readings for o in r.offsets], dtype=np.int32),
        has_source=np.asarray([r.has_source for r in readings]),
        source_tokens=np.asarray([r.source_tokens for r in readings]),
    )
    tmp.rename(path)


class _Row:
    """A row to read: its index, source and translation (as MLQE-PE's rows have them)."""

    def __init__(self, index: int, source: str, translation: str):
        self.index, self.source, self.translation = index, source, translation


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval" / "mlqe")
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--train-rows", type=int, default=7000)
    ap.add_argument("--splits", default="dev,train")
    ap.add_argument("--model", default=None)
    ap.add_argument("--ted", action="store_true", help="the TED zh-en train talks (into qe/ted)")
    ap.add_argument("--spans", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval"
                    / "mqm_ted_zhen_spans.jsonl")  # fmt: skip
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = args.out or cache_dir() / "qe" / ("ted" if args.ted else "mlqe")
    out.mkdir(parents=True, exist_ok=True)
    from garble.qe.reader import SourceReader

    reader = SourceReader(args.model)
    jobs = []
    if args.ted:
        from garble.eval.data import read_spans, split_of

        segs = [(i, s) for i, s in enumerate(read_spans(args.spans)) if split_of(s.doc) == "train"]
        for k in range(0, len(segs), args.chunk):
            part = segs[k : k + args.chunk]
            rows = [_Row(i, s.source, s.text) for i, s in part]
            jobs.append((out / f"zh-en-train-{k // args.chunk:03d}.npz", "zh-en", rows))
    for split in args.splits.split(",") if not args.ted else ():
        tables = {pair: load_split(args.data, pair, split) for pair in PAIRS}
        limit = args.train_rows if split == "train" else None
        n_chunks = max(-(-len(t.rows[:limit]) // args.chunk) for t in tables.values())
        for k in range(n_chunks):
            for pair, table in tables.items():
                rows = table.rows[:limit][k * args.chunk : (k + 1) * args.chunk]
                if rows:
                    jobs.append((out / f"{pair}-{split}-{k:03d}.npz", pair, rows))
    for path, pair, rows in jobs:
        if path.exists():
            continue
        t0 = time.monotonic()
        readings = reader.read(
            [r.source for r in rows], [r.translation for r in rows], [pair[:2]] * len(rows), token_hidden=True
        )
        save_chunk(path, readings, [r.index for r in rows])
        logging.info("%s: %d rows in %.0f s", path.name, len(rows), time.monotonic() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
