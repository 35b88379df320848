"""``garble report``: a self-contained HTML review page of the ranked units."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .options import Quiet, ScorerOptions, UnitOpt, documents, scorer_options

_OUTPUT_HELP = "The HTML file to write (self-contained: no network)."
_MIN_SCORE_HELP = "Leave units scoring below this out of the queue."


@scorer_options()
def report_cmd(
    inputs: List[Path] = documents("review"),
    output: str = typer.Option("report.html", "--output", "-o", metavar="FILE", help=_OUTPUT_HELP),
    title: Optional[str] = typer.Option(None, "--title", help="Page title (default: the input names)."),
    unit: UnitOpt = typer.Option(UnitOpt.sentence, "--unit", help="sentence (default), line or paragraph."),
    min_score: float = typer.Option(0.0, "--min-score", min=0.0, max=1.0, help=_MIN_SCORE_HELP),
    opts: ScorerOptions = ScorerOptions(),
    quiet: Quiet = False,
) -> None:
    """Write an HTML review page: summary, ranked queue, documents with every flag in place."""
    from ..html import render_report
    from ..io import atomic_output
    from .documents import score_files

    results = score_files(inputs, dataclasses.replace(opts, unit=unit.value), quiet=quiet, what="report")
    page_title = title or "garble review report: " + ", ".join(Path(str(p)).name for p in inputs)
    with atomic_output(output) as out:
        out.write(render_report(results, min_score=min_score, title=page_title))
    if output != "-" and not quiet:
        sys.stderr.write(f"garble: wrote {output} ({sum(len(r.units) for r in results):,} units)\n")
