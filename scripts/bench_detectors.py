"""Detector throughput and a behaviour check for detector refactors.

    python scripts/bench_detectors.py                 # per-detector µs/segment and seg/s (CPU time)
    python scripts/bench_detectors.py --rows 7935 -r 5
    python scripts/bench_detectors.py dump /tmp/findings.tsv   # every finding on the eval data
    python scripts/bench_detectors.py check /tmp/findings.tsv  # same findings as that dump?

The benchmark scores the first ``--rows`` rows of ``../shared/eval/mqm_ted_zhen.tsv``
(MT and reference segments), grouped into documents by (system, doc), with
``garble.Scorer(model=False).score_units``, and times each detector alone on a
fresh :class:`~garble.document.Document` per document (so a detector that
reads tokens pays for tokenising, as it would when run alone). Times are CPU
time (``time.process_time``), the best of ``--repeat`` runs, because other
jobs may share the machine.

``dump`` writes every finding (detector, kind, start, end, weight, message) of
every detector on (1) all of mqm_ted_zhen.tsv grouped by (system, doc) via
``score_units``, (2) clean_en.tsv grouped by doc, segments joined by blank
lines, via ``score_document``, (3) ../shared/seed/article.txt via
``score_document``, and (4) the same texts with artifacts planted at random
(fixed seed; see :func:`planted_documents`) so that every detector has
something to find. ``check`` recomputes the dump and compares it with a saved
one; it exits 1 and shows the first differences when they differ. Run ``dump``
before a refactor that must not change behaviour and ``check`` after it.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import garble  # noqa: E402
from garble.document import Document  # noqa: E402

SHARED = ROOT.parent / "shared"
TED = SHARED / "eval" / "mqm_ted_zhen.tsv"
CLEAN = SHARED / "eval" / "clean_en.tsv"
ARTICLE = SHARED / "seed" / "article.txt"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def ted_documents(limit: int | None = None) -> dict[tuple[str, str], list[str]]:
    """Segments of mqm_ted_zhen.tsv (the first ``limit`` rows) grouped by (system, doc)."""
    rows = _rows(TED)
    if limit is not None:
        rows = rows[:limit]
    docs: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        docs.setdefault((r["system"], r["doc"]), []).append(r["text"])
    return docs


def clean_documents() -> dict[str, str]:
    """clean_en.tsv documents (grouped by doc), segments joined by blank lines."""
    docs: dict[str, list[str]] = {}
    for r in _rows(CLEAN):
        docs.setdefault(r["doc"], []).append(r["text"])
    return {k: "\n\n".join(v) for k, v in docs.items()}


_PLANTS = [
    # encoding and language
    "cafÃ© au lait",
    "donâ€™t",
    "caf\ufffd",
    "bell\x07",
    "zero\u200bwidth",
    "que no es posible hacerlo",
    "das ist nicht so gut und ich weiß es",
    "« je ne sais pas ce qui se passe »",
    "Москва",
    "我们不会接受。",
    "(Москва)",
    "α-helix",
    "Ελληνική Δημοκρατία",
    # MT noise
    "%s",
    "{0}",
    "{{name}}",
    "<b>",
    "</i>",
    "&amp;",
    "&#39;",
    "[URL]",
    "@@ ",
    "file$1",
    "\u2581the",
    # boilerplate
    "\nAdvertisement\n",
    "\nPhoto: John Doe / Getty Images\n",
    "\nRead more: Why taxes rise\n",
    "\nShare this article\n",
    "\nPosted by Jane Roe on May 3, 2021\n",
    "© 2021 Example Media.",
    "\n5 min read\n",
    "\nUpdated: 12:15\n",
    "Click here to subscribe.",
    "(Photo: Reuters)",
    "\nBy John Smith, Reuters\n",
    "\nFacebook Twitter WhatsApp\n",
    "We use cookies to improve your experience.",
    "\nSee also  Budget news\n",
    # places, case folding, punctuation
    "Pakistani targets on Indian soil",
    "Russian cities on Ukrainian territory",
    "İstanbul",
    "ſee alſo",
    "\u212aelvin",
    " ,",
    ",,",
    "“",
    "”",
    '"',
    "(",
    ")",
    "[",
    "...",
    ":)",
]


def _plant(text: str, rng) -> str:
    """``text`` with a few artifacts planted (words doubled, spaces lost, strings inserted)."""
    words = text.split(" ")
    for _ in range(rng.randint(1, 3)):
        k = rng.randrange(len(words))
        op = rng.random()
        if op < 0.35:
            words.insert(k, rng.choice(_PLANTS))
        elif op < 0.5:
            words[k : k + 1] = [words[k], words[k]]  # "the the"
        elif op < 0.6 and k + 3 <= len(words):
            words[k:k] = words[k : k + 3]  # a repeated phrase
        elif op < 0.7 and k + 1 < len(words):
            words[k : k + 2] = [words[k] + words[k + 1]]  # a lost space
        elif op < 0.8:
            w = words[k]
            if len(w) > 4:
                words[k] = w[0] + w[2] + w[1] + w[3:]  # a respelling
        elif op < 0.9:
            words = words[: k + 1]  # cut off
        else:
            words[k] = words[k].lower() if rng.random() < 0.5 else words[k].upper()
    return " ".join(words)


def planted_documents(seed: int = 13):
    """("units", id, units) and ("text", id, text) documents: the eval texts with artifacts planted."""
    import random

    rng = random.Random(seed)
    for (system, doc), units in list(ted_documents().items())[:60]:
        yield "units", f"{system}:{doc}", [_plant(u, rng) if u and rng.random() < 0.5 else u for u in units]
    for doc, text in clean_documents().items():
        paras = text.split("\n\n")
        yield "text", doc, "\n\n".join(_plant(p, rng) if p and rng.random() < 0.5 else p for p in paras)


# ---------------------------------------------------------------------------- dump / check
def dump_lines() -> list[str]:
    """One line per finding of every detector on the three eval sources."""
    scorer = garble.Scorer(model=False)
    out: list[str] = []

    def emit(source: str, result) -> None:
        for u in result.units:
            for f in u.findings:
                out.append(json.dumps([source, f.detector, f.kind, f.start, f.end, repr(f.weight), f.message]))

    for (system, doc), units in ted_documents().items():
        emit(f"ted:{system}:{doc}", scorer.score_units(units))
    for doc, text in clean_documents().items():
        emit(f"clean:{doc}", scorer.score_document(text))
    article = ARTICLE.read_text(encoding="utf-8")
    emit("article", scorer.score_document(article))
    for how, name, doc in planted_documents():
        emit(f"planted:{name}", scorer.score_units(doc) if how == "units" else scorer.score_document(doc))
    return out


def cmd_dump(path: str) -> int:
    lines = dump_lines()
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} findings written to {path}")
    return 0


def cmd_check(path: str) -> int:
    want = Path(path).read_text(encoding="utf-8").split("\n")[:-1]
    got = dump_lines()
    if got == want:
        print(f"identical: {len(got)} findings")
        return 0
    print(f"DIFFERENT: {len(want)} findings expected, {len(got)} found")
    for line in list(difflib.unified_diff(want, got, "expected", "now", lineterm="", n=0))[:40]:
        print(line)
    return 1


# ---------------------------------------------------------------------------- benchmark
def _best(fn, repeat: int) -> float:
    """Least CPU time of ``repeat`` calls of ``fn``."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def cmd_bench(rows: int, repeat: int) -> int:
    docs = list(ted_documents(rows).values())
    n = sum(len(v) for v in docs)
    scorer = garble.Scorer(model=False)
    for v in docs:  # warm caches (patterns, word lists, lru caches)
        scorer.score_units(v)
    results = [scorer.score_units(v) for v in docs]
    inputs = [(r.text, [u.unit for u in r.units]) for r in results]
    print(f"{n} segments in {len(docs)} documents; CPU time, best of {repeat}")
    print(f"{'':14} {'µs/seg':>8} {'seg/s':>9}")

    def line(name: str, seconds: float) -> None:
        print(f"{name:14} {1e6 * seconds / n:8.1f} {n / seconds:9.0f}")

    total = 0.0
    t_tok = _best(lambda: [Document(text, units).tokens for text, units in inputs], repeat)
    line("(tokens)", t_tok)
    for det in scorer.detectors:
        t = _best(lambda det=det: [list(det.detect(Document(text, units))) for text, units in inputs], repeat)
        total += t
        line(det.name, t)
    line("sum", total)

    def run_all() -> None:
        for text, units in inputs:
            garble.detectors.run_detectors(scorer.detectors, Document(text, units))

    t_det = _best(run_all, repeat)
    t_all = _best(lambda: [scorer.score_units(v) for v in docs], repeat)
    line("run_detectors", t_det)
    line("score_units", t_all)
    line("  overhead", t_all - t_det)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("command", nargs="?", default="bench", choices=["bench", "dump", "check"])
    ap.add_argument("path", nargs="?", help="dump file (dump, check)")
    ap.add_argument("--rows", type=int, default=4000, help="rows of mqm_ted_zhen.tsv to benchmark on (default 4000)")
    ap.add_argument("-r", "--repeat", type=int, default=3, help="timing runs; the best counts (default 3)")
    a = ap.parse_args(argv)
    if a.command in ("dump", "check"):
        if not a.path:
            ap.error(f"{a.command} needs a path")
        return cmd_dump(a.path) if a.command == "dump" else cmd_check(a.path)
    return cmd_bench(a.rows, a.repeat)


if __name__ == "__main__":
    sys.exit(main())
