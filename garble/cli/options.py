"""The options the commands share, declared once, and :class:`ScorerOptions`, the ones that make a Scorer.

A command takes the scorer options (``--no-lm``, ``--model``, ``--device``,
``--dtype``, ``--weights``, ``--detectors``, ``--exclude``, ``--no-context``)
by declaring a parameter ``opts: ScorerOptions`` and the decorator
:func:`scorer_options`: the help lists the options where that parameter
stands, and the command gets their values as one :class:`ScorerOptions`.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Callable, Optional

import typer

from ..errors import UsageError

if TYPE_CHECKING:
    from ..api import Scorer
    from ..lm import LM


def choices(name: str, values: str) -> type[Enum]:
    """The values of an option with fixed choices: a ``str`` Enum whose members are named by their values."""
    return Enum(name, [(v, v) for v in values.split()], type=str, module=__name__)


UnitOpt = choices("UnitOpt", "sentence line paragraph")

NoLM = Annotated[bool, typer.Option("--no-lm", help="Run the detectors alone (no language model, no torch).")]
Model = Annotated[
    Optional[str],
    typer.Option(
        "--model",
        "-m",
        metavar="NAME|PATH",
        help="Hugging Face causal LM name or path, or a .gguf file (default: SmolLM2-135M-Instruct).",
    ),
]
Device = Annotated[str, typer.Option("--device", metavar="DEVICE", help="auto, cpu, cuda, cuda:N, mps.")]
Dtype = Annotated[str, typer.Option("--dtype", metavar="DTYPE", help="auto, float32, bfloat16, float16.")]
Weights = Annotated[
    Optional[Path], typer.Option("--weights", help="Scorer weights JSON (default: the packaged data/scorer.json).")
]
Detectors = Annotated[
    Optional[str],
    typer.Option("--detectors", metavar="NAMES", help="Comma-separated detector names to run (default: all)."),
]
Exclude = Annotated[
    Optional[str], typer.Option("--exclude", metavar="NAMES", help="Comma-separated detector names to leave out.")
]
NoQE = Annotated[
    bool,
    typer.Option(
        "--no-qe",
        help="With sources: no quality estimation by the source-reading model (Gemma 3 270M); the detectors and "
        "the source-free LM only.",
    ),
]
NoContext = Annotated[
    bool, typer.Option("--no-context", help="The LM reads each unit alone, not after the text before it.")
]
#: ``--quiet`` of rank and report (score and eval say what they leave out in their own words)
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No status or progress lines on standard error (warnings and errors still show).",
    ),
]


def documents(what: str):
    """The ``FILE...`` argument of rank and report: the documents to ``what``."""
    text = f"Documents to {what} (text; .gz/.zst; - for stdin). Each file is one document."
    return typer.Argument(..., metavar="FILE...", help=text, show_default=False)


#: ``-o`` of rank and eval
Output = Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Output file (default: standard output).")]

#: the scorer options as :func:`scorer_options` adds them: (parameter, annotation, default), in help order
_SCORER_PARAMS = (
    ("no_lm", NoLM, False),
    ("model", Model, None),
    ("device", Device, "auto"),
    ("dtype", Dtype, "auto"),
    ("weights", Weights, None),
    ("detectors", Detectors, None),
    ("exclude", Exclude, None),
    ("no_qe", NoQE, False),
)
_CONTEXT_PARAM = ("no_context", NoContext, False)


def split_names(value: Optional[str]) -> list[str]:
    """The names of a comma-separated list (``--detectors a,b``), blanks left out."""
    return [d.strip() for d in (value or "").split(",") if d.strip()]


@dataclass(frozen=True)
class ScorerOptions:
    """The command-line options that make a :class:`garble.Scorer`; ``context`` is ``not --no-context``."""

    no_lm: bool = False
    model: Optional[str] = None
    device: str = "auto"
    dtype: str = "auto"
    weights: Optional[Path] = None
    detectors: Optional[str] = None
    exclude: Optional[str] = None
    no_qe: bool = False
    context: bool = True
    unit: str = "sentence"

    def detector_names(self) -> Optional[list[str]]:
        """The detectors ``--detectors`` and ``--exclude`` leave (``None``: all); a UsageError names an unknown one."""
        if not (self.detectors or self.exclude):
            return None
        from ..detectors import all_detectors

        try:
            only = split_names(self.detectors) if self.detectors else None
            dets = all_detectors(only=only, exclude=split_names(self.exclude))
        except ValueError as e:
            raise UsageError(str(e)) from None
        return [d.name for d in dets]

    def kwargs(self) -> dict:
        """The :class:`garble.Scorer` arguments (plain values: Ray actors get them too)."""
        return {
            "model": False if self.no_lm else self.model,
            "device": self.device,
            "detectors": self.detector_names(),
            "weights": str(self.weights) if self.weights is not None else None,
            "unit": self.unit,
            "context": self.context,
            "dtype": self.dtype,
            **({"qe": False} if self.no_qe else {}),
        }

    def build(self, lm: Optional[Callable[[], LM]] = None) -> Scorer:
        """The Scorer of these options.

        ``lm``: makes the LM object the Scorer reads in place of the named model
        (``garble eval``'s cache); called (unless ``no_lm``) once the detectors
        and weights are checked, so that a bad one fails before it.
        """
        from ..api import Scorer

        kw = self.kwargs()
        if lm is None or self.no_lm:
            return Scorer(**kw)
        checked = Scorer(**{**kw, "model": False})
        return Scorer(**{**kw, "model": lm(), "detectors": checked.detectors, "weights": checked.weights})


def scorer_options(context: bool = True) -> Callable[[Callable], Callable]:
    """Decorator of a command with a parameter ``opts: ScorerOptions``: the scorer options take its place.

    The options (``--no-context`` only with ``context``) are listed in the
    command's help where ``opts`` stands; the command is called with their
    values as one :class:`ScorerOptions` (its ``unit`` is the default: the
    command sets its own).
    """
    specs = _SCORER_PARAMS + ((_CONTEXT_PARAM,) if context else ())

    def wrap(fn: Callable) -> Callable:
        sig = inspect.signature(fn, eval_str=True)
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        added = [inspect.Parameter(n, kind, default=d, annotation=a) for n, a, d in specs]
        params = [q for p in sig.parameters.values() for q in (added if p.name == "opts" else [p])]

        @functools.wraps(fn)
        def command(**kwargs):
            values = {n: kwargs.pop(n) for n, _, _ in specs}
            values["context"] = not values.pop("no_context", False)
            return fn(**kwargs, opts=ScorerOptions(**values))

        command.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return wrap
