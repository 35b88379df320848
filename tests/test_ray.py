"""The Ray path (garble.ray, ``garble score --ray``): the same output as the local path, on a local Ray instance.

Slow (a Ray instance takes seconds to start): ``pytest -m slow tests/test_ray.py``.
Needs the ``ray`` extra (``pip install "./[ray]"``); skips without it.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import garble
from garble.corpus import score_corpus
from garble.errors import ModelError, UsageError

REPO = Path(__file__).resolve().parent.parent

SENTENCES = [
    "It is legal and it is legal.",
    "The committee approved the budget on Monday.",
    "He said that that the river was was high.",
    "Water levels rose after the storm.",
    "The the report is ready.",
    "Minister Lavrov met Lavrov's deputy, and Lavorov left early.",
    "She thanked everyone for coming.",
    "In conclusion, conclusion, we agree.",
    "For state media.",
    "Leave a Reply",
    "The ministry said the Ukrainian targets on Russian soil were hit.",
    "“The quote was never closed, he said.",
]

SCORER_KWARGS = {"model": False}  # detectors only: no torch


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def scorer():
    return garble.Scorer(model=False)


def sentence(i: int) -> str:
    return f"{SENTENCES[i % len(SENTENCES)]} ({i})" if i % 5 else SENTENCES[i % len(SENTENCES)]


def lines_of(data: bytes) -> list[dict]:
    return [json.loads(x) for x in data.decode("utf-8").splitlines()]


def both(tmp_path: Path, scorer, inputs, name: str, **kw) -> tuple[Path, Path, list, list]:
    """The local path's output and the Ray path's, with their warnings."""
    from garble.ray import score_files

    local, remote = tmp_path / f"local-{name}", tmp_path / f"ray-{name}"
    wl: list = []
    wr: list = []
    s1 = score_corpus(inputs, local, scorer, progress=False, warn=wl.append, **kw)
    s2 = score_files(
        inputs,
        remote,
        scorer_kwargs=SCORER_KWARGS,
        num_actors=2,
        block_records=kw.get("batch_size", 256),
        progress=False,
        warn=wr.append,
        **kw,
    )
    assert (s2.records, s2.errors, s2.resumed) == (s1.records, s1.errors, 0)
    assert not os.path.exists(str(remote) + ".garble-partial")
    return local, remote, wl, wr


@pytest.mark.slow
def test_txt_with_blank_lines_and_compressed_output(ray_local, scorer, tmp_path):
    a = tmp_path / "a.txt"
    lines = [sentence(i).encode() for i in range(150)]
    lines[7] = b""  # blank line: an error record
    lines[30] = b"   "  # whitespace only
    lines[41] = b"caf\xe9 is open"  # invalid UTF-8: a warning, U+FFFD
    a.write_bytes(b"\n".join(lines) + b"\n")
    b = tmp_path / "b.txt.gz"
    b.write_bytes(gzip.compress("\n".join(sentence(i) for i in range(150, 230)).encode()))
    local, remote, wl, wr = both(tmp_path, scorer, [a, b], "out.jsonl.gz", batch_size=32)
    assert remote.read_bytes() == local.read_bytes()  # byte for byte, compressed per chunk as the local path does
    assert wr == wl and any("invalid UTF-8" in w for w in wl)
    rows = lines_of(gzip.decompress(remote.read_bytes()))
    assert len(rows) == 230 and [r["line"] for r in rows[:150]] == list(range(1, 151))
    assert rows[7]["error"] == "empty line" and rows[30]["error"] == "empty line"
    assert all(r["rank"] is None for r in rows)


@pytest.mark.slow
def test_jsonl_with_broken_lines_and_ids(ray_local, scorer, tmp_path):
    p = tmp_path / "c.jsonl"
    out = []
    for i in range(220):
        if i == 13:
            out.append("{not json")
        elif i == 14:
            out.append("")
        elif i == 50:
            out.append("[1, 2]")
        elif i == 77:
            out.append(json.dumps({"id": "x77"}))  # no text field
        elif i == 90:
            out.append(json.dumps({"text": sentence(i)}))  # no id field
        else:
            out.append(json.dumps({"id": f"seg-{i}", "text": sentence(i)}, ensure_ascii=False))
    p.write_text("\n".join(out) + "\n", encoding="utf-8")
    local, remote, _, _ = both(tmp_path, scorer, [p], "out.jsonl", id_field="id", batch_size=16)
    assert remote.read_bytes() == local.read_bytes()
    rows = lines_of(remote.read_bytes())
    assert [r["id"] for r in rows[:3]] == ["seg-0", "seg-1", "seg-2"]
    assert rows[13]["error"].startswith("invalid JSON") and rows[14]["error"] == "empty line"
    assert rows[50]["error"] == "not a JSON object but an array"
    assert rows[77]["error"] == "no field 'text'" and rows[90]["error"] == "no id field 'id'"


@pytest.mark.slow
def test_parquet_in_and_out(ray_local, scorer, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from garble.corpus import parquet_schema

    src = tmp_path / "in.parquet"
    texts = [sentence(i) for i in range(200)]
    texts[5] = None
    texts[6] = "  "
    docs = [f"d{i // 37}" for i in range(200)]
    pq.write_table(pa.table({"text": texts, "id": list(range(1000, 1200)), "doc": docs}), src, row_group_size=64)
    local, remote, _, _ = both(tmp_path, scorer, [src], "out.parquet", id_field="id", doc_field="doc", batch_size=16)
    assert pq.read_schema(remote) == parquet_schema() == pq.read_schema(local)
    got, want = pq.read_table(remote).to_pylist(), pq.read_table(local).to_pylist()
    assert got == want and len(got) == 200
    assert got[5]["error"] == "field 'text' is null" and got[6]["error"] == "empty text"
    assert got[0]["id"] == "1000" and max(r["rank"] or 0 for r in got if r["doc"] == "d1") == 37


@pytest.mark.slow
def test_documents_are_never_split(ray_local, scorer, tmp_path):
    p = tmp_path / "docs.jsonl"
    sizes = [3, 45, 1, 60, 7, 33, 2, 20]  # several longer than the batch size (16)
    out = []
    i = 0
    for d, n in enumerate(sizes):
        for k in range(n):
            if d == 3 and k == 10:
                out.append("{broken")  # an error record inside a document
            out.append(json.dumps({"doc": f"doc{d}", "id": f"{d}-{k}", "text": sentence(i)}))
            i += 1
    out.append(json.dumps({"id": "last", "text": "A record without a document."}))
    p.write_text("\n".join(out) + "\n", encoding="utf-8")
    local, remote, _, _ = both(tmp_path, scorer, [p], "out.jsonl", id_field="id", doc_field="doc", batch_size=16)
    assert remote.read_bytes() == local.read_bytes()
    rows = lines_of(remote.read_bytes())
    for d, n in enumerate(sizes):
        mine = [r for r in rows if r["doc"] == f"doc{d}"]
        assert len(mine) == n
        # ranked within the whole document (a split would restart the ranks), scored as one document
        assert sorted(r["rank"] for r in mine) == list(range(1, n + 1))
        direct = scorer.score_units([r["text"] for r in mine], doc_id=f"doc{d}")
        assert [r["score"] for r in mine] == [round(u.score, 6) for u in direct.units]
    assert rows[-1]["doc"] is None and rows[-1]["rank"] is None and rows[-1]["error"] == "no document field 'doc'"


@pytest.mark.slow
def test_score_dataset_equals_the_local_parquet_output(ray_local, scorer, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from garble.corpus import parquet_schema
    from garble.ray import score_dataset

    src = tmp_path / "in.parquet"
    texts = [sentence(i) for i in range(120)]
    texts[9] = None
    pq.write_table(pa.table({"text": texts, "doc": [f"d{i // 40}" for i in range(120)]}), src)
    local = tmp_path / "local.parquet"
    score_corpus([src], local, scorer, doc_field="doc", batch_size=16, progress=False)
    ds = score_dataset(
        ray_local.data.read_parquet(str(src)),
        doc_field="doc",
        source=str(src),
        scorer_kwargs=SCORER_KWARGS,
        batch_size=16,
        num_actors=2,
        block_records=16,
    )
    assert ds.schema().base_schema == parquet_schema()
    assert ds.take_all() == pq.read_table(local).to_pylist()


#: (source, target) pairs for the runs with sources
PAIRS = [
    ("会议有35个国家参加。", "Delegates from 53 countries attended."),
    ("委员会周一批准了预算。", "The committee approved the budget on Monday."),
    ("共有1200人受伤。", "In all, 1,200 people were hurt."),
    ("报告已经准备好了。", "The the report is ready."),
]


@pytest.mark.slow
@pytest.mark.parametrize("grouped", [False, True])
def test_pairs_with_sources_equal_the_local_path(ray_local, scorer, tmp_path, grouped):
    p = tmp_path / "pairs.jsonl"
    rows = []
    for i in range(90):
        s, t = PAIRS[i % len(PAIRS)]
        row = {"id": i, "doc": f"d{i // 7}", "text": f"{t} ({i})"}
        if i % 9:
            row["src"] = f"{s}（{i}）"
        rows.append(json.dumps(row, ensure_ascii=False))
    rows[40] = "oops"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    kw = dict(id_field="id", source_field="src", doc_field="doc" if grouped else None, batch_size=16)
    local, remote, _, _ = both(tmp_path, scorer, [p], "out.jsonl", **kw)
    assert remote.read_bytes() == local.read_bytes()
    got = lines_of(remote.read_bytes())
    assert sum(1 for r in got if r["source_text"]) == 79 and got[40]["error"].startswith("invalid JSON")
    assert any(f["source_span"] for r in got for f in r["findings"])  # the source-aware detectors ran
    assert all((r["rank"] is not None) == (grouped and r["error"] is None) for r in got)


@pytest.mark.slow
def test_score_dataset_with_sources_equals_the_local_parquet_output(ray_local, scorer, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from garble.ray import score_dataset

    src = tmp_path / "in.parquet"
    pairs = [PAIRS[i % len(PAIRS)] for i in range(40)]
    table = {"s": [s for s, _ in pairs], "t": [t for _, t in pairs], "doc": [f"d{i // 8}" for i in range(40)]}
    pq.write_table(pa.table(table), src)
    local = tmp_path / "local.parquet"
    kw = dict(field="t", source_field="s", doc_field="doc", batch_size=16)
    score_corpus([src], local, scorer, progress=False, **kw)
    ds = score_dataset(
        ray_local.data.read_parquet(str(src)), source=str(src), scorer_kwargs=SCORER_KWARGS, num_actors=2, **kw
    )
    assert ds.take_all() == pq.read_table(local).to_pylist()


@pytest.mark.slow
def test_an_actor_error_is_the_garble_error(ray_local, tmp_path):
    from garble.ray import score_files

    src = tmp_path / "a.txt"
    src.write_text("One line.\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    with pytest.raises(ModelError, match="cannot load model '/no/such/model'"):
        score_files([src], out, scorer_kwargs={"model": "/no/such/model"}, num_actors=1, progress=False)
    assert not out.exists() and not os.path.exists(str(out) + ".garble-partial")


@pytest.mark.slow
def test_gpus_asked_of_a_cluster_without_gpus(ray_local, tmp_path):
    from garble.ray import score_files

    src = tmp_path / "a.txt"
    src.write_text("One line.\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    assert ray_local.cluster_resources().get("GPU", 0) == 0
    with pytest.raises(UsageError, match="has no GPU"):
        score_files([src], out, scorer_kwargs=SCORER_KWARGS, num_gpus_per_actor=1, progress=False)
    assert not out.exists() and not os.path.exists(str(out) + ".garble-partial")


def garble_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "garble", *args], capture_output=True, text=True, cwd=REPO, env=env)


@pytest.mark.slow
def test_cli_ray_equals_local(ray_local, tmp_path):
    p = tmp_path / "c.jsonl"
    rows = [json.dumps({"id": i, "doc": f"d{i // 25}", "text": sentence(i)}) for i in range(120)]
    rows[3] = "oops"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    local, remote = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    r = garble_cli(
        "score", str(p), "-o", str(local), "--no-lm", "--id-field", "id", "--doc-field", "doc", "-b", "16", "-q"
    )
    assert r.returncode == 0, r.stderr
    env = dict(
        os.environ, RAY_ADDRESS=ray_local.get_runtime_context().gcs_address
    )  # bare --ray attaches to the running instance
    r = garble_cli(
        "score",
        str(p),
        "-o",
        str(remote),
        "--no-lm",
        "--id-field",
        "id",
        "--doc-field",
        "doc",
        "-b",
        "16",
        "--ray-actors",
        "2",
        "--ray",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "garble: 120 segments, 1 not scored" in r.stderr
    assert remote.read_bytes() == local.read_bytes()
    assert not os.path.exists(str(remote) + ".garble-partial")


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, message",
    [
        (["-o", "-", "--ray"], "--ray writes a file"),
        (["-o", "OUT", "-j", "2", "--ray"], "--workers does not apply with --ray"),
        (["-o", "OUT", "--restart", "--ray"], "--restart does not apply with --ray"),
        (["-o", "OUT", "--ray-actors", "2"], "--ray-actors needs --ray"),
        (["-o", "OUT", "--ray=nowhere"], "not a Ray address"),
    ],
)
def test_cli_usage_errors(tmp_path, args, message):
    src = tmp_path / "a.txt"
    src.write_text("One line.\n", encoding="utf-8")
    args = [str(tmp_path / "o.jsonl") if a == "OUT" else a for a in args]
    r = garble_cli("score", str(src), "--no-lm", *args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("garble: error: ") and message in lines[0], r.stderr
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.slow
def test_library_usage_errors(tmp_path, monkeypatch):
    from garble import ray as garble_ray

    src = tmp_path / "a.txt"
    src.write_text("One line.\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not standard output"):
        garble_ray.score_files([src], "-", scorer_kwargs=SCORER_KWARGS)
    with pytest.raises(UsageError, match="unknown detector"):
        garble_ray.score_files([src], tmp_path / "o.jsonl", scorer_kwargs={"model": False, "detectors": ["nope"]})
    (tmp_path / "o.jsonl.garble-state.json").write_text("{}", encoding="utf-8")
    with pytest.raises(UsageError, match="interrupted run without Ray"):
        garble_ray.score_files([src], tmp_path / "o.jsonl", scorer_kwargs=SCORER_KWARGS)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(UsageError, match=r'pip install "ray\[data\]>=2.9"'):
        garble_ray.score_files([src], tmp_path / "p.jsonl", scorer_kwargs=SCORER_KWARGS)


@pytest.mark.slow
def test_ray_args_and_no_ray_on_import():
    from garble.cli.score import ray_args

    assert ray_args(["score", "a", "-o", "x", "--ray"]) == ["score", "a", "-o", "x", "--ray="]
    assert ray_args(["score", "a", "--ray", "-o", "x"]) == ["score", "a", "--ray=", "-o", "x"]
    assert ray_args(["score", "--ray", "auto", "a", "-o", "x"]) == ["score", "--ray=auto", "a", "-o", "x"]
    assert ray_args(["score", "--ray", "ray://head:10001", "a"]) == ["score", "--ray=ray://head:10001", "a"]
    assert ray_args(["score", "--ray", "a.txt", "-o", "x"]) == ["score", "--ray=", "a.txt", "-o", "x"]
    assert ray_args(["rank", "--ray"]) == ["rank", "--ray"]
    r = subprocess.run(
        [sys.executable, "-c", "import sys, garble, garble.cli, garble.ray; print('ray' in sys.modules)"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stderr
