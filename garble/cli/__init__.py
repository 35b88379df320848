"""Command line: ``garble rank|report|score|eval``.

One module per command (:mod:`~garble.cli.rank`, :mod:`~garble.cli.report`,
:mod:`~garble.cli.score`, :mod:`~garble.cli.eval`); the options they share,
and :class:`~garble.cli.options.ScorerOptions`, in :mod:`garble.cli.options`.

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
from typing import Optional

import typer

from ..errors import GarbleError
from .eval import eval_cmd
from .rank import rank_cmd
from .report import report_cmd
from .score import ray_args, score_cmd

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Find and rank the sentences of machine-translated English that a reviewer must fix.",
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"garble {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Find and rank the sentences of machine-translated English that a reviewer must fix."""


app.command("rank")(rank_cmd)
app.command("report")(report_cmd)
app.command("score")(score_cmd)
app.command("eval")(eval_cmd)


def _click_exceptions():
    try:  # typer >= 0.20 vendors click as typer._click
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older typer on click
        from click import exceptions
    return exceptions


def _command():
    from typer.main import get_command

    from .helptext import polish_help

    cmd = get_command(app)
    polish_help(cmd)
    return cmd


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of the ``garble`` command; returns the exit code."""
    args = ray_args(sys.argv[1:] if argv is None else list(argv))  # score --ray [ADDRESS]: the optional value
    exc = _click_exceptions()
    import warnings

    from ..errors import GarbleWarning

    shown = warnings.showwarning

    def one_line(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, GarbleWarning):
            sys.stderr.write(f"garble: warning: {message}\n")
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = one_line
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
    finally:
        warnings.showwarning = shown


def _clear_feedback() -> None:
    from .. import feedback

    feedback.clear()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
