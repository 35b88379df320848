"""The CLI with sources: rank --source / --format-in tsv, score on XLIFF/TMX/TSV (subprocess, detectors only)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("translate.storage.xliff")

from test_bitext import XLIFF12  # noqa: E402


def garble(*args):
    return subprocess.run([sys.executable, "-m", "garble", *args], capture_output=True, text=True)


@pytest.fixture
def pair(tmp_path):
    s = tmp_path / "src.txt"
    t = tmp_path / "tgt.txt"
    s.write_text("会议有35个国家参加。\n天气很好。\n", encoding="utf-8")
    t.write_text("Delegates from 53 countries attended.\nThe weather was fine.\n", encoding="utf-8")
    return s, t


def test_rank_with_line_aligned_source(pair):
    s, t = pair
    r = garble("rank", str(t), "--source", str(s), "--unit", "line", "--no-lm", "-f", "jsonl")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    first = min(recs, key=lambda x: x["rank"])
    assert first["text"] == "Delegates from 53 countries attended."
    assert [(f["detector"], f["source_span"]) for f in first["findings"] if f["detector"] == "numbers"] == [
        ("numbers", [3, 5])
    ]


def test_rank_source_line_count_mismatch_is_one_line(pair, tmp_path):
    s, t = pair
    short = tmp_path / "short.txt"
    short.write_text("一\n", encoding="utf-8")
    r = garble("rank", str(t), "--source", str(short), "--unit", "line", "--no-lm")
    assert r.returncode == 3
    assert (
        r.stderr.strip().count("\n") == 0
        and str(t) in r.stderr
        and str(short) in r.stderr
        and "Traceback" not in r.stderr
    )
    r = garble("rank", str(t), "--source", str(s), "--no-lm")  # sentence units
    assert r.returncode == 2 and "--unit line" in r.stderr


def test_rank_bitext_tsv(tmp_path):
    p = tmp_path / "pairs.tsv"
    p.write_text(
        "会议有35个国家参加。\tDelegates from 53 countries attended.\n天气很好。\tThe weather was fine.\n",
        encoding="utf-8",
    )
    r = garble("rank", str(p), "--format-in", "tsv", "--no-lm", "-f", "tsv")
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()[1:]
    assert (
        rows[0].split("\t")[1] == "1"
        and "numbers" in rows[0]
        and rows[0].endswith("Delegates from 53 countries attended.")
    )
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\nc\n", encoding="utf-8")
    r = garble("rank", str(bad), "--format-in", "tsv", "--no-lm")
    assert (
        r.returncode == 3
        and r.stderr.strip() == f"garble: error: {bad}:2: expected 2 tab-separated columns (source, target), found 1"
    )


def test_score_xliff_writes_the_reviewed_file(tmp_path):
    src = tmp_path / "in.xlf"
    src.write_text(XLIFF12, encoding="utf-8")
    out = tmp_path / "reviewed.xlf"
    r = garble("score", str(src), "-o", str(out), "--no-lm")
    assert r.returncode == 0, r.stderr
    assert "3 units scored, 2 marked for review" in r.stderr
    text = out.read_text(encoding="utf-8")
    assert text.count('state="needs-review-translation"') == 2 and text.count('from="garble"') == 2
    r = garble("score", str(src), "-o", "-", "--no-lm", "-q")
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["id"] for x in recs] == ["greet", "count", "files"] and recs[1]["source"] == "会议有35个国家参加。"


def test_score_refuses_unsafe_and_malformed_xml_in_one_line(tmp_path):
    xxe = tmp_path / "xxe.xlf"
    xxe.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a SYSTEM "file:///etc/passwd">]>\n<xliff/>\n', encoding="utf-8"
    )
    r = garble("score", str(xxe), "-o", "-", "--no-lm")
    assert (
        r.returncode == 3
        and r.stderr.startswith(f"garble: error: {xxe}:2: refused")
        and r.stderr.count("\n") == 1
        and "root:" not in r.stdout + r.stderr
    )
    bad = tmp_path / "bad.tmx"
    bad.write_text('<?xml version="1.0"?>\n<tmx version="1.4">\n<body><tu></body></tmx>\n', encoding="utf-8")
    r = garble("score", str(bad), "-o", "-", "--no-lm")
    assert (
        r.returncode == 3
        and r.stderr.startswith(f"garble: error: {bad}:3: malformed XML")
        and r.stderr.count("\n") == 1
    )


def test_score_xliff_output_must_match(tmp_path):
    src = tmp_path / "in.xlf"
    src.write_text(XLIFF12, encoding="utf-8")
    r = garble("score", str(src), "-o", str(tmp_path / "x.tmx"), "--no-lm")
    assert r.returncode == 2 and "a reviewed TMX file is written from one TMX input" in r.stderr


def test_score_jsonl_and_parquet_with_a_source_field(tmp_path):
    p = tmp_path / "pairs.jsonl"
    p.write_text(
        '{"id": "a", "src": "会议有35个国家参加。", "text": "Delegates from 53 countries attended."}\n'
        '{"id": "b", "text": "The weather was fine."}\n',
        encoding="utf-8",
    )
    r = garble("score", str(p), "--source-field", "src", "--id-field", "id", "-o", "-", "--no-lm", "-q")
    assert r.returncode == 0, r.stderr
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(x["id"], x["source"], x["rank"]) for x in recs] == [("a", "会议有35个国家参加。", 1), ("b", "", 2)]
    assert any(f["detector"] == "numbers" for f in recs[0]["findings"])
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    q = tmp_path / "pairs.parquet"
    pq.write_table(pa.table({"src": ["会议有35个国家参加。"], "text": ["Delegates from 53 countries attended."]}), q)
    r = garble("score", str(q), "--source-field", "src", "-o", "-", "--no-lm", "-q")
    assert r.returncode == 0 and json.loads(r.stdout)["id"] == f"{q}:1"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"src": "x", "text": "ok"}\n{"src": "x"}\n', encoding="utf-8")
    r = garble("score", str(bad), "--source-field", "src", "-o", "-", "--no-lm")
    assert r.returncode == 3 and r.stderr == f"garble: error: {bad}:2: no field 'text'\n"
