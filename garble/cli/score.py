"""``garble score``: score a corpus, one output record per input segment (see :mod:`garble.corpus`).

``--ray [ADDRESS]`` scores on a Ray cluster (:mod:`garble.ray`, imported only
then). Its value is optional, which the option parser cannot express:
:func:`ray_args` (called by :func:`garble.cli.main`) rewrites a bare ``--ray``
as ``--ray=`` (a local instance) unless the next argument is a Ray address.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from typing import List, Optional

import typer

from ..bitext import bilingual_format
from ..errors import UsageError
from .options import ScorerOptions, choices, scorer_options

CorpusFormat = choices("CorpusFormat", "jsonl parquet")
InputFormat = choices("InputFormat", "auto txt jsonl parquet xliff tmx tsv")
CorpusUnit = choices("CorpusUnit", "line")

#: what ``--ray`` takes as a cluster address: auto, local, SCHEME://..., HOST:PORT
RAY_ADDRESS = re.compile(r"^(auto|local|[A-Za-z][A-Za-z0-9+.-]*://\S+|[A-Za-z0-9_.-]+:\d+|\[[0-9A-Fa-f:.]+\]:\d+)$")


def ray_args(args: List[str]) -> List[str]:
    """``args`` of the ``garble`` command with ``score``'s ``--ray [ADDRESS]`` made explicit.

    ``--ray ADDRESS`` becomes ``--ray=ADDRESS`` when ADDRESS looks like a Ray
    address (:data:`RAY_ADDRESS`) and is not an existing path; any other bare
    ``--ray`` becomes ``--ray=`` (start or find a local instance). Arguments
    of other commands, and everything after ``--``, are left alone.
    """
    i = next((k for k, a in enumerate(args) if not a.startswith("-")), None)
    if i is None or args[i] != "score" or "--ray" not in args[i + 1 :]:
        return list(args)
    out = list(args[: i + 1])
    j = i + 1
    while j < len(args):
        a = args[j]
        if a == "--":
            out.extend(args[j:])
            break
        if a == "--ray":
            nxt = args[j + 1] if j + 1 < len(args) else None
            if nxt is not None and RAY_ADDRESS.match(nxt) and not os.path.exists(nxt):
                out.append("--ray=" + nxt)
                j += 2
                continue
            out.append("--ray=")
        else:
            out.append(a)
        j += 1
    return out


_INPUTS_HELP = (
    "Text (one segment per line), JSONL or Parquet files, XLIFF/TMX (.xlf, .xliff, .tmx); .gz/.zst; folders "
    "(walked recursively); glob patterns; - for standard input."
)
_OUTPUT_HELP = (
    "Output file (.jsonl, .jsonl.gz, .jsonl.zst or .parquet), or - for JSONL on standard output (records: "
    "docs/SCHEMA.md). One XLIFF/TMX input may also give -o FILE.xlf/.xliff/.tmx: the same file, flagged units marked."
)
_FORMAT_HELP = "Output format (default: by the output's suffix; JSONL unless .parquet)."
_INPUT_FORMAT_HELP = (
    "Input format (default: by each file's suffix; unknown suffixes are text). xliff, tmx (also by suffix "
    ".xlf/.xliff/.tmx) and tsv (source<TAB>target, only when given) are translation pairs, scored with their sources."
)
_FIELD_HELP = "JSONL/Parquet field with the segment text (JSONL: a dotted path reaches into objects)."
_ID_FIELD_HELP = "JSONL/Parquet field with the segment id (default: FILE:LINE)."
_DOC_FIELD_HELP = (
    "JSONL/Parquet field with the document: consecutive segments of one document are scored together and ranked "
    "within it."
)
_UNIT_HELP = "line: each input segment is one unit (the only corpus mode)."
_BATCH_HELP = (
    "Segments per batch (whole documents); one LM call and one checkpoint each. The first batches are smaller "
    "(16, 16, 32, ...), so the first checkpoint comes early."
)
_MAX_DOC_HELP = "Score and rank longer documents in parts of this many segments (bounds memory)."
_WORKERS_HELP = "Processes scoring batches in parallel (with --no-lm)."
_RESTART_HELP = "Discard the checkpoint of an interrupted run and start over."
_CHECKPOINT_HELP = "Least time between two checkpoints (0: after every batch)."
_QUIET_HELP = "No status line, progress bar, resume line or summary on standard error (warnings and errors still show)."
_RAY_HELP = (
    "Score on Ray, with a pool of scorer actors (needs the ray extra of garble-mt): alone, a local instance (started, "
    "or the running one); auto, HOST:PORT or ray://HOST:PORT, that cluster. One GPU per actor when the cluster has "
    "GPUs (with the LM). No checkpoints: an interrupted run starts over."
)
_RAY_ACTORS_HELP = "Scorer actors with --ray (default: one per GPU, else one per CPU of the cluster)."
_FLAG_SCORE_HELP = "XLIFF/TMX output: mark units scoring at least this for review."
_SOURCE_LANG_HELP = (
    "Translation pairs: the source language (ISO 639-1, e.g. zh). Default: XLIFF/TMX's declared one, else "
    "identified per document (--doc-field), else per input file."
)
_SOURCE_FIELD_HELP = (
    "JSONL/Parquet field with each segment's source sentence (a dotted path reaches into objects): the pairs are "
    "scored with their sources (source_text in the output); missing or null: scored without."
)


@scorer_options()
def score_cmd(
    inputs: List[str] = typer.Argument(..., help=_INPUTS_HELP, show_default=False),
    output: str = typer.Option(..., "--output", "-o", metavar="FILE", help=_OUTPUT_HELP, show_default=False),
    fmt: Optional[CorpusFormat] = typer.Option(None, "--format", "-f", help=_FORMAT_HELP),
    input_format: InputFormat = typer.Option(InputFormat.auto, "--input-format", help=_INPUT_FORMAT_HELP),
    field: str = typer.Option("text", "--field", help=_FIELD_HELP),
    id_field: Optional[str] = typer.Option(None, "--id-field", help=_ID_FIELD_HELP),
    doc_field: Optional[str] = typer.Option(None, "--doc-field", help=_DOC_FIELD_HELP),
    unit: CorpusUnit = typer.Option(CorpusUnit.line, "--unit", help=_UNIT_HELP),
    batch_size: int = typer.Option(256, "--batch-size", "-b", min=1, help=_BATCH_HELP),
    max_doc_units: int = typer.Option(10000, "--max-doc-units", min=1, help=_MAX_DOC_HELP),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help=_WORKERS_HELP),
    restart: bool = typer.Option(False, "--restart", help=_RESTART_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help=_QUIET_HELP),
    opts: ScorerOptions = ScorerOptions(),
    checkpoint_seconds: float = typer.Option(1.0, "--checkpoint-seconds", min=0.0, hidden=True, help=_CHECKPOINT_HELP),
    ray: Optional[str] = typer.Option(None, "--ray", metavar="[ADDRESS]", help=_RAY_HELP, show_default=False),
    ray_actors: Optional[int] = typer.Option(None, "--ray-actors", min=1, help=_RAY_ACTORS_HELP, show_default=False),
    flag_score: float = typer.Option(0.5, "--flag-score", min=0.0, max=1.0, help=_FLAG_SCORE_HELP),
    source_lang: Optional[str] = typer.Option(None, "--source-lang", help=_SOURCE_LANG_HELP),
    source_field: Optional[str] = typer.Option(None, "--source-field", help=_SOURCE_FIELD_HELP),
) -> None:
    """Score a corpus: one JSONL/Parquet record per input segment, in input order; resumable.

    Translation pairs (--source-field, TSV, XLIFF, TMX) are scored with their
    sources; every record has the same fields with a source or without
    (docs/SCHEMA.md). An interrupted run (Ctrl-C, kill, crash) continues where
    it stopped when the same command is run again; the result is the same,
    byte for byte, as an uninterrupted run's. The output file appears only
    when complete.
    """
    opts = dataclasses.replace(opts, unit=unit.value)
    if output != "-" and bilingual_format(output) is not None:
        if ray is not None or workers != 1 or doc_field is not None or source_field is not None:
            raise UsageError(
                f"-o {output}: a reviewed XLIFF/TMX file is written from one XLIFF/TMX input; "
                "--ray, --workers, --doc-field and --source-field do not apply (give -o FILE.jsonl for records)"
            )
        from .qa import review_file

        return review_file(
            inputs,
            output,
            opts.build(),
            input_format=input_format.value,
            flag_score=flag_score,
            source_lang=source_lang,
            quiet=quiet,
        )
    corpus = dict(
        fmt=fmt.value if fmt is not None else None,
        input_fmt=input_format.value,
        field=field,
        id_field=id_field,
        doc_field=doc_field,
        source_field=source_field,
        source_lang=source_lang,
        batch_size=batch_size,
        max_doc_units=max_doc_units,
    )
    if ray is None and ray_actors is not None:
        raise UsageError("--ray-actors needs --ray")
    if ray is not None:
        _check_ray(ray, output, workers=workers, restart=restart, checkpoint_seconds=checkpoint_seconds)
        kw = opts.kwargs()
        return _score_on_ray(inputs, output, ray or None, ray_actors, quiet=quiet, scorer_kwargs=kw, **corpus)
    if workers > 1 and not opts.no_lm:
        raise UsageError("--workers needs --no-lm (the language model batches on one device)")
    _score_here(
        inputs,
        output,
        opts,
        quiet=quiet,
        resume=not restart,
        workers=workers,
        checkpoint_seconds=checkpoint_seconds,
        **corpus,
    )


def _check_ray(ray: str, output: str, *, workers: int, restart: bool, checkpoint_seconds: float) -> None:
    """A UsageError for an option that does not go with ``--ray``, or a value of it that is no Ray address."""
    if output == "-":
        raise UsageError(
            "--ray writes a file: give -o FILE (.jsonl, .jsonl.gz, .jsonl.zst or .parquet), not standard output"
        )
    if workers != 1:
        raise UsageError("--workers does not apply with --ray: give the number of scorer actors with --ray-actors N")
    if restart:
        raise UsageError("--restart does not apply with --ray: a Ray run keeps no checkpoint and always starts over")
    if checkpoint_seconds != 1.0:
        raise UsageError("--checkpoint-seconds does not apply with --ray: a Ray run keeps no checkpoint")
    if ray and not RAY_ADDRESS.match(ray):
        raise UsageError(
            f"--ray {ray!r}: not a Ray address (expected auto, local, HOST:PORT or ray://HOST:PORT; "
            "nothing for a local instance)"
        )


def _score_here(inputs: List[str], output: str, opts: ScorerOptions, *, quiet: bool, **kw) -> None:
    """Score the corpus in this process (``--workers``: and in a pool of processes), with checkpoints."""
    from .. import feedback
    from ..corpus import score_corpus

    feedback.setup(quiet)
    scorer = opts.build()
    fingerprint = {
        "model": None if opts.no_lm else (opts.model or "default"),
        "dtype": None if opts.no_lm else opts.dtype,
        "unit": opts.unit,
    }
    summary = score_corpus(inputs, output, scorer, progress=not quiet, fingerprint_extra=fingerprint, **kw)
    if not quiet:
        _summary_line(summary, output)


def _summary_line(summary, output: str) -> None:
    where = "standard output" if output == "-" else output
    resumed = f" ({summary.resumed:,} from a checkpoint)" if summary.resumed else ""
    n = f"{summary.records:,} segment{'' if summary.records == 1 else 's'}"
    sys.stderr.write(f"garble: {n}{resumed}, {summary.errors:,} not scored, in {summary.seconds:.1f} s -> {where}\n")


def _score_on_ray(inputs, output, address, actors, *, quiet, **kw) -> None:
    from ..ray import score_files

    summary = score_files(inputs, output, num_actors=actors, progress=not quiet, address=address, **kw)
    if not quiet:
        _summary_line(summary, output)
