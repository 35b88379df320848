"""Command line: ``garble rank|score|report|eval|bench``.

Errors a user can cause print one line, ``garble: error: FILE[:LINE]: what``,
and exit with the code of their :class:`~garble.errors.GarbleError` class
(README, "Failure modes"); never a traceback.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .errors import GarbleError, UsageError

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Find and rank the sentences of machine-translated English that a reviewer must fix.",
)


class UnitOpt(str, Enum):
    sentence = "sentence"
    line = "line"
    paragraph = "paragraph"


class FormatIn(str, Enum):
    text = "text"
    tsv = "tsv"


class RankFormat(str, Enum):
    table = "table"
    jsonl = "jsonl"
    tsv = "tsv"
    html = "html"


def _warn(msg: str) -> None:
    sys.stderr.write(f"garble: warning: {msg}\n")


def scorer_kwargs(no_lm: bool, model: Optional[str], device: str, unit: str, weights: Optional[Path], detectors: Optional[str], exclude: Optional[str], context: bool = True, dtype: str = "auto") -> dict:
    """The :class:`garble.Scorer` arguments of the CLI options (plain values: Ray actors get them too)."""
    from .detectors import all_detectors

    names = None
    if detectors or exclude:
        try:
            dets = all_detectors(
                only=[d.strip() for d in detectors.split(",") if d.strip()] if detectors else None,
                exclude=[d.strip() for d in exclude.split(",") if d.strip()] if exclude else (),
            )
        except ValueError as e:
            raise UsageError(str(e)) from None
        names = [d.name for d in dets]
    return {
        "model": False if no_lm else model,
        "device": device,
        "detectors": names,
        "weights": str(weights) if weights is not None else None,
        "unit": unit,
        "context": context,
        "dtype": dtype,
    }


def make_scorer(no_lm: bool, model: Optional[str], device: str, unit: str, weights: Optional[Path], detectors: Optional[str], exclude: Optional[str], context: bool = True, dtype: str = "auto"):
    """A Scorer from CLI options (shared by the commands)."""
    from .api import Scorer

    return Scorer(**scorer_kwargs(no_lm, model, device, unit, weights, detectors, exclude, context, dtype))


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"garble {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit.")) -> None:
    """Find and rank the sentences of machine-translated English that a reviewer must fix."""


# options shared by commands that score
NoLM = typer.Option(False, "--no-lm", help="Run the detectors alone (no language model, no torch).")
Model = typer.Option(None, "--model", "-m", help="Hugging Face causal LM name or path, or a .gguf file (default: SmolLM2-135M-Instruct).")
Device = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N, mps.")
Dtype = typer.Option("auto", "--dtype", help="auto, float32, bfloat16, float16.")
Weights = typer.Option(None, "--weights", help="Scorer weights JSON (default: the packaged data/scorer.json).")
Detectors = typer.Option(None, "--detectors", help="Comma-separated detector names to run (default: all).")
Exclude = typer.Option(None, "--exclude", help="Comma-separated detector names to leave out.")
NoContext = typer.Option(False, "--no-context", help="Skip the LM pass that scores each unit after the previous one.")


@app.command()
def rank(
    inputs: List[Path] = typer.Argument(..., help="Documents to rank (text; .gz/.zst; - for stdin). Each file is one document.", show_default=False),
    top: Optional[int] = typer.Option(None, "--top", "-n", min=1, help="Show the N units most in need of review per document."),
    fmt: RankFormat = typer.Option(RankFormat.table, "--format", "-f", help="Output format."),
    output: str = typer.Option("-", "--output", "-o", help="Output file (default: standard output)."),
    unit: UnitOpt = typer.Option(UnitOpt.sentence, "--unit", help="sentence (default), line (one unit per input line: MT corpora) or paragraph."),
    min_score: float = typer.Option(0.0, "--min-score", min=0.0, max=1.0, help="Leave out units scoring below this."),
    color: Optional[bool] = typer.Option(None, "--color/--no-color", help="Colour the table (default: when writing to a terminal)."),
    no_lm: bool = NoLM,
    model: Optional[str] = Model,
    device: str = Device,
    dtype: str = Dtype,
    weights: Optional[Path] = Weights,
    detectors: Optional[str] = Detectors,
    exclude: Optional[str] = Exclude,
    no_context: bool = NoContext,
    source: Optional[Path] = typer.Option(None, "--source", help="The source text of TARGET, line-aligned (with --unit line): turns on the source-aware checks."),
    format_in: FormatIn = typer.Option(FormatIn.text, "--format-in", help="text (default), or tsv: bitext lines 'source<TAB>target', one document per file."),
    source_lang: Optional[str] = typer.Option(None, "--source-lang", help="Source language (ISO 639-1, e.g. zh); default: identified from the source."),
) -> None:
    """Rank the units of each document, most in need of review first."""
    from . import report
    from .io import atomic_output

    if source is not None or format_in is FormatIn.tsv:
        from .qa_cli import rank_documents

        if format_in is FormatIn.tsv and unit is UnitOpt.sentence:
            unit = UnitOpt.line  # a TSV row is one unit
        scorer = make_scorer(no_lm, model, device, unit.value, weights, detectors, exclude, context=not no_context, dtype=dtype)
        results = rank_documents(inputs, scorer, source=source, fmt_in=format_in.value, unit=unit.value, source_lang=source_lang)
    else:
        results = _score_files(inputs, no_lm, model, device, unit.value, weights, detectors, exclude, not no_context, dtype)
    with atomic_output(output) as out:
        if fmt is RankFormat.table:
            use_color = color if color is not None else (output == "-" and sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
            report.write_table(results, out, top=top, min_score=min_score, color=bool(use_color))
        elif fmt is RankFormat.jsonl:
            report.write_jsonl(results, out, top=top, min_score=min_score)
        elif fmt is RankFormat.tsv:
            report.write_tsv(results, out, top=top, min_score=min_score)
        else:
            from .html import render_report

            out.write(render_report(results, min_score=min_score))


@app.command()
def report(
    inputs: List[Path] = typer.Argument(..., help="Documents to review (text; .gz/.zst; - for stdin). Each file is one document.", show_default=False),
    output: str = typer.Option("report.html", "--output", "-o", help="The HTML file to write (self-contained: no network)."),
    title: Optional[str] = typer.Option(None, "--title", help="Page title (default: the input names)."),
    unit: UnitOpt = typer.Option(UnitOpt.sentence, "--unit", help="sentence (default), line or paragraph."),
    min_score: float = typer.Option(0.0, "--min-score", min=0.0, max=1.0, help="Leave units scoring below this out of the queue."),
    no_lm: bool = NoLM,
    model: Optional[str] = Model,
    device: str = Device,
    dtype: str = Dtype,
    weights: Optional[Path] = Weights,
    detectors: Optional[str] = Detectors,
    exclude: Optional[str] = Exclude,
    no_context: bool = NoContext,
) -> None:
    """Write an HTML review page: summary, ranked queue, documents with every flag in place."""
    from .html import render_report

    results = _score_files(inputs, no_lm, model, device, unit.value, weights, detectors, exclude, not no_context, dtype)
    page_title = title or "garble review report: " + ", ".join(Path(str(p)).name for p in inputs)
    from .io import atomic_output

    with atomic_output(output) as out:
        out.write(render_report(results, min_score=min_score, title=page_title))
    if output != "-":
        sys.stderr.write(f"garble: wrote {output} ({sum(len(r.units) for r in results)} units)\n")


def _score_files(inputs, no_lm, model, device, unit, weights, detectors, exclude, context, dtype):
    """Read each input as one document and score it (shared by rank and report)."""
    from .io import read_document

    docs_text = []
    for path in inputs:
        text, warnings = read_document(path)
        for w in warnings:
            _warn(w)
        if not text.strip():
            _warn(f"{path}: empty document (no units)")
        docs_text.append((str(path), text))
    scorer = make_scorer(no_lm, model, device, unit, weights, detectors, exclude, context=context, dtype=dtype)
    return [scorer.score_document(text, doc_id=name) for name, text in docs_text]


def _register_module_commands() -> None:
    """Commands that live in their own modules (imported lazily by typer on use)."""
    from .corpus_cli import score
    from .eval_cli import eval_cmd

    app.command("score")(score)
    app.command("eval")(eval_cmd)


_register_module_commands()


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the ``garble`` command; returns the exit code."""
    from .corpus_cli import ray_args

    args = ray_args(sys.argv[1:] if argv is None else list(argv))  # score --ray [ADDRESS]: the optional value
    try:
        app(args=args, prog_name="garble")  # usage errors: click prints them and exits 2
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        sys.stderr.write("garble: interrupted\n")
        return 130
    except GarbleError as e:
        sys.stderr.write(f"garble: error: {e}\n")
        return e.exit_code
    except BrokenPipeError:
        # the reader went away (| head): not an error; silence the flush at exit
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
