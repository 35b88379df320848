"""Checkpoints: ``OUT.garble-state.json``, how far a run got and what it ran on.

A checkpoint holds the records done, the error records among them, the bytes
of the partial output flushed, the input position after them, and the
fingerprint of the run: the inputs' paths, sizes and mtimes and every option
that changes the output. A run resumes only from a checkpoint with its own
fingerprint; :func:`changes` says in words what differs.
"""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple, Optional, Sequence

from ..errors import InputError, UsageError
from ..io import atomic_output
from .output import fsync, remove, state_path

#: 2: the first chunks ramp up (FIRST_CHUNK), so a version-1 checkpoint would resume on other chunk boundaries;
#: 3: every output record has ``source_text`` (a version-2 partial output lacks it)
STATE_VERSION = 3

#: the options of a fingerprint, as the user knows them (the rest: --NAME)
_OPTION_NAMES = {
    "format": "--format",
    "output_compression": "output compression",
    "input_format": "--input-format",
    "parquet_row_group": "Parquet row groups",
}


class State(NamedTuple):
    """How far a run got: what a checkpoint saves."""

    records: int = 0  # records written
    errors: int = 0  # error records among them
    nbytes: int = 0  # bytes of the partial output they take
    position: tuple[int, int] = (0, 0)  # input position after them: (file index, records done in that file)

    def after(self, records: int, errors: int, nbytes: int, position: tuple[int, int]) -> State:
        """This state advanced by one more chunk."""
        return State(self.records + records, self.errors + errors, self.nbytes + nbytes, position)


def _qualname(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _qe_name(spec: Any) -> Any:
    if spec is False:
        return "off"
    return spec if spec is None or isinstance(spec, (str, bool)) else str(getattr(spec, "name", _qualname(spec)))


def _scorer_fingerprint(scorer: Any) -> dict:
    lm = getattr(scorer, "lm", None)
    fp: dict = {
        "detectors": [f"{getattr(d, 'name', '')}:{_qualname(d)}" for d in getattr(scorer, "detectors", [])],
        "context": bool(getattr(scorer, "context", False)),
        "lm": None,
        # quality estimation with the source: off, the packaged model (when installed) or a named one
        "qe": _qe_name(getattr(scorer, "_qe_spec", False)),
    }
    w = getattr(scorer, "weights", None)
    if w is not None and hasattr(w, "to_dict"):
        fp["weights"] = w.to_dict()
    if lm is not None:
        fp["lm"] = {
            "class": _qualname(lm),
            "name": str(getattr(lm, "name", "")),
            "dtype": str(getattr(lm, "dtype", "")),
            "max_tokens": getattr(lm, "max_tokens", None),
        }
    return fp


def _input_fingerprint(files: Sequence[str]) -> list:
    out = []
    for f in files:
        try:
            st = os.stat(f)
        except OSError:
            raise InputError("no such file", path=f) from None
        out.append([f, st.st_size, st.st_mtime_ns])
    return out


def fingerprint(files: Sequence[str], options: dict, scorer: Any, extra: Optional[dict] = None) -> dict:
    """What must match for a run to resume: the inputs (paths, sizes, mtimes), ``options``, the scorer, ``extra``."""
    fp = {
        "garble_state": STATE_VERSION,
        "inputs": _input_fingerprint(files),
        "options": options,
        "scorer": _scorer_fingerprint(scorer),
        "extra": extra or {},
    }
    return json.loads(json.dumps(fp, sort_keys=True, default=str))


def changes(old: Any, new: dict) -> str:
    """What differs between two fingerprints, in words for the user."""
    if not isinstance(old, dict) or old.get("garble_state") != new.get("garble_state"):
        return "checkpoint version"
    what = []
    if old.get("inputs") != new.get("inputs"):
        old_in = {f[0]: f[1:] for f in old.get("inputs") or [] if isinstance(f, list) and f}
        new_in = {f[0]: f[1:] for f in new.get("inputs") or []}
        if list(old_in) != list(new_in):
            what.append("the list of input files")
        else:
            what.extend(f"{f} (size or modification time)" for f in new_in if old_in.get(f) != new_in[f])
    opts_old, opts_new = old.get("options") or {}, new.get("options") or {}
    for k in sorted(opts_new):
        if opts_old.get(k) != opts_new[k]:
            what.append(_OPTION_NAMES.get(k, "--" + k.replace("_", "-")))
    if old.get("scorer") != new.get("scorer"):
        what.append("scorer (detectors, weights, model or context)")
    if old.get("extra") != new.get("extra"):
        what.append("model settings")
    return ", ".join(what[:6]) + (f" and {len(what) - 6} more" if len(what) > 6 else "") or "settings"


class Checkpoint:
    """The checkpoint file of ``output`` for a run with ``fingerprint``."""

    def __init__(self, output: str, fingerprint: dict):
        self.output = output
        self.path = state_path(output)
        self.fingerprint = fingerprint

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def read(self) -> dict:
        """The saved checkpoint; unreadable, or of other inputs or options: a :class:`UsageError`."""
        try:
            with open(self.path, encoding="utf-8") as fh:
                saved = json.load(fh)
            if not isinstance(saved, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as e:
            why = f"unreadable checkpoint ({e}); remove it or rerun with --restart"
            raise UsageError(why, path=self.path) from None
        if saved.get("fingerprint") != self.fingerprint:
            changed = changes(saved.get("fingerprint"), self.fingerprint)
            raise UsageError(
                f"the checkpoint of an earlier run does not match these inputs and options (changed: {changed}); "
                "rerun with --restart to start over, or restore them to resume",
                path=self.path,
            )
        return saved

    def state(self, saved: dict) -> State:
        """The :class:`State` of a checkpoint :meth:`read`; malformed: a :class:`UsageError`."""
        try:
            position = (int(saved["position"][0]), int(saved["position"][1]))
            return State(int(saved["records"]), int(saved["errors"]), int(saved["bytes"]), position)
        except (KeyError, TypeError, ValueError, IndexError):
            raise UsageError("malformed checkpoint; rerun with --restart", path=self.path) from None

    def save(self, state: State, final: bool = False) -> None:
        """Write the checkpoint, whole or not at all (``final``: every record written, the output not yet published)."""
        data = {
            "fingerprint": self.fingerprint,
            "records": state.records,
            "errors": state.errors,
            "bytes": state.nbytes,
            "position": list(state.position),
            "complete": final,
            "output": self.output,
        }
        with atomic_output(self.path, "w") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
            fsync(fh)

    def remove(self) -> None:
        remove(self.path)
