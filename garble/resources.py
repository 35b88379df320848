"""Access to the project's data files (top-level ``data/``, installed as ``garble.data``) and page templates."""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from importlib import resources
from typing import Any


def read_text(name: str) -> str:
    """Text of the data file ``name``."""
    return resources.files("garble.data").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def load_json(name: str) -> Any:
    return json.loads(read_text(name))


@lru_cache(maxsize=None)
def load_tsv(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a tab-separated data file with a header; ``#`` lines are comments."""
    lines = [ln for ln in read_text(name).splitlines() if ln.strip() and not ln.startswith("#")]
    return tuple(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


@lru_cache(maxsize=None)
def load_lines(name: str) -> tuple[str, ...]:
    """Non-empty, non-comment lines of a data file."""
    return tuple(ln.strip() for ln in read_text(name).splitlines() if ln.strip() and not ln.lstrip().startswith("#"))


@lru_cache(maxsize=None)
def read_template(name: str) -> str:
    """Text of the template ``name`` in ``garble/templates/`` (the HTML report's page, CSS and script)."""
    return resources.files("garble.templates").joinpath(name).read_text(encoding="utf-8")
