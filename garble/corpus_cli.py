"""``garble score``: score a corpus, one output record per input segment (see :mod:`garble.corpus`).

Registered in :mod:`garble.cli` with ``app.command("score")(score)``. The
options are defined here (not imported from :mod:`garble.cli`, which imports
this module); :func:`garble.cli.make_scorer` is imported when the command runs.

``--ray [ADDRESS]`` scores on a Ray cluster (:mod:`garble.ray`, imported only
then). Its value is optional, which the option parser cannot express:
:func:`ray_args` (called by :func:`garble.cli.main`) rewrites a bare ``--ray``
as ``--ray=`` (a local instance) unless the next argument is a Ray address.
"""

from __future__ import annotations

import os
import re
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer


class CorpusFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"


class InputFormat(str, Enum):
    auto = "auto"
    txt = "txt"
    jsonl = "jsonl"
    parquet = "parquet"
    xliff = "xliff"
    tmx = "tmx"
    tsv = "tsv"


class CorpusUnit(str, Enum):
    line = "line"


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


def score(
    inputs: List[str] = typer.Argument(
        ...,
        help="Text (one segment per line), JSONL or Parquet files; .gz/.zst; folders (walked recursively); glob patterns; - for standard input.",
        show_default=False,
    ),
    output: str = typer.Option(..., "--output", "-o", metavar="FILE", help="Output file (.jsonl, .jsonl.gz, .jsonl.zst or .parquet), or - for JSONL on standard output.", show_default=False),
    fmt: Optional[CorpusFormat] = typer.Option(None, "--format", "-f", help="Output format (default: by the output's suffix; JSONL unless .parquet)."),
    input_format: InputFormat = typer.Option(InputFormat.auto, "--input-format", help="Input format (default: by each file's suffix; unknown suffixes are text). xliff, tmx (also by suffix .xlf/.xliff/.tmx) and tsv (source<TAB>target) are translation pairs, scored with their sources."),
    field: str = typer.Option("text", "--field", help="JSONL/Parquet field with the segment text (JSONL: a dotted path reaches into objects)."),
    id_field: Optional[str] = typer.Option(None, "--id-field", help="JSONL/Parquet field with the segment id (default: FILE:LINE)."),
    doc_field: Optional[str] = typer.Option(None, "--doc-field", help="JSONL/Parquet field with the document: consecutive segments of one document are scored together and ranked within it."),
    unit: CorpusUnit = typer.Option(CorpusUnit.line, "--unit", help="line: each input segment is one unit (the only corpus mode)."),
    batch_size: int = typer.Option(256, "--batch-size", "-b", min=1, help="Segments per batch (whole documents); one LM call and one checkpoint each. The first batches are smaller (16, 16, 32, ...), so the first checkpoint comes early."),
    max_doc_units: int = typer.Option(10000, "--max-doc-units", min=1, help="Score and rank longer documents in parts of this many segments (bounds memory)."),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Processes scoring batches in parallel (with --no-lm)."),
    restart: bool = typer.Option(False, "--restart", help="Discard the checkpoint of an interrupted run and start over."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No status line, progress bar, resume line or summary on standard error (warnings and errors still show)."),
    no_lm: bool = typer.Option(False, "--no-lm", help="Run the detectors alone (no language model, no torch)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", metavar="NAME|PATH", help="Hugging Face causal LM name or path, or a .gguf file (default: SmolLM2-135M-Instruct)."),
    device: str = typer.Option("auto", "--device", metavar="DEVICE", help="auto, cpu, cuda, cuda:N, mps."),
    dtype: str = typer.Option("auto", "--dtype", metavar="DTYPE", help="auto, float32, bfloat16, float16."),
    weights: Optional[Path] = typer.Option(None, "--weights", help="Scorer weights JSON (default: the packaged data/scorer.json)."),
    detectors: Optional[str] = typer.Option(None, "--detectors", metavar="NAMES", help="Comma-separated detector names to run (default: all)."),
    exclude: Optional[str] = typer.Option(None, "--exclude", metavar="NAMES", help="Comma-separated detector names to leave out."),
    no_context: bool = typer.Option(False, "--no-context", help="Skip the LM pass that scores each unit after the previous one."),
    checkpoint_seconds: float = typer.Option(1.0, "--checkpoint-seconds", min=0.0, hidden=True, help="Least time between two checkpoints (0: after every batch)."),
    ray: Optional[str] = typer.Option(
        None,
        "--ray",
        metavar="[ADDRESS]",
        help="Score on Ray, with a pool of scorer actors (needs the ray extra of garble-mt): alone, a local instance (started, or the running one); auto, HOST:PORT or ray://HOST:PORT, that cluster. One GPU per actor when the cluster has GPUs (with the LM). No checkpoints: an interrupted run starts over.",
        show_default=False,
    ),
    ray_actors: Optional[int] = typer.Option(None, "--ray-actors", min=1, help="Scorer actors with --ray (default: one per GPU, else one per CPU of the cluster).", show_default=False),
    flag_score: float = typer.Option(0.5, "--flag-score", min=0.0, max=1.0, help="XLIFF/TMX output: mark units scoring at least this for review."),
    source_lang: Optional[str] = typer.Option(None, "--source-lang", help="Translation pairs: the source language (ISO 639-1, e.g. zh); default: identified."),
    source_field: Optional[str] = typer.Option(None, "--source-field", help="JSONL/Parquet field with each segment's source text: scores translation pairs, each on its own (read into memory; no checkpoints, JSONL output)."),
) -> None:
    """Score a corpus: one JSONL/Parquet record per input segment, in input order; resumable.

    An interrupted run (Ctrl-C, kill, crash) continues where it stopped when
    the same command is run again; the result is the same, byte for byte, as
    an uninterrupted run's. The output file appears only when complete.
    """
    from .bitext import bilingual_format
    from .cli import make_scorer, scorer_kwargs
    from .corpus import score_corpus
    from .errors import UsageError

    if source_field is not None or input_format.value in ("xliff", "tmx", "tsv") or (input_format is InputFormat.auto and inputs and all(bilingual_format(str(p)) for p in inputs)):
        if ray is not None or workers != 1 or doc_field is not None:
            raise UsageError("XLIFF/TMX/TSV input: --ray, --workers and --doc-field do not apply (each pair is scored on its own)")
        from .qa_cli import score_bilingual

        scorer = make_scorer(no_lm, model, device, unit.value, weights, detectors, exclude, context=not no_context, dtype=dtype)
        return score_bilingual(inputs, output, scorer, input_format=input_format.value, flag_score=flag_score, source_lang=source_lang, quiet=quiet, source_field=source_field, field=field, id_field=id_field)
    if ray is None and ray_actors is not None:
        raise UsageError("--ray-actors needs --ray")
    if ray is not None:
        if output == "-":
            raise UsageError("--ray writes a file: give -o FILE (.jsonl, .jsonl.gz, .jsonl.zst or .parquet), not standard output")
        if workers != 1:
            raise UsageError("--workers does not apply with --ray: give the number of scorer actors with --ray-actors N")
        if restart:
            raise UsageError("--restart does not apply with --ray: a Ray run keeps no checkpoint and always starts over")
        if checkpoint_seconds != 1.0:
            raise UsageError("--checkpoint-seconds does not apply with --ray: a Ray run keeps no checkpoint")
        if ray and not RAY_ADDRESS.match(ray):
            raise UsageError(f"--ray {ray!r}: not a Ray address (expected auto, local, HOST:PORT or ray://HOST:PORT; nothing for a local instance)")
        return _score_on_ray(
            inputs, output, ray or None, ray_actors,
            fmt=fmt.value if fmt is not None else None,
            input_fmt=input_format.value,
            field=field,
            id_field=id_field,
            doc_field=doc_field,
            batch_size=batch_size,
            max_doc_units=max_doc_units,
            quiet=quiet,
            scorer_kwargs=scorer_kwargs(no_lm, model, device, unit.value, weights, detectors, exclude, not no_context, dtype),
        )
    if workers > 1 and not no_lm:
        raise UsageError("--workers needs --no-lm (the language model batches on one device)")
    from . import feedback

    feedback.setup(quiet)
    scorer = make_scorer(no_lm, model, device, unit.value, weights, detectors, exclude, context=not no_context, dtype=dtype)
    summary = score_corpus(
        inputs,
        output,
        scorer,
        fmt=fmt.value if fmt is not None else None,
        input_fmt=input_format.value,
        field=field,
        id_field=id_field,
        doc_field=doc_field,
        batch_size=batch_size,
        max_doc_units=max_doc_units,
        resume=not restart,
        progress=not quiet,
        workers=workers,
        checkpoint_seconds=checkpoint_seconds,
        fingerprint_extra={"model": None if no_lm else (model or "default"), "dtype": None if no_lm else dtype, "unit": unit.value},
    )
    if not quiet:
        _summary_line(summary, output)


def _summary_line(summary, output: str) -> None:
    where = "standard output" if output == "-" else output
    resumed = f" ({summary.resumed:,} from a checkpoint)" if summary.resumed else ""
    sys.stderr.write(f"garble: {summary.records:,} segment{'' if summary.records == 1 else 's'}{resumed}, {summary.errors:,} not scored, in {summary.seconds:.1f} s -> {where}\n")


def _score_on_ray(inputs, output, address, actors, *, quiet, **kw) -> None:
    from .ray import score_files

    summary = score_files(inputs, output, num_actors=actors, progress=not quiet, address=address, **kw)
    if not quiet:
        _summary_line(summary, output)
