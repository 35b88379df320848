"""Feedback on standard error for the command line: status lines and progress bars.

Nothing here writes to standard output (which holds the results). The library
logs what takes time (loading a model, its one-time conversion) to the
``garble`` logger at INFO and stays silent by itself; :func:`setup` shows those
records as ``garble: ...`` lines on standard error. A record logged with
``extra={"transient": True}`` is a passing status ("loading the language
model"): on a terminal it stays on one line that the next output erases; in a
pipe or a log file it is not written at all. ``--quiet`` shows nothing.
:class:`Progress` reports a long piece of work through the same records: a
line rewritten every few seconds on a terminal, lasting lines in a pipe.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from typing import IO, Any, Callable, Optional

_LOGGER = "garble"


def isatty(fh: Any) -> bool:
    try:
        return bool(fh.isatty())
    except (AttributeError, ValueError):
        return False


class StatusHandler(logging.Handler):
    """``garble: message`` lines on a stream; transient ones only on a terminal, erased by the next."""

    def __init__(self, stream: Optional[IO[str]] = None):
        super().__init__(logging.INFO)
        self.stream = stream if stream is not None else sys.stderr
        self.tty = isatty(self.stream)
        self._open = False  # a transient line is showing

    def clear(self) -> None:
        if self._open:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._open = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = "garble: " + record.getMessage()
            self.clear()
            if getattr(record, "transient", False):
                if not self.tty:
                    return
                cols = shutil.get_terminal_size((100, 24)).columns
                self.stream.write(msg[: max(cols - 1, 10)])
                self._open = True
            else:
                self.stream.write(msg + "\n")
            self.stream.flush()
        except Exception:  # pragma: no cover - feedback never stops a run
            self.handleError(record)


_handler: Optional[StatusHandler] = None


def setup(quiet: bool = False, stream: Optional[IO[str]] = None) -> None:
    """Show the library's status records on standard error (nothing with ``quiet``)."""
    global _handler
    logger = logging.getLogger(_LOGGER)
    if _handler is not None:
        logger.removeHandler(_handler)
        _handler = None
    if quiet:
        return
    _handler = StatusHandler(stream)
    logger.addHandler(_handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def clear() -> None:
    """Erase a transient status line (before writing results to a terminal)."""
    if _handler is not None:
        _handler.clear()


def status(message: str, *, transient: bool = False) -> None:
    logging.getLogger(_LOGGER).info(message, extra={"transient": transient})


def showing() -> bool:
    """Whether status lines are shown at all (not ``--quiet``)."""
    return _handler is not None


def on_terminal() -> bool:
    """Whether status lines go to a terminal (where transient lines are shown)."""
    return _handler is not None and _handler.tty


def duration(seconds: float) -> str:
    """``"42 s"``, ``"3 min 05 s"``, ``"2 h 03 min"``."""
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s // 60 % 60:02d} min"


class Progress:
    """Progress of one long piece of work (the language model reading a document) on standard error.

    Call it as ``progress(done, total)``, first with ``done == 0``, last with
    ``done == total`` (the signature of :attr:`garble.lm.LanguageModel.progress`).
    On a terminal a transient line ("garble: a.txt: LM 31%: 81,920/262,144
    tokens, 430/s, ~7 min 03 s left") is rewritten at most every ``every``
    seconds; in a pipe or a log, where transient lines are dropped, the same
    line is written to last every ``pipe_every`` seconds. With ``lasting`` (a
    long job) the start ("garble: a.txt: language model: reading 262,144
    tokens") and the end ("garble: a.txt: language model: 262,144 tokens in
    10 min 10 s (430/s)") are lasting lines on both, so a pipe always has a
    first and a last line. Nothing with ``--quiet``.
    """

    def __init__(
        self,
        label: str,
        *,
        what: str = "language model",
        short: str = "LM",
        unit: str = "tokens",
        lasting: bool = False,
        every: float = 2.0,
        pipe_every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label, self.what, self.short, self.unit, self.lasting = label, what, short, unit, lasting
        self.every, self.pipe_every, self.clock = every, pipe_every, clock
        self.t0: Optional[float] = None
        self.last = 0.0
        self.elapsed = 0.0
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        if not showing():
            return
        now = self.clock()
        if self.t0 is None or done == 0:
            self.t0 = self.last = now
            self.total = total
            status(f"{self.label}: {self.what}: reading {total:,} {self.unit}", transient=not self.lasting)
            return
        if done >= total:
            self.elapsed = now - self.t0
            rate = total / self.elapsed if self.elapsed > 0 else 0.0
            msg = f"{self.label}: {self.what}: {total:,} {self.unit} in {duration(self.elapsed)}"
            status(msg + (f" ({rate:,.0f}/s)" if rate else ""), transient=not self.lasting)
            return
        tty = on_terminal()
        if now - self.last < (self.every if tty else self.pipe_every):
            return
        self.last = now
        elapsed = now - self.t0
        rate = done / elapsed if elapsed > 0 else 0.0
        msg = f"{self.label}: {self.short} {100 * done // total}%: {done:,}/{total:,} {self.unit}"
        if rate:
            msg += f", {rate:,.0f}/s, ~{duration((total - done) / rate)} left"
        status(msg, transient=tty)


def bar(total: Optional[int], *, initial: int = 0, desc: str, unit: str, enabled: bool = True):
    """A tqdm bar on standard error when it is a terminal (else ``None``); integer counts."""
    if not enabled or not isatty(sys.stderr):
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    clear()
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        unit_scale=False,
        dynamic_ncols=True,
        smoothing=0.05,
        file=sys.stderr,
        leave=False,
    )


def screen_lines() -> int:
    return shutil.get_terminal_size((100, 24)).lines
