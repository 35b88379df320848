"""The code stays easy to change: no function in garble/ runs over 80 lines (issue 14)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "garble"
LIMIT = 80


def test_no_function_over_80_lines():
    long = [
        f"{p.relative_to(ROOT.parent)}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)"
        for p in sorted(ROOT.rglob("*.py"))
        for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > LIMIT
    ]
    assert not long, "split these: " + "; ".join(long)
