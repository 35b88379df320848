"""The output of a corpus run: its formats, the Parquet schema, and :class:`PartialOutput`.

:class:`PartialOutput` is ``OUT.garble-partial``: opened without truncating,
locked against a second run on the same output, grown chunk by chunk, and
published into ``OUT`` with one rename (Parquet: converted into a temporary
file first), so ``OUT`` never holds a half-written file.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import sys
from typing import IO, Callable, Optional

from ..errors import OutputError, UsageError
from ..io import atomic_output
from .inputs import PARQUET_SUFFIXES, PARTIAL_SUFFIX, STATE_SUFFIX, PathLike

OUTPUT_FORMATS = ("jsonl", "parquet")
#: the keys of every output record, in order (docs/SCHEMA.md says what each holds)
OUTPUT_FIELDS = (
    "source", "id", "line", "doc", "text", "source_text", "score", "rank", "findings", "lm", "qe", "error"
)  # fmt: skip
PARQUET_ROW_GROUP = 16384  # rows per row group of a Parquet output (fixed: part of the byte-identical result)


def state_path(output: PathLike) -> str:
    """The checkpoint file of ``output``."""
    return str(output) + STATE_SUFFIX


def partial_path(output: PathLike) -> str:
    """Where the output of ``output`` grows until it is published."""
    return str(output) + PARTIAL_SUFFIX


def output_format(output: str, fmt: Optional[str] = None) -> str:
    """``jsonl`` or ``parquet``: ``fmt`` if given, else by the output's suffix."""
    if fmt is not None:
        if fmt not in OUTPUT_FORMATS:
            raise UsageError(f"unknown output format {fmt!r}: expected jsonl or parquet")
        return fmt
    return "parquet" if output.lower().endswith(PARQUET_SUFFIXES) else "jsonl"


def check_output(output: str, files: list[str]) -> None:
    """A :class:`UsageError` or :class:`OutputError` when ``output`` cannot be written for ``files``."""
    outp = os.path.realpath(output)
    for f in files:
        if f != "-" and os.path.realpath(f) == outp:
            raise UsageError("the output file is also an input", path=output)
    if os.path.isdir(output):
        raise OutputError("is a directory", path=output)
    if not os.path.isdir(os.path.dirname(os.path.abspath(output))):
        raise OutputError("output folder does not exist", path=output)


def compressor(output: str, fmt: str) -> Callable[[bytes], bytes]:
    """How a chunk's bytes are compressed for ``output`` (one gzip member / zstd frame per chunk)."""
    if fmt == "jsonl" and output.endswith(".gz"):
        return lambda b: gzip.compress(b, compresslevel=6, mtime=0)
    if fmt == "jsonl" and output.endswith(".zst"):
        import zstandard

        c = zstandard.ZstdCompressor(level=3)
        return c.compress
    return lambda b: b


def parquet_schema():
    """The Arrow schema of a Parquet output: the JSONL record's keys (docs/SCHEMA.md), a key the JSONL leaves out
    (an LM feature the model does not give) null."""
    import pyarrow as pa

    finding = pa.struct(
        [("detector", pa.string()), ("kind", pa.string()), ("start", pa.int64()), ("end", pa.int64())]
        + [("weight", pa.float64()), ("message", pa.string()), ("source_span", pa.list_(pa.int64()))]
    )
    lm = pa.struct(
        [
            ("mean_surprisal", pa.float64()),
            ("max_surprisal", pa.float64()),
            ("max_span", pa.list_(pa.int64())),
            ("n_tokens", pa.int64()),
            ("rel_median", pa.float64()),
            ("context_mean_surprisal", pa.float64()),
            ("slor", pa.float64()),
        ]
        + [(k, pa.float64()) for k in ("end_surprisal", "mean_entropy")]
        + [(f"error_p_{k}", pa.float64()) for k in ("mean", "max", "top", "sum")]
    )
    qe = pa.struct(
        [(k, pa.float64()) for k in ("z", "p_fix", "lm_total", "lm_mean", "pmi_mean")]
        + [("source_lang", pa.string()), ("model", pa.string())]
    )
    return pa.schema(
        [
            ("source", pa.string()),
            ("id", pa.string()),
            ("line", pa.int64()),
            ("doc", pa.string()),
            ("text", pa.string()),
            ("source_text", pa.string()),
            ("score", pa.float64()),
            ("rank", pa.int64()),
            ("findings", pa.list_(finding)),
            ("lm", lm),
            ("qe", qe),
            ("error", pa.string()),
        ]
    )


def jsonl_to_parquet(partial: str, output: str) -> None:
    """Convert the JSONL partial output to Parquet at ``output``, atomically, in fixed row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    with atomic_output(output, "wb") as out, open(partial, "rb") as src:
        writer = pq.ParquetWriter(out, schema, compression="zstd")
        try:
            rows: list[dict] = []
            for line in src:
                rows.append(json.loads(line))
                if len(rows) >= PARQUET_ROW_GROUP:
                    writer.write_table(pa.Table.from_pylist(rows, schema=schema), row_group_size=PARQUET_ROW_GROUP)
                    rows = []
            if rows:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema), row_group_size=PARQUET_ROW_GROUP)
        finally:
            writer.close()


def fsync(fh: IO) -> None:
    """Flush ``fh`` and ask the OS to put it on disk (where it can)."""
    fh.flush()
    try:
        os.fsync(fh.fileno())
    except (OSError, AttributeError, io.UnsupportedOperation):
        pass


def cannot_write(e: OSError, path: str) -> OutputError:
    """The :class:`OutputError` of a failed write to ``path``."""
    return OutputError(f"cannot write: {e.strerror or e}", path=path)


def remove(path: str) -> None:
    """Remove ``path`` if it exists; a failure is an :class:`OutputError`."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise OutputError(f"cannot remove: {e.strerror or e}", path=path) from None


def _lock(fh: IO) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise OutputError("another garble run is writing this output", path=fh.name) from None


class _Sink:
    """Where the chunks' bytes go: ``write`` compresses and appends, ``sync`` flushes."""

    fh: IO[bytes]
    path: str  # named in write errors

    def __init__(self, output: str, fmt: str):
        self.output = output
        self.fmt = fmt
        self.compress = compressor(output, fmt)

    def write(self, data: bytes) -> int:
        """Append ``data`` (compressed as the output's suffix says); the number of bytes written."""
        data = self.compress(data)
        try:
            self.fh.write(data)
        except BrokenPipeError:  # the reader went away (| head): the CLI ends quietly
            raise
        except OSError as e:
            raise cannot_write(e, self.path) from None
        return len(data)

    def sync(self) -> None:
        """Everything written so far on disk (standard output: flushed)."""
        try:
            self._sync()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise cannot_write(e, self.path) from None

    def _sync(self) -> None:
        fsync(self.fh)


class StdoutOutput(_Sink):
    """JSONL on standard output (``-o -``): written as it comes; nothing to resume, lock or publish."""

    existed = False

    def __init__(self, output: str, fmt: str):
        super().__init__(output, fmt)
        self.fh = sys.stdout.buffer
        self.path = output

    def __enter__(self) -> StdoutOutput:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def truncate(self, nbytes: int) -> None:
        pass

    def _sync(self) -> None:
        self.fh.flush()

    def publish(self) -> None:
        pass

    def discard(self) -> None:
        pass


class PartialOutput(_Sink):
    """``OUT.garble-partial``, opened and locked at construction; a context manager that closes it.

    ``keep``: leave the partial output behind when the run fails before
    publishing (a checkpoint resumes from it); else remove it.
    """

    def __init__(self, output: str, fmt: str, keep: bool = True):
        super().__init__(output, fmt)
        self.path = partial_path(output)
        self.keep = keep
        self.published = False
        self.existed = os.path.exists(self.path)
        try:  # not truncated before the lock: it may be another run's partial output
            self.fh = open(self.path, "r+b" if self.existed else "w+b")
        except OSError as e:
            raise cannot_write(e, self.path) from None
        try:
            _lock(self.fh)
        except BaseException:
            self.fh.close()
            raise

    def __enter__(self) -> PartialOutput:
        return self

    def __exit__(self, *exc) -> None:
        self.fh.close()
        if not self.keep and not self.published:  # nothing to resume from: leave no partial output behind
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def truncate(self, nbytes: int) -> None:
        """Cut the partial output to its first ``nbytes`` bytes (a checkpoint's) and write on from there."""
        try:
            self.fh.truncate(nbytes)
            self.fh.seek(nbytes)
        except OSError as e:
            raise cannot_write(e, self.path) from None

    def publish(self) -> None:
        """Put the partial output in place of the output (closing it)."""
        self.fh.close()
        if self.fmt == "parquet":
            jsonl_to_parquet(self.path, self.output)
            try:  # the permissions a plain new file gets (the temporary file was private)
                shutil.copymode(self.path, self.output)
            except OSError:
                pass
            self.published = True
            remove(self.path)
            return
        try:
            os.replace(self.path, self.output)
        except OSError as e:
            raise cannot_write(e, self.output) from None
        self.published = True

    def discard(self) -> None:
        """Close and remove the partial output."""
        self.fh.close()
        remove(self.path)


def open_output(output: str, fmt: str, keep: bool = True) -> PartialOutput | StdoutOutput:
    """The sink of ``output``: standard output for ``-``, else its :class:`PartialOutput` (opened and locked)."""
    return StdoutOutput(output, fmt) if output == "-" else PartialOutput(output, fmt, keep)
