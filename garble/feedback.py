"""Feedback on standard error for the command line: status lines and progress bars.

Nothing here writes to standard output (which holds the results). The library
logs what takes time (loading a model, its one-time conversion) to the
``garble`` logger at INFO and stays silent by itself; :func:`setup` shows those
records as ``garble: ...`` lines on standard error. A record logged with
``extra={"transient": True}`` is a passing status ("loading the language
model"): on a terminal it stays on one line that the next output erases; in a
pipe or a log file it is not written at all. ``--quiet`` shows nothing.
"""

from __future__ import annotations

import logging
import shutil
import sys
from typing import IO, Any, Optional

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
