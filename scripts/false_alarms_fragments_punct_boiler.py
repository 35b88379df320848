#!/usr/bin/env python
"""False alarms and MT-vs-clean firing rates of the fragments, punctuation and boilerplate detectors.

Clean human text: ``clean_en.tsv`` (WMT23 + TED English sources) and the
``is_ref=1`` rows of ``mqm_ted_zhen.tsv`` (professional translations). Every
document is rebuilt by joining its segments, in seg order, with blank lines,
segmented with :func:`garble.segment.segment`, and run through each detector.
Reported: findings per 1000 units (all, and with weight >= 0.5) and the
weighted sum per 1000 units.

MT rows: the ``is_ref=0`` rows of ``mqm_ted_zhen.tsv``, rebuilt per (system,
doc) the same way; each finding is mapped back to its segment. Reported: the
share of segments with a finding among segments with a major fluency error
(``fluency_major > 0``), among error-free segments (``mqm == 0``) and among
segments with any error (``mqm > 0``: punctuation slips are mostly rated minor),
and among segments whose raters marked a Fluency/Punctuation error.

Usage::

    python scripts/false_alarms_fragments_punct_boiler.py [--eval-dir ../shared/eval] [--show N]

``--show N`` prints up to N clean-text findings per detector (to read the false alarms).
"""

from __future__ import annotations

import argparse
import bisect
import csv
import sys
from collections import defaultdict
from pathlib import Path

from garble.detectors import all_detectors
from garble.document import Document
from garble.segment import segment

DETECTORS = ("fragments", "punctuation", "boilerplate")
SEP = "\n\n"


def read_tsv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def build_docs(rows: list[dict[str, str]], key, para_size: int = 1) -> list[tuple[str, str, list[dict[str, str]], list[int]]]:
    """(doc id, text, rows in seg order, start offset of each row's segment) per document.

    ``para_size > 1`` joins that many segments with a space into one paragraph
    (a stress test of the mid-paragraph rules on text with one sentence per segment).
    """
    groups: dict[tuple, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    out = []
    for k, rs in groups.items():
        rs.sort(key=lambda r: int(r["seg"]))
        starts, text = [], ""
        for i, r in enumerate(rs):
            if i:
                text += " " if i % para_size else SEP
            starts.append(len(text))
            text += r["text"]
        out.append(("/".join(k), text, rs, starts))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-dir", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"))
    ap.add_argument("--show", type=int, default=0, help="print up to N clean-text findings per detector")
    ap.add_argument("--show-mt", type=int, default=0, help="print up to N MT findings per detector")
    ap.add_argument("--only", nargs="*", default=list(DETECTORS))
    args = ap.parse_args(argv)
    ev = Path(args.eval_dir)
    dets = all_detectors(only=args.only)

    clean_rows = read_tsv(ev / "clean_en.tsv")
    mqm_rows = read_tsv(ev / "mqm_ted_zhen.tsv")
    clean_docs = build_docs(clean_rows, lambda r: (r["corpus"], r["doc"]))
    ref_rows = [r for r in mqm_rows if r["is_ref"] == "1"]
    ref_docs = build_docs(ref_rows, lambda r: (r["system"], r["doc"]))
    ref_paras = build_docs(ref_rows, lambda r: (r["system"], r["doc"]), para_size=5)
    mt_docs = build_docs([r for r in mqm_rows if r["is_ref"] == "0"], lambda r: (r["system"], r["doc"]))

    print("== clean human text: findings per 1000 units ==")
    shown: dict = defaultdict(int)
    for label, docs in (("clean_en", clean_docs), ("ted_refs", ref_docs), ("all_clean", clean_docs + ref_docs),
                        ("ted_refs_5", ref_paras)):
        n_units = 0
        count: dict[str, int] = defaultdict(int)
        strong: dict[str, int] = defaultdict(int)
        wsum: dict[str, float] = defaultdict(float)
        for doc_id, text, _rows, _starts in docs:
            doc = Document(text, segment(text))
            n_units += len(doc.units)
            for det in dets:
                for f in det.detect(doc):
                    count[det.name] += 1
                    wsum[det.name] += f.weight
                    strong[det.name] += f.weight >= 0.5
                    if label in ("all_clean", "ted_refs_5") and shown[label, det.name] < args.show:
                        shown[label, det.name] += 1
                        u = doc.unit_at(f.start)
                        ctx = u.text if u is not None else text[f.start : f.end]
                        print(f"  [{det.name}/{f.kind} w={f.weight:.2f}] {doc_id}: {text[f.start:f.end][:80]!r}  <<{ctx[:160]}>>")
        for det in dets:
            k = det.name
            print(f"{label:10s} {k:12s} units={n_units:5d} findings={count[k]:4d} "
                  f"per1000={1000 * count[k] / n_units:6.2f} strong(w>=.5)/1000={1000 * strong[k] / n_units:6.2f} "
                  f"weighted/1000={1000 * wsum[k] / n_units:6.2f}")

    print("\n== MT rows (is_ref=0): share of segments with a finding ==")
    fired: dict[str, set] = defaultdict(set)
    fired_strong: dict[str, set] = defaultdict(set)
    bad, good, anyerr, punct = set(), set(), set(), set()
    for doc_id, text, rows, starts in mt_docs:
        for r in rows:
            key = (r["system"], r["doc"], r["seg"])
            if float(r["fluency_major"]) > 0:
                bad.add(key)
            if float(r["mqm"]) == 0:
                good.add(key)
            else:
                anyerr.add(key)
            if "Fluency/Punctuation" in r["categories"]:
                punct.add(key)
        doc = Document(text, segment(text))
        for det in dets:
            for f in det.detect(doc):
                i = bisect.bisect_right(starts, f.start) - 1
                r = rows[i]
                key = (r["system"], r["doc"], r["seg"])
                fired[det.name].add(key)
                if shown[("mt", det.name)] < args.show_mt:
                    shown[("mt", det.name)] += 1
                    tag = "BAD" if float(r["fluency_major"]) > 0 else ("ok " if float(r["mqm"]) == 0 else "err")
                    print(f"  [{det.name}/{f.kind} w={f.weight:.2f}] {tag} {doc_id}/{r['seg']}: "
                          f"{text[f.start:f.end][:60]!r} <<{r['text'][:140]}>>")
                if f.weight >= 0.5:
                    fired_strong[det.name].add(key)
    for det in dets:
        k = det.name
        fb, fg = len(fired[k] & bad), len(fired[k] & good)
        sb, sg = len(fired_strong[k] & bad), len(fired_strong[k] & good)
        ratio = (fb / len(bad)) / (fg / len(good)) if fg else float("inf")
        print(f"{k:12s} fluency_major>0: {fb:4d}/{len(bad)} = {100 * fb / len(bad):5.2f}%   "
              f"mqm==0: {fg:4d}/{len(good)} = {100 * fg / len(good):5.2f}%   ratio={ratio:5.2f}   "
              f"mqm>0: {100 * len(fired[k] & anyerr) / len(anyerr):5.2f}%   "
              f"punct-marked: {100 * len(fired[k] & punct) / len(punct):5.2f}%   "
              f"(w>=.5: {100 * sb / len(bad):5.2f}% vs {100 * sg / len(good):5.2f}%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
