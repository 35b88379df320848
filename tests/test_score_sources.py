"""``garble score`` with sources: one driver and one record schema, with a source or without (issue 20).

Translation pairs (``--source-field``, TSV, XLIFF) go through the corpus driver like any other
input: the same keys in every record, documents with ``--doc-field``, workers, resume.
Detectors only (``--no-lm``) throughout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_corpus import FakeLM, Interrupt, InterruptingScorer, interrupt_and_resume, kill_after, lines_of, write_jsonl

import garble
from garble.corpus import OUTPUT_FIELDS, iter_records, parquet_schema, score_corpus, state_path
from garble.errors import UsageError

REPO = Path(__file__).resolve().parent.parent

#: (source, target): some faithful, some with a changed number or a repeated phrase
PAIRS = [
    ("会议有35个国家参加。", "Delegates from 53 countries attended."),
    ("天气很好。", "The weather was fine."),
    ("委员会周一批准了预算。", "The committee approved the budget on Monday."),
    ("报告已经准备好了。", "The the report is ready."),
    ("他说河水很高。", "He said that the river was high."),
    ("共有1200人受伤。", "In all, 1,200 people were hurt."),
    ("暴风雨过后水位上涨。", "Water levels rose rose after the storm."),
    ("她感谢大家的到来。", "She thanked everyone for coming."),
]


@pytest.fixture(scope="module")
def scorer():
    return garble.Scorer(model=False)


def pairs_jsonl(path: Path, n: int, docs: int = 6) -> Path:
    """``n`` records {id, doc, src, text}; every 11th has no source, every 13th an empty text; then a broken line."""
    rows = []
    for i in range(n):
        src, tgt = PAIRS[i % len(PAIRS)]
        row = {"id": f"r{i}", "doc": f"d{i // docs}", "text": "" if i % 13 == 12 else f"{tgt} Item {i}."}
        if i % 11 != 10:
            row["src"] = f"{src}第{i}项。"
        rows.append(row)
    write_jsonl(path, rows + ["{broken"])
    return path


def garble_cli(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "garble", *args], env=env, capture_output=True, text=True, **kw)


# ---------------------------------------------------------------------------
# one schema


def test_the_same_keys_with_a_source_or_without(tmp_path):
    pytest.importorskip("translate.storage.xliff")
    from test_bitext import XLIFF12

    js = pairs_jsonl(tmp_path / "pairs.jsonl", 14)
    txt = tmp_path / "plain.txt"
    txt.write_text("".join(t + "\n" for _, t in PAIRS), encoding="utf-8")
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("".join(f"{s}\t{t}\n" for s, t in PAIRS), encoding="utf-8")
    xlf = tmp_path / "job.xlf"
    xlf.write_text(XLIFF12, encoding="utf-8")
    runs = {
        "text": [str(txt)],
        "jsonl": [str(js), "--id-field", "id"],
        "jsonl + source": [str(js), "--id-field", "id", "--source-field", "src"],
        "jsonl + source + docs": [str(js), "--source-field", "src", "--doc-field", "doc"],
        "tsv": [str(tsv), "--input-format", "tsv"],
        "xliff": [str(xlf)],
    }
    got = {}
    for name, args in runs.items():
        r = garble_cli("score", *args, "-o", "-", "--no-lm", "-q", timeout=300)
        assert r.returncode == 0, (name, r.stderr)
        got[name] = [json.loads(x) for x in r.stdout.splitlines()]
    for name, recs in got.items():
        assert recs, name
        for rec in recs:
            assert tuple(rec) == OUTPUT_FIELDS, name
            for f in rec["findings"]:
                assert list(f) == ["detector", "kind", "start", "end", "weight", "message", "source_span"], name
    assert all(r["source_text"] is None for name in ("text", "jsonl") for r in got[name])
    assert all(r["lm"] is None for recs in got.values() for r in recs)  # present (null: --no-lm) in every layout
    paired = got["jsonl + source"]
    assert paired[0]["source"] == str(js) and paired[0]["source_text"] == "会议有35个国家参加。第0项。"
    assert [f["source_span"] for f in paired[0]["findings"] if f["detector"] == "numbers"] == [[3, 5]]
    assert paired[10]["source_text"] is None and paired[10]["error"] is None  # no source: scored without
    assert paired[12]["error"] == "empty text" and paired[-1]["error"].startswith("invalid JSON")
    # a pair without its source scores as in a run without sources
    assert paired[10]["score"] == got["jsonl"][10]["score"]
    assert [r["source_text"] for r in got["tsv"]] == [s for s, _ in PAIRS]


def test_parquet_output_has_the_same_columns_and_keeps_source_spans(tmp_path, scorer):
    import pyarrow.parquet as pq

    src = pairs_jsonl(tmp_path / "pairs.jsonl", 20)
    js, pa_out = tmp_path / "o.jsonl", tmp_path / "o.parquet"
    for out in (js, pa_out):
        score_corpus([src], out, scorer, source_field="src", doc_field="doc", progress=False)
    assert pq.read_schema(pa_out).names == list(OUTPUT_FIELDS) == parquet_schema().names
    assert pq.read_table(pa_out).to_pylist() == lines_of(js)


def test_parquet_keeps_every_lm_feature_of_the_jsonl(tmp_path):
    import pyarrow.parquet as pq

    s = garble.Scorer(model=FakeLM(), detectors=["numbers", "repetition"], qe=False)  # QE-scored rows have no lm
    src = pairs_jsonl(tmp_path / "pairs.jsonl", 12)
    js, pa_out = tmp_path / "o.jsonl", tmp_path / "o.parquet"
    for out in (js, pa_out):
        score_corpus([src], out, s, source_field="src", progress=False)
    keys = [f.name for f in parquet_schema().field("lm").type]
    want = [{**r, "lm": r["lm"] and {k: r["lm"].get(k) for k in keys}} for r in lines_of(js)]
    assert pq.read_table(pa_out).to_pylist() == want
    assert set(want[0]["lm"]) >= {"slor", "context_mean_surprisal", "end_surprisal", "error_p_max"}


def test_a_parquet_source_column(tmp_path, scorer):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "in.parquet"
    pq.write_table(pa.table({"s": [s for s, _ in PAIRS[:3]] + [None], "t": [t for _, t in PAIRS[:4]]}), p)
    recs = list(iter_records(p, field="t", source_field="s"))
    assert [r.source_text for r in recs] == [s for s, _ in PAIRS[:3]] + [None]
    assert {r.source_lang for r in recs[:3]} == {"zh"} and recs[3].source_lang is None  # identified per file
    pq.write_table(pa.table({"s": [1, 2], "t": ["a", "b"]}), p)
    with pytest.raises(garble.errors.InputError, match="column 's' is int64, not a string column"):
        list(iter_records(p, field="t", source_field="s"))


# ---------------------------------------------------------------------------
# documents, batches, workers, the source language


def test_doc_field_with_sources_scores_and_ranks_documents(tmp_path, scorer):
    repeated = ("委员会周一批准了预算。", "The committee approved the budget on Monday.")
    rows = [
        {"doc": "a", "src": PAIRS[0][0], "text": PAIRS[0][1]},
        {"doc": "a", "src": repeated[0], "text": repeated[1]},
        {"doc": "a", "src": PAIRS[1][0], "text": PAIRS[1][1]},
        {"doc": "a", "src": repeated[0], "text": repeated[1]},
        {"doc": "b", "src": repeated[0], "text": repeated[1]},
        {"doc": "b", "src": PAIRS[5][0], "text": PAIRS[5][1]},
    ]
    p = tmp_path / "docs.jsonl"
    write_jsonl(p, rows)
    grouped, alone = tmp_path / "grouped.jsonl", tmp_path / "alone.jsonl"
    score_corpus([p], grouped, scorer, source_field="src", doc_field="doc", progress=False)
    score_corpus([p], alone, scorer, source_field="src", progress=False)
    g, a = lines_of(grouped), lines_of(alone)
    assert [r["doc"] for r in g] == ["a"] * 4 + ["b"] * 2 and all(r["doc"] is None for r in a)
    assert sorted(r["rank"] for r in g[:4]) == [1, 2, 3, 4] and sorted(r["rank"] for r in g[4:]) == [1, 2]
    assert all(r["rank"] is None for r in a)

    def kinds(r):
        return {f["kind"] for f in r["findings"]}

    # a document-level finding: the unit repeated within document a (not across documents, not without them)
    assert [("repeated_unit" in kinds(r)) for r in g] == [False, True, False, True, False, False]
    assert not any("repeated_unit" in kinds(r) for r in a)
    assert "changed" in kinds(g[0]) and "changed" in kinds(a[0])  # the source-aware findings either way
    for doc, recs in (("a", g[:4]), ("b", g[4:])):
        direct = scorer.score_units(
            [r["text"] for r in recs], doc_id=doc, sources=[r["source_text"] for r in recs], source_lang="zh"
        )
        assert [r["score"] for r in recs] == [round(u.score, 6) for u in direct.units]
        assert [r["rank"] for r in recs] == [u.rank for u in direct.units]
    direct = scorer.score_segments([r["text"] for r in a], [r["source_text"] for r in a], source_lang="zh")
    assert [r["score"] for r in a] == [round(u.score, 6) for u in direct]


@pytest.mark.parametrize("grouped", [False, True])
def test_scores_with_sources_do_not_depend_on_batch_size_or_workers(tmp_path, scorer, grouped):
    src = pairs_jsonl(tmp_path / "pairs.jsonl", 70)
    opts = dict(source_field="src", doc_field="doc" if grouped else None, progress=False)
    outs = []
    for b in (1, 7, 256):
        out = tmp_path / f"out{b}.jsonl"
        score_corpus([src], out, scorer, batch_size=b, **opts)
        outs.append(out.read_bytes())
    two = tmp_path / "two.jsonl"
    score_corpus([src], two, scorer, batch_size=7, workers=2, **opts)
    assert outs[0] == outs[1] == outs[2] == two.read_bytes()


@pytest.mark.lm
def test_real_lm_with_sources_matches_the_api(tmp_path, lm_scorer):
    src = pairs_jsonl(tmp_path / "pairs.jsonl", 12, docs=4)
    for grouped in (False, True):
        out = tmp_path / f"o{grouped}.jsonl"
        score_corpus([src], out, lm_scorer, source_field="src", doc_field="doc" if grouped else None, progress=False)
        rows = [r for r in lines_of(out) if r["error"] is None]
        if grouped:
            for doc in sorted({r["doc"] for r in rows}):
                recs = [r for r in rows if r["doc"] == doc]
                direct = lm_scorer.score_units(
                    [r["text"] for r in recs], doc_id=doc, sources=[r["source_text"] for r in recs]
                ).units
                assert [r["score"] for r in recs] == pytest.approx([u.score for u in direct], abs=1e-4)
        else:
            paired = [r for r in rows if r["source_text"]]
            direct = lm_scorer.score_segments(
                [r["text"] for r in paired], [r["source_text"] for r in paired], source_lang="zh"
            )
            assert [r["score"] for r in paired] == pytest.approx([u.score for u in direct], abs=1e-4)
            # the fluency LM reads the rows QE does not score (no source); a QE-scored row's score does not read it
            free = [r for r in rows if r["qe"] is None]
            assert free and all(r["lm"]["n_tokens"] > 0 and r["lm"]["rel_median"] == 0.0 for r in free)
            assert all(r["lm"] is None for r in rows if r["qe"] is not None)


def test_workers_with_sources_on_the_command_line(tmp_path):
    src = pairs_jsonl(tmp_path / "pairs.jsonl", 60)
    base = [str(src), "--source-field", "src", "--doc-field", "doc", "--no-lm", "-q", "-b", "8"]
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    r1 = garble_cli("score", *base, "-o", str(one), timeout=300)
    r2 = garble_cli("score", *base, "-o", str(two), "--workers", "2", timeout=300)
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr + r2.stderr
    assert one.read_bytes() == two.read_bytes() and len(lines_of(one)) == 61


def test_source_lang_passes_through(tmp_path):
    pytest.importorskip("lingua")
    p = tmp_path / "de.jsonl"
    write_jsonl(
        p,
        [
            {"src": "Der Vertrag wurde gestern in Berlin unterzeichnet.", "text": t}
            for t in ("The contract Vertrag wurde gestern in Berlin signed.", "The contract was signed in Berlin.")
        ],
    )
    out = {}
    for lang in (None, "de", "EN"):
        extra = ["--source-lang", lang] if lang else []
        r = garble_cli("score", str(p), "--source-field", "src", "-o", "-", "--no-lm", "-q", *extra, timeout=300)
        assert r.returncode == 0, r.stderr
        out[lang] = [json.loads(x) for x in r.stdout.splitlines()]

    def untranslated(recs):
        return [any(f["detector"] == "untranslated" for f in r["findings"]) for r in recs]

    assert untranslated(out[None]) == untranslated(out["de"]) == [True, False]  # identified: German
    assert untranslated(out["EN"]) == [False, False]  # an English source may share words with its translation


def test_the_source_language_is_one_per_file_whatever_the_chunks(tmp_path):
    p = pairs_jsonl(tmp_path / "pairs.jsonl", 30)
    recs = list(iter_records(p, source_field="src"))
    assert {r.source_lang for r in recs if r.source_text} == {"zh"}
    assert all(r.source_lang is None for r in recs if not r.source_text)
    # given: used as given (lowercase); with documents: left to score_units, per document
    assert {r.source_lang for r in iter_records(p, source_field="src", source_lang="zh") if r.source_text} == {"zh"}
    assert {r.source_lang for r in iter_records(p, source_field="src", doc_field="doc")} == {None}


# ---------------------------------------------------------------------------
# resume


@pytest.mark.parametrize("out_name,grouped", [("o.jsonl", False), ("o.jsonl", True), ("o.parquet", True)])
def test_resume_with_sources_is_byte_identical(tmp_path, scorer, out_name, grouped):
    src = pairs_jsonl(tmp_path / "pairs.jsonl", 90)
    opts = dict(source_field="src", doc_field="doc" if grouped else None, batch_size=10, progress=False)
    clean = tmp_path / ("clean-" + out_name)
    score_corpus([src], clean, scorer, **opts)

    # score_units calls before each of two interruptions
    interrupt_and_resume(src, tmp_path / out_name, clean, scorer, (4, 5) if grouped else (25, 22), opts)


def test_changing_the_source_options_refuses_to_resume(tmp_path, scorer):
    src = pairs_jsonl(tmp_path / "pairs.jsonl", 60)
    out = tmp_path / "o.jsonl"
    with pytest.raises(Interrupt):
        score_corpus([src], out, InterruptingScorer(30, model=False), source_field="src", batch_size=5, progress=False)
    with pytest.raises(UsageError, match="--source-field"):
        score_corpus([src], out, scorer, batch_size=5, progress=False)
    with pytest.raises(UsageError, match="--source-lang"):
        score_corpus([src], out, scorer, source_field="src", source_lang="ja", batch_size=5, progress=False)
    summary = score_corpus([src], out, scorer, source_field="src", batch_size=5, progress=False)
    assert summary.resumed > 0 and summary.records == 61


def test_cli_with_sources_killed_and_rerun_is_byte_identical(tmp_path):
    n = 1500
    src = pairs_jsonl(tmp_path / "in.jsonl", n, docs=5)
    base = [str(src), "--source-field", "src", "--doc-field", "doc", "--no-lm", "-q", "--batch-size", "10"]
    base += ["--detectors", "numbers,repetition,boilerplate"]
    clean = tmp_path / "clean.jsonl"
    r = garble_cli("score", *base, "-o", str(clean), timeout=300)
    assert r.returncode == 0, r.stderr

    out = tmp_path / "out.jsonl"
    state = Path(state_path(out))
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "garble", "score", *base, "--checkpoint-seconds", "0", "-o", str(out)]
    done = kill_after(cmd, env, state)
    assert 0 < done < n + 1 and not out.exists()

    r = garble_cli("score", *base, "-o", str(out), timeout=300)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == clean.read_bytes() and not state.exists()
    assert sum(1 for rec in lines_of(out) if rec["source_text"]) > n // 2
