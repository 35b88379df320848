"""Regenerate the sample outputs in README.md from real runs, so they cannot go stale.

Each sample in the README is a fenced block between two markers that name the command:

    <!-- sample: garble rank ../shared/seed/article.txt --no-lm --top 3 | head -8 -->
    ```text
    ...the command's first 8 lines of standard output...
    ```
    <!-- /sample -->

This script runs every marked command from the repository root (``garble`` is
``python -m garble`` with this checkout first on the path; ``| head -N`` keeps
the first N lines) and writes its output into the block:

    python scripts/readme_samples.py          # rewrite README.md
    python scripts/readme_samples.py --check  # exit 1 if a sample differs from a fresh run

tests/test_readme.py compares the samples with real runs: exactly for ``--no-lm``
commands (the detectors are deterministic), by their shape for language-model
runs (the title and header lines exactly, then rank and score columns), whose
scores move with the model's numerics. After a change to the scorer, rerun
this script (with the LM installed) and commit the README.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SAMPLE = re.compile(r"<!-- sample: (?P<cmd>.+?) -->\n```(?P<lang>\w*)\n(?P<body>.*?)```\n<!-- /sample -->", re.S)


@dataclass
class Sample:
    command: str  # as written in the marker
    argv: list[str]  # the garble arguments
    head: int | None  # keep this many lines
    body: str  # what the README holds now
    span: tuple[int, int]
    lang: str

    @property
    def uses_lm(self) -> bool:
        return "--no-lm" not in self.argv


def samples(text: str) -> list[Sample]:
    out = []
    for m in SAMPLE.finditer(text):
        cmd = m.group("cmd").strip()
        head = None
        if "|" in cmd:
            cmd_part, pipe = (p.strip() for p in cmd.split("|", 1))
            hm = re.fullmatch(r"head -(\d+)", pipe)
            if not hm:
                raise SystemExit(f"README.md: sample {cmd!r}: only '| head -N' is understood after a pipe")
            head = int(hm.group(1))
        else:
            cmd_part = cmd
        argv = shlex.split(cmd_part)
        if not argv or argv[0] != "garble":
            raise SystemExit(f"README.md: sample {cmd!r} is not a garble command")
        out.append(Sample(cmd, argv[1:], head, m.group("body"), m.span(), m.group("lang")))
    return out


def run(sample: Sample) -> str:
    """The sample command's standard output (first ``head`` lines), run from the repository root."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "NO_COLOR": "1",
        "COLUMNS": "100",
    }
    r = subprocess.run(
        [sys.executable, "-m", "garble", *sample.argv, "--quiet"], cwd=ROOT, capture_output=True, text=True, env=env
    )
    if r.returncode != 0:
        raise SystemExit(f"`{sample.command}` failed (exit {r.returncode}): {r.stderr.strip()}")
    lines = r.stdout.splitlines()
    if sample.head is not None:
        lines = lines[: sample.head]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 when a sample is stale")
    args = ap.parse_args()
    text = README.read_text(encoding="utf-8")
    found = samples(text)
    if not found:
        print("README.md has no sample markers", file=sys.stderr)
        return 1
    stale = 0
    for s in reversed(found):  # from the end: earlier spans stay valid
        fresh = run(s)
        if fresh != s.body:
            stale += 1
            print(f"{'stale' if args.check else 'updated'}: {s.command}", file=sys.stderr)
            a, b = s.span
            text = text[:a] + f"<!-- sample: {s.command} -->\n```{s.lang}\n{fresh}```\n<!-- /sample -->" + text[b:]
    if args.check:
        return 1 if stale else 0
    if stale:
        README.write_text(text, encoding="utf-8")
    print(f"{len(found)} samples, {stale} rewritten", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
