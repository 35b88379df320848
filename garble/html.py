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
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from html import escape as _escape
from typing import Optional, Sequence

from .detectors import registry
from .report import merged_spans, reasons
from .types import DocumentResult, Finding, UnitResult

FLAG_SCORE = 0.5  # a unit is "flagged" when it scores this much or has a finding
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


def highlight_segments(unit: UnitResult, *, flag: float = FLAG_SCORE) -> list[tuple[int, int, tuple[str, ...], tuple[str, ...]]]:
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
            spans.append((a, b, f.detector, f"{f.detector} ({f.kind}): {f.message}" if f.kind else f"{f.detector}: {f.message}"))
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
    return unit.score >= flag or bool(unit.findings)


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


def build_data(results: Sequence[DocumentResult], *, min_score: float = 0.0, title: str = "garble review report", flag: float = FLAG_SCORE) -> dict:
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
        detectors.append({"name": n, "cls": cls, "bg": bg, "fg": fg, "findings": n_findings.get(n, 0), "units": n_units.get(n, 0)})

    order = sorted(((di, u) for di, d in enumerate(docs) for u in d.units), key=lambda t: (-t[1].score, t[0], t[1].unit.index))
    conv = [_Utf16(d.text) for d in docs]
    units = []
    for di, u in order:
        c = conv[di]
        hl = [[c(a), c(b), [det_index[x] for x in dets], "\n".join(msgs)] for a, b, dets, msgs in segs[(di, u.unit.index)]]
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
        "docs": [{"name": d.doc_id or f"document {i + 1}", "text": d.text, "n": len(d.units)} for i, d in enumerate(docs)],
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
    parts = [f'<svg class="hist" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="histogram of unit scores">']
    base = h - 20
    for k, n in enumerate(bins):
        bh = (base - top) * n / peak
        x = pad + k * bw
        cls = "bar hot" if (k + 1) / 10 > flag else "bar"
        lo, hi = k / 10, (k + 1) / 10
        parts.append(f'<rect class="{cls}" x="{x + 1:.1f}" y="{base - bh:.1f}" width="{bw - 2:.1f}" height="{max(bh, 0.5 if n else 0):.1f}"><title>{n} unit{"s" if n != 1 else ""} scoring {lo:.1f}–{hi:.1f}</title></rect>')
        if n:
            parts.append(f'<text class="cnt" x="{x + bw / 2:.1f}" y="{base - bh - 3:.1f}">{n}</text>')
    parts.append(f'<line class="axis" x1="{pad}" y1="{base + 0.5}" x2="{w - pad}" y2="{base + 0.5}"/>')
    fx = pad + flag * 10 * bw
    parts.append(f'<line class="flagline" x1="{fx:.1f}" y1="{top - 6}" x2="{fx:.1f}" y2="{base}"><title>flag threshold {flag:g}</title></line>')
    for v in (0.0, 0.5, 1.0):
        parts.append(f'<text class="tick" x="{pad + v * 10 * bw:.1f}" y="{h - 5}">{v:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _summary_html(data: dict, results: Sequence[DocumentResult], flag: float) -> str:
    all_units = [u for d in results for u in d.units]
    n_flag = sum(1 for u in all_units if is_flagged(u, flag))
    n_find = sum(len(u.findings) for u in all_units)
    n_units = len(all_units)
    pct = f" ({100 * n_flag / n_units:.0f}%)" if n_units else ""
    tiles = [
        ("Documents", f"{len(results):,}", ""),
        ("Segments", f"{n_units:,}", ""),
        ("Flagged", f"{n_flag:,}", f"score ≥ {flag:g} or a finding{pct}"),
        ("Findings", f"{n_find:,}", ""),
    ]
    out = ['<section class="summary" aria-label="summary">', '<div class="tiles">']
    for label, value, note in tiles:
        key = label.lower()
        out.append(f'<div class="tile" data-stat="{key}"><div class="tv" id="stat-{key}">{value}</div><div class="tl">{label}</div>' + (f'<div class="tn">{_e(note)}</div>' if note else "") + "</div>")
    out.append("</div>")
    out.append(f'<figure class="histo"><figcaption>Score distribution</figcaption>{_histogram_svg([u.score for u in all_units], flag)}</figure>')
    out.append('<div class="dets"><table class="dettable"><thead><tr><th>Detector</th><th title="findings">findings</th><th title="units with a finding">units</th></tr></thead><tbody>')
    if not data["detectors"]:
        out.append('<tr><td colspan="3" class="muted">no findings</td></tr>')
    for k, d in enumerate(data["detectors"]):
        out.append(
            f'<tr class="det-row" data-detector="{_e(d["name"])}"><td><label><input type="checkbox" class="detfilter" data-det="{k}" data-detector="{_e(d["name"])}" checked> '
            f'<span class="swatch det-{_e(d["cls"])}"></span>{_e(d["name"])}</label></td>'
            f'<td class="num" data-count="findings">{d["findings"]}</td><td class="num" data-count="units">{d["units"]}</td></tr>'
        )
    out.append("</tbody></table></div></section>")
    return "".join(out)


def _legend_html(flag: float) -> str:
    """What the shading means (the colours per detector are in the summary's table)."""
    return (
        '<p class="legend" id="legend">'
        f'<span class="lg lg-flagged">flagged unit</span> score ≥ {flag:g} or a finding · '
        '<span class="lg lg-current">current unit</span> · '
        '<span class="lg lg-hl">flagged span</span> coloured by detector (the table above; hover a span for the reason) · '
        'dimmed spans: marked reviewed or false alarm · '
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


def render_report(results: Sequence[DocumentResult], *, min_score: float = 0.0, title: str = "garble review report") -> str:
    """One self-contained HTML page to review ``results`` (see the module docstring)."""
    results = list(results)
    data = build_data(results, min_score=min_score, title=title)
    script = _SCRIPT
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    csp = f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    n_units = len(data["units"])
    sub = f"{len(results):,} document{'s' if len(results) != 1 else ''} · {n_units:,} segments"
    if min_score > 0:
        sub += f" · units scoring below {min_score:g} left out of the queue"
    parts = {
        "CSP": _e(csp),
        "TITLE": _e(title),
        "SUB": _e(sub),
        "MIN": _e(f"{min_score:g}"),
        "START": _e(f"{data['start']:g}"),
        "STARTFMT": _e(f"{data['start']:.2f}"),
        "FLAG": _e(f"{FLAG_SCORE:g}"),
        "LEGEND": _legend_html(FLAG_SCORE),
        "DETCSS": _detector_css(data["detectors"]),
        "SUMMARY": _summary_html(data, results, FLAG_SCORE),
        "SCRIPT": script,
        "DATA": script_json(data),
    }
    # one pass: a value (a title, a text) that happens to contain "@@DATA@@" is never expanded
    return _SLOT.sub(lambda m: parts[m.group(1)], _PAGE)


_SLOT = re.compile(r"@@([A-Z]+)@@")

_CSS = r"""
:root{--ink:#1d2330;--muted:#667085;--line:#e3e6ec;--bg:#f6f7f9;--card:#fff;--accent:#2f6fd6;--hot:#d9534f;
 font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);background:var(--bg)}
*{box-sizing:border-box}
body{margin:0;font-size:14px;line-height:1.45}
header.top{padding:14px 24px 10px;background:var(--card);border-bottom:1px solid var(--line)}
header.top h1{font-size:19px;margin:0 0 2px;font-weight:650}
header.top .sub{color:var(--muted);font-size:13px}
.summary{display:flex;gap:18px;flex-wrap:wrap;align-items:flex-start;padding:14px 24px;background:var(--card);border-bottom:1px solid var(--line)}
.tiles{display:grid;grid-template-columns:repeat(2,minmax(120px,1fr));gap:8px}
.tile{border:1px solid var(--line);border-radius:8px;padding:8px 12px;min-width:120px}
.tile .tv{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.tile .tl{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.tile .tn{font-size:11px;color:var(--muted)}
.tile[data-stat=flagged] .tv{color:var(--hot)}
figure.histo{margin:0;border:1px solid var(--line);border-radius:8px;padding:6px 8px 2px}
figure.histo figcaption{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
svg.hist .bar{fill:#9fb7de}svg.hist .bar.hot{fill:#e08a87}
svg.hist .cnt,svg.hist .tick{font-size:10px;fill:var(--muted);text-anchor:middle}
svg.hist .axis{stroke:#b8bfcc}svg.hist .flagline{stroke:var(--hot);stroke-dasharray:3 3}
.dets{border:1px solid var(--line);border-radius:8px;padding:6px 10px}
table.dettable{border-collapse:collapse;font-size:13px}
table.dettable th{font-weight:500;font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;text-align:left;padding:2px 8px 4px 0}
table.dettable td{padding:3px 10px 3px 0}
table.dettable td.num{text-align:right;font-variant-numeric:tabular-nums}
table.dettable label{cursor:pointer;display:inline-flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:14px;height:14px;border-radius:3px;background:var(--dbg);border:2px solid var(--dfg)}
.muted{color:var(--muted)}
.legend{margin:0;padding:6px 14px 8px;font-size:12px;color:var(--muted);line-height:1.9}
.legend .lg{padding:1px 4px;border-radius:3px;color:var(--ink)}
.legend .lg-flagged{background:#fff8e6}
.legend .lg-current{background:#e7efff;box-shadow:0 0 0 2px #b7cdf5}
.legend .lg-hl{background:#eee;border-bottom:2px solid #999;border-radius:2px}
.legend .score-hot{padding:0 6px;border-radius:10px;background:#fde2e1;color:#a12622;font-weight:600}
.controls{position:sticky;top:0;z-index:5;display:flex;gap:18px;align-items:center;flex-wrap:wrap;padding:8px 24px;background:#fbfcfd;border-bottom:1px solid var(--line);font-size:13px}
.controls label{display:inline-flex;align-items:center;gap:6px;cursor:pointer}
.controls output{font-variant-numeric:tabular-nums;min-width:3em;display:inline-block}
.controls .spacer{flex:1}
.controls kbd,.help kbd{font:11px ui-monospace,monospace;border:1px solid #cfd4dc;border-bottom-width:2px;border-radius:4px;padding:0 4px;background:#fff}
button{font:inherit;font-size:12px;border:1px solid #cfd4dc;background:#fff;border-radius:6px;padding:3px 9px;cursor:pointer;color:var(--ink)}
button:hover{border-color:#9aa3b2}
button:disabled{opacity:.45;cursor:default}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
main{display:grid;grid-template-columns:minmax(0,46fr) minmax(0,54fr);gap:0;height:calc(100vh - var(--ctl,42px));position:sticky;top:var(--ctl,42px)}
.pane{overflow:auto;padding:12px 18px 40px}
.pane h2{font-size:13px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin:2px 0 8px;font-weight:600}
#queue-pane{border-right:1px solid var(--line)}
.pager{display:flex;align-items:center;gap:8px;font-size:12px;color:var(--muted);margin:0 0 8px}
ol.queue{list-style:none;margin:0;padding:0}
.qrow{background:var(--card);border:1px solid var(--line);border-left:4px solid #c9d3e3;border-radius:8px;padding:8px 10px 8px 10px;margin:0 0 8px;outline:none;scroll-margin:60px}
.qrow.hot{border-left-color:var(--hot)}
.qrow:focus,.qrow.current{box-shadow:0 0 0 2px var(--accent)}
.qrow.m-reviewed{opacity:.6;border-left-color:#2e9b46}
.qrow.m-false_alarm{opacity:.6;border-left-color:#98a2b3}
.qhead{display:flex;gap:8px;align-items:baseline;font-size:12px;color:var(--muted)}
.qhead .rank{font-weight:600;color:var(--ink);font-variant-numeric:tabular-nums}
.qhead .score{font-variant-numeric:tabular-nums;font-weight:600;padding:0 6px;border-radius:10px;background:#eef1f5;color:var(--ink)}
.qrow.hot .qhead .score{background:#fde2e1;color:#a12622}
.qhead a.loc{color:var(--accent);text-decoration:none;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:60%}
.qhead a.loc:hover{text-decoration:underline}
.qhead .state{margin-left:auto;font-weight:600}
.qtext{margin:4px 0 4px;font-size:14.5px;white-space:pre-wrap;overflow-wrap:anywhere}
ul.why{margin:0;padding-left:18px;font-size:12px;color:#475467}
ul.why li{margin:0}
.actions{display:flex;gap:6px;margin-top:6px}
.actions button.on.b-reviewed{background:#e3f5e6;border-color:#2e9b46;color:#1c6b2f}
.actions button.on.b-false_alarm{background:#eef0f3;border-color:#667085}
.empty{color:var(--muted);padding:20px 4px}
mark.hl{background:#eee;color:inherit;border-bottom:2px solid #999;border-radius:2px;padding:0 1px}
mark.hl.multi{box-shadow:inset 0 -5px 0 -3px var(--c2,#999);outline:1px dashed var(--c2,#999);outline-offset:0}
mark.hl.off{background:transparent!important;border-bottom-color:transparent!important;box-shadow:none;outline:none;padding:0}
section.doc{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:0 0 14px}
section.doc h3{font-size:14px;margin:0;padding:8px 14px;border-bottom:1px solid var(--line);display:flex;gap:10px;align-items:baseline}
section.doc h3 .meta{font-weight:400;color:var(--muted);font-size:12px}
.doctext{padding:10px 16px 14px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:15px;line-height:1.6;font-family:Georgia,"DejaVu Serif",serif}
.doctext .chunk{content-visibility:auto;contain-intrinsic-size:auto 600px}
.doctext.pending{color:var(--muted);font-family:inherit;font-size:13px}
span.unit{border-radius:3px;cursor:default}
span.unit.flagged{background:#fff8e6}
span.unit.inq{cursor:pointer}
span.unit.current{background:#e7efff;box-shadow:0 0 0 2px #b7cdf5}
span.unit.m-reviewed mark.hl,span.unit.m-false_alarm mark.hl{opacity:.55}
.help{color:var(--muted);font-size:12px;text-transform:none;letter-spacing:0;font-weight:400;margin-left:10px}
@keyframes flash{from{background:#cfe0ff}to{background:#e7efff}}
span.unit.flash{animation:flash 1s ease-out}
@media (max-width:900px){main{display:block;height:auto;position:static}#queue-pane{border-right:0}}
"""

_PAGE = (
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="@@CSP@@">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="garble">
<title>@@TITLE@@</title>
<style>"""
    + _CSS
    + """
@@DETCSS@@
</style>
</head>
<body>
<header class="top"><h1>@@TITLE@@</h1><div class="sub">@@SUB@@</div></header>
@@SUMMARY@@
<div class="controls" role="toolbar" aria-label="filters">
 <label title="hide queue units scoring below this (starts at the flag threshold, @@FLAG@@; slide left to see lower scores)">Score ≥ <input type="range" id="threshold" min="@@MIN@@" max="1" step="0.01" value="@@START@@"> <output id="threshold-value">@@STARTFMT@@</output></label>
 <label><input type="checkbox" id="flagged-only" checked> flagged only</label>
 <label><input type="checkbox" id="hide-marked"> hide marked</label>
 <span id="progress" class="muted"></span>
 <span class="spacer"></span>
 <button id="export" class="primary" title="download the marks of this report as JSONL">Export marks (JSONL)</button>
</div>
<main>
 <div class="pane" id="queue-pane"><h2>Review queue <span class="help"><kbd>j</kbd>/<kbd>k</kbd> next/prev · <kbd>r</kbd> reviewed · <kbd>f</kbd> false alarm · <kbd>o</kbd> open</span></h2><div class="pager" id="pager"></div><ol class="queue" id="queue" aria-label="review queue"></ol><div class="pager" id="pager2"></div><noscript><p class="empty">The review queue needs JavaScript.</p></noscript></div>
 <div class="pane" id="doc-pane"><h2>Documents</h2>@@LEGEND@@<div id="docs"></div></div>
</main>
<script type="application/json" id="garble-data">@@DATA@@</script>
<script>@@SCRIPT@@</script>
</body>
</html>
"""
)

_SCRIPT = r"""
(function () {
"use strict";
var DATA = JSON.parse(document.getElementById("garble-data").textContent);
var DOCS = DATA.docs, DETS = DATA.detectors, UNITS = DATA.units, FLAG = DATA.flag, PER = DATA.pageSize || 200;
var enabled = DETS.map(function () { return true; });
var threshold = DATA.start != null ? DATA.start : DATA.minScore, flaggedOnly = true, hideMarked = false;
var queue = [], page = 0, cur = -1;
var byDoc = DOCS.map(function () { return []; });
UNITS.forEach(function (u, k) { u.k = k; byDoc[u.d].push(u); });
byDoc.forEach(function (l) { l.sort(function (a, b) { return a.i - b.i; }); });
var $ = function (id) { return document.getElementById(id); };
function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
function unitKey(u) { return JSON.stringify([DOCS[u.d].name, u.i]); }
function fmt(x) { return x.toFixed(3); }

// ---- marks (localStorage, keyed by doc + unit) ----
var STORE = "garble-review-marks", marks = {};
try { marks = JSON.parse(window.localStorage.getItem(STORE) || "{}") || {}; } catch (e) { marks = {}; }
function saveMarks() { try { window.localStorage.setItem(STORE, JSON.stringify(marks)); } catch (e) { /* private mode: keep in memory */ } }
var LABEL = { reviewed: "reviewed", false_alarm: "false alarm" };

// ---- highlights ----
function styleMark(m) {
  var ds = m._dets, vis = ds.filter(function (j) { return enabled[j]; });
  if (!vis.length) { m.classList.add("off"); m.removeAttribute("data-primary"); m.classList.remove("multi"); m.title = ""; return; }
  m.classList.remove("off");
  m.setAttribute("data-primary", DETS[vis[0]].cls);
  m.title = m._tip;
  if (vis.length > 1) { m.classList.add("multi"); m.style.setProperty("--c2", DETS[vis[1]].fg); }
  else { m.classList.remove("multi"); m.style.removeProperty("--c2"); }
}
function fillText(parent, u) {
  var t = DOCS[u.d].text, pos = u.s;
  u.hl.forEach(function (h) {
    var a = Math.max(h[0], pos), b = h[1];
    if (b <= a) return;
    if (a > pos) parent.appendChild(document.createTextNode(t.slice(pos, a)));
    var m = el("mark", "hl", t.slice(a, b));
    h[2].forEach(function (j) { m.classList.add("det-" + DETS[j].cls); });
    m.setAttribute("data-detectors", h[2].map(function (j) { return DETS[j].name; }).join(" "));
    m.setAttribute("data-start", a); m.setAttribute("data-end", b);
    m._dets = h[2]; m._tip = h[3];
    styleMark(m);
    parent.appendChild(m);
    pos = b;
  });
  if (pos < u.e) parent.appendChild(document.createTextNode(t.slice(pos, u.e)));
}
UNITS.forEach(function (u) { u.hl = u.hl || []; });

// ---- document view ----
var docBox = [], rendered = [];
function buildDocShells() {
  var box = $("docs");
  DOCS.forEach(function (d, di) {
    var sec = el("section", "doc"); sec.id = "d-" + di;
    var h = el("h3", null, d.name);
    var nflag = byDoc[di].filter(function (u) { return u.fl; }).length;
    h.appendChild(el("span", "meta", d.n + " segments · " + nflag + " flagged"));
    sec.appendChild(h);
    var body = el("div", "doctext pending", "rendering…");
    sec.appendChild(body); box.appendChild(sec);
    docBox.push(body); rendered.push(false);
  });
  if (!DOCS.length) box.appendChild(el("p", "empty", "No documents."));
}
function renderDoc(di) {
  if (rendered[di]) return;
  rendered[di] = true;
  // long documents are cut into blocks at line breaks between units (content-visibility: auto
  // skips the layout and paint of the blocks off screen); a block boundary stands for one "\n"
  var t = DOCS[di].text, pos = 0, frag = document.createDocumentFragment(), box = null, inBox = 0, lines = 0, col = 0;
  function count(s) {  // estimated rendered lines (for the placeholder height of a skipped block)
    var parts = s.split("\n");
    col += parts[0].length;
    for (var k = 1; k < parts.length; k++) { lines += Math.max(1, Math.ceil(col / 85)); col = parts[k].length; }
  }
  function sizeBox() { box.style.containIntrinsicSize = "auto " + Math.round(Math.max(1, lines + Math.ceil(col / 85)) * 24) + "px"; }
  function newBox() {
    if (box) sizeBox();
    box = el("div", "chunk"); frag.appendChild(box); inBox = 0; lines = 0; col = 0;
  }
  newBox();
  byDoc[di].forEach(function (u) {
    if (u.s > pos) {
      var gap = t.slice(pos, u.s), nl = gap.indexOf("\n");
      if (inBox >= 50 && nl >= 0) {
        if (nl > 0) box.appendChild(document.createTextNode(gap.slice(0, nl)));
        newBox();
        gap = gap.slice(nl + 1);
      }
      if (gap) { box.appendChild(document.createTextNode(gap)); count(gap); }
    }
    inBox++; count(t.slice(u.s, u.e));
    var sp = el("span", "unit" + (u.fl ? " flagged" : ""));
    sp.id = "u-" + di + "-" + u.i;
    sp._u = u; u.span = sp;
    fillText(sp, u);
    box.appendChild(sp);
    pos = Math.max(pos, u.e);
    paintMark(u);
  });
  if (pos < t.length) box.appendChild(document.createTextNode(t.slice(pos)));
  if (frag.childNodes.length > 1) sizeBox(); else box.classList.remove("chunk");
  var body = docBox[di];
  body.textContent = ""; body.classList.remove("pending");
  body.appendChild(frag);
  refreshInQueueClasses(di);
}
var pump = 0;
function pumpDocs() {
  var t0 = Date.now();
  while (pump < DOCS.length && Date.now() - t0 < 40) renderDoc(pump++);
  if (pump < DOCS.length) setTimeout(pumpDocs, 0);
  else document.documentElement.setAttribute("data-docs-ready", "1");
}

// ---- queue ----
function inQueue(u) {
  if (u.sc < threshold) return false;
  var vis = u.f.filter(function (j) { return enabled[j]; });
  if (u.f.length && !vis.length) return false;   // only hidden detectors
  if (flaggedOnly && !(u.sc >= FLAG || vis.length)) return false;
  if (hideMarked && marks[unitKey(u)]) return false;
  return true;
}
function refreshInQueueClasses(di) {
  var set = new Set(queue);
  (di == null ? UNITS : byDoc[di]).forEach(function (u) { if (u.span) u.span.classList.toggle("inq", set.has(u)); });
}
function rebuild(keepFocus) {
  var curU = cur >= 0 ? queue[cur] : null;
  queue = UNITS.filter(inQueue);
  var at = curU ? queue.indexOf(curU) : -1;
  if (at >= 0) { cur = at; page = Math.floor(at / PER); }
  else { cur = keepFocus && curU ? Math.min(cur, queue.length - 1) : -1; page = cur >= 0 ? Math.floor(cur / PER) : Math.min(page, Math.max(0, Math.ceil(queue.length / PER) - 1)); }
  renderPage();
  refreshInQueueClasses(null);
  if (keepFocus && cur >= 0) focusRow(cur, true);
  updateProgress();
}
function paintMark(u) {
  var m = marks[unitKey(u)] || "";
  ["reviewed", "false_alarm"].forEach(function (k) {
    if (u.row) {
      u.row.classList.toggle("m-" + k, m === k);
      var b = u.row.querySelector(".b-" + k); if (b) { b.classList.toggle("on", m === k); b.setAttribute("aria-pressed", m === k ? "true" : "false"); }
    }
    if (u.span) u.span.classList.toggle("m-" + k, m === k);
  });
  if (u.row) u.row.querySelector(".state").textContent = m ? LABEL[m] : "";
}
function setMark(u, m) {
  var k = unitKey(u);
  if (!m || marks[k] === m) delete marks[k]; else marks[k] = m;
  saveMarks(); paintMark(u);
  if (hideMarked) rebuild(true); else updateProgress();
}
function makeRow(u, q) {
  var li = el("li", "qrow" + (u.sc >= FLAG ? " hot" : ""));
  li.tabIndex = -1; li.id = "q-" + u.d + "-" + u.i;
  li.setAttribute("data-q", q); li.setAttribute("data-doc", DOCS[u.d].name); li.setAttribute("data-unit", u.i); li.setAttribute("data-score", u.sc);
  var head = el("div", "qhead");
  head.appendChild(el("span", "rank", "#" + (u.k + 1)));
  head.appendChild(el("span", "score", fmt(u.sc)));
  var a = el("a", "loc", DOCS[u.d].name + " · unit " + (u.i + 1));
  a.href = "#u-" + u.d + "-" + u.i; a.title = "show in the document (rank " + u.r + " in its document)";
  a.addEventListener("click", function (ev) { ev.preventDefault(); cur = q; selectRow(); showInDoc(u, true); });
  head.appendChild(a);
  head.appendChild(el("span", "state", ""));
  li.appendChild(head);
  var p = el("div", "qtext"); fillText(p, u); li.appendChild(p);
  if (u.why.length) { var ul = el("ul", "why"); u.why.forEach(function (r) { ul.appendChild(el("li", null, r)); }); li.appendChild(ul); }
  var acts = el("div", "actions");
  [["reviewed", "✓ reviewed"], ["false_alarm", "✗ false alarm"]].forEach(function (b) {
    var btn = el("button", "b-" + b[0], b[1]); btn.type = "button";
    btn.addEventListener("click", function (ev) { ev.stopPropagation(); cur = q; selectRow(); setMark(u, b[0]); });
    acts.appendChild(btn);
  });
  li.appendChild(acts);
  li.addEventListener("click", function (ev) { if (ev.target.closest("a,button")) return; cur = q; selectRow(); showInDoc(u, false); });
  u.row = li;
  paintMark(u);
  return li;
}
function pagerInto(box) {
  box.textContent = "";
  var n = queue.length, pages = Math.max(1, Math.ceil(n / PER));
  var prev = el("button", null, "‹ prev"); prev.type = "button"; prev.disabled = page <= 0;
  prev.addEventListener("click", function () { gotoPage(page - 1); });
  var next = el("button", null, "next ›"); next.type = "button"; next.disabled = page >= pages - 1;
  next.addEventListener("click", function () { gotoPage(page + 1); });
  var info = n ? (page * PER + 1) + "–" + Math.min(n, (page + 1) * PER) + " of " + n + " units · page " + (page + 1) + "/" + pages : "no units match the filters";
  box.appendChild(prev); box.appendChild(el("span", "pinfo", info)); box.appendChild(next);
}
function gotoPage(p) { var pages = Math.max(1, Math.ceil(queue.length / PER)); page = Math.max(0, Math.min(pages - 1, p)); cur = -1; renderPage(); $("queue-pane").scrollTop = 0; }
function renderPage() {
  var list = $("queue");
  UNITS.forEach(function (u) { u.row = null; });
  list.textContent = "";
  var frag = document.createDocumentFragment();
  for (var q = page * PER; q < Math.min(queue.length, (page + 1) * PER); q++) frag.appendChild(makeRow(queue[q], q));
  list.appendChild(frag);
  if (!queue.length) list.appendChild(el("li", "empty", "No unit matches the filters."));
  pagerInto($("pager")); pagerInto($("pager2"));
  selectRow();
}
function selectRow() {
  var prev = document.querySelector(".qrow.current"); if (prev) prev.classList.remove("current");
  if (cur >= 0 && queue[cur] && queue[cur].row) queue[cur].row.classList.add("current");
}
function focusRow(q, quiet) {
  if (q < 0 || q >= queue.length) return;
  var p = Math.floor(q / PER);
  if (p !== page) { page = p; renderPage(); }
  cur = q; selectRow();
  var row = queue[q].row;
  row.focus({ preventScroll: true });
  row.scrollIntoView({ block: "nearest" });
  if (!quiet) showInDoc(queue[q], false);
}
var curSpan = null;
function showInDoc(u, flash) {
  renderDoc(u.d);
  var sp = u.span; if (!sp) return;
  if (curSpan) curSpan.classList.remove("current");
  curSpan = sp; sp.classList.add("current");
  var pane = $("doc-pane"), pr = pane.getBoundingClientRect(), r = sp.getBoundingClientRect();
  if (pane.scrollHeight > pane.clientHeight + 1) {
    if (r.top < pr.top + 40 || r.bottom > pr.bottom - 40) pane.scrollTop += r.top - pr.top - pane.clientHeight / 3;
  } else if (flash) { sp.scrollIntoView({ block: "center" }); }
  if (flash) { sp.classList.remove("flash"); void sp.offsetWidth; sp.classList.add("flash"); }
}
function updateProgress() {
  var r = 0, f = 0;
  UNITS.forEach(function (u) { var m = marks[unitKey(u)]; if (m === "reviewed") r++; else if (m === "false_alarm") f++; });
  $("progress").textContent = queue.length + " in queue · " + r + " reviewed · " + f + " false alarm" + (f === 1 ? "" : "s");
}

// ---- filters ----
function applyDetectorFilter() {
  document.querySelectorAll("mark.hl").forEach(styleMark);
  rebuild(false);
}
document.querySelectorAll("input.detfilter").forEach(function (cb) {
  cb.addEventListener("change", function () { enabled[+cb.getAttribute("data-det")] = cb.checked; applyDetectorFilter(); });
});
var raf = 0;
$("threshold").addEventListener("input", function (ev) {
  threshold = parseFloat(ev.target.value) || 0;
  $("threshold-value").textContent = threshold.toFixed(2);
  if (!raf) raf = requestAnimationFrame(function () { raf = 0; rebuild(false); });
});
$("flagged-only").addEventListener("change", function (ev) { flaggedOnly = ev.target.checked; rebuild(false); });
$("hide-marked").addEventListener("change", function (ev) { hideMarked = ev.target.checked; rebuild(false); });

// ---- export ----
$("export").addEventListener("click", function () {
  var lines = [];
  UNITS.forEach(function (u) {
    var m = marks[unitKey(u)]; if (!m) return;
    lines.push(JSON.stringify({ doc: DOCS[u.d].name, unit: u.i, start: u.o[0], end: u.o[1], text: DOCS[u.d].text.slice(u.s, u.e), score: u.sc, mark: m }));
  });
  var blob = new Blob([lines.join("\n") + (lines.length ? "\n" : "")], { type: "application/x-ndjson" });
  var a = el("a"); a.href = URL.createObjectURL(blob); a.download = "garble-marks.jsonl";
  document.body.appendChild(a); a.click();
  setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
});

// ---- keyboard ----
document.addEventListener("keydown", function (ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  var t = ev.target, tag = t && t.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable) || (tag === "INPUT" && !/^(checkbox|range|radio|button)$/.test(t.type))) return;
  var row = t && t.closest ? t.closest(".qrow") : null;
  var base = row ? +row.getAttribute("data-q") : cur;
  var k = ev.key;
  if (k === "j" || k === "n") { focusRow(base < 0 ? 0 : Math.min(queue.length - 1, base + 1)); }
  else if (k === "k" || k === "p") { focusRow(base <= 0 ? 0 : base - 1); }
  else if ((k === "r" || k === "f") && base >= 0 && queue[base]) { cur = base; setMark(queue[base], k === "r" ? "reviewed" : "false_alarm"); if (!hideMarked) focusRow(base, true); }
  else if ((k === "o" || (k === "Enter" && row && t === row)) && base >= 0 && queue[base]) { showInDoc(queue[base], true); }
  else return;
  ev.preventDefault();
});
$("docs").addEventListener("click", function (ev) {
  var sp = ev.target.closest ? ev.target.closest("span.unit") : null;
  if (!sp || !sp._u) return;
  var q = queue.indexOf(sp._u);
  if (q >= 0) focusRow(q, true);
});

function fitPanes() { document.documentElement.style.setProperty("--ctl", document.querySelector(".controls").offsetHeight + "px"); }
window.addEventListener("resize", fitPanes);
fitPanes();
buildDocShells();
rebuild(false);
pumpDocs();
document.documentElement.setAttribute("data-ready", "1");
})();
"""
