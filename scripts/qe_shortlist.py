"""Choose the output-layer shortlist of the source-reading LM from MLQE-PE train rows, and check it on dev.

    python scripts/qe_shortlist.py [--rows 300] [--size 32768] [--check 1000] [--out data/qe_shortlist.npy]
    python scripts/qe_shortlist.py --rows 0 --check 1000     # check the packaged shortlist

Reads ``--rows`` train rows of each pair with the full 262k-wide head, sums each vocabulary id's probability
over every scored position (after the source and alone), and keeps the ``--size`` ids with the most mass.
Then reads ``--check`` ro-en dev rows with the full head and with the shortlist and prints the mass the
shortlist covers and the Spearman correlation of the per-row total and mean surprisal between the two: the
shortlist ships only if both Spearman values are >= 0.999 (issue 21). ``--rows 0``: check the packaged shortlist
(data/qe_shortlist.npy) only, writing nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from garble.eval.mlqe import PAIRS, load_split  # noqa: E402


def mass(reader, rows, lang) -> np.ndarray:
    """Summed next-token probability per vocabulary id over the translations' scored positions."""
    torch = reader._torch
    head = reader.model.get_output_embeddings()
    total = torch.zeros(head.weight.shape[0], dtype=torch.float64)
    orig = reader._head

    def probe(head_, pred, target, rows_=128, full=True):
        for k in range(0, len(pred), rows_):
            logits = head_(pred[k : k + rows_]).float()
            total.add_(torch.softmax(logits, -1).sum(0).double())
        return orig(head_, pred, target, rows_, full)

    reader._head = probe
    try:
        reader.read([r.source for r in rows], [r.translation for r in rows], [lang] * len(rows))
    finally:
        reader._head = orig
    return total.numpy()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval" / "mlqe")
    ap.add_argument("--rows", type=int, default=300)
    ap.add_argument("--size", type=int, default=32768)
    ap.add_argument("--check", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data" / "qe_shortlist.npy")
    args = ap.parse_args(argv)
    from scipy.stats import spearmanr

    from garble.qe.reader import SourceReader, packaged_shortlist

    reader = SourceReader(shortlist=False)  # the full head until the check's second reading
    if args.rows:
        total = 0
        for pair in PAIRS:
            rows = load_split(args.data, pair, "train").rows[-args.rows :]
            total = total + mass(reader, rows, pair[:2])
        ids = np.sort(np.argsort(-total)[: args.size]).astype(np.int32)
        print(f"shortlist: {len(ids)} ids hold {total[ids].sum() / total.sum():.5f} of the probe's mass")
    else:  # check the packaged shortlist only
        ids = packaged_shortlist()
    dev = load_split(args.data, "ro-en", "dev").rows[: args.check]
    src, mt = [r.source for r in dev], [r.translation for r in dev]
    full = reader.read(src, mt, ["ro"] * len(dev), alone=False)
    reader.set_shortlist(ids)
    short = reader.read(src, mt, ["ro"] * len(dev), alone=False)
    for name, f in (("total", np.sum), ("mean", np.mean)):
        rho = spearmanr([f(r.surprisal) for r in full], [f(r.surprisal) for r in short])[0]
        print(f"Spearman of per-row {name} surprisal, shortlist vs full head, {len(dev)} ro-en dev rows: {rho:.5f}")
    diff = np.concatenate([a.surprisal - b.surprisal for a, b in zip(full, short)])
    print(f"per-token surprisal difference (full - shortlist): mean {diff.mean():.4f}, max {diff.max():.4f} nats")
    if args.rows:
        np.save(args.out, ids)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
