"""MLQE-PE (Fomicheva et al. 2020; CC0): human direct assessments, HTER and word tags of MT into English.

A split folder (``{pair}-{split}/``, e.g. ``ro-en-dev/``) holds ``{split}.{src}{tgt}.df.short.tsv`` (``original``,
``translation``, ``z_mean``, ``model_scores``), and, row for row, ``{split}.mt`` (the MT tokenised),
``{split}.tags`` (OK/BAD per gap and per MT token, interleaved: 2n+1 for n tokens) and ``{split}.hter``.
:func:`load_split` reads them into :class:`DARow` records; :func:`read_da` reads any MLQE-PE-style TSV
(``garble eval da``), where only ``original``/``translation``/``z_mean`` are needed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..errors import InputError

PAIRS = ("ro-en", "et-en", "ru-en")


@dataclass
class DARow:
    """One MLQE-PE row: ``index`` its row number in the split, ``z_mean`` the human score (higher = better),
    ``model_scores`` the MT system's own mean log-probability (None when the file has none), ``mt_tokens`` and
    ``tags`` (True = BAD, one per MT token) when the split has word tags."""

    index: int
    source: str
    translation: str
    z_mean: float
    model_scores: Optional[float] = None
    hter: Optional[float] = None
    mt_tokens: list[str] = field(default_factory=list)
    tags: list[bool] = field(default_factory=list)


@dataclass
class DATable:
    pair: str
    split: str
    rows: list[DARow]


def read_da(path: Path) -> list[DARow]:
    """Rows of an MLQE-PE-style TSV (header row; columns ``original``, ``translation``, ``z_mean``; optional
    ``model_scores``). A missing column or a bad number is an :class:`InputError` naming the file and line."""
    csv.field_size_limit(1 << 30)
    path = Path(path)
    try:
        f = path.open(encoding="utf-8", newline="")
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    rows = []
    with f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        need = {"original", "translation", "z_mean"}
        missing = need - set(reader.fieldnames or ())
        if missing:
            raise InputError(f"{path}:1: missing column(s) {', '.join(sorted(missing))} (an MLQE-PE .tsv has them)")
        for n, rec in enumerate(reader):
            line = n + 2
            try:
                z = float(rec["z_mean"])
                ms = rec.get("model_scores")
                ms = float(ms) if ms not in (None, "") else None
            except (TypeError, ValueError):
                raise InputError(f"{path}:{line}: z_mean/model_scores is not a number") from None
            if rec["translation"] is None or rec["original"] is None:
                raise InputError(f"{path}:{line}: fewer columns than the header")
            rows.append(DARow(n, rec["original"], rec["translation"], z, ms))
    return rows


def split_dir(root: Path, pair: str, split: str) -> Path:
    return Path(root) / f"{pair}-{split}"


def load_split(root: Path, pair: str, split: str) -> DATable:
    """The MLQE-PE split ``pair``/``split`` under ``root`` (e.g. ``../shared/eval/mlqe``), with word tags."""
    d = split_dir(root, pair, split)
    tsv = sorted(d.glob(f"{split}.*.df.short.tsv"))
    if not tsv:
        raise InputError(f"{d}: no {split}.*.df.short.tsv (an MLQE-PE split folder)")
    rows = read_da(tsv[0])
    mt, tags, hter = d / f"{split}.mt", d / f"{split}.tags", d / f"{split}.hter"
    if mt.is_file() and tags.is_file():
        mt_lines = mt.read_text(encoding="utf-8").split("\n")
        tag_lines = tags.read_text(encoding="utf-8").split("\n")
        for i, row in enumerate(rows):
            toks, tg = mt_lines[i].split(), tag_lines[i].split()
            if len(tg) != 2 * len(toks) + 1:
                raise InputError(f"{tags}:{i + 1}: {len(tg)} tags for {len(toks)} MT tokens (expected 2n+1)")
            row.mt_tokens = toks
            row.tags = [t == "BAD" for t in tg[1::2]]
    if hter.is_file():
        for row, h in zip(rows, hter.read_text().split()):
            row.hter = float(h)
    return DATable(pair, split, rows)
