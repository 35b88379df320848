"""``garble score``: score a corpus, one output record per input segment (see :mod:`garble.corpus`).

Registered in :mod:`garble.cli` with ``app.command("score")(score)``. The
options are defined here (not imported from :mod:`garble.cli`, which imports
this module); :func:`garble.cli.make_scorer` is imported when the command runs.
"""

from __future__ import annotations

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


class CorpusUnit(str, Enum):
    line = "line"


def score(
    inputs: List[str] = typer.Argument(
        ...,
        help="Text (one segment per line), JSONL or Parquet files; .gz/.zst; folders (walked recursively); glob patterns; - for standard input.",
        show_default=False,
    ),
    output: str = typer.Option(..., "--output", "-o", help="Output file (.jsonl, .jsonl.gz, .jsonl.zst or .parquet), or - for JSONL on standard output.", show_default=False),
    fmt: Optional[CorpusFormat] = typer.Option(None, "--format", "-f", help="Output format (default: by the output's suffix; JSONL unless .parquet)."),
    input_format: InputFormat = typer.Option(InputFormat.auto, "--input-format", help="Input format (default: by each file's suffix; unknown suffixes are text)."),
    field: str = typer.Option("text", "--field", help="JSONL/Parquet field with the segment text (JSONL: a dotted path reaches into objects)."),
    id_field: Optional[str] = typer.Option(None, "--id-field", help="JSONL/Parquet field with the segment id (default: FILE:LINE)."),
    doc_field: Optional[str] = typer.Option(None, "--doc-field", help="JSONL/Parquet field with the document: consecutive segments of one document are scored together and ranked within it."),
    unit: CorpusUnit = typer.Option(CorpusUnit.line, "--unit", help="line: each input segment is one unit (the only corpus mode)."),
    batch_size: int = typer.Option(256, "--batch-size", "-b", min=1, help="Segments per batch (whole documents); one LM call and one checkpoint each."),
    max_doc_units: int = typer.Option(10000, "--max-doc-units", min=1, help="Score and rank longer documents in parts of this many segments (bounds memory)."),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Processes scoring batches in parallel (with --no-lm)."),
    restart: bool = typer.Option(False, "--restart", help="Discard the checkpoint of an interrupted run and start over."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no summary."),
    no_lm: bool = typer.Option(False, "--no-lm", help="Run the detectors alone (no language model, no torch)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Hugging Face causal LM name or path, or a .gguf file (default: SmolLM2-135M-Instruct)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N, mps."),
    dtype: str = typer.Option("auto", "--dtype", help="auto, float32, bfloat16, float16."),
    weights: Optional[Path] = typer.Option(None, "--weights", help="Scorer weights JSON (default: the packaged data/scorer.json)."),
    detectors: Optional[str] = typer.Option(None, "--detectors", help="Comma-separated detector names to run (default: all)."),
    exclude: Optional[str] = typer.Option(None, "--exclude", help="Comma-separated detector names to leave out."),
    no_context: bool = typer.Option(False, "--no-context", help="Skip the LM pass that scores each unit after the previous one."),
    checkpoint_seconds: float = typer.Option(1.0, "--checkpoint-seconds", min=0.0, hidden=True, help="Least time between two checkpoints (0: after every batch)."),
) -> None:
    """Score a corpus: one JSONL/Parquet record per input segment, in input order; resumable.

    An interrupted run (Ctrl-C, kill, crash) continues where it stopped when
    the same command is run again; the result is the same, byte for byte, as
    an uninterrupted run's. The output file appears only when complete.
    """
    from .cli import make_scorer
    from .corpus import score_corpus
    from .errors import UsageError

    if workers > 1 and not no_lm:
        raise UsageError("--workers needs --no-lm (the language model batches on one device)")
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
        where = "standard output" if output == "-" else output
        resumed = f" ({summary.resumed:,} from a checkpoint)" if summary.resumed else ""
        sys.stderr.write(f"garble: {summary.records:,} segment{'' if summary.records == 1 else 's'}{resumed}, {summary.errors:,} not scored, in {summary.seconds:.1f} s -> {where}\n")
