"""Command line: ``garble rank|score|report|eval|bench``.

Errors a user can cause print one line, ``garble: error: FILE[:LINE]: what``,
and exit with the code of their :class:`~garble.errors.GarbleError` class
(docs/FAILURE_MODES.md); never a traceback. Usage errors of the option parser
(an unknown option, a bad value) are such a line too, with exit code 2.
Feedback (model loading, progress) goes to standard error (:mod:`garble.feedback`);
``--quiet`` silences it.
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
Model = typer.Option(None, "--model", "-m", metavar="NAME|PATH", help="Hugging Face causal LM name or path, or a .gguf file (default: SmolLM2-135M-Instruct).")
Device = typer.Option("auto", "--device", metavar="DEVICE", help="auto, cpu, cuda, cuda:N, mps.")
Dtype = typer.Option("auto", "--dtype", metavar="DTYPE", help="auto, float32, bfloat16, float16.")
Weights = typer.Option(None, "--weights", help="Scorer weights JSON (default: the packaged data/scorer.json).")
Detectors = typer.Option(None, "--detectors", metavar="NAMES", help="Comma-separated detector names to run (default: all).")
Exclude = typer.Option(None, "--exclude", metavar="NAMES", help="Comma-separated detector names to leave out.")
NoContext = typer.Option(False, "--no-context", help="Skip the LM pass that scores each unit after the previous one.")
Quiet = typer.Option(False, "--quiet", "-q", help="No status line and no progress bar on standard error (warnings and errors still show).")


@app.command()
def rank(
    inputs: List[Path] = typer.Argument(..., metavar="FILE...", help="Documents to rank (text; .gz/.zst; - for stdin). Each file is one document.", show_default=False),
    top: Optional[int] = typer.Option(None, "--top", "-n", min=1, help="Show the N units most in need of review per document."),
    fmt: RankFormat = typer.Option(RankFormat.table, "--format", "-f", help="Output format."),
    output: str = typer.Option("-", "--output", "-o", metavar="FILE", help="Output file (default: standard output)."),
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
    quiet: bool = Quiet,
) -> None:
    """Rank the units of each document, most in need of review first.

    Each unit gets a score from 0 to 1: higher means more in need of a
    reviewer's fix; 0.5 and above is "flagged" (the review page's default).
    """
    from . import report
    from .io import atomic_output

    if source is not None or format_in is FormatIn.tsv:
        from .qa_cli import rank_documents

        if format_in is FormatIn.tsv and unit is UnitOpt.sentence:
            unit = UnitOpt.line  # a TSV row is one unit
        scorer = make_scorer(no_lm, model, device, unit.value, weights, detectors, exclude, context=not no_context, dtype=dtype)
        results = rank_documents(inputs, scorer, source=source, fmt_in=format_in.value, unit=unit.value, source_lang=source_lang)
    else:
        results = _score_files(inputs, no_lm, model, device, unit.value, weights, detectors, exclude, not no_context, dtype, quiet=quiet, what="rank")
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
    inputs: List[Path] = typer.Argument(..., metavar="FILE...", help="Documents to review (text; .gz/.zst; - for stdin). Each file is one document.", show_default=False),
    output: str = typer.Option("report.html", "--output", "-o", metavar="FILE", help="The HTML file to write (self-contained: no network)."),
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
    quiet: bool = Quiet,
) -> None:
    """Write an HTML review page: summary, ranked queue, documents with every flag in place."""
    from .html import render_report

    results = _score_files(inputs, no_lm, model, device, unit.value, weights, detectors, exclude, not no_context, dtype, quiet=quiet, what="report")
    page_title = title or "garble review report: " + ", ".join(Path(str(p)).name for p in inputs)
    from .io import atomic_output

    with atomic_output(output) as out:
        out.write(render_report(results, min_score=min_score, title=page_title))
    if output != "-" and not quiet:
        sys.stderr.write(f"garble: wrote {output} ({sum(len(r.units) for r in results):,} units)\n")


def _score_files(inputs, no_lm, model, device, unit, weights, detectors, exclude, context, dtype, *, quiet=False, what="rank"):
    """Read each input as one document and score it (shared by rank and report).

    Feedback on standard error unless ``quiet``: the model's status line while
    it loads, and a progress bar over units (a terminal only, with the LM, when
    there are more units than the terminal has lines). The LM reads a document
    in batches of up to 8,192 tokens, so within a document the bar moves a
    batch at a time.
    """
    from . import feedback
    from .io import read_document

    feedback.setup(quiet)
    docs_text = []
    for path in inputs:
        text, warnings = read_document(path)
        for w in warnings:
            _warn(w)
        if not text.strip():
            _warn(f"{path}: empty document (no units)")
        docs_text.append((str(path), text))
    scorer = make_scorer(no_lm, model, device, unit, weights, detectors, exclude, context=context, dtype=dtype)
    bar = None
    counts: list[int] = []
    if not quiet and scorer.lm is not None and feedback.isatty(sys.stderr):
        from .segment import segment

        counts = [len(segment(text, unit)) for _, text in docs_text]
        if sum(counts) > feedback.screen_lines():
            bar = feedback.bar(sum(counts), desc=f"garble {what}", unit="unit")
    if bar is None:
        results = [scorer.score_document(text, doc_id=name) for name, text in docs_text]
        feedback.clear()
        return results
    ticker = _LMTicker(scorer.lm, bar)
    results = []
    try:
        done = 0
        for (name, text), n in zip(docs_text, counts):
            # a one-pass LM reads each token once (plus the windows' overlap); a score()-only LM about twice with context
            one_pass = callable(getattr(scorer.lm, "score_stream", None))
            ticker.start(done, n, tokens=max(1, len(text) // 4) * (1 if one_pass or not context else 2))
            results.append(scorer.score_document(text, doc_id=name))
            done += n
            bar.update(done - bar.n)
    finally:
        ticker.remove()
        bar.close()
        feedback.clear()
    return results


class _LMTicker:
    """Moves a progress bar over the units of the document in hand by the tokens its LM passes read.

    A forward hook on the model's decoder (every scoring path runs it once per
    batch) counts the real tokens of each batch done; the bar shows that share of an
    estimate of the document's tokens (about 4 characters a token), never
    past the document's last unit. When the document is done the bar is set
    to the exact count, so a wrong estimate only makes it move unevenly.
    """

    def __init__(self, lm, bar):
        self.bar, self.handle = bar, None
        self.base = self.n = self.seen = 0
        self.tokens = 1
        model = getattr(lm, "model", None)
        get_decoder = getattr(model, "get_decoder", None)
        try:
            module = get_decoder() if callable(get_decoder) else model
            if module is not None and hasattr(module, "register_forward_pre_hook"):
                self.handle = module.register_forward_hook(self._tick, with_kwargs=True)
        except Exception:
            self.handle = None

    def start(self, base: int, n: int, tokens: int) -> None:
        self.base, self.n, self.tokens, self.seen = base, n, tokens, 0

    def _tick(self, module, args, kwargs, output=None) -> None:
        try:
            mask = kwargs.get("attention_mask") if kwargs else None
            ids = kwargs.get("input_ids") if kwargs else None
            if ids is None and args:
                ids = args[0]
            self.seen += int(mask.sum()) if mask is not None else int(ids.numel()) if ids is not None else 0
            target = self.base + min(self.n, self.n * self.seen // self.tokens)
            if target > self.bar.n:
                self.bar.update(target - self.bar.n)
        except Exception:  # pragma: no cover - feedback never stops a run
            pass

    def remove(self) -> None:
        if self.handle is not None:
            self.handle.remove()
            self.handle = None


def _register_module_commands() -> None:
    """Commands that live in their own modules (imported lazily by typer on use)."""
    from .corpus_cli import score
    from .eval_cli import eval_cmd

    app.command("score")(score)
    app.command("eval")(eval_cmd)


_register_module_commands()


def _click_exceptions():
    try:  # typer >= 0.20 vendors click as typer._click
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older typer on click
        from click import exceptions
    return exceptions


# the types the help shows for option values (typer's default shows Python type names)
_METAVARS = {"str": "TEXT", "int": "N", "int range": "N", "float": "X", "float range": "X", "path": "FILE", "bool": None}


def _polish_help(cmd) -> None:
    """Help without Python type names: ``FILE...`` for arguments, no type for flags, TEXT/N/X/FILE for values."""
    import types as _types

    def polish(param, ctx=None) -> None:
        kind = getattr(param, "param_type_name", "")
        if kind == "argument":
            name = param.metavar or param.name.upper()
            param.metavar = name
            param._usage_display_name = (lambda n=name: n) if param.required else (lambda n=name: f"[{n}]")
            param.display_type_rich = lambda ctx=None: None
            param.display_type = lambda ctx=None: ""
        elif kind == "option":
            if getattr(param, "is_flag", False) or getattr(param, "count", False):
                param.display_type_rich = lambda ctx=None: None
            elif param.metavar is None and hasattr(param, "display_type"):
                try:
                    label = param.display_type(ctx).strip("<>")
                except Exception:
                    return
                meta = _METAVARS.get(label, label)
                if meta is not None:
                    param.metavar = meta

    def walk(c) -> None:
        for p in getattr(c, "params", []):
            polish(p)
        get_help = getattr(c, "get_help_option", None)
        if callable(get_help):
            def patched(self, ctx, _orig=get_help):
                opt = _orig(ctx)
                if opt is not None:
                    polish(opt, ctx)
                return opt

            c.get_help_option = _types.MethodType(patched, c)
        for sub in (getattr(c, "commands", None) or {}).values():
            walk(sub)

    walk(cmd)


def _command():
    from typer.main import get_command

    cmd = get_command(app)
    _polish_help(cmd)
    return cmd


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the ``garble`` command; returns the exit code."""
    from .corpus_cli import ray_args

    args = ray_args(sys.argv[1:] if argv is None else list(argv))  # score --ray [ADDRESS]: the optional value
    exc = _click_exceptions()
    try:
        rc = _command().main(args=args, prog_name="garble", standalone_mode=False)
        return rc if isinstance(rc, int) else 0
    except exc.NoArgsIsHelpError:  # `garble` alone: the help was printed
        return 2
    except exc.UsageError as e:  # the option parser: one line, like every other error
        sub = e.ctx.command_path if getattr(e, "ctx", None) is not None else "garble"
        sys.stderr.write(f"garble: error: {e.format_message()} (see: {sub} --help)\n")
        return 2
    except typer.Exit as e:
        return e.exit_code
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except (KeyboardInterrupt, typer.Abort):
        _clear_feedback()
        sys.stderr.write("garble: interrupted\n")
        return 130
    except GarbleError as e:
        _clear_feedback()
        sys.stderr.write(f"garble: error: {e}\n")
        return e.exit_code
    except BrokenPipeError:
        # the reader went away (| head): not an error; silence the flush at exit
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except exc.ClickException as e:  # pragma: no cover - a file option click could not open
        sys.stderr.write(f"garble: error: {e.format_message()}\n")
        return e.exit_code


def _clear_feedback() -> None:
    from . import feedback

    feedback.clear()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
