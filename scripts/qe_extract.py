"""Read MLQE-PE with the source-reading LM once and cache what the QE heads learn from.

    python scripts/qe_extract.py [--out DIR] [--chunk 500] [--train-rows 7000] [--splits dev,train]
    python scripts/qe_extract.py --ted [--out DIR]     # the TED zh-en train talks instead (DIR: qe/ted)
    python scripts/qe_extract.py --synthetic [--out DIR]   # source-aware corruptions of train rows (qe/synth)

For each pair (ro-en, et-en, ru-en) and split, rows are read in chunks of ``--chunk`` and each chunk is saved as
``DIR/{pair}-{split}-{k:03d}.npz`` (a chunk already there is skipped: the run resumes). Dev chunks come first,
then train chunks taken in turn from each pair, so a run cut short still has every pair. Each chunk holds the
sentence vectors (``pooled``), the per-token arrays concatenated (``surprisal``, ``entropy``, ``rank``,
``alone``, ``token_hidden`` float16, ``offsets``) with ``cuts`` marking rows, and the row indices. Default DIR:
``$GARBLE_CACHE/qe/`` (never committed: features are derived from the model, rebuilt by this script).

``--ted``: the segments of mqm_ted_zhen_spans.jsonl's train talks (``garble.eval.data.split_of``; MT and human
translations), as pair ``zh-en``, split ``train``, each row's index its line number in the file less one; the
test talks are never read here.

``--synthetic``: source-aware corruptions (``garble.synth_source``: a dropped clause, a changed number, a dropped
name, an untranslated stretch; one kind a row, drawn among those that apply) of MLQE-PE train rows (``--synth-fit``
rows a pair below row 6000, ``--synth-hold`` from row 6000 on) and of the TED train talks' human translations,
saved as ``{pair}-synth-{k:03d}.npz`` (``index``: the clean row's index in its own cache) with a JSON beside each
chunk naming every row's kind and corrupted text. The test talks are never read here.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
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


SYNTH_KINDS = ("drop_clause", "change_number", "drop_name", "untranslated_phrase")


def _one_corruption(source: str, target: str, rng: random.Random):
    """A corruption of the pair of one kind drawn among those that apply, or None."""
    from garble.synth_source import corrupt

    for kind in rng.sample(SYNTH_KINDS, len(SYNTH_KINDS)):
        c = corrupt(source, target, kind, rng)
        if c is not None and c.target.strip() and c.target != target:
            return c
    return None


def synthetic_jobs(args, out: Path) -> tuple[list, dict]:
    """Chunks of corrupted train rows: MLQE-PE (fit and held-out rows apart) and the TED train talks' references."""
    from garble.eval.data import read_spans, split_of

    sources = []
    for pair in PAIRS:
        rows = load_split(args.data, pair, "train").rows[: args.train_rows]
        rng = random.Random(f"synth:{pair}")
        fit = [r for r in rows if r.index < 6000]
        hold = [r for r in rows if r.index >= 6000]
        picked = rng.sample(fit, min(args.synth_fit, len(fit))) + rng.sample(hold, min(args.synth_hold, len(hold)))
        sources.append((pair, sorted(picked, key=lambda r: r.index)))
    refs = [_Row(i, s.source, s.text) for i, s in enumerate(read_spans(args.spans))
            if s.is_ref and split_of(s.doc) == "train"]  # fmt: skip
    sources.append(("zh-en", refs))
    jobs, notes = [], {}
    for pair, rows in sources:
        rng = random.Random(f"synth-kind:{pair}")
        made = []
        for r in rows:
            c = _one_corruption(r.source, r.translation, rng)
            if c is not None:
                made.append((_Row(r.index, c.source, c.target), c.kind))
        for k in range(0, len(made), args.chunk):
            part = made[k : k + args.chunk]
            path = out / f"{pair}-synth-{k // args.chunk:03d}.npz"
            jobs.append((path, pair, [m[0] for m in part]))
            notes[path] = [{"index": m[0].index, "kind": m[1], "target": m[0].translation} for m in part]
    return jobs, notes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval" / "mlqe")
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--train-rows", type=int, default=7000)
    ap.add_argument("--splits", default="dev,train")
    ap.add_argument("--model", default=None)
    ap.add_argument("--ted", action="store_true", help="the TED zh-en train talks (into qe/ted)")
    ap.add_argument("--synthetic", action="store_true", help="corruptions of train rows (into qe/synth)")
    ap.add_argument("--synth-fit", type=int, default=800)
    ap.add_argument("--synth-hold", type=int, default=300)
    ap.add_argument("--spans", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval"
                    / "mqm_ted_zhen_spans.jsonl")  # fmt: skip
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = args.out or cache_dir() / "qe" / ("ted" if args.ted else "synth" if args.synthetic else "mlqe")
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
    notes: dict = {}
    if args.synthetic:
        jobs, notes = synthetic_jobs(args, out)
    for split in args.splits.split(",") if not (args.ted or args.synthetic) else ():
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
        if path in notes:
            path.with_suffix(".json").write_text(json.dumps(notes[path], ensure_ascii=False, indent=0) + "\n")
        logging.info("%s: %d rows in %.0f s", path.name, len(rows), time.monotonic() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
