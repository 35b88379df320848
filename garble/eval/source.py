"""The source-aware detectors measured on a spans file (sources beside the translations).

* :func:`reference_alarms`: how often each detector fires on human reference
  translations (``is_ref`` rows): false alarms;
* :func:`corruption_rates`: synthetic source-aware corruptions of the same
  references (:mod:`garble.synth_source`): the share each kind's own detector
  catches, the share any source-aware detector catches, that detector on the
  clean pairs, and (given a scorer with an LM) the share garble's score ranks
  above the clean pair;
* :func:`mt_rates`: on MT output, the share of segments of each MQM Major
  category (and of error-free ones) that each detector fires on.

Each pair is checked as a one-unit document (as :meth:`garble.Scorer.score_segments`
does). Used by ``scripts/eval_source.py`` (markdown tables: :func:`alarm_table`,
:func:`corruption_table`, :func:`mt_table`) and by ``garble eval --with-source``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Mapping, Optional, Sequence

from ..document import Document
from ..synth_source import DETECTOR_OF, KINDS, corruptions
from ..types import Finding, Unit
from .data import SpanSegment, split_of

#: the detectors that need the source (they find nothing without one), in table order
SOURCE_DETECTORS = ("numbers", "placeholders", "untranslated", "source_tokens", "structure", "length_ratio", "clauses")
#: MQM category prefixes of the MT table (a prefix ending in "/" is a whole branch)
GROUPS = ("Accuracy/Omission", "Accuracy/Addition", "Accuracy/Mistranslation", "Accuracy/Untranslated text", "Fluency/")
#: missed corruptions kept per kind as examples
N_MISSED = 3


def pair_findings(dets: Sequence, source: str, target: str, lang: Optional[str] = "zh") -> list[Finding]:
    """The findings of ``dets`` on one (source, target) pair read as a one-unit document."""
    doc = Document(target, [Unit(0, 0, len(target), target, 0)], sources=[source], source_lang=lang)
    return [f for d in dets for f in d.detect(doc)]


def source_detectors(detectors: Sequence) -> dict:
    """The source-aware ones of ``detectors`` by name, in :data:`SOURCE_DETECTORS` order."""
    by = {d.name: d for d in detectors}
    return {n: by[n] for n in SOURCE_DETECTORS if n in by}


def reference_alarms(refs: Sequence[SpanSegment], dets: Mapping, lang: Optional[str] = "zh") -> dict:
    """Per detector: the references it fires on (all, test talks) and its finding kinds; ``any``: any of them."""
    per = {n: [pair_findings([d], r.source, r.text, lang) for r in refs] for n, d in dets.items()}
    is_test = [split_of(r.doc) == "test" for r in refs]
    rows = {}
    for n, fss in per.items():
        fired = [bool(fs) for fs in fss]
        rows[n] = {
            "fired": sum(fired),
            "fired_test": sum(f for f, t in zip(fired, is_test) if t),
            "kinds": dict(Counter(f.kind for fs in fss for f in fs).most_common()),
        }
    anyf = sum(any(per[n][i] for n in per) for i in range(len(refs)))
    return {"n": len(refs), "n_test": sum(is_test), "rows": rows, "any": anyf}


def corruption_rates(
    refs: Sequence[SpanSegment], dets: Mapping, seed: int = 0, scorer=None, lang: Optional[str] = "zh"
) -> dict:
    """Per kind of :data:`garble.synth_source.KINDS`, the corruptions of ``refs`` (seeded) measured.

    ``dets``: the source-aware detectors by name. A kind whose own detector
    is not among them has ``caught`` ``None``. ``scorer``: with an LM, also
    ``ranked``: the share of pairs where its score (:meth:`~garble.Scorer.score_segments`,
    both sides in one batch) puts the corrupted translation strictly above the clean one.
    """
    allc = corruptions([(r.source, r.text) for r in refs], KINDS, seed=seed)
    out = {}
    for kind in KINDS:
        cs = allc[kind]
        own = dets.get(DETECTOR_OF[kind])
        hits = [_fires([own], c.source, c.target, lang) for c in cs] if own else [False] * len(cs)
        row = {
            "n": len(cs),
            "detector": DETECTOR_OF[kind],
            "caught": _share(sum(hits), len(cs)) if own else None,
            "caught_any": _share(sum(_fires(list(dets.values()), c.source, c.target, lang) for c in cs), len(cs)),
            "clean": _share(sum(_fires([own], c.clean_source, c.clean_target, lang) for c in cs), len(cs))
            if own
            else None,
            "missed": [{"target": c.target, "note": c.note} for c, h in zip(cs, hits) if not h][:N_MISSED],
        }
        if scorer is not None and scorer.lm is not None:
            row["ranked"] = _ranked(scorer, cs, lang)
        out[kind] = row
    return out


def _major_omission(r: SpanSegment) -> bool:
    return any(sev == 2 and cat == "Accuracy/Omission" for _, _, sev, cat in r.errors)


def _fires(dets: Sequence, source: str, target: str, lang: Optional[str]) -> bool:
    return bool(pair_findings(dets, source, target, lang))


def _share(k: int, n: int) -> float:
    return k / max(1, n)


def _ranked(scorer, cs: Sequence, lang: Optional[str]) -> Optional[float]:
    """Share of corruptions whose translation ``scorer`` scores strictly above its clean one."""
    if not cs:
        return None
    texts = [c.target for c in cs] + [c.clean_target for c in cs]
    res = scorer.score_segments(texts, [c.source for c in cs] + [c.clean_source for c in cs], source_lang=lang)
    n = len(cs)
    return _share(sum(res[i].score > res[n + i].score for i in range(n)), n)


def mt_rates(rows: Sequence[SpanSegment], dets: Mapping, lang: Optional[str] = "zh") -> dict:
    """On MT rows: per group (error-free, each Major category of :data:`GROUPS`), the segments and the
    share each detector fires on; ``auc_omission``: the ROC-AUC of the length z alone (shorter = more
    suspect), Major Accuracy/Omission against error-free (``None`` without both)."""
    from ..detectors.length_ratio import z_of
    from .metrics import roc_auc

    def majors(r):
        return {cat for _, _, sev, cat in r.errors if sev == 2}

    groups = {"error-free": [r for r in rows if not r.errors]}
    for g in GROUPS:
        name = f"Major {g}{'*' if g.endswith('/') else ''}"
        groups[name] = [r for r in rows if any(c.startswith(g) for c in majors(r))]
    fired = {id(r): {n: _fires([d], r.source, r.text, lang) for n, d in dets.items()} for r in rows}
    table = {
        name: {"n": len(rs), **{n: _share(sum(fired[id(r)][n] for r in rs), len(rs)) for n in dets}}
        for name, rs in groups.items()
    }
    om, neg = groups["Major Accuracy/Omission"], groups["error-free"]
    auc = None
    if om and neg:
        auc = roc_auc([-z_of(r.source, r.text) for r in om + neg], [1] * len(om) + [0] * len(neg))
    return {"n": len(rows), "groups": table, "auc_omission": auc}


#: settings of :func:`length_tradeoff`: (length_ratio's measures, its z, clauses' z or None: not run)
TRADEOFF = (
    *((("chars",), z, None) for z in (1.5, 2.0, 2.5, 3.0)),
    *((("chars", "words"), z, None) for z in (1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0)),
    *((("chars", "words"), 2.0, cz) for cz in (0.5, 0.75, 1.0, 1.25, 1.5)),
    (("chars", "words"), 1.5, 1.0),
)


def length_tradeoff(rows: Sequence[SpanSegment], settings=TRADEOFF, seed: int = 0) -> list[dict]:
    """Dropped clauses against false alarms, per setting of length_ratio and clauses (:data:`TRADEOFF`):
    the share of references (train talks, test talks) either fires on, of the clauses dropped from them
    caught, of the clean pairs, and of the MT segments with a Major omission and error-free ones."""
    from ..detectors.clauses import Clauses
    from ..detectors.length_ratio import LengthRatio

    refs = [r for r in rows if r.is_ref]
    drops = corruptions([(r.source, r.text) for r in refs], ["drop_clause"], seed=seed)["drop_clause"]
    talk = {r.text: r.doc for r in refs}
    groups: dict = {}
    for sp in ("train", "test"):
        mt = [r for r in rows if not r.is_ref and split_of(r.doc) == sp]
        groups[sp] = {
            "refs": [(r.source, r.text) for r in refs if split_of(r.doc) == sp],
            "dropped": [(c.source, c.target) for c in drops if split_of(talk[c.clean_target]) == sp],
            "clean pairs": [(c.clean_source, c.clean_target) for c in drops if split_of(talk[c.clean_target]) == sp],
            "MT omission": [(r.source, r.text) for r in mt if _major_omission(r)],
            "MT error-free": [(r.source, r.text) for r in mt if not r.errors],
        }
    out = []
    for measures, z, cz in settings:
        dets = [LengthRatio(z=z, measures=measures)] + ([Clauses(z=cz)] if cz is not None else [])
        row = {"measures": "+".join(measures), "z": z, "clauses_z": cz}
        for sp, g in groups.items():
            row[sp] = {k: _share(sum(_fires(dets, s, t, "zh") for s, t in v), len(v)) for k, v in g.items()}
        out.append(row)
    return out


# ---------------------------------------------------------------------------
# markdown tables (scripts/eval_source.py)


def tradeoff_table(rows: list[dict]) -> list[str]:
    """:func:`length_tradeoff` as a markdown section."""
    keys = ("refs", "dropped", "clean pairs", "MT omission", "MT error-free")
    lines = ["## Dropped clauses against false alarms: length_ratio (its measures, z) and clauses (z), either firing\n"]
    heads = ["length measures", "z", "clauses z"] + [f"{k} ({sp})" for sp in ("train", "test") for k in keys]
    lines += ["| " + " | ".join(heads) + " |", "|---" * len(heads) + "|"]
    for r in rows:
        cells = [r["measures"], f"{r['z']:g}", "—" if r["clauses_z"] is None else f"{r['clauses_z']:g}"]
        cells += [f"{r[sp][k]:.1%}" for sp in ("train", "test") for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def alarm_table(a: dict) -> list[str]:
    """:func:`reference_alarms` as a markdown section."""
    n, lines = a["n"], []
    head = f"{n} segments, {a['n_test']} of them in test talks"
    lines.append(f"## False alarms on human references (is_ref=1 with source): {head}\n")
    lines += ["| detector | fires on (all) | fires on (test talks) | kinds (all) |", "|---|---|---|---|"]
    for name, r in a["rows"].items():
        kinds = ", ".join(f"{k} {v}" for k, v in r["kinds"].items())
        ft = r["fired_test"]
        all_cell, test_cell = f"{r['fired']} ({r['fired'] / n:.2%})", f"{ft} ({ft / max(1, a['n_test']):.2%})"
        lines.append(f"| {name} | {all_cell} | {test_cell} | {kinds} |")
    lines.append(f"| any of them | {a['any']} ({a['any'] / n:.2%}) | | |")
    return lines


def corruption_table(rates: dict, seed: int) -> list[str]:
    """:func:`corruption_rates` as a markdown section."""
    lines = [f"## Synthetic source-aware corruptions of the same references (seed {seed})\n"]
    heads = (
        "corruption",
        "pairs",
        "own detector",
        "caught by it",
        "caught by any source-aware detector",
        "its detector on the clean pairs",
    )
    lines += ["| " + " | ".join(heads) + " |", "|---|---|---|---|---|---|"]
    for kind, r in rates.items():
        cells = (kind, str(r["n"]), r["detector"], _pct(r["caught"]), _pct(r["caught_any"]), _pct(r["clean"]))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _pct(v: Optional[float]) -> str:
    return "—" if v is None else f"{v:.1%}"


def mt_table(m: dict) -> list[str]:
    """:func:`mt_rates` as a markdown section."""
    names = [k for k in next(iter(m["groups"].values())) if k != "n"]
    what = "share of segments each detector fires on, by MQM Major category"
    lines = [f"## MT output of the test talks (is_ref=0, {m['n']} segments): {what}\n"]
    lines += ["| segments | n | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for name, g in m["groups"].items():
        lines.append(f"| {name} | {g['n']} | " + " | ".join(f"{g[n]:.1%}" for n in names) + " |")
    if m["auc_omission"] is not None:
        what = "AUC of the length z alone (shorter = more suspect), Major Accuracy/Omission vs error-free"
        lines.append(f"\n{what}: {m['auc_omission']:.3f}")
    return lines


def write_length_prior(refs: Sequence[SpanSegment], path: Path) -> int:
    """Measure the zh-en length prior (:func:`garble.detectors.length_ratio.measure_prior`) on the train talks'
    references and write it to ``path``; the number of references it was measured on."""
    from ..detectors.length_ratio import measure_prior

    train = [(r.source, r.text) for r in refs if split_of(r.doc) == "train"]
    about = (
        "log((letters and digits of target + 1) / (letters and digits of source + 1)), placeholders left out "
        "(garble.detectors.length_ratio.log_ratio), of human reference translations, per source-length bin "
        "(source letters and digits >= the key); under 'words' the same of log((words of target + 1) / (letters "
        "and digits of source + 1)) (log_word_ratio); written by scripts/eval_source.py --write-prior"
    )
    where = "mqm_ted_zhen_spans.jsonl is_ref=1 rows of the train talks (garble.eval.data.split_of)"
    where += f", {len(train)} segments"
    out = {"about": about, "pairs": {"zh-en": {**measure_prior(train), "measured_on": where}}}
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(train)
