"""False alarms of the names and places detectors on clean human English.

Clean text: ``shared/eval/clean_en.tsv`` (documents rebuilt from their
segments in order, joined with blank lines) and the human references
(``is_ref=1``) of ``shared/eval/mqm_ted_zhen.tsv`` (grouped by system and doc).
Prints findings per 1,000 units and every finding, then (``--mt``) the same
on the MT outputs of ``mqm_ted_zhen.tsv`` and (``--seed``) what fires on a
seed article.

    python scripts/false_alarms_names_places.py [--mt] [--seed ../shared/seed/article.txt]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

from garble.detectors import all_detectors
from garble.document import Document
from garble.segment import segment

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"


def _rows(path: Path):
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)


def _join(groups: dict) -> dict[str, str]:
    return {k: "\n\n".join(t for _, t in sorted(v)) for k, v in groups.items()}


def clean_docs(eval_dir: Path = EVAL) -> dict[str, str]:
    groups: dict[str, list] = defaultdict(list)
    for r in _rows(eval_dir / "clean_en.tsv"):
        groups[f"clean_en/{r['corpus']}/{r['doc']}"].append((int(r["seg"]), r["text"]))
    for r in _rows(eval_dir / "mqm_ted_zhen.tsv"):
        if r["is_ref"] == "1":
            groups[f"ted_ref/{r['system']}/{r['doc']}"].append((int(r["seg"]), r["text"]))
    return _join(groups)


def mt_docs(eval_dir: Path = EVAL) -> dict[str, str]:
    groups: dict[str, list] = defaultdict(list)
    for r in _rows(eval_dir / "mqm_ted_zhen.tsv"):
        if r["is_ref"] == "0":
            groups[f"mt/{r['system']}/{r['doc']}"].append((int(r["seg"]), r["text"]))
    return _join(groups)


def run(docs: dict[str, str], names: list[str], label: str, show: bool = True) -> None:
    dets = all_detectors(only=names)
    n_units = 0
    counts = {n: 0 for n in names}
    for doc_id, text in docs.items():
        doc = Document(text, segment(text))
        n_units += len(doc.units)
        for det in dets:
            for f in det.detect(doc):
                counts[det.name] += 1
                if show:
                    print(f"  {doc_id}\t{f.detector}/{f.kind}\t{f.weight:.2f}\t{text[f.start:f.end]!r}\t{f.message}")
    rates = ", ".join(f"{n}: {c} findings = {1000 * c / max(1, n_units):.2f} per 1000 units" for n, c in counts.items())
    print(f"{label}: {len(docs)} docs, {n_units} units; {rates}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detectors", default="names,places")
    ap.add_argument("--eval-dir", type=Path, default=EVAL)
    ap.add_argument("--mt", action="store_true", help="also run on the MT outputs of mqm_ted_zhen.tsv")
    ap.add_argument("--seed", type=Path, help="also run on this article")
    args = ap.parse_args()
    names = args.detectors.split(",")
    run(clean_docs(args.eval_dir), names, "clean human text")
    if args.mt:
        run(mt_docs(args.eval_dir), names, "MT output (mqm_ted_zhen, is_ref=0)")
    if args.seed:
        run({args.seed.name: args.seed.read_text(encoding="utf-8")}, names, f"seed {args.seed.name}")


if __name__ == "__main__":
    main()
