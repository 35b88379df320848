"""``garble rank``: the units of each document, most in need of review first (table, JSONL, TSV or HTML)."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .options import Output, Quiet, ScorerOptions, UnitOpt, choices, documents, scorer_options

FormatIn = choices("FormatIn", "text tsv")
RankFormat = choices("RankFormat", "table jsonl tsv html")

_TOP_HELP = "Show the N units most in need of review per document."
_UNIT_HELP = "sentence (default), line (one unit per input line: MT corpora) or paragraph."
_COLOR_HELP = "Colour the table (default: when writing to a terminal)."
_SOURCE_HELP = "The source text of TARGET, line-aligned (with --unit line): turns on the source-aware checks."
_FORMAT_IN_HELP = "text (default), or tsv: bitext lines 'source<TAB>target', one document per file."
_SOURCE_LANG_HELP = "Source language (ISO 639-1, e.g. zh); default: identified from the source."


@scorer_options()
def rank_cmd(
    inputs: List[Path] = documents("rank"),
    top: Optional[int] = typer.Option(None, "--top", "-n", min=1, help=_TOP_HELP),
    fmt: RankFormat = typer.Option(RankFormat.table, "--format", "-f", help="Output format."),
    output: Output = "-",
    unit: UnitOpt = typer.Option(UnitOpt.sentence, "--unit", help=_UNIT_HELP),
    min_score: float = typer.Option(0.0, "--min-score", min=0.0, max=1.0, help="Leave out units scoring below this."),
    color: Optional[bool] = typer.Option(None, "--color/--no-color", help=_COLOR_HELP),
    opts: ScorerOptions = ScorerOptions(),
    source: Optional[Path] = typer.Option(None, "--source", help=_SOURCE_HELP),
    format_in: FormatIn = typer.Option(FormatIn.text, "--format-in", help=_FORMAT_IN_HELP),
    source_lang: Optional[str] = typer.Option(None, "--source-lang", help=_SOURCE_LANG_HELP),
    quiet: Quiet = False,
) -> None:
    """Rank the units of each document, most in need of review first.

    Each unit gets a score from 0 to 1: higher means more in need of a
    reviewer's fix; 0.5 and above is "flagged" (the review page's default).
    """
    from .. import report
    from ..io import atomic_output

    if source is not None or format_in is FormatIn.tsv:
        from .qa import rank_documents

        if format_in is FormatIn.tsv and unit is UnitOpt.sentence:
            unit = UnitOpt.line  # a TSV row is one unit
        scorer = dataclasses.replace(opts, unit=unit.value).build()
        results = rank_documents(
            inputs, scorer, source=source, fmt_in=format_in.value, unit=unit.value, source_lang=source_lang
        )
    else:
        from .documents import score_files

        results = score_files(inputs, dataclasses.replace(opts, unit=unit.value), quiet=quiet, what="rank")
    with atomic_output(output) as out:
        if fmt is RankFormat.table:
            if color is None:  # by default, colour on a terminal
                color = output == "-" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
            report.write_table(results, out, top=top, min_score=min_score, color=bool(color))
        elif fmt is RankFormat.jsonl:
            report.write_jsonl(results, out, top=top, min_score=min_score)
        elif fmt is RankFormat.tsv:
            report.write_tsv(results, out, top=top, min_score=min_score)
        else:
            from ..html import render_report

            out.write(render_report(results, min_score=min_score))
