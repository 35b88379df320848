"""Typed exceptions raised by garble.

Every error a user can cause (bad input, unknown model, unwritable output)
is a :class:`GarbleError`; the CLI turns it into a one-line message and the
documented exit code ``exit_code``, never a traceback.
"""

from __future__ import annotations

from typing import Optional


class GarbleError(Exception):
    """Base class of every error garble raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, path: Optional[str] = None, line: Optional[int] = None):
        self.path = path
        self.line = line
        super().__init__(message)

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        return where + super().__str__()


class UsageError(GarbleError):
    """A bad option or argument (exit code 2)."""

    exit_code = 2


class InputError(GarbleError):
    """An input file that cannot be read or parsed (exit code 3)."""

    exit_code = 3


class ModelError(GarbleError):
    """The language model cannot be found or loaded (exit code 4)."""

    exit_code = 4


class OutputError(GarbleError):
    """The output cannot be written: bad path, permissions, full disk (exit code 5)."""

    exit_code = 5


class GarbleWarning(UserWarning):
    """Something garble did with less than it was given (a source it could not use, a head it lacks): the
    result is still complete. The CLI prints each on one line of standard error."""
