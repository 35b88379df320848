"""The CLI with sources: rank --source / --format-in tsv, score on XLIFF/TMX/TSV (subprocess, detectors only)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.importorskip("translate.storage.xliff")

from test_bitext import XLIFF12  # noqa: E402

from garble.corpus import OUTPUT_FIELDS  # noqa: E402


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
    assert [x["id"] for x in recs] == ["greet", "count", "files"]  # the unit without a target is no segment
    assert recs[1]["source"] == str(src) and recs[1]["source_text"] == "会议有35个国家参加。"
    assert list(recs[1]) == list(OUTPUT_FIELDS) and [x["line"] for x in recs] == [7, 13, 17]  # the units' lines
    assert any(f["detector"] == "numbers" and f["source_span"] == [3, 5] for f in recs[1]["findings"])


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
    r = garble("score", str(src), "-o", str(tmp_path / "x.xlf"), "--no-lm", "--workers", "2")
    assert r.returncode == 2 and "--workers" in r.stderr and r.stderr.count("\n") == 1


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
    assert [(x["id"], x["source"], x["source_text"], x["rank"]) for x in recs] == [
        ("a", str(p), "会议有35个国家参加。", None),  # no --doc-field: each pair on its own, not ranked
        ("b", str(p), None, None),  # no source: scored as without --source-field
    ]
    assert any(f["detector"] == "numbers" for f in recs[0]["findings"])
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    q = tmp_path / "pairs.parquet"
    pq.write_table(pa.table({"src": ["会议有35个国家参加。"], "text": ["Delegates from 53 countries attended."]}), q)
    r = garble("score", str(q), "--source-field", "src", "-o", "-", "--no-lm", "-q")
    assert r.returncode == 0 and json.loads(r.stdout)["id"] == f"{q}:1"
    # a record that cannot be scored is an error record, as without a source
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"src": "x", "text": "ok"}\n{"src": "x"}\n{"src": 5, "text": "ok"}\n', encoding="utf-8")
    r = garble("score", str(bad), "--source-field", "src", "-o", "-", "--no-lm", "-q")
    recs = [json.loads(x) for x in r.stdout.splitlines()]
    assert r.returncode == 0 and [x["error"] for x in recs] == [
        None,
        "no field 'text'",
        "source field 'src' is a number, not a string",
    ]


def test_bad_pair_input_is_one_line_naming_file_and_line(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    q = tmp_path / "pairs.parquet"
    pq.write_table(pa.table({"text": ["Delegates from 53 countries attended."]}), q)
    r = garble("score", str(q), "--source-field", "src", "-o", str(tmp_path / "o.jsonl"), "--no-lm")
    assert r.returncode == 3 and r.stderr == f"garble: error: {q}: no source column 'src' (columns: text)\n"
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("源\tSource.\n只有一列\n", encoding="utf-8")
    r = garble("score", str(tsv), "--input-format", "tsv", "-o", str(tmp_path / "t.jsonl"), "--no-lm", "-q")
    assert r.returncode == 3
    assert r.stderr == f"garble: error: {tsv}:2: expected 2 tab-separated columns (source, target), found 1\n"
    p = tmp_path / "docs.jsonl"
    rows = [("d1", "一。", "One."), ("d2", "二。", "Two."), ("d1", "三。", "Three.")]
    p.write_text("".join(json.dumps({"doc": d, "src": s, "text": t}) + "\n" for d, s, t in rows), encoding="utf-8")
    r = garble("score", str(p), "--source-field", "src", "--doc-field", "doc", "-o", "-", "--no-lm", "-q")
    assert r.returncode == 3 and r.stderr.startswith(f"garble: error: {p}:3: document 'd1' appears again")
    assert r.stderr.count("\n") == 1


def test_tsv_and_xliff_give_the_records_of_jsonl_with_a_source_field(tmp_path):
    pairs = [("会议有35个国家参加。", "Delegates from 53 countries attended."), ("天气很好。", "The weather was fine.")]
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("source\ttarget\n" + "".join(f"{s}\t{t}\n" for s, t in pairs) + "\n", encoding="utf-8")
    js = tmp_path / "pairs.jsonl"
    js.write_text("".join(json.dumps({"s": s, "t": t}) + "\n" for s, t in pairs), encoding="utf-8")
    r = garble("score", str(tsv), "--input-format", "tsv", "-o", "-", "--no-lm", "-q")
    assert r.returncode == 0, r.stderr
    from_tsv = [json.loads(x) for x in r.stdout.splitlines()]
    r = garble("score", str(js), "--field", "t", "--source-field", "s", "-o", "-", "--no-lm", "-q")
    from_jsonl = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["line"] for x in from_tsv] == [2, 3, 4] and from_tsv[2]["error"] == "empty line"  # header: no record
    keep = ("text", "source_text", "score", "findings", "error")
    assert [{k: x[k] for k in keep} for x in from_tsv[:2]] == [{k: x[k] for k in keep} for x in from_jsonl]
