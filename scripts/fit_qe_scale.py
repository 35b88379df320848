"""Choose how much the detectors add to the QE score (``detector_scale`` in data/qe_sentence.json).

    python scripts/fit_qe_scale.py [--cache DIR] [--write]

With a QE estimate a unit's logit is ``logit(p_fix) + scale * sum_d w_d * strength_d`` (the detectors' weights
from data/scorer.json, fitted on TED). The scale is chosen on held-out MLQE-PE train rows (index >= 6000 of each
pair): ``p_fix`` from a sentence head fitted without them (and with the TED train rows and the synthetic
corruptions of the fit rows when the packaged head has them; cached features), the detectors run on each row with
its source (the detectors alone: no LM). Prints mean Pearson with the DA z-scores per scale; the dev rows are
not used. ``--write`` stores the chosen scale in the packaged card.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fit_qe import (  # noqa: E402
    HOLDOUT_FROM,
    ROOT,
    TED,
    Split,
    fit_sentence,
    load_synthetics,
    pearson,
    predict,
    synthetic_rows,
    ted_train,
)

from garble.eval.mlqe import PAIRS  # noqa: E402
from garble.lm import cache_dir  # noqa: E402
from garble.scorer import unit_features  # noqa: E402

SCALES = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=cache_dir() / "qe" / "mlqe")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "eval" / "mlqe")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--dev", action="store_true", help="also measure garble's score on the dev sets at each scale")
    args = ap.parse_args(argv)
    import garble

    card_path = ROOT / "data" / "qe_sentence.json"
    card = json.loads(card_path.read_text())
    settings, cal = card["settings"], card["p_fix"]
    train = {p: Split(args.data, args.cache, p, "train") for p in PAIRS}
    fit = [t.take(t.index < HOLDOUT_FROM) for t in train.values()]
    hold = [t.take(t.index >= HOLDOUT_FROM) for t in train.values()]
    ted = None  # the TED train rows the packaged head was fitted with (its card says), in this head's fit too
    if "zh-en" in card.get("fitted_on", {}):
        ted = ted_train(cache_dir() / "qe" / "ted", TED / "mqm_ted_zhen_spans.jsonl", TED / "mqm_ted_zhen.tsv",
                        list(train.values()))  # fmt: skip
        if ted is None:
            raise SystemExit("the packaged head was fitted with TED train rows: run scripts/qe_extract.py --ted")
    extra = [ted] if ted is not None else []
    if "synthetic" in card:  # and the corruptions of the fit rows, as the packaged head's p_fix was calibrated
        synths = load_synthetics(train, ted, cache_dir() / "qe" / "synth")
        extra += synthetic_rows(synths, train, card["synthetic"]["delta_sd"], True)
    head = fit_sentence(fit + extra, **settings)
    detectors = garble.Scorer(model=False)
    table = {s: [] for s in SCALES}
    for h in hold:
        z = predict(head, h, settings["kind"])
        logit_fix = (cal["bias"] - z) / cal["scale"]
        res = detectors.score_segments(
            [r.translation for r in h.rows], [r.source for r in h.rows], source_lang=h.pair[:2]
        )
        d = np.array([detectors.weights.detector_logit(unit_features(u.text, u.findings, None)) for u in res])
        fired = float(np.mean(d != 0))
        for s in SCALES:
            score = 1 / (1 + np.exp(-(logit_fix + s * d)))  # the unit's score, as Weights.with_qe gives it
            table[s].append(pearson(-score, h.z))
        print(f"{h.pair}: {len(h.rows)} held-out rows, a detector fired on {fired:.1%}")
    print("\n| detector scale | " + " | ".join(PAIRS) + " | mean |")
    print("|---|" + "---|" * (len(PAIRS) + 1))
    for s, rs in table.items():
        print(f"| {s:g} | " + " | ".join(f"{r:.4f}" for r in rs) + f" | {np.mean(rs):.4f} |")
    positive = {s: np.mean(rs) for s, rs in table.items() if s > 0}  # the detectors must add something
    best = max(positive, key=positive.get)
    print(f"chosen: {best:g} (best mean Pearson among scales > 0; the detectors add to the QE score by design)")
    if args.dev:
        from garble.qe.head import LinearHead

        packaged = LinearHead.load(ROOT / "data" / "qe_sentence.npz")
        print("\nMLQE-PE dev, garble's score (the packaged head's p_fix and the detectors at each scale), Pearson:")
        for p in PAIRS:
            d = Split(args.data, args.cache, p, "dev")
            logit_fix = (cal["bias"] - predict(packaged, d, settings["kind"])) / cal["scale"]
            res = detectors.score_segments(
                [r.translation for r in d.rows], [r.source for r in d.rows], source_lang=p[:2]
            )
            det = np.array([detectors.weights.detector_logit(unit_features(u.text, u.findings, None)) for u in res])
            cells = ", ".join(f"{s:g}: {pearson(-1 / (1 + np.exp(-(logit_fix + s * det))), d.z):.3f}" for s in SCALES)
            print(f"  {p}: {cells}")
    if args.write:
        card["detector_scale"] = {"scale": best, "chosen_on": f"MLQE-PE train rows with index >= {HOLDOUT_FROM}"}
        card_path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {card_path}")
    return 0 if math.isfinite(positive[best]) else 1


if __name__ == "__main__":
    sys.exit(main())
