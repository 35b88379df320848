"""The HTML review report: one self-contained page a reviewer works through.

:func:`render_report` returns a single HTML file (inline CSS and vanilla JS, no
network access) with

* a summary: documents, segments, flagged units, a score histogram (inline
  SVG) and the finding counts per detector, whose checkboxes filter the page;
* a review queue: every unit in rank order across documents, its flagged spans
  highlighted, its reasons, and buttons to mark it "reviewed" or "false alarm"
  (kept in ``localStorage``, exported as JSONL); paginated, built by the script
  from an embedded JSON block, so 10,000 units stay usable;
* the document view: the full text of every document, paragraphs kept, every
  flagged span highlighted in place.

Keyboard: ``j``/``n`` next unit, ``k``/``p`` previous, ``r`` reviewed, ``f``
false alarm, ``o``/Enter show the unit in its document.

Security: the unit text is untrusted. The summary is the only markup written
here, every string in it escaped; everything else is built by the script with
``textContent`` from the JSON block, in which ``</`` is written ``<\\/`` so that
no text can close the ``<script>`` element. A Content-Security-Policy allows
only the page's own script (by hash) and no network at all.

The page's skeleton, its CSS and its script are package data (``garble/templates/``:
report.html, report.css, report.js); this module builds the data and the summary
and fills the skeleton's ``$`` fields with :class:`string.Template`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from html import escape as _escape
from string import Template
from typing import Optional, Sequence

from .detectors import registry
from .report import merged_spans, reasons
from .resources import read_template
from .types import DocumentResult, Finding, UnitResult

FLAG_SCORE = 0.5  # a unit is "flagged" when it scores this much (as in the table's header and the README)
PAGE_SIZE = 200  # queue rows per page
LM_DETECTOR = "lm"  # pseudo-detector: the LM's most surprising word of a flagged unit without findings

# (background, border) of the pseudo-detectors; a registered detector's are its ``colour``; others
# take the next of _PALETTE
_COLORS = {
    "tagger": ("#f7e1d7", "#b4451f"),
    LM_DETECTOR: ("#e6e6e6", "#777777"),
}
_PALETTE = [
    ("#e9dfd3", "#8a5a2b"),
    ("#dfe3ea", "#4a5a78"),
    ("#f3e0ff", "#9a3fc4"),
    ("#e0f5e9", "#1f7a5a"),
    ("#fde4cf", "#b8560f"),
    ("#d9f0ff", "#1b6fa8"),
]


def _e(s: object) -> str:
    """HTML-escape (quotes too); lone surrogates become U+FFFD so the page stays valid UTF-8."""
    return _escape(str(s).encode("utf-8", "replace").decode("utf-8"), quote=True)


def _finite(x: float) -> float:
    return x if math.isfinite(x) else 0.0  # JSON has no NaN


def _css_ident(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "_"


def script_json(data: object) -> str:
    """JSON for a ``<script type="application/json">`` block: ``</`` and ``<!--`` cannot end or confuse it."""
    s = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if re.search("[\ud800-\udfff]", s):  # lone surrogates (undecodable input): keep them as \\u escapes
        s = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return s.replace("</", "<\\/").replace("<!--", "<\\u0021--")


# -- highlight segments -----------------------------------------------------------


def _finding_span(f: Finding, ustart: int, uend: int) -> tuple[int, int]:
    """Document span of ``f`` clipped to its unit; never empty when the unit is not."""
    a, b = max(f.start, ustart), min(f.end, uend)
    if b > a:
        return a, b
    if uend <= ustart:
        return ustart, ustart
    # zero-width ("missing space here") or outside the unit (a junction finding): mark the
    # character(s) around the point, inside the unit
    p = min(max(f.start, ustart), uend)
    a, b = max(ustart, p - 1), min(uend, p + 1)
    return (a, b) if b > a else (ustart, min(uend, ustart + 1))


def _lm_message(u: UnitResult) -> str:
    lm = u.lm
    msg = "the language model's most surprising word"
    if lm is not None:
        msg += f" ({lm.max_surprisal:.1f} nats; unit {lm.rel_median:+.1f} nats/token vs the document median)"
    return msg


def highlight_segments(
    unit: UnitResult, *, flag: float = FLAG_SCORE
) -> list[tuple[int, int, tuple[str, ...], tuple[str, ...]]]:
    """Non-overlapping highlighted pieces of a unit: ``(start, end, detectors, messages)``.

    Offsets are document offsets (code points), sorted; overlapping findings of
    several detectors are split so that every piece lists all detectors (and
    their messages) covering it. A flagged unit without findings gets the LM's
    most surprising word (``merged_spans``) under the pseudo-detector ``lm``.
    """
    us, ue = unit.start, unit.end
    spans: list[tuple[int, int, str, str]] = []
    for f in sorted(unit.findings, key=lambda f: (f.start, f.end, -f.weight)):
        a, b = _finding_span(f, us, ue)
        if b > a:
            spans.append(
                (a, b, f.detector, f"{f.detector} ({f.kind}): {f.message}" if f.kind else f"{f.detector}: {f.message}")
            )
    if not unit.findings and unit.lm is not None and unit.score >= flag:
        for a, b in merged_spans(unit):
            if b > a:
                spans.append((us + a, us + b, LM_DETECTOR, f"{LM_DETECTOR}: {_lm_message(unit)}"))
    if not spans:
        return []
    cuts = sorted({x for a, b, _, _ in spans for x in (a, b)})
    out = []
    for x, y in zip(cuts, cuts[1:]):
        cover = [s for s in spans if s[0] < y and x < s[1]]
        if not cover:
            continue
        dets = tuple(dict.fromkeys(s[2] for s in cover))
        msgs = tuple(dict.fromkeys(s[3] for s in cover))
        if out and out[-1][1] == x and out[-1][2] == dets and out[-1][3] == msgs:
            out[-1] = (out[-1][0], y, dets, msgs)
        else:
            out.append((x, y, dets, msgs))
    return out


def is_flagged(unit: UnitResult, flag: float = FLAG_SCORE) -> bool:
    """Flagged: the unit scores at least ``flag``, whatever its findings (a finding the combiner scores lower
    does not flag its unit; the queue shows it when the slider goes below ``flag``)."""
    return unit.score >= flag


# -- data -----------------------------------------------------------------------


class _Utf16:
    """Code-point offsets to UTF-16 offsets (what JavaScript strings index by)."""

    def __init__(self, text: str):
        self.cum: Optional[list[int]] = None
        if text and max(text) > "\uffff":
            cum = [0]
            for ch in text:
                cum.append(cum[-1] + (2 if ord(ch) > 0xFFFF else 1))
            self.cum = cum

    def __call__(self, i: int) -> int:
        return i if self.cum is None else self.cum[i]


def _detector_rows(names: Sequence[str], n_findings: dict, n_units: dict) -> list[dict]:
    """One legend row per detector: a unique CSS class, its colours (declared, or from the palette), counts."""
    classes: list[str] = []
    detectors = []
    extra = 0
    colours = {**{k: c.colour for k, c in registry().items()}, **_COLORS}
    for n in names:
        cls = _css_ident(n)
        while cls in classes:
            cls += "_"
        classes.append(cls)
        if n in colours:
            bg, fg = colours[n]
        else:
            bg, fg = _PALETTE[extra % len(_PALETTE)]
            extra += 1
        detectors.append(
            {"name": n, "cls": cls, "bg": bg, "fg": fg, "findings": n_findings.get(n, 0), "units": n_units.get(n, 0)}
        )
    return detectors


def build_data(
    results: Sequence[DocumentResult],
    *,
    min_score: float = 0.0,
    title: str = "garble review report",
    flag: float = FLAG_SCORE,
) -> dict:
    """The page's JSON data (also what the tests inspect)."""
    docs = list(results)
    # detectors sorted by name (the LM pseudo-detector last); counts over all units
    n_findings: dict[str, int] = {}
    n_units: dict[str, int] = {}
    segs: dict[tuple[int, int], list] = {}
    for di, d in enumerate(docs):
        for u in d.units:
            hl = highlight_segments(u, flag=flag)
            segs[(di, u.unit.index)] = hl
            for f in u.findings:
                n_findings[f.detector] = n_findings.get(f.detector, 0) + 1
            dets_here = {f.detector for f in u.findings} | {x for s in hl for x in s[2]}
            for name in dets_here:
                n_units[name] = n_units.get(name, 0) + 1
            if not u.findings and any(LM_DETECTOR in s[2] for s in hl):
                n_findings[LM_DETECTOR] = n_findings.get(LM_DETECTOR, 0) + 1
    names = sorted(n_units, key=lambda n: (n == LM_DETECTOR, n))
    det_index = {n: i for i, n in enumerate(names)}
    detectors = _detector_rows(names, n_findings, n_units)

    order = sorted(
        ((di, u) for di, d in enumerate(docs) for u in d.units), key=lambda t: (-t[1].score, t[0], t[1].unit.index)
    )
    conv = [_Utf16(d.text) for d in docs]
    units = []
    for di, u in order:
        c = conv[di]
        hl = [
            [c(a), c(b), [det_index[x] for x in dets], "\n".join(msgs)] for a, b, dets, msgs in segs[(di, u.unit.index)]
        ]
        units.append(
            {
                "d": di,
                "i": u.unit.index,
                "s": c(u.start),
                "e": c(u.end),
                "o": [u.start, u.end],
                "p": u.unit.paragraph,
                "sc": round(_finite(u.score), 6),
                "r": u.rank,
                "why": reasons(u),
                "f": sorted({det_index[x] for s in segs[(di, u.unit.index)] for x in s[2]}),
                "fl": 1 if is_flagged(u, flag) else 0,
                "hl": hl,
            }
        )
    return {
        "title": title,
        "minScore": min_score,
        "flag": flag,
        # the queue's "Score ≥" slider starts at the flag threshold (or --min-score when higher)
        "start": max(min_score, flag),
        "pageSize": PAGE_SIZE,
        "detectors": detectors,
        "docs": [
            {"name": d.doc_id or f"document {i + 1}", "text": d.text, "n": len(d.units)} for i, d in enumerate(docs)
        ],
        "units": units,
    }


# -- page -----------------------------------------------------------------------


def _histogram_svg(scores: Sequence[float], flag: float) -> str:
    bins = [0] * 10
    for s in scores:
        bins[min(9, max(0, int(_finite(s) * 10)))] += 1
    w, h, pad, top = 300, 110, 22, 16
    bw = (w - 2 * pad) / 10
    peak = max(bins) or 1
    parts = [
        f'<svg class="hist" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="histogram of unit scores">'
    ]
    base = h - 20
    for k, n in enumerate(bins):
        bh = (base - top) * n / peak
        x = pad + k * bw
        cls = "bar hot" if (k + 1) / 10 > flag else "bar"
        lo, hi = k / 10, (k + 1) / 10
        parts.append(
            f'<rect class="{cls}" x="{x + 1:.1f}" y="{base - bh:.1f}" width="{bw - 2:.1f}" '
            f'height="{max(bh, 0.5 if n else 0):.1f}">'
            f"<title>{n} unit{'s' if n != 1 else ''} scoring {lo:.1f}–{hi:.1f}</title></rect>"
        )
        if n:
            parts.append(f'<text class="cnt" x="{x + bw / 2:.1f}" y="{base - bh - 3:.1f}">{n}</text>')
    parts.append(f'<line class="axis" x1="{pad}" y1="{base + 0.5}" x2="{w - pad}" y2="{base + 0.5}"/>')
    fx = pad + flag * 10 * bw
    parts.append(
        f'<line class="flagline" x1="{fx:.1f}" y1="{top - 6}" x2="{fx:.1f}" y2="{base}">'
        f"<title>flag threshold {flag:g}</title></line>"
    )
    for v in (0.0, 0.5, 1.0):
        parts.append(f'<text class="tick" x="{pad + v * 10 * bw:.1f}" y="{h - 5}">{v:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _summary_html(data: dict, results: Sequence[DocumentResult], flag: float) -> str:
    all_units = [u for d in results for u in d.units]
    n_flag = sum(1 for u in all_units if is_flagged(u, flag))
    n_below = sum(1 for u in all_units if u.findings and not is_flagged(u, flag))
    n_find = sum(len(u.findings) for u in all_units)
    n_units = len(all_units)
    pct = f" ({100 * n_flag / n_units:.0f}%)" if n_units else ""
    tiles = [
        ("Documents", f"{len(results):,}", ""),
        ("Segments", f"{n_units:,}", ""),
        (
            "Flagged",
            f"{n_flag:,}",
            f"score ≥ {flag:g}{pct}" + (f" · below it, {n_below:,} with a finding" if n_below else ""),
        ),
        ("Findings", f"{n_find:,}", ""),
    ]
    out = ['<section class="summary" aria-label="summary">', '<div class="tiles">']
    for label, value, note in tiles:
        key = label.lower()
        out.append(
            (
                f'<div class="tile" data-stat="{key}"><div class="tv" id="stat-{key}">{value}</div>'
                f'<div class="tl">{label}</div>'
            )
            + (f'<div class="tn">{_e(note)}</div>' if note else "")
            + "</div>"
        )
    out.append("</div>")
    out.append(
        '<figure class="histo"><figcaption>Score distribution</figcaption>'
        f"{_histogram_svg([u.score for u in all_units], flag)}</figure>"
    )
    out.append(
        '<div class="dets"><table class="dettable"><thead><tr><th>Detector</th><th title="findings">findings</th>'
        '<th title="units with a finding">units</th></tr></thead><tbody>'
    )
    if not data["detectors"]:
        out.append('<tr><td colspan="3" class="muted">no findings</td></tr>')
    for k, d in enumerate(data["detectors"]):
        out.append(
            f'<tr class="det-row" data-detector="{_e(d["name"])}"><td><label>'
            f'<input type="checkbox" class="detfilter" data-det="{k}" data-detector="{_e(d["name"])}" checked> '
            f'<span class="swatch det-{_e(d["cls"])}"></span>{_e(d["name"])}</label></td>'
            f'<td class="num" data-count="findings">{d["findings"]}</td>'
            f'<td class="num" data-count="units">{d["units"]}</td></tr>'
        )
    out.append("</tbody></table></div></section>")
    return "".join(out)


def _legend_html(flag: float) -> str:
    """What the shading means (the colours per detector are in the summary's table)."""
    return (
        '<p class="legend" id="legend">'
        f'<span class="lg lg-flagged">flagged unit</span> score ≥ {flag:g} · '
        '<span class="lg lg-current">current unit</span> · '
        '<span class="lg lg-hl">flagged span</span> coloured by detector '
        "(the table above; hover a span for the reason) · "
        "dimmed spans: marked reviewed or false alarm · "
        f'<span class="score-hot">red score</span> in the queue: ≥ {flag:g}'
        "</p>"
    )


def _detector_css(detectors: list[dict]) -> str:
    rules = []
    for d in detectors:
        c = _e(d["cls"])
        rules.append(f".det-{c}{{--dbg:{d['bg']};--dfg:{d['fg']}}}")
        rules.append(f'mark.hl[data-primary="{c}"]{{background:{d["bg"]};border-bottom-color:{d["fg"]}}}')
    return "\n".join(rules)


def _page_script() -> str:
    """The text of the page's ``<script>`` element, which the CSP's hash covers: a newline, then report.js."""
    return "\n" + read_template("report.js")


def render_report(
    results: Sequence[DocumentResult], *, min_score: float = 0.0, title: str = "garble review report"
) -> str:
    """One self-contained HTML page to review ``results`` (see the module docstring)."""
    results = list(results)
    data = build_data(results, min_score=min_score, title=title)
    script = _page_script()
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = (
        f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    n_units = len(data["units"])
    sub = f"{len(results):,} document{'s' if len(results) != 1 else ''} · {n_units:,} segments"
    if min_score > 0:
        sub += f" · units scoring below {min_score:g} left out of the queue"
    # one pass (string.Template): a value (a title, a text, the script) that holds "$data" is never expanded
    return Template(read_template("report.html")).substitute(
        csp=_e(csp),
        title=_e(title),
        sub=_e(sub),
        min=_e(f"{min_score:g}"),
        start=_e(f"{data['start']:g}"),
        startfmt=_e(f"{data['start']:.2f}"),
        flag=_e(f"{FLAG_SCORE:g}"),
        legend=_legend_html(FLAG_SCORE),
        css=read_template("report.css"),
        detector_css=_detector_css(data["detectors"]),
        summary=_summary_html(data, results, FLAG_SCORE),
        script=script,
        data=script_json(data),
    )
