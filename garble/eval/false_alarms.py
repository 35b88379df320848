"""``garble eval false-alarms``: what detectors find on clean human text, and how often they fire on MT rows.

Each input file is an annotated TSV (its human references, ``is_ref=1``, are
clean text; its ``is_ref=0`` rows are MT output) or a clean-English TSV
(``corpus doc seg text``). Each document is rebuilt by joining its segments,
in seg order, with blank lines (:meth:`garble.eval.data.EvalDoc.joined`),
segmented with :func:`garble.segment.segment`, and read by each detector
alone (no language model). Reported per detector:

* clean text, per file and in all: findings per 1000 units, those with weight
  >= 0.5, the weighted sum per 1000 units, and findings per kind;
* MT rows: findings per 1000 units, and the rows with a finding (a finding
  belongs to the row it starts in) among all rows, rows with a major fluency
  error (``fluency_major > 0``), error-free rows (``mqm == 0``), rows with
  any error (``mqm > 0``), rows whose raters marked a Fluency/Punctuation
  error, and Non-translation/Untranslated rows;
* for ``encoding``, ``language`` and ``mt_noise``: recall on artifacts
  planted in clean paragraphs (:mod:`garble.eval.planted`).
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from ..errors import UsageError
from .data import Row, build_documents, read_rows
from .metrics import rounded as _r

Progress = Optional[Callable[[str, int, int], None]]


def _has(*names: str) -> Callable[[Row], bool]:
    """Whether one of a row's categories contains one of ``names``."""
    return lambda r: any(n in c for c in r.categories for n in names)


# MT row groups: key, label, column head, test
GROUPS: tuple[tuple[str, str, str, Callable[[Row], bool]], ...] = (
    ("all", "rows", "all", lambda r: True),
    ("fluency_major", "fluency_major>0", "flu>0", lambda r: r.fluency_major > 0),
    ("clean", "mqm==0", "mqm==0", lambda r: r.mqm == 0),
    ("error", "mqm>0", "mqm>0", lambda r: r.mqm > 0),
    ("punctuation", "marked Fluency/Punctuation", "punct", _has("Fluency/Punctuation")),
    ("non_translation", "Non-translation/Untranslated", "non-tr", _has("Non-translation", "Untranslated")),
)
STRONG = 0.5  # a finding this heavy or heavier is "strong"


@dataclass
class _Doc:
    """One rebuilt document, segmented."""

    id: str
    doc: object  # garble.document.Document
    rows: list
    starts: list  # where each row starts in the text

    def row_of(self, f):
        return self.rows[bisect.bisect_right(self.starts, f.start) - 1]


def _docs(rows: Sequence, para_size: int, key=None) -> list[_Doc]:
    from ..document import Document
    from ..segment import segment

    out = []
    for d in build_documents(rows, key) if key else build_documents(rows):
        text, starts = d.joined(para_size)
        out.append(_Doc(f"{d.system}/{d.doc}", Document(text, segment(text)), d.rows, starts))
    return out


def false_alarms(
    paths: Sequence[Path],
    detectors: Sequence[str],
    show: int = 0,
    para_size: int = 1,
    seed: int = 0,
    progress: Progress = None,
) -> dict:
    """Run the named detectors on the clean text and the MT rows of ``paths``; a JSON-able dict (module docstring).

    ``show``: keep up to that many findings per detector on clean text and on MT rows.
    ``para_size``: join that many consecutive segments of a document with a space into one paragraph.
    ``seed``: of the planted artifacts. An unknown detector name is a :class:`UsageError`.
    """
    from ..detectors import all_detectors
    from .planted import planted_recall

    try:
        dets = all_detectors(only=list(detectors))
    except ValueError as e:
        raise UsageError(str(e)) from None
    sources, mt, mt_files = [], [], []
    for p in map(Path, paths):
        rows = read_rows(p)
        if rows and isinstance(rows[0], Row):
            sources.append((f"{p.name} references", _docs([r for r in rows if r.is_ref], para_size)))
            mt += _docs([r for r in rows if not r.is_ref], para_size)
            mt_files.append(p.name)
        else:
            sources.append((p.name, _docs(rows, para_size, key=lambda r: (r.corpus, r.doc))))
    sources = [(label, docs) for label, docs in sources if docs]
    out = {"detectors": [d.name for d in dets], "files": [str(p) for p in paths], "paragraph_size": para_size}
    out["clean"] = _clean(sources, dets, show, progress)
    if mt:
        out["mt"] = {"files": mt_files, **_mt(mt, dets, show, progress)}
    planted = planted_recall([r.text for _, docs in sources for d in docs for r in d.rows], dets, seed)
    if planted:
        out["planted"] = {"seed": seed, "rows": planted}
    return out


def _clean(sources: list, dets: Sequence, show: int, progress: Progress) -> dict:
    """Per source (and ``all``) and detector: units, findings (all, strong, weighted, per kind); the first findings."""
    rows: dict = {}
    examples: dict = {d.name: [] for d in dets}
    total = {d.name: Counter() for d in dets}
    n_docs = sum(len(docs) for _, docs in sources)
    done = 0
    for label, docs in sources:
        counts = {det.name: Counter() for det in dets}
        for d in docs:
            for det in dets:
                for f in det.detect(d.doc):
                    _count(counts[det.name], f)
                    if len(examples[det.name]) < show:
                        u = d.doc.unit_at(f.start) or d.doc.unit_at(max(0, f.end - 1))
                        examples[det.name].append(_example(f, d, f"{label} {d.id}", u.text if u else ""))
            done += 1
            if progress:
                progress("clean documents", done, n_docs)
        units = sum(len(d.doc.units) for d in docs)
        rows[label] = _source(len(docs), units, counts)
        for n, c in counts.items():
            total[n].update(c)
    rows["all"] = _source(n_docs, sum(r["units"] for r in rows.values()), total)
    return {"sources": rows, "examples": examples}


def _source(n_docs: int, units: int, counts: dict) -> dict:
    return {"documents": n_docs, "units": units, "detectors": {n: _rates(c, units) for n, c in counts.items()}}


def _count(c: Counter, f) -> None:
    c["findings"] += 1
    c["strong"] += f.weight >= STRONG
    c["weighted"] += f.weight
    c[f"kind:{f.kind}"] += 1


def _rates(c: Counter, units: int) -> dict:
    per = 1000 / max(1, units)
    return {
        "findings": c["findings"],
        "per_1000_units": _r(c["findings"] * per, 2),
        "strong_per_1000_units": _r(c["strong"] * per, 2),
        "weighted_per_1000_units": _r(c["weighted"] * per, 2),
        "kinds": {k[5:]: v for k, v in sorted(c.items()) if k.startswith("kind:")},
    }


def _example(f, d: _Doc, where: str, unit: str, tag: str = "") -> dict:
    return {
        "where": where,
        "detector": f.detector,
        "kind": f.kind,
        "weight": round(f.weight, 2),
        "tag": tag,
        "span": d.doc.text[f.start : f.end],
        "message": f.message,
        "unit": unit,
    }


def _mt(docs: list[_Doc], dets: Sequence, show: int, progress: Progress) -> dict:
    """Per detector: findings per 1000 units, and the rows with a finding per row group (also with a strong one)."""
    rows = [r for d in docs for r in d.rows]
    groups = {key: {r.key for r in rows if test(r)} for key, _, _, test in GROUPS}
    fired = {det.name: set() for det in dets}
    strong = {det.name: set() for det in dets}
    findings = Counter()
    examples: dict = {d.name: [] for d in dets}
    for i, d in enumerate(docs):
        for det in dets:
            for f in det.detect(d.doc):
                r = d.row_of(f)
                findings[det.name] += 1
                fired[det.name].add(r.key)
                if f.weight >= STRONG:
                    strong[det.name].add(r.key)
                if len(examples[det.name]) < show:
                    tag = "BAD" if r.fluency_major > 0 else ("ok" if r.mqm == 0 else "err")
                    examples[det.name].append(_example(f, d, f"{r.system}/{r.doc}:{r.seg} mqm={r.mqm:g}", r.text, tag))
        if progress:
            progress("MT documents", i + 1, len(docs))
    units = sum(len(d.doc.units) for d in docs)
    per_det = {
        n: {
            "findings": findings[n],
            "per_1000_units": _r(1000 * findings[n] / max(1, units), 2),
            "rows": {key: len(fired[n] & g) for key, g in groups.items()},
            "strong_rows": {key: len(strong[n] & groups[key]) for key in ("fluency_major", "clean")},
        }
        for n in fired
    }
    n_rows = {key: len(g) for key, g in groups.items()}
    return {"documents": len(docs), "units": units, "rows": n_rows, "detectors": per_det, "examples": examples}


# ---------------------------------------------------------------------------
# the plain-text report


def _share(k: int, n: int) -> str:
    return f"{k} ({100 * k / max(1, n):.2f}%)"


def format_false_alarms(res: dict) -> str:
    """The result of :func:`false_alarms` as plain-text tables."""
    files = ", ".join(Path(p).name for p in res["files"])
    lines = [f"garble eval false-alarms: {', '.join(res['detectors'])} on {files}"]
    if res["paragraph_size"] > 1:
        lines.append(f"(each {res['paragraph_size']} consecutive segments joined into one paragraph)")
    lines += _clean_lines(res["clean"])
    if "mt" in res:
        lines += _mt_lines(res["mt"])
    if "planted" in res:
        lines += [
            "",
            f"planted in clean paragraphs (one artifact each, seed {res['planted']['seed']}): "
            "found = a finding of that detector covers the plant",
        ]
        for p in res["planted"]["rows"]:
            rate = 100 * p["found"] / max(1, p["tried"])
            lines.append(f"  {p['detector']:<12} {p['artifact']:<16} {p['found']}/{p['tried']} = {rate:.1f}%")
    return "\n".join(lines) + "\n"


def _clean_row(label: str, w: int, docs, units, detector: str, findings, per_1000, strong, weighted, kinds: str) -> str:
    cells = f"{docs:>6}{units:>7}  {detector:<14}{findings:>8}{per_1000:>10}{strong:>8}{weighted:>10}  {kinds}"
    return (label.ljust(w) + cells).rstrip()


def _clean_lines(clean: dict) -> list[str]:
    w = max(len(s) for s in clean["sources"]) + 2
    lines = ["", f"clean text: findings per 1000 units (strong: weight >= {STRONG}; weighted: the sum of the weights)"]
    heads = ("docs", "units", "detector", "findings", "per 1000", "strong", "weighted", "kinds")
    lines.append(_clean_row("source", w, *heads))
    for label, s in clean["sources"].items():
        for name, m in s["detectors"].items():
            rates = [f"{m[k]:.2f}" for k in ("per_1000_units", "strong_per_1000_units", "weighted_per_1000_units")]
            kinds = ", ".join(f"{k}={v}" for k, v in m["kinds"].items())
            lines.append(_clean_row(label, w, s["documents"], s["units"], name, m["findings"], *rates, kinds))
    return lines + _example_lines(clean["examples"], "findings on clean text")


def _mt_lines(mt: dict) -> list[str]:
    n = mt["rows"]
    groups = ", ".join(f"{n[key]} {label}" for key, label, _, _ in GROUPS)
    heads = ", ".join(f"{head} = {label}" for _, label, head, _ in GROUPS[1:])
    lines = [
        "",
        f"MT rows (is_ref=0 of {', '.join(mt['files'])}): {mt['documents']} documents, {mt['units']} units; {groups}",
        f"rows with a finding (share of the group: {heads})",
        f"ratio = the share of flu>0 rows / the share of mqm==0 rows; strong: a finding with weight >= {STRONG}",
    ]
    heads = ["findings", "per 1000"] + [head for _, _, head, _ in GROUPS] + ["ratio", "strong flu>0", "strong mqm==0"]
    widths = [10, 10] + [15] * len(GROUPS) + [8, 15, 15]
    lines.append("detector".ljust(14) + "".join(h.rjust(w) for h, w in zip(heads, widths)))
    for name, m in mt["detectors"].items():
        r, s = m["rows"], m["strong_rows"]
        flu, ok = r["fluency_major"] / max(1, n["fluency_major"]), r["clean"] / max(1, n["clean"])
        cells = [str(m["findings"]), f"{m['per_1000_units']:.2f}"] + [_share(r[key], n[key]) for key, _, _, _ in GROUPS]
        cells += [f"{flu / ok:.2f}" if ok else "—", _share(s["fluency_major"], n["fluency_major"])]
        cells.append(_share(s["clean"], n["clean"]))
        lines.append(name.ljust(14) + "".join(c.rjust(w) for c, w in zip(cells, widths)))
    title = "findings on MT rows (BAD: fluency_major>0, ok: mqm==0, err: other errors)"
    return lines + _example_lines(mt["examples"], title)


def _example_lines(examples: dict, title: str) -> list[str]:
    if not any(examples.values()):
        return []
    lines = ["", title + ":"]
    for items in examples.values():
        for e in items:
            tag = f"{e['tag']} " if e["tag"] else ""
            head = f"[{e['detector']}/{e['kind']} {e['weight']:.2f}] {tag}{e['where']}"
            lines.append(f"  {head}: {e['span'][:80]!r}: {e['message']}")
            lines.append(f"        {e['unit'][:200]}")
    return lines
