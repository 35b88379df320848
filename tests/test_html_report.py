"""The HTML review report (garble.html).

Fast tests read the rendered page as text. The tests marked ``browser`` open it
in headless Chromium through Playwright; they skip (with the reason) when
Playwright or /usr/bin/chromium is missing:

    pip install playwright && apt-get install -y chromium
    pytest -m browser tests/test_html_report.py
"""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.util
import json
import re
import time
from pathlib import Path

import pytest

import garble
from garble.html import PAGE_SIZE, build_data, highlight_segments, render_report, script_json
from garble.resources import read_template
from garble.types import DocumentResult, Finding, LMFeatures, Unit, UnitResult, assign_ranks

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "article.txt"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

INJECTED = (
    "Hostile input <script>window.__pwned=1</script> was pasted here, and it was fine and it was fine.\n\n"
    'Another line <img src=x onerror="window.__pwned=2"> with an image. Then <script>alert(1)</script> again.\n'
)

DATA_RE = re.compile(r'<script type="application/json" id="garble-data">(.*?)</script>', re.S)


# -- helpers ------------------------------------------------------------------------


def make_doc(
    sentences: list[str],
    findings: dict[int, list[tuple[str, str, int, int, float, str]]],
    doc_id: str = "doc",
    scores: dict[int, float] | None = None,
    sep: str = " ",
) -> DocumentResult:
    """A DocumentResult built by hand: ``findings[i]`` holds unit-relative (detector, kind, a, b, weight, msg)."""
    text, units, pos = "", [], 0
    for i, s in enumerate(sentences):
        if i:
            text += sep
            pos += len(sep)
        u = Unit(index=i, start=pos, end=pos + len(s), text=s, paragraph=0)
        fs = [Finding(d, k, pos + a, pos + b, w, m) for d, k, a, b, w, m in findings.get(i, [])]
        score = (scores or {}).get(i, 0.9 if fs else 0.05)
        units.append(UnitResult(unit=u, score=score, findings=fs))
        text += s
        pos += len(s)
    assign_ranks(units)
    return DocumentResult(text=text, units=units, doc_id=doc_id)


def split_page(page: str) -> tuple[str, str]:
    """(the page without its JSON block, the JSON block's text)."""
    m = DATA_RE.search(page)
    assert m, "no JSON data block"
    return page[: m.start(1)] + page[m.end(1) :], m.group(1)


@pytest.fixture(scope="module")
def seed_results() -> list[DocumentResult]:
    if not SEED.is_file():
        pytest.skip(f"{SEED} not found (../shared beside the repo)")
    s = garble.Scorer(model=False)
    return [
        s.score_document(SEED.read_text(encoding="utf-8"), doc_id="article.txt"),
        s.score_document(INJECTED, doc_id="injected.txt"),
    ]


# -- fast tests -----------------------------------------------------------------------


def test_page_is_one_self_contained_html_document(seed_results):
    page = render_report(seed_results)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<html") == 1 and page.count("</html>") == 1
    assert page.count("<body") == 1
    low = page.lower()
    for bad in ('src="http', "src='http", 'href="http', "href='http", "<link", "@import", "url(http"):
        assert bad not in low, bad
    # exactly two script elements: the JSON data and the page's own code
    outside, _ = split_page(page)
    assert len(re.findall(r"<script\b", outside)) == 2
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert csp and "default-src 'none'" in html.unescape(csp.group(1))


def test_injected_markup_is_escaped(seed_results):
    page = render_report(seed_results, title='<script>alert("t")</script> @@DATA@@')
    outside, block = split_page(page)
    for raw in ("<script>alert", "<script>window.__pwned", "<img src=x", "onerror="):
        assert raw not in outside, raw
    assert "</script>" not in block and "<\\/script>" in block
    assert "<!--" not in block
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; @@DATA@@" in outside  # title escaped, not expanded
    data = json.loads(block)
    assert INJECTED in [d["text"] for d in data["docs"]]  # the text round-trips through the escaping


def test_csp_hash_is_the_hash_of_the_page_script(seed_results):
    page = render_report(seed_results)
    outside, _ = split_page(page)
    scripts = re.findall(r"<script>(.*?)</script>", outside, re.S)
    assert len(scripts) == 1 and scripts[0].strip() == read_template("report.js").strip()
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode("ascii")
    csp = html.unescape(re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page).group(1))
    assert re.findall(r"'sha256-([^']*)'", csp) == [digest]
    assert f"script-src 'sha256-{digest}';" in csp
    styles = re.findall(r"<style>(.*?)</style>", outside, re.S)
    assert len(styles) == 1 and read_template("report.css") in styles[0]


def test_template_fields_in_values_are_not_expanded(seed_results):
    page = render_report(seed_results, title="$data ${script} $$ $title")
    assert page.count("<title>$data ${script} $$ $title</title>") == 1
    outside, _ = split_page(page)
    assert outside.count('id="garble-data"') == 1 and outside.count("<script>") == 1


def test_script_json_cannot_close_the_block():
    s = script_json({"t": "a</script><script>x()</script><!-- b </SCRIPT >"})
    assert "</" not in s and "<!--" not in s
    assert json.loads(s) == {"t": "a</script><script>x()</script><!-- b </SCRIPT >"}


def test_highlights_present_for_every_finding(seed_results):
    data = build_data(seed_results)
    names = [d["name"] for d in data["detectors"]]
    n = 0
    for u in data["units"]:
        res = seed_results[u["d"]].units[u["i"]]
        for f in res.findings:
            # some highlight piece of this unit overlaps the finding (or marks its point)
            assert any(
                a < max(f.end, f.start + 1)
                and max(f.start - 1, res.start) < b
                and f.detector in [names[j] for j in dets]
                for a, b, dets, _ in u["hl"]
            ), (f, u["hl"])
            n += 1
    assert n == sum(len(d.findings) for d in seed_results)


def test_seed_highlights_lavorov():
    if not SEED.is_file():
        pytest.skip(f"{SEED} not found")
    text = SEED.read_text(encoding="utf-8")
    r = garble.Scorer(model=False).score_document(text, doc_id="article.txt")
    data = build_data([r])
    i = text.index("Lavorov")
    hit = [h for u in data["units"] for h in u["hl"] if h[0] <= i and i + len("Lavorov") <= h[1]]
    assert hit, "no highlight covers “Lavorov”"


def test_overlapping_findings_split_into_pieces():
    doc = make_doc(
        ["It was fine and it was fine, said Lavorov today."],
        {
            0: [
                ("repetition", "repeated_phrase", 0, 27, 0.8, "repeated"),
                ("names", "variant", 34, 41, 0.7, "variant"),
                ("fragments", "x", 16, 41, 0.4, "frag"),
            ]
        },
    )
    segs = highlight_segments(doc.units[0])
    t = doc.text
    assert [(t[a:b], d) for a, b, d, _ in segs] == [
        ("It was fine and ", ("repetition",)),
        ("it was fine", ("repetition", "fragments")),
        (", said ", ("fragments",)),
        ("Lavorov", ("fragments", "names")),
    ]
    # pieces do not overlap, and each carries the messages of all detectors covering it
    assert all(a < b for a, b, _, _ in segs)
    assert all(s1[1] <= s2[0] for s1, s2 in zip(segs, segs[1:]))
    assert set(segs[1][3]) == {"repetition (repeated_phrase): repeated", "fragments (x): frag"}


def test_zero_width_and_outside_findings_still_get_a_mark():
    doc = make_doc(
        ["First one.", "Second.Third here."], {1: [("punctuation", "missing_space", 7, 7, 0.6, "missing space")]}
    )
    ((a, b, dets, _),) = highlight_segments(doc.units[1])
    assert dets == ("punctuation",) and b - a >= 1 and doc.units[1].start <= a < b <= doc.units[1].end
    # a junction finding outside its unit is clipped into it
    u = doc.units[1]
    odd = UnitResult(unit=u.unit, score=0.7, findings=[Finding("x", "k", u.start - 3, u.start - 1, 0.5, "m")])
    ((a, b, _, _),) = highlight_segments(odd)
    assert u.start <= a < b <= u.end


def test_lm_only_unit_highlights_the_surprising_word():
    u = Unit(0, 0, 21, "The zorblax ran home.", 0)
    lm = LMFeatures(mean_surprisal=6.0, max_surprisal=14.0, max_span=(5, 9), n_tokens=6, rel_median=2.5)
    r = UnitResult(unit=u, score=0.8, findings=[], lm=lm)
    ((a, b, dets, msgs),) = highlight_segments(r)
    assert u.text[a:b] == "zorblax" and dets == ("lm",)
    assert highlight_segments(UnitResult(unit=u, score=0.1, findings=[], lm=lm)) == []  # not flagged: no LM mark


def test_per_detector_counts_and_summary(seed_results):
    page = render_report(seed_results)
    outside, _ = split_page(page)
    counts: dict[str, int] = {}
    units: dict[str, set] = {}
    for d in seed_results:
        for u in d.units:
            for f in u.findings:
                counts[f.detector] = counts.get(f.detector, 0) + 1
                units.setdefault(f.detector, set()).add((d.doc_id, u.unit.index))
    assert counts, "the seed article has findings"
    for name, n in counts.items():
        row = re.search(rf'<tr class="det-row" data-detector="{re.escape(name)}">(.*?)</tr>', outside, re.S)
        assert row, name
        assert f'data-count="findings">{n}<' in row.group(1)
        assert f'data-count="units">{len(units[name])}<' in row.group(1)
        assert 'class="detfilter" data-det=' in row.group(1)
    n_units = sum(len(d) for d in seed_results)
    assert re.search(rf'id="stat-segments">{n_units}<', outside)
    assert re.search(r'id="stat-documents">2<', outside)
    flagged = sum(1 for d in seed_results for u in d.units if u.score >= 0.5)
    assert re.search(rf'id="stat-flagged">{flagged}<', outside)
    # "flagged" is what the README and the table's header say: score >= 0.5, the units the queue starts with
    assert flagged == sum(1 for u in build_data(seed_results)["units"] if u["sc"] >= 0.5 and u["fl"])
    assert "<svg" in outside and 'class="hist"' in outside


def test_queue_data_is_in_rank_order_across_documents(seed_results):
    data = build_data(seed_results)
    scores = [u["sc"] for u in data["units"]]
    assert scores == sorted(scores, reverse=True)
    assert len(data["units"]) == sum(len(d) for d in seed_results)
    assert data["pageSize"] == PAGE_SIZE


def test_astral_characters_use_utf16_offsets():
    doc = make_doc(["Emoji 😀😀 here.", "It was fine and it was fine."], {1: [("repetition", "r", 0, 27, 0.8, "rep")]})
    data = build_data([doc])
    u = next(x for x in data["units"] if x["i"] == 1)
    js = doc.text.encode("utf-16-le")
    a, b = u["hl"][0][0], u["hl"][0][1]
    assert js[2 * a : 2 * b].decode("utf-16-le") == "It was fine and it was fine"
    assert u["o"] == [doc.units[1].start, doc.units[1].end]  # export offsets stay code points


def test_flagged_means_score_at_least_the_flag_score():
    """A finding the combiner scores below 0.5 does not flag its unit: the card counts what the queue starts with."""
    doc = make_doc(
        ["A b c.", "It was fine and it was fine.", "D e f."],
        {1: [("repetition", "repeated_phrase", 0, 27, 0.3, "repeated")]},
        scores={0: 0.9, 1: 0.4, 2: 0.1},
    )
    outside, _ = split_page(render_report([doc]))
    assert re.search(r'id="stat-flagged">1<', outside)
    assert "score ≥ 0.5 (33%) · below it, 1 with a finding" in outside
    assert [u["fl"] for u in build_data([doc])["units"]] == [1, 0, 0]


def test_empty_and_min_score():
    page = render_report([])
    assert "<html" in page and 'id="stat-documents">0<' in page
    page = render_report([make_doc(["A b c.", "D e f."], {})], min_score=0.25)
    assert 'min="0.25"' in page


def test_threshold_slider_starts_at_the_flag_score_and_the_shading_has_a_legend():
    doc = make_doc(["A b c.", "D e f."], {}, scores={0: 0.9, 1: 0.1})
    page = render_report([doc])
    assert re.search(r'<input type="range" id="threshold" min="0" max="1" step="0.01" value="0.5">', page)
    assert '<output id="threshold-value">0.50</output>' in page
    assert build_data([doc])["start"] == 0.5
    assert build_data([doc], min_score=0.7)["start"] == 0.7  # --min-score above the flag score wins
    outside, _ = split_page(page)
    legend = re.search(r'<p class="legend" id="legend">(.*?)</p>', outside, re.S)
    assert legend and "flagged unit" in legend.group(1) and "score ≥ 0.5" in legend.group(1)
    assert "or a finding" not in page  # one meaning of "flagged" on the page, the README's
    assert "coloured by detector" in legend.group(1) and "<mark" not in legend.group(
        1
    )  # no stray mark.hl for the page script


# -- browser tests ------------------------------------------------------------------------


def _browser_reason() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium); `playwright install` downloads are not used"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _browser_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _open(browser, path: Path, errors: list):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("html[data-docs-ready]", timeout=30_000)
    return ctx, page


def _utf16(text: str, i: int) -> int:
    return len(text[:i].encode("utf-16-le")) // 2


def _covered_words(text: str, phrase: str, ranges: list[tuple[int, int]]) -> tuple[int, int]:
    """(words of ``phrase`` wholly inside highlighted ranges, words in it) at its first occurrence."""
    i = text.index(phrase)
    words = [(i + m.start(), i + m.end()) for m in re.finditer(r"\w+", phrase)]
    hit = 0
    for a, b in words:
        a16, b16 = _utf16(text, a), _utf16(text, b)
        if all(any(x <= c < y for x, y in ranges) for c in range(a16, b16)):
            hit += 1
    return hit, len(words)


@pytest.mark.browser
def test_browser_seed_report(browser, seed_results, tmp_path):
    path = tmp_path / "report.html"
    path.write_text(render_report(seed_results, title="seed"), encoding="utf-8")
    errors: list = []
    ctx, page = _open(browser, path, errors)
    try:
        article = seed_results[0].text
        marks = page.eval_on_selector_all(
            "#d-0 mark.hl:not(.off)",
            "els => els.map(e => [e.textContent, +e.dataset.start, +e.dataset.end, e.dataset.detectors])",
        )
        ranges = [(a, b) for _, a, b, _ in marks]

        # the document view holds the full text, paragraphs and all
        assert page.locator("#d-0 .doctext").text_content() == article

        # (a) the three named artifacts are highlighted in the document view
        lav = [m for m in marks if "Lavorov" in m[0]]
        assert lav, "“Lavorov” is not highlighted"
        assert _covered_words(article, "Lavorov", ranges) == (1, 1)
        hit, n = _covered_words(article, "it’s legal and it’s legal", ranges)
        assert hit == n, "“it’s legal and it’s legal” is not highlighted"
        hit, n = _covered_words(article, "Ukrainian targets on Russian soil", ranges)
        assert hit >= 1, "“Ukrainian targets on Russian soil” is not highlighted (no detector flags it)"
        # … and in the review queue too
        assert page.locator("#queue mark.hl", has_text="Lavorov").count() >= 1
        assert page.locator("#queue mark.hl", has_text="it’s legal and it’s legal").count() >= 1

        # (b) unchecking the detector hides its highlights and its queue entries
        det = lav[0][3].split()[0]
        mark = page.locator("#d-0 mark.hl", has_text="Lavorov").first
        assert mark.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
        lav_row = page.locator("#queue li.qrow", has=page.locator("mark.hl", has_text="Lavorov"))
        assert lav_row.count() == 1
        page.uncheck(f'input.detfilter[data-detector="{det}"]')
        states = page.eval_on_selector_all(
            "mark.hl",
            "els => els.map(e => [e.dataset.detectors, e.classList.contains('off'), "
            "getComputedStyle(e).backgroundColor, e.dataset.primary || ''])",
        )
        mine = [s for s in states if det in s[0].split()]
        assert mine
        for dets, off, bg, primary in mine:
            if dets == det:  # only the unchecked detector covers it: switched off, no background
                assert off and bg in ("rgba(0, 0, 0, 0)", "transparent"), (dets, off, bg)
            else:  # also covered by another detector: shown in that detector's colour
                assert not off and primary != det
        assert all(not off for dets, off, _, _ in states if det not in dets.split())
        only_det = [u for u in seed_results[0].units if u.findings and {f.detector for f in u.findings} == {det}]
        if only_det:
            assert lav_row.count() == 0, "a queue entry with only the unchecked detector is still shown"
        page.check(f'input.detfilter[data-detector="{det}"]')
        assert "off" not in (mark.get_attribute("class") or "")
        assert lav_row.count() == 1

        # (c) the injected markup shows as text and never ran
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator("img").count() == 0
        assert page.locator("script").count() == 2
        inj = page.locator("#d-1 .doctext").text_content()
        assert "<script>window.__pwned=1</script>" in inj and '<img src=x onerror="window.__pwned=2">' in inj

        # (d) keyboard: j moves focus to the next flagged unit (and shows it in its document), k back
        page.locator("header.top").click()
        page.keyboard.press("j")
        first = page.evaluate(
            "[document.activeElement.className, document.activeElement.dataset.q, document.activeElement.dataset.score]"
        )
        assert "qrow" in first[0] and first[1] == "0"
        page.keyboard.press("j")
        second = page.evaluate(
            "[document.activeElement.className, document.activeElement.dataset.q, "
            "document.activeElement.dataset.score, document.activeElement.dataset.doc, "
            "document.activeElement.dataset.unit]"
        )
        assert "qrow" in second[0] and second[1] == "1"
        assert float(second[2]) <= float(first[2])
        di = [d.doc_id for d in seed_results].index(second[3])
        assert "current" in (page.locator(f"#u-{di}-{second[4]}").get_attribute("class") or "")
        flagged = [u for u in seed_results[di].units if u.unit.index == int(second[4])][0]
        assert flagged.score >= 0.5 or flagged.findings
        page.keyboard.press("k")
        assert page.evaluate("document.activeElement.dataset.q") == "0"

        # marks: a button press is kept in localStorage (survives a reload) and exported as JSONL
        page.locator("#queue li.qrow").first.locator("button.b-reviewed").click()
        page.keyboard.press("j")
        page.keyboard.press("f")
        page.reload()
        page.wait_for_selector("html[data-docs-ready]")
        assert "m-reviewed" in (page.locator("#queue li.qrow").nth(0).get_attribute("class") or "")
        assert "m-false_alarm" in (page.locator("#queue li.qrow").nth(1).get_attribute("class") or "")
        with page.expect_download() as dl:
            page.click("#export")
        lines = [json.loads(x) for x in Path(dl.value.path()).read_text(encoding="utf-8").splitlines()]
        assert sorted(x["mark"] for x in lines) == ["false_alarm", "reviewed"]
        for x in lines:
            assert set(x) == {"doc", "unit", "start", "end", "text", "score", "mark"}
            d = next(d for d in seed_results if d.doc_id == x["doc"])
            assert d.text[x["start"] : x["end"]] == x["text"] == d.units[x["unit"]].text
        assert not errors, errors
    finally:
        ctx.close()


@pytest.mark.browser
def test_browser_ten_thousand_units(browser, tmp_path):
    sentences = [
        f"Sentence number {i} says that it was fine and it was fine."
        if i % 7 == 0
        else f"Sentence number {i} is quite ordinary."
        for i in range(10_000)
    ]
    findings = {i: [("repetition", "repeated_phrase", 30, 57, 0.8, "repeated")] for i in range(0, 10_000, 7)}
    doc = make_doc(sentences, findings, doc_id="big.txt", scores={i: (i % 100) / 100 for i in range(10_000)}, sep="\n")
    path = tmp_path / "big.html"
    path.write_text(render_report([doc]), encoding="utf-8")
    errors: list = []
    t0 = time.monotonic()
    ctx, page = _open(browser, path, errors)
    try:
        assert time.monotonic() - t0 < 20
        assert page.locator("#queue li.qrow").count() == PAGE_SIZE  # one page of rows, not 10,000
        assert page.input_value("#threshold") == "0.5"
        assert all(
            float(s) >= 0.5 for s in page.eval_on_selector_all("#queue li.qrow", "els => els.map(e => e.dataset.score)")
        )
        # the long document is cut into blocks at line breaks; together they hold the whole text
        assert page.locator("#d-0 .chunk").count() > 10
        assert (
            page.evaluate("Array.from(document.querySelectorAll('#d-0 .chunk')).map(c => c.textContent).join('\\n')")
            == doc.text
        )
        page.locator("header.top").click()
        page.keyboard.press("j")
        assert page.evaluate("document.activeElement.dataset.q") == "0"
        page.locator("#queue li.qrow").last.focus()  # the last row of the page; j goes on to the next page
        page.keyboard.press("j")
        assert page.evaluate("document.activeElement.dataset.q") == str(PAGE_SIZE)
        assert page.locator("#queue li.qrow").first.get_attribute("data-q") == str(PAGE_SIZE)
        page.fill("#threshold", "0.99")
        page.dispatch_event("#threshold", "input")
        # poll from Python: wait_for_function evaluates its predicate with eval(), which the page's CSP forbids
        # (it only passed when the list had already shrunk at the first check)
        deadline = time.monotonic() + 10
        while (
            page.evaluate("document.querySelectorAll('#queue li.qrow').length") >= 200 and time.monotonic() < deadline
        ):
            page.wait_for_timeout(50)
        assert all(
            float(s) >= 0.99
            for s in page.eval_on_selector_all("#queue li.qrow", "els => els.map(e => e.dataset.score)")
        )
        assert not errors, errors
    finally:
        ctx.close()
