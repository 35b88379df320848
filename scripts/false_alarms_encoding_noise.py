"""False alarms and hit rates of the encoding, language and mt_noise detectors.

Usage::

    python scripts/false_alarms_encoding_noise.py [--eval ../shared/eval] [--show 20]

Clean human English: ``clean_en.tsv`` (each doc = its segs joined with blank
lines) and the ``is_ref=1`` rows of ``mqm_ted_zhen.tsv`` (grouped by
(system, doc)). Reports findings per 1000 units per detector and kind, and
prints the flagged clean units so every false alarm can be read.

MT output: the ``is_ref=0`` rows of ``mqm_ted_zhen.tsv``, grouped the same
way. For each detector: the share of rows with a finding among rows with a
Major fluency error (``fluency_major > 0``) and among error-free rows
(``mqm == 0``), and the rows with a "Non-translation"/"Untranslated" category
where the language detector fires.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from garble.detectors.encoding import Encoding
from garble.detectors.language import ForeignLanguage
from garble.detectors.mt_noise import MTNoise
from garble.document import Document
from garble.segment import segment

csv.field_size_limit(sys.maxsize)


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def build(rows: list[dict[str, str]]) -> tuple[str, list[tuple[int, int, dict[str, str]]]]:
    """Join rows (already in seg order) with blank lines; return text and each row's span."""
    parts, spans, pos = [], [], 0
    for r in rows:
        if parts:
            pos += 2
        spans.append((pos, pos + len(r["text"]), r))
        parts.append(r["text"])
        pos += len(r["text"])
    return "\n\n".join(parts), spans


def docs_by(rows: list[dict[str, str]], key) -> list[list[dict[str, str]]]:
    groups: dict = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    return [sorted(g, key=lambda r: int(r["seg"])) for g in groups.values()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval", default=str(Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"))
    ap.add_argument("--show", type=int, default=20, help="flagged clean units to print per detector")
    args = ap.parse_args()
    ev = Path(args.eval)
    detectors = [Encoding(), ForeignLanguage(), MTNoise()]

    # ---- clean text ---------------------------------------------------------------
    clean = read_tsv(ev / "clean_en.tsv")
    mqm = read_tsv(ev / "mqm_ted_zhen.tsv")
    clean_docs = docs_by(clean, lambda r: (r["corpus"], r["doc"]))
    clean_docs += docs_by([r for r in mqm if r["is_ref"] == "1"], lambda r: (r["system"], r["doc"]))
    n_units = 0
    counts: Counter = Counter()
    shown: Counter = Counter()
    for rows in clean_docs:
        text, _ = build(rows)
        doc = Document(text, segment(text))
        n_units += len(doc.units)
        for det in detectors:
            for f in det.detect(doc):
                counts[(f.detector, f.kind)] += 1
                counts[(f.detector, "*")] += 1
                if shown[f.detector] < args.show:
                    shown[f.detector] += 1
                    u = doc.unit_at(f.start) or doc.unit_at(max(0, f.end - 1))
                    print(f"  CLEAN {f.detector}/{f.kind} {text[f.start:f.end]!r}: {u.text[:160] if u else ''}")
    print(f"\nclean human English: {len(clean_docs)} docs, {n_units} units")
    for det in detectors:
        n = counts[(det.name, "*")]
        kinds = ", ".join(f"{k}={v}" for (d, k), v in sorted(counts.items()) if d == det.name and k != "*")
        print(f"  {det.name:10s} {n:4d} findings = {1000 * n / max(1, n_units):.2f} per 1000 units  {kinds}")

    # ---- MT output ------------------------------------------------------------------
    mt_docs = docs_by([r for r in mqm if r["is_ref"] == "0"], lambda r: (r["system"], r["doc"]))
    hits: dict[str, Counter] = {d.name: Counter() for d in detectors}
    totals: Counter = Counter()
    n_mt_units = 0
    examples: dict[str, list[str]] = defaultdict(list)
    for rows in mt_docs:
        text, spans = build(rows)
        doc = Document(text, segment(text))
        n_mt_units += len(doc.units)
        found = {d.name: list(d.detect(doc)) for d in detectors}
        for a, b, r in spans:
            flu = float(r["fluency_major"]) > 0
            ok = float(r["mqm"]) == 0
            nontr = "Non-translation" in r["categories"] or "Untranslated" in r["categories"]
            totals["all"] += 1
            totals["fluency_major"] += flu
            totals["clean"] += ok
            totals["nontranslation"] += nontr
            for name, fs in found.items():
                fr = [f for f in fs if f.overlaps(a, b)]
                if not fr:
                    continue
                hits[name]["all"] += 1
                hits[name]["fluency_major"] += flu
                hits[name]["clean"] += ok
                hits[name]["nontranslation"] += nontr
                if len(examples[name]) < args.show:
                    f = fr[0]
                    examples[name].append(f"  MT {name}/{f.kind} mqm={r['mqm']} flu={r['fluency_major']} {text[f.start:f.end]!r}: {r['text'][:140]}")
    print(f"\nMT output (is_ref=0): {len(mt_docs)} docs, {n_mt_units} units, {totals['all']} rows; "
          f"{totals['fluency_major']} with fluency_major>0, {totals['clean']} with mqm==0, "
          f"{totals['nontranslation']} Non-translation/Untranslated rows")
    for name, c in hits.items():
        print(f"  {name:10s} rows flagged: all {c['all']} ({100 * c['all'] / totals['all']:.2f}%), "
              f"fluency_major>0 {c['fluency_major']}/{totals['fluency_major']} ({100 * c['fluency_major'] / max(1, totals['fluency_major']):.2f}%), "
              f"mqm==0 {c['clean']}/{totals['clean']} ({100 * c['clean'] / max(1, totals['clean']):.2f}%), "
              f"non-translation {c['nontranslation']}/{totals['nontranslation']}")
    for name, ex in examples.items():
        for line in ex:
            print(line)

    synthetic(clean_docs, detectors)


def synthetic(clean_docs: list[list[dict[str, str]]], detectors) -> None:
    """Recall on clean paragraphs with one artifact planted (seeded, so repeatable)."""
    import random

    from wordfreq import top_n_list

    rng = random.Random(0)
    paras = [r["text"] for rows in clean_docs for r in rows if len(r["text"]) > 60]
    by_name = {d.name: d for d in detectors}
    function_words = ["the", "a", "and", "of", "to", "with", "their"]
    vocab = {lg: [w for w in top_n_list(lg, 300) if len(w) > 2 and w.isalpha()] for lg in ("de", "fr", "es", "it", "pt", "nl")}

    def mojibake(t: str):
        t = t.replace("'", "’", 1) if "’" not in t and "'" in t else t
        if t.isascii():
            return None
        try:
            bad = t.encode("utf-8").decode("cp1252")
        except UnicodeDecodeError:
            return None
        i = next(k for k, (a, b) in enumerate(zip(t, bad)) if a != b)
        return bad, i

    def glue(t: str):
        hits = [m.start() + 2 for m in re.finditer(r"[a-z0-9][.!?] [A-Z][a-z]", t)]
        if not hits:
            return None
        i = rng.choice(hits)  # the space after the full stop
        return t[:i] + t[i + 1 :], i - 1

    def foreign(t: str):
        lg = rng.choice(sorted(vocab))
        phrase = " ".join(rng.choice(vocab[lg]) for _ in range(5))
        spaces = [m.start() for m in re.finditer(" ", t)]
        i = spaces[len(spaces) // 2]
        return t[:i] + " " + phrase + t[i:], i + 1

    def cjk(t: str):
        spaces = [m.start() for m in re.finditer(" ", t)]
        i = spaces[len(spaces) // 2]
        return t[:i] + " 我们不会接受这个" + t[i:], i + 1

    def truncate(t: str):
        hits = [m.end() for m in re.finditer(r"\b(?:%s)\b" % "|".join(function_words), t) if m.end() > len(t) // 2]
        if not hits:
            return None
        i = hits[-1]
        return t[:i], i - 1

    plans = [("encoding", "mojibake", mojibake), ("mt_noise", "glued_words", glue), ("language", "foreign_words", foreign),
             ("language", "foreign_script", cjk), ("mt_noise", "truncated", truncate)]
    print("\nsynthetic recall (one artifact planted in a clean paragraph; hit = a finding of that detector covering the plant):")
    for det_name, label, fn in plans:
        tried = hit = 0
        for p in rng.sample(paras, min(300, len(paras))):
            out = fn(p)
            if out is None:
                continue
            t, pos = out
            tried += 1
            doc = Document(t, segment(t))
            if any(f.start <= pos < max(f.end, f.start + 1) for f in by_name[det_name].detect(doc)):
                hit += 1
        print(f"  {det_name:10s} {label:15s} {hit}/{tried} = {100 * hit / max(1, tried):.1f}%")


if __name__ == "__main__":
    main()
