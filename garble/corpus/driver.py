"""The corpus run: check the arguments, resume from a checkpoint, score chunk by chunk, publish.

:func:`run` is the one loop, whatever scores the chunks (an executor:
:class:`~garble.corpus.executors.SerialExecutor`,
:class:`~garble.corpus.executors.PoolExecutor`, :class:`garble.ray.RayExecutor`).
:func:`score_corpus` is the local path: a :class:`~garble.Scorer` in this
process (or in worker processes), with checkpoints.
"""

from __future__ import annotations

import numbers
import os
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional, Union

from ..errors import UsageError
from .checkpoint import Checkpoint, State, fingerprint
from .chunking import Chunk, chunk_records
from .executors import Executor, PoolExecutor, SerialExecutor
from .inputs import PathLike, check_input_format, expand_inputs, strip_compression
from .output import (
    PARQUET_ROW_GROUP,
    PartialOutput,
    StdoutOutput,
    cannot_write,
    check_output,
    open_output,
    output_format,
    partial_path,
    state_path,
)
from .progress import Progress
from .readers import Warn, positioned


@dataclass
class CorpusSummary:
    """What :func:`score_corpus` did."""

    output: str
    records: int  # records in the output
    errors: int  # of which error records
    resumed: int  # records taken over from a checkpoint (0: a fresh run)
    seconds: float  # wall time of this call

    @property
    def scored(self) -> int:
        return self.records - self.errors


def at_least_one(*named: tuple[str, Any]) -> None:
    """A :class:`UsageError` unless every ``(name, value)`` is a whole number of at least 1."""
    for name, v in named:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
            raise UsageError(f"{name} must be at least 1, not {v!r}")


@dataclass(frozen=True)
class Job:
    """A checked corpus run: the input files, how to read and cut them, the output and its format."""

    files: list
    output: str
    fmt: str
    input_fmt: str
    field: str
    id_field: Optional[str]
    doc_field: Optional[str]
    batch_size: int
    max_doc_units: int
    source_field: Optional[str] = None
    source_lang: Optional[str] = None

    @property
    def grouped(self) -> bool:
        return self.doc_field is not None

    @property
    def to_stdout(self) -> bool:
        return self.output == "-"

    def options(self) -> dict:
        """The options that change the output (part of a checkpoint's fingerprint)."""
        return {
            "format": self.fmt,
            "output_compression": self.output[len(strip_compression(self.output)) :] if self.fmt == "jsonl" else "",
            "input_format": self.input_fmt,
            "field": self.field,
            "id_field": self.id_field,
            "doc_field": self.doc_field,
            "source_field": self.source_field,
            "source_lang": self.source_lang,
            "batch_size": self.batch_size,
            "max_doc_units": self.max_doc_units,
            "parquet_row_group": PARQUET_ROW_GROUP if self.fmt == "parquet" else None,
        }

    def chunks(self, start: State, warn: Warn) -> Iterator[Chunk]:
        """The chunks from ``start`` on (cut as an uninterrupted run cuts them)."""
        read = {"fmt": self.input_fmt, "field": self.field, "id_field": self.id_field, "doc_field": self.doc_field}
        read.update(source_field=self.source_field, source_lang=self.source_lang)
        records = positioned(self.files, start.position, warn=warn, **read)
        return chunk_records(records, self.batch_size, self.grouped, self.max_doc_units, warn, done=start.records)


def plan(
    inputs: Union[PathLike, Iterable[PathLike]],
    output: PathLike,
    *,
    fmt: Optional[str],
    input_fmt: str,
    field: str,
    id_field: Optional[str],
    doc_field: Optional[str],
    batch_size: int,
    max_doc_units: int,
    source_field: Optional[str] = None,
    source_lang: Optional[str] = None,
) -> Job:
    """The :class:`Job` of a run, after the checks the local and the Ray path share.

    Formats checked, inputs expanded (less the output and its sidecar files), output checked.
    """
    out = str(output)
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    fmt = output_format(out, fmt)
    check_input_format(input_fmt)
    to_stdout = out == "-"
    if to_stdout and fmt == "parquet":
        raise UsageError("Parquet output needs a file (-o FILE.parquet), not standard output")
    files = expand_inputs(inputs, exclude=[] if to_stdout else [out, state_path(out), partial_path(out)])
    if not to_stdout:
        check_output(out, files)
    if source_lang is not None and (not isinstance(source_lang, str) or not source_lang.strip()):
        raise UsageError(f"source language {source_lang!r}: expected an ISO 639-1 code such as zh")
    lang = source_lang.strip().lower() if source_lang is not None else None
    return Job(files, out, fmt, input_fmt, field, id_field, doc_field, batch_size, max_doc_units, source_field, lang)


Sink = Union[PartialOutput, StdoutOutput]


class _Run:
    """One run of :func:`run`: its output, checkpoint and progress, and what is written so far.

    ``committed``: the state after the last chunk written whole; ``saved``:
    the state in the checkpoint file.
    """

    def __init__(self, job: Job, out: Sink, checkpoint: Optional[Checkpoint], progress: Progress):
        self.job = job
        self.out = out
        self.checkpoint = checkpoint
        self.progress = progress
        self.committed = self.saved = State()
        self.resumed = 0
        self.complete = False

    def start(self, resume: bool) -> bool:
        """Where to start, from the checkpoint if any; True when the output was already published."""
        try:
            state = self._resume_point(resume)
            if state is None:
                return True
            self.out.truncate(state.nbytes)
        except OSError as e:
            raise cannot_write(e, self.out.path) from None
        self.committed = self.saved = state
        self.resumed = state.records
        return False

    def _resume_point(self, resume: bool) -> Optional[State]:
        """The checkpoint's state (a fresh one without); None when only its cleanup was left."""
        ckpt = self.checkpoint
        if ckpt is None or not ckpt.exists():
            return State()
        if not resume:
            ckpt.remove()
            return State()
        saved = ckpt.read()
        self.complete = bool(saved.get("complete"))
        if not self.out.existed:
            if self.complete and os.path.exists(self.job.output):  # published; only the cleanup was left
                self.out.discard()
                ckpt.remove()
                n = int(saved.get("records", 0))
                self.committed, self.resumed = State(n, int(saved.get("errors", 0))), n
                return None
            self.progress.warn(f"{self.out.path}: the partial output of the checkpoint is missing; starting over")
            ckpt.remove()
            self.complete = False
            return State()
        state = ckpt.state(saved)
        if os.path.getsize(self.out.path) < state.nbytes:
            why = f"the partial output {self.out.path} is shorter than its checkpoint says; rerun with --restart"
            raise UsageError(why, path=ckpt.path)
        return state

    def save(self, final: bool = False) -> None:
        """Checkpoint what is committed (``final``: everything)."""
        assert self.checkpoint is not None
        self.checkpoint.save(self.committed, final)
        self.saved = self.committed

    def score(self, executor: Executor, checkpoint_seconds: float) -> None:
        """Score and write every chunk from the start position, checkpoints at least ``checkpoint_seconds`` apart."""
        if self.checkpoint is not None and not self.checkpoint.exists():
            self.save()  # the fingerprint from the start: a run killed before its first checkpoint resumes too
        if self.checkpoint is not None:
            self.progress.resuming(self.resumed, self.checkpoint.path)
        self.progress.start(self.job.files, self.job.input_fmt, self.committed.records)
        last = time.monotonic()
        try:
            for scored in executor.map(self.job.chunks(self.committed, self.progress.warn)):
                nbytes = self.out.write(scored.data)
                self.committed = self.committed.after(scored.n, scored.errors, nbytes, scored.end)
                self.progress.advance(scored.n)
                if self.checkpoint is not None and time.monotonic() - last >= checkpoint_seconds:
                    self.out.sync()
                    self.save()
                    last = time.monotonic()
            executor.close(wait=True)
        finally:
            executor.close(wait=False)
        self.progress.close()
        self.out.sync()
        if self.checkpoint is not None:
            self.save(final=True)
        self.complete = True

    def publish(self) -> None:
        self.out.publish()
        if self.checkpoint is not None:
            self.checkpoint.remove()

    def crashed(self, exc: BaseException) -> None:
        """Keep what was written: the partial output holds every committed chunk; its checkpoint says so."""
        if self.checkpoint is None or self.complete:
            return
        if self.committed != self.saved:
            try:
                self.out.sync()
                self.save()
            except Exception:
                pass
        if isinstance(exc, KeyboardInterrupt):
            self.progress.interrupted(self.saved.records, self.checkpoint.path)

    def summary(self, started: float) -> CorpusSummary:
        done = self.committed
        return CorpusSummary(self.job.output, done.records, done.errors, self.resumed, time.monotonic() - started)


def run(
    job: Job,
    executor: Executor,
    progress: Progress,
    *,
    checkpoint: Optional[Checkpoint] = None,
    resume: bool = True,
    checkpoint_seconds: float = 1.0,
    keep_partial: bool = True,
    started: Optional[float] = None,
) -> CorpusSummary:
    """Score ``job`` with ``executor`` into its output, resuming from ``checkpoint`` (``None``: no checkpoints).

    ``keep_partial``: a failed run leaves its partial output (for a checkpoint
    to resume from); else removes it. ``started``: when the call began (for
    the summary's seconds).
    """
    started = time.monotonic() if started is None else started
    with open_output(job.output, job.fmt, keep=keep_partial) as out:
        r = _Run(job, out, checkpoint, progress)
        if r.start(resume):
            return r.summary(started)
        try:
            if not r.complete:
                r.score(executor, checkpoint_seconds)
            r.publish()
        except BaseException as exc:
            r.crashed(exc)
            raise
        finally:
            progress.close()
        return r.summary(started)


def score_corpus(
    inputs: Union[PathLike, Iterable[PathLike]],
    output: PathLike,
    scorer: Any,
    *,
    fmt: Optional[str] = None,
    input_fmt: str = "auto",
    field: str = "text",
    id_field: Optional[str] = None,
    doc_field: Optional[str] = None,
    source_field: Optional[str] = None,
    source_lang: Optional[str] = None,
    batch_size: int = 256,
    max_doc_units: int = 10000,
    resume: bool = True,
    progress: bool = True,
    workers: int = 1,
    checkpoint_seconds: float = 1.0,
    warn: Optional[Warn] = None,
    fingerprint_extra: Optional[dict] = None,
) -> CorpusSummary:
    """Score every record of ``inputs`` and write one output record each to ``output``.

    See :mod:`garble.corpus` for formats, documents and resuming, and
    docs/SCHEMA.md for the output records.
    ``fmt``: ``jsonl`` or ``parquet`` (default: by the output's suffix).
    ``input_fmt``: ``auto`` (by suffix), ``txt``, ``jsonl``, ``parquet``,
    ``tsv`` (``source<TAB>target``), ``xliff`` or ``tmx``.
    ``source_field``: the JSONL/Parquet field with each segment's source
    sentence (TSV, XLIFF and TMX carry theirs); ``source_lang``: the source
    language (ISO 639-1; default: identified, see :func:`~garble.corpus.readers.read_file`).
    ``batch_size``: records per chunk (whole documents); one LM call and one
    checkpoint opportunity per chunk. ``resume``: continue from a matching
    checkpoint (``False``: discard it and start over). ``progress``: a tqdm
    bar on standard error when it is a terminal. ``workers``: processes that
    score chunks in parallel (detectors-only scorers). ``checkpoint_seconds``:
    least time between two checkpoints (0: after every chunk).
    ``fingerprint_extra``: more settings that must match to resume.
    """
    t0 = time.monotonic()
    at_least_one(("batch size", batch_size), ("max_doc_units", max_doc_units), ("workers", workers))
    if workers > 1 and getattr(scorer, "lm", None) is not None:
        raise UsageError(
            "several workers need a detectors-only scorer (--no-lm); the language model batches on one device"
        )
    read = {"input_fmt": input_fmt, "field": field, "id_field": id_field, "doc_field": doc_field}
    read.update(source_field=source_field, source_lang=source_lang)
    job = plan(inputs, output, fmt=fmt, batch_size=batch_size, max_doc_units=max_doc_units, **read)
    feedback = Progress(progress, warn)
    checkpoint = None
    if not job.to_stdout and "-" in job.files:
        feedback.warn("reading standard input: no checkpoints, an interrupted run cannot resume")
    elif not job.to_stdout:
        checkpoint = Checkpoint(job.output, fingerprint(job.files, job.options(), scorer, fingerprint_extra))
    if workers == 1:
        executor: Executor = SerialExecutor(scorer, job.grouped, feedback.warn)
    else:
        executor = PoolExecutor(scorer, workers, job.grouped, feedback.warn)
    every = checkpoint_seconds
    return run(job, executor, feedback, checkpoint=checkpoint, resume=resume, checkpoint_seconds=every, started=t0)
