"""scripts/setup.sh: its options, and its default install against the dev extra (no install is run here)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETUP = ROOT / "scripts" / "setup.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _extras() -> dict[str, list[str]]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]


def test_unknown_option_stops_before_installing_anything():
    r = subprocess.run(["bash", str(SETUP), "--bogus"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "unknown option --bogus" in r.stderr
    assert r.stdout == ""


def test_help_names_the_options():
    r = subprocess.run(["bash", str(SETUP), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    for opt in ("--dev", "--browser"):
        assert opt in r.stdout


def test_default_install_has_what_the_dev_extra_has_for_the_tests():
    """The user's install (garble[lm,eval,qa], pytest, hypothesis) is the dev extra's garble and test tools, with the
    same version specifiers: the README's test command runs without --dev."""
    line = next(s for s in SETUP.read_text(encoding="utf-8").splitlines() if '-e ".[lm,' in s)
    extras = re.search(r'-e "\.\[([^\]]+)\]"', line).group(1).split(",")
    tools = re.findall(r'"([A-Za-z][\w.-]*[<>=!~][^"]*)"', line)
    dev = _extras()["dev"]
    assert f"garble-mt[{','.join(extras)}]" in dev
    assert sorted(tools) == sorted(r for r in dev if r.split(">")[0].split("=")[0] in ("pytest", "hypothesis"))
