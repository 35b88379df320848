#!/usr/bin/env python3
"""Render the HTML review report of the seed article and take a screenshot of it.

    python scripts/screenshot_report.py                 # detectors only (no LM)
    python scripts/screenshot_report.py --lm            # with the default LM
    python scripts/screenshot_report.py --html out.html --png docs/report.png

The HTML goes to a temporary directory unless ``--html`` names a file; the
screenshot (1280x1600 viewport) to ``docs/report.png``. Needs Playwright
(``pip install playwright``) and a Chromium binary (Debian: ``apt-get install
chromium``, used at /usr/bin/chromium; no ``playwright install`` download).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--seed",
        type=Path,
        default=ROOT.parent / "shared" / "seed" / "article.txt",
        help="document to render (default: the seed article)",
    )
    ap.add_argument("--lm", action="store_true", help="score with the default language model too (slower; needs torch)")
    ap.add_argument("--html", type=Path, default=None, help="write the HTML here (default: a temporary directory)")
    ap.add_argument(
        "--png", type=Path, default=ROOT / "docs" / "report.png", help="screenshot path (default: docs/report.png)"
    )
    ap.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium executable")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=1600)
    ap.add_argument(
        "--focus", type=int, default=1, help="press 'j' this many times before the screenshot (select a unit)"
    )
    args = ap.parse_args(argv)

    import garble
    from garble.html import render_report

    text = args.seed.read_text(encoding="utf-8")
    scorer = garble.Scorer() if args.lm else garble.Scorer(model=False)
    result = scorer.score_document(text, doc_id=args.seed.name)
    page_html = render_report([result], title=f"garble review report: {args.seed.name}")

    tmp = None
    if args.html is None:
        tmp = tempfile.TemporaryDirectory(prefix="garble-report-")
        html_path = Path(tmp.name) / "report.html"
    else:
        html_path = args.html
        html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(page_html, encoding="utf-8")

    from playwright.sync_api import sync_playwright

    args.png.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.goto(html_path.resolve().as_uri())
            page.wait_for_selector("html[data-docs-ready]")
            for _ in range(args.focus):
                page.keyboard.press("j")
            page.screenshot(path=str(args.png))
        finally:
            browser.close()
    print(f"html: {html_path}{' (temporary, removed)' if tmp else ''}")
    print(f"png:  {args.png}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
