"""Progress on standard error: a tqdm bar whose total is counted from the inputs, and warnings that do not tear it."""

from __future__ import annotations

import os
import sys
from typing import Any, Optional, Sequence

from ..errors import GarbleError
from .inputs import input_format, strip_compression
from .readers import Warn, default_warn, open_stream, parquet_file

#: inputs up to this size (uncompressed text/JSONL, any Parquet) are counted before the bar
#: starts, so it shows a total and an ETA at once (counting lines runs at about 1 GB/s)
COUNT_AT_ONCE_BYTES = 64 << 20


def isatty(fh: Any) -> bool:
    """Whether ``fh`` is a terminal (False for anything that cannot say)."""
    try:
        return bool(fh.isatty())
    except (AttributeError, ValueError):
        return False


def _count_lines(path: str) -> int:
    total = 0
    last = b"\n"
    with open_stream(path) as fh:
        while True:
            block = fh.read(1 << 20)
            if not block:
                break
            total += block.count(b"\n")
            last = block[-1:]
    return total + (last != b"\n")


def count_records(files: Sequence[str], fmt: str, limit_bytes: int = 256 << 20) -> Optional[int]:
    """The number of records in ``files`` (for the progress bar), or None when too costly to count."""
    total = 0
    for f in files:
        if f == "-":
            return None
        try:
            if input_format(f, fmt) in ("xliff", "tmx"):  # units, not lines: not worth parsing twice
                return None
            if input_format(f, fmt) == "parquet":
                total += parquet_file(f).metadata.num_rows
                continue
            if strip_compression(f) != f and os.path.getsize(f) > limit_bytes:
                return None
            total += _count_lines(f)
        except Exception:
            return None
    return total


def _cheap_to_count(files: Sequence[str], fmt: str) -> bool:
    """Whether ``files`` are Parquet or plain text/JSONL of at most :data:`COUNT_AT_ONCE_BYTES` in all."""
    try:
        text = []
        for f in files:
            if f == "-" or input_format(f, fmt) in ("xliff", "tmx"):
                return False
            if input_format(f, fmt) != "parquet":
                if strip_compression(f) != f or os.path.getsize(f) > COUNT_AT_ONCE_BYTES:
                    return False
                text.append(f)
        return sum(os.path.getsize(f) for f in text) <= COUNT_AT_ONCE_BYTES
    except (OSError, GarbleError):
        return False


class Counter:
    """Counts the records of the inputs (the progress bar's total): at once when cheap, else in a background thread."""

    def __init__(self, files: Sequence[str], fmt: str):
        import threading

        self.total: Optional[int] = None
        self.ready = False
        if _cheap_to_count(files, fmt):
            self._run(list(files), fmt)
            return
        threading.Thread(target=self._run, args=(list(files), fmt), daemon=True, name="garble-count").start()

    def _run(self, files: list, fmt: str) -> None:
        try:
            self.total = count_records(files, fmt)
        finally:
            self.ready = True


def _progress_bar(total: Optional[int], initial: int):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    from ..feedback import clear

    clear()  # a status line ("language model ... ready") gives way to the bar
    return tqdm(
        total=total,
        initial=initial,
        unit="seg",
        unit_scale=False,
        dynamic_ncols=True,
        smoothing=0.05,
        file=sys.stderr,
        desc="garble score",
    )


class Progress:
    """What a run tells the user as it goes (``enabled``: a bar and the resume line; warnings always)."""

    def __init__(self, enabled: bool, warn: Optional[Warn] = None):
        self.enabled = enabled
        self._warn = warn or default_warn
        self.bar: Any = None
        self.counter: Optional[Counter] = None

    def warn(self, msg: str) -> None:
        """Pass ``msg`` on to the run's ``warn``, clearing the bar for it."""
        bar = self.bar
        if bar is not None:
            bar.clear()
        self._warn(msg)
        if bar is not None:
            bar.refresh()

    def resuming(self, records: int, state_path: str) -> None:
        if records and self.enabled:
            done = f"{records:,} done by an earlier run, checkpointed in {state_path}"
            sys.stderr.write(f"garble: resuming at record {records + 1:,} ({done})\n")

    def start(self, files: Sequence[str], fmt: str, initial: int) -> None:
        """The bar, when enabled and standard error is a terminal; its total counted at once or in the background."""
        if not (self.enabled and isatty(sys.stderr)):
            return
        counter = Counter(files, fmt)
        self.bar = _progress_bar(counter.total if counter.ready else None, initial)
        self.counter = None if counter.ready else counter

    def advance(self, records: int) -> None:
        if self.bar is None:
            return
        if self.counter is not None and self.counter.ready:
            if self.counter.total is not None:
                self.bar.total = self.counter.total
            self.counter = None
        self.bar.update(records)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def interrupted(self, records: int, state_path: str) -> None:
        self.close()
        sys.stderr.write(
            f"\ngarble: {records:,} records checkpointed in {state_path}; run the same command again to resume\n"
        )
