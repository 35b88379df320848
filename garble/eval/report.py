"""The whole evaluation (:func:`run_evaluation`, a JSON-able dict) and its plain-text report (:func:`format_report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional, Sequence

from ..errors import InputError
from .data import (
    Segment,
    load_segments,
    read_annotated,
    read_clean,
    read_span_index,
    read_spans,
    select_split,
    split_of,
)
from .metrics import METRICS, N_LEN_BINS, P_AT_K, TOP_FRACTION, category_recall, roc_auc, span_metrics
from .metrics import rounded as _r
from .source import corruption_rates, source_detectors
from .synthetic import score_synthetic, synthetic_rates, synthetic_sources
from .tables import README_BASELINES, ablation_table, evaluation_table, feature_table, misses_and_false_alarms

DEFINITIONS = {
    "auc_flu": "ROC-AUC, fluency_major>0 vs mqm==0",
    "auc_flu_len": (
        f"the same inside {N_LEN_BINS} quintile bins of character length (bins over all segments of the "
        "split), averaged weighting each bin by its positive-negative pairs"
    ),
    "auc_major": "ROC-AUC, major>0 vs mqm==0",
    "spearman": "Spearman correlation with mqm, all segments",
    "pairwise": (
        "MT systems (references left out) on the same (doc, seg), pairs with different mqm: share where the "
        "higher-mqm one scores higher; ties 0.5"
    ),
    "p_at_5": (
        f"per document (system, doc): share of the {P_AT_K} top-scored segments with major>0, averaged over documents"
    ),
    "category_recall": (
        f"share of a category's segments whose score is in the top {int(TOP_FRACTION * 100)}% "
        "of all segments of the split"
    ),
}

Progress = Optional[Callable[[str, int, int], None]]


def run_evaluation(
    path: Path,
    scorer,
    split: str = "test",
    clean: Optional[Path] = None,
    synthetic: bool = False,
    per_kind: int = 100,
    seed: int = 0,
    show: int = 20,
    cache: Optional[Path] = None,
    progress: Progress = None,
    spans: Optional[Path] = None,
    with_source: bool = False,
) -> dict:
    """Evaluate ``scorer`` (its detectors, LM and weights) on an annotated file; a JSON-able dict.

    ``spans``: the error spans of the same rows (default: ``mqm_ted_zhen_spans.jsonl``
    beside ``path``, if there) for the findings' span precision and recall.
    ``with_source``: also score every document with its segments' sources
    (from the spans file) and report the table and the recall per category
    with the source-aware detectors beside the source-free ones.

    ``split``: ``test`` (the held-out talks, see :func:`garble.eval.data.split_of`), ``train`` or ``all``.
    ``synthetic``: also corrupt the human references (and ``clean``, a
    clean-English TSV) of the same split and report detection rates per type.
    """
    rows = read_annotated(path)
    segs = _scored(path, rows, scorer, cache, _stage(progress, "documents"))
    sel = select_split(segs, split)
    if not sel:
        raise InputError(
            f"no segments in split {split!r} (talks: {', '.join(sorted({r.doc for r in rows}))})", path=str(path)
        )
    w = scorer.weights
    out = _summary(path, split, scorer, sel, seed)
    spans_path = Path(path).with_name("mqm_ted_zhen_spans.jsonl") if spans is None else spans
    if with_source:
        out["with_source"] = _with_source(path, rows, scorer, split, sel, seed, spans_path, cache, progress)
    if spans_path and Path(spans_path).is_file():
        sm = span_metrics(sel, read_span_index(Path(spans_path)))
        out["spans"] = {
            "file": str(spans_path),
            "rows": {n: {k: _r(v) if isinstance(v, float) else v for k, v in m.items()} for n, m in sm.items()},
        }
    abl = ablation_table(sel, w)
    out["ablation"] = {"fires": abl["fires"], "rows": _round_rows(abl["rows"])}
    if show:
        out.update(misses_and_false_alarms(sel, [w.score(s.x) for s in sel], show))
    if synthetic:
        out.update(_synthetic(rows, clean, split, per_kind, seed, scorer, sel, cache, progress))
    return out


def _stage(progress: Progress, what: str) -> Optional[Callable[[int, int], None]]:
    return (lambda i, n: progress(what, i, n)) if progress else None


def _round_rows(rows: dict) -> dict:
    """Metric rows rounded for the report (pair counts kept)."""
    return {n: {k: _r(v) if k != "n_pairs" else v for k, v in m.items()} for n, m in rows.items()}


def _categories(score, segs: Sequence[Segment]) -> dict:
    return {c: {"recall": _r(v["recall"]), "n": v["n"]} for c, v in category_recall(score, segs).items()}


def _summary(path: Path, split: str, scorer, sel: Sequence[Segment], seed: int) -> dict:
    """What every evaluation reports: the file, model and weights, the score columns, recall per category, features."""
    w = scorer.weights
    lm = scorer.lm
    table = evaluation_table(sel, w, seed)
    out = {
        "file": str(path),
        "split": split,
        "model": getattr(lm, "name", None) if lm is not None else None,
        "weights": w.source,
        "detectors": [d.name for d in scorer.detectors],
        "definitions": dict(DEFINITIONS),
        "table": {**{k: v for k, v in table.items() if k != "rows"}, "rows": _round_rows(table["rows"])},
        "categories": _categories([w.score(s.x) for s in sel], sel),
    }
    if split == "all":
        out["readme_baselines"] = README_BASELINES
    out["features"] = _round_rows(feature_table(sel))
    return out


def _scored(path: Path, rows, scorer, cache, progress, sources=None) -> list[Segment]:
    """The rows' segments scored by ``scorer``'s LM and detectors (through the caches), optionally with sources."""
    return load_segments(
        path,
        rows,
        lm=scorer.lm,
        detectors=scorer.detectors,
        context=scorer.context,
        cache=cache,
        sources=sources,
        progress=progress,
    )


def _with_source(
    path: Path, rows, scorer, split: str, sel: Sequence[Segment], seed: int, spans_path, cache, progress: Progress
) -> dict:
    """Every segment scored with its source (from the spans file): the table, omissions, recall per category, fires."""
    if not (spans_path and Path(spans_path).is_file()):
        raise InputError(
            "--with-source needs the spans file with the sources (mqm_ted_zhen_spans.jsonl beside the TSV, or --spans)",
            path=str(spans_path),
        )
    span_rows = read_spans(Path(spans_path))
    srcs = {(r.system, r.doc, r.seg): r.source for r in span_rows}
    omission = {
        (r.system, r.doc, r.seg)
        for r in span_rows
        if any(sev == 2 and cat == "Accuracy/Omission" for _, _, sev, cat in r.errors)
    }
    ssegs = _scored(path, rows, scorer, cache, _stage(progress, "documents with sources"), sources=srcs)
    ssel = select_split(ssegs, split)
    w = scorer.weights
    stab = evaluation_table(ssel, w, seed)
    refs = [r for r in span_rows if r.is_ref and (split == "all" or split_of(r.doc) == split)]
    return {
        "table": _round_rows(stab["rows"]),
        "auc_major_omission": {
            "with source": _r(_omission_auc(ssel, omission, lambda s: w.score(s.x))),
            "without": _r(_omission_auc(sel, omission, lambda s: w.score(s.x))),
            "length (chars)": _r(_omission_auc(ssel, omission, lambda s: s.chars)),
            "n_omission": sum(s.row.key in omission for s in ssel if s.row.key in omission or s.row.mqm == 0),
        },
        "categories": _categories([w.score(s.x) for s in ssel], ssel),
        "fires": {
            d: sum(1 for s in ssel if s.x.get(f"det:{d}", 0) > 0)
            for d in sorted({k[4:] for s in ssel for k in s.x if k.startswith("det:")})
        },
        "corruptions": _corruptions(refs, scorer, seed),
    }


def _corruptions(refs: Sequence, scorer, seed: int) -> dict:
    """The synthetic source-aware corruptions of the split's references, per kind (:func:`.source.corruption_rates`)."""
    from ..langid import identify

    lang = identify(" ".join(r.source for r in refs)[:4000]) if refs else None
    rates = corruption_rates(refs, source_detectors(scorer.detectors), seed=seed, scorer=scorer, lang=lang)
    rows = {k: {m: _r(v) if isinstance(v, float) else v for m, v in row.items()} for k, row in rates.items()}
    return {"n_refs": len(refs), "seed": seed, "rows": rows}


def _omission_auc(segs: Sequence[Segment], omission: set, value: Callable[[Segment], float]) -> float:
    """ROC-AUC of ``value``: segments with a Major omission against error-free ones."""
    om = [s for s in segs if s.row.key in omission or s.row.mqm == 0]
    return roc_auc([value(s) for s in om], [s.row.key in omission for s in om])


def _synthetic(
    rows,
    clean: Optional[Path],
    split: str,
    per_kind: int,
    seed: int,
    scorer,
    sel: Sequence[Segment],
    cache,
    progress: Progress,
) -> dict:
    """``synthetic``: detection rates of synthetic errors in the split's clean documents; with an LM,
    ``guard_rails``."""
    from ..synth import ALL_TYPES, make_pairs

    w = scorer.weights
    clean_rows = read_clean(clean) if clean else []
    src = [(d, t) for d, t, s in synthetic_sources(rows, clean_rows) if split == "all" or s == split]
    pairs = make_pairs(src, kinds=ALL_TYPES, per_kind=per_kind, seed=seed)
    res = score_synthetic(pairs, scorer, cache, progress=_stage(progress, "synthetic pairs"))
    rates = synthetic_rates(res, w)
    syn = {
        "sources": [d for d, _ in src],
        "rates": {
            k: {
                "n": v["n"],
                "rate": _r(v["rate"]),
                "rate_len_held": _r(v["rate_len_held"]),
                "mean_gain": _r(v["mean_gain"], 4),
                "fired": _r(v["fired"]),
                "fired_clean": _r(v["fired_clean"]),
            }
            for k, v in rates.items()
        },
        "definition": (
            "share of pairs where the corrupted unit (the higher of the two units of a fragment) scores "
            "strictly above the clean unit, each scored in its document"
        ),
        "rates_by_reading": {
            key: {k: _r(v["rate"]) for k, v in synthetic_rates([r for r in res if r.context == ctx], w).items()}
            for key, ctx in (("in context", True), ("alone", False))
        },
    }
    out = {"synthetic": syn}
    if scorer.lm is not None:
        from ..combiner import check_records, guard_rails

        gr = guard_rails(w, check_records(sel, res))
        out["guard_rails"] = {
            "table": {d: {k: _r(v) for k, v in row.items()} for d, row in gr["table"].items()},
            "checks": [[n, ok] for n, ok in gr["checks"]],
            "ok": gr["ok"],
        }
        rates_nolm = synthetic_rates(res, w, lm=False)
        syn["rates_no_lm"] = {k: _r(v["rate"]) for k, v in rates_nolm.items()}
        syn["rates_no_lm_len_held"] = {k: _r(v["rate_len_held"]) for k, v in rates_nolm.items()}
    return out


# ---------------------------------------------------------------------------
# the plain-text report

_NAMES = [m[0] for m in METRICS]
_HEADS = [m[1] for m in METRICS]
_TOP = int(TOP_FRACTION * 100)


def _metric_cells(m: dict) -> str:
    return "".join(("—" if m.get(k) is None else f"{m.get(k):.3f}").rjust(14) for k in _NAMES)


def _table(first: str, rows: dict, w0: int) -> list[str]:
    """A header line (``first`` over the row names, then the metrics) and one line per row."""
    head = first.ljust(w0) + "".join(h.rjust(14) for h in _HEADS)
    return [head] + [n.ljust(w0) + _metric_cells(m) for n, m in rows.items()]


def _or_dash(v) -> str:
    return "—" if v is None else f"{v:.3f}"


def format_report(res: dict) -> str:
    """The evaluation as plain-text tables."""
    w0 = max(len(n) for n in res["table"]["rows"]) + 2
    lines = _head_lines(res, w0)
    sections = (
        ("synthetic", _synthetic_lines),
        ("with_source", _with_source_lines),
        ("features", _feature_lines),
        ("spans", _span_lines),
        ("guard_rails", _guard_rail_lines),
        ("ablation", _ablation_lines),
    )
    for key, section in sections:
        if res.get(key):
            lines += ["", *section(res[key], res, w0)]
    lines += _example_lines(res)
    return "\n".join(lines) + "\n"


def _head_lines(res: dict, w0: int) -> list[str]:
    t = res["table"]
    lines = [
        f"garble eval {res['file']}  split={res['split']} ({', '.join(t['docs'])})  "
        f"model={res['model'] or 'none (--no-lm)'}",
        f"segments {t['n']}: fluency-major {t['n_flu']}, major {t['n_major']}, error-free {t['n_clean']}",
        f"weights: {res['weights'][:160]}",
        "",
    ]
    lines += _table("score", t["rows"], w0)
    base = res.get("readme_baselines")
    if base:
        lines += ["", "README baselines (all rows), for comparison:"]
        lines += [f"  {n}".ljust(w0) + _metric_cells(m) for n, m in base.items()]
    lines += ["", "definitions:"]
    lines += [f"  {k}: {v}" for k, v in res["definitions"].items()]
    lines += ["", f"recall per error category (garble score in the top {_TOP}%):"]
    lines += [f"  {c:<48}{v['recall']:.3f}  (n={v['n']})" for c, v in res["categories"].items()]
    return lines


def _synthetic_lines(s: dict, res: dict, w0: int) -> list[str]:
    lines = [
        "synthetic errors: detection rate (corrupted unit scores above the clean one)"
        + ("; with / without the LM" if "rates_no_lm" in s else "")
        + "; in brackets with the length feature held at the clean unit's"
    ]
    if s.get("rates_by_reading"):
        lines.append(
            "  by reading: "
            + "; ".join(
                f"{key}: " + ", ".join(f"{k} {v:.2f}" for k, v in rr.items())
                for key, rr in s["rates_by_reading"].items()
            )
        )
    for k, v in s["rates"].items():
        extra = f"   {s['rates_no_lm'][k]:.3f} [{s['rates_no_lm_len_held'][k]:.3f}]" if "rates_no_lm" in s else ""
        lines.append(
            f"  {k:<20}{v['rate']:.3f} [{v['rate_len_held']:.3f}]{extra}   (n={v['n']}, "
            f"mean score gain {v['mean_gain']:+.4f}; a detector fired on {v['fired']:.0%} of corrupted units, "
            f"{v['fired_clean']:.0%} of their clean originals)"
        )
    return lines


def _with_source_lines(ws: dict, res: dict, w0: int) -> list[str]:
    ao = ws["auc_major_omission"]
    lines = ["with the source (every segment scored with its source: the source-aware detectors run):"]
    lines += _table("score", ws["table"], w0)
    lines.append("  segments where each detector fired: " + ", ".join(f"{d} {n}" for d, n in ws["fires"].items()))
    lines.append(
        f"  AUC, Major Accuracy/Omission (n={ao['n_omission']}) vs error-free: with the source {ao['with source']}, "
        f"without {ao['without']}, length {ao['length (chars)']}"
    )
    lines.append(f"  recall per error category with the source (top {_TOP}%), against without:")
    for c, v in ws["categories"].items():
        before = res["categories"].get(c, {}).get("recall")
        lines.append(f"    {c:<46}{v['recall']:.3f}  (without: {_or_dash(before)}; n={v['n']})")
    if ws.get("corruptions"):
        lines += _corruption_lines(ws["corruptions"])
    return lines


def _corruption_lines(c: dict) -> list[str]:
    """The synthetic source-aware corruptions: one row per kind, then a missed example or two."""
    ranked = any("ranked" in r for r in c["rows"].values())
    head = f"the split's {c['n_refs']} references (seed {c['seed']}; each pair alone)"
    key = "caught = its own detector fires on the corrupted pair; any = a source-aware detector does; clean = its own"
    key += " detector on the clean pairs"
    if ranked:
        key += "; ranked = garble's score puts the corrupted one above the clean one"
    lines = [
        f"  synthetic source-aware corruptions of {head}:",
        "    " + key,
        "    "
        + "corruption".ljust(22)
        + "pairs".rjust(6)
        + "  "
        + "detector".ljust(15)
        + "".join(h.rjust(9) for h in ("caught", "any", "clean", *(("ranked",) if ranked else ()))),
    ]
    for kind, r in c["rows"].items():
        cells = [r["caught"], r["caught_any"], r["clean"], *((r.get("ranked"),) if ranked else ())]
        lines.append(f"    {kind:<22}{r['n']:>6}  {r['detector']:<15}" + "".join(_or_dash(v).rjust(9) for v in cells))
    for kind, r in c["rows"].items():
        for m in r["missed"][:2]:
            lines.append(f"    {kind} missed by {r['detector']}: {m['note'][:80]} -> {m['target'][:100]!r}")
    return lines


def _feature_lines(features: dict, res: dict, w0: int) -> list[str]:
    return ["each feature of the combiner alone (absent = 0):"] + _table("feature", features, w0)


def _span_lines(spans: dict, res: dict, w0: int) -> list[str]:
    lines = [
        f"finding spans against the raters' error spans ({spans['file']}; MT segments): "
        "precision = share of spans overlapping an error span, recall = share of Major spans overlapped"
    ]
    for n, m in spans["rows"].items():
        lines.append(
            f"  {n:<16}findings {m['findings']:>6}   precision {_or_dash(m['precision'])}   "
            f"Major recall {_or_dash(m['major_recall'])}"
        )
    return lines


def _guard_rail_lines(g: dict, res: dict, w0: int) -> list[str]:
    lines = ["guard rails: the combined score against its own parts on these rows" + ("" if g["ok"] else "  (FAILED)")]
    lines += [f"  {d:<26}" + "  ".join(f"{k} {_or_dash(v)}" for k, v in row.items()) for d, row in g["table"].items()]
    lines += [("  ok    " if ok else "  FAIL  ") + n for n, ok in g["checks"]]
    return lines


def _ablation_lines(a: dict, res: dict, w0: int) -> list[str]:
    lines = ["ablation: garble score with one feature removed (no refit); fires = segments where the detector fired"]
    lines.append("removed".ljust(w0) + "".join(h.rjust(14) for h in _HEADS) + "fires".rjust(8))
    lines += [n.ljust(w0) + _metric_cells(m) + str(a["fires"].get(n[1:], "")).rjust(8) for n, m in a["rows"].items()]
    return lines


def _example_lines(res: dict) -> list[str]:
    lines = []
    for key, title in (
        ("misses", "largest misses (fluency-major, lowest score)"),
        ("false_alarms", "largest false alarms (error-free, highest score)"),
    ):
        if res.get(key):
            lines += ["", title + ":"]
            for it in res[key]:
                cats = ",".join(it["categories"]) or "-"
                lines.append(
                    f"  {it['score']:.3f} {it['system']} {it['doc']}:{it['seg']} mqm={it['mqm']:g} [{cats}] "
                    f"{'; '.join(it['findings'])}"
                )
                lines.append(f"        {it['text'][:200]}")
    return lines
