"""Input discovery: the files a corpus run reads (files, folders, globs, ``-``) and their formats."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Union

from ..errors import InputError, UsageError

PathLike = Union[str, os.PathLike]

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet", ".pq")
XLIFF_SUFFIXES = (".xlf", ".xliff")
TMX_SUFFIXES = (".tmx",)
COMPRESSION_SUFFIXES = (".gz", ".zst")
INPUT_FORMATS = ("auto", "txt", "jsonl", "parquet", "tsv", "xliff", "tmx")
#: the input formats whose records are translation pairs (a source with each target) whatever the options
PAIR_FORMATS = ("tsv", "xliff", "tmx")
#: the files a run keeps beside its output (never read as inputs)
STATE_SUFFIX = ".garble-state.json"
PARTIAL_SUFFIX = ".garble-partial"

_GLOB_MAGIC = re.compile(r"[*?\[]")


def check_input_format(fmt: str) -> str:
    """``fmt`` if it is one of :data:`INPUT_FORMATS`, else a :class:`UsageError`."""
    if fmt not in INPUT_FORMATS:
        raise UsageError(f"unknown input format {fmt!r}: expected one of {', '.join(INPUT_FORMATS)}")
    return fmt


def input_format(path: str, forced: str = "auto") -> str:
    """The format of ``path``: ``forced`` unless ``auto``, else by suffix: ``jsonl``, ``parquet``, ``xliff``,
    ``tmx``, else ``txt`` (bitext TSV only when forced: a ``.tsv`` file may be any table)."""
    if check_input_format(forced) != "auto":
        return forced
    name = strip_compression(path).lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(XLIFF_SUFFIXES):
        return "xliff"
    if name.endswith(TMX_SUFFIXES):
        return "tmx"
    return "txt"


def strip_compression(path: str) -> str:
    """``path`` without a ``.gz``/``.zst`` suffix."""
    for s in COMPRESSION_SUFFIXES:
        if path.lower().endswith(s):
            return path[: -len(s)]
    return path


def _known_suffix(name: str) -> bool:
    base = strip_compression(name).lower()
    if base.endswith(PARQUET_SUFFIXES):
        return base == name.lower()  # compressed Parquet is not a format
    return base.endswith(TEXT_SUFFIXES + JSONL_SUFFIXES)


def _sidecar(name: str) -> bool:
    return name.endswith(STATE_SUFFIX) or name.endswith(PARTIAL_SUFFIX) or ".garble-state." in name


def _walk(root: Path) -> list[str]:
    found: list[tuple[tuple[str, ...], str]] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=None):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for f in filenames:
            if f.startswith(".") or _sidecar(f) or not _known_suffix(f):
                continue
            full = os.path.join(dirpath, f)
            found.append((Path(full).relative_to(root).parts, full))
    found.sort()
    return [f for _, f in found]


def _glob(pattern: str) -> list[str]:
    import glob

    files: list[str] = []
    for m in sorted(glob.glob(pattern, recursive=True)):
        if os.path.isdir(m):
            files.extend(_walk(Path(m)))
        elif not _sidecar(os.path.basename(m)):
            files.append(m)
    return files


def expand_inputs(inputs: Iterable[PathLike], *, exclude: Iterable[PathLike] = ()) -> list[str]:
    """Input files in reading order: files as given, directories walked, globs expanded.

    A missing file is an :class:`InputError`; so is a folder or pattern that
    yields no input file. Paths in ``exclude`` (the output and its sidecar
    files) are left out of what folders and patterns yield.
    """
    skip = {os.path.realpath(str(p)) for p in exclude}

    def keep(found: list[str]) -> list[str]:
        return [f for f in found if os.path.realpath(f) not in skip]

    out: list[str] = []
    for inp in inputs:
        s = str(inp)
        if s == "-":
            out.append(s)
            continue
        p = Path(s)
        if p.is_dir():
            files = keep(_walk(p))
            if not files:
                known = ", ".join(TEXT_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES)
                why = f"no input files in this folder (known suffixes: {known}, optionally .gz/.zst)"
                raise InputError(why, path=s)
            out.extend(files)
        elif p.exists():
            out.append(s)
        elif _GLOB_MAGIC.search(s):
            files = keep(_glob(s))
            if not files:
                raise InputError("no input file matches this pattern", path=s)
            out.extend(files)
        else:
            raise InputError("no such file", path=s)
    return out
