"""Corpus scoring (garble.corpus, ``garble score``): readers, output, resume."""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import garble
from garble.corpus import (
    OUTPUT_FIELDS,
    Record,
    expand_inputs,
    iter_records,
    partial_path,
    read_parquet,
    score_corpus,
    state_path,
)
from garble.errors import InputError, OutputError, UsageError

REPO = Path(__file__).resolve().parent.parent

SENTENCES = [
    "It is legal and it is legal.",
    "The committee approved the budget on Monday.",
    "He said that that the river was was high.",
    "Water levels rose after the storm.",
    "The the report is ready.",
    "Mr. Smith went to Paris in May.",
    "She thanked everyone for coming.",
    "In conclusion, conclusion, we agree.",
]


@pytest.fixture(scope="module")
def scorer():
    return garble.Scorer(model=False)


def lines_of(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")


def corpus_txt(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write("" if i % 37 == 5 else f"{SENTENCES[i % len(SENTENCES)]} Item {i}.")
            f.write("\n")
    return path


# ---------------------------------------------------------------------------
# readers


def test_txt_records_every_line_incl_empty(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"\xef\xbb\xbfFirst line.\r\n\n   \nLast, no newline")
    recs = list(iter_records(p))
    assert [r.line for r in recs] == [1, 2, 3, 4]
    assert [r.text for r in recs] == ["First line.", "", "   ", "Last, no newline"]
    assert [r.error for r in recs] == [None, "empty line", "empty line", None]
    assert recs[0].id == f"{p}:1" and recs[0].source == str(p) and recs[0].doc is None


def test_txt_invalid_utf8_is_replaced_with_a_warning(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"ok\nbad \xff byte\n")
    warnings = []
    recs = list(iter_records(p, warn=warnings.append))
    assert recs[1].text == "bad \ufffd byte" and recs[1].error is None
    assert len(warnings) == 1 and f"{p}:2" in warnings[0]


def test_binary_file_is_an_input_error(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"abc\x00def\n")
    with pytest.raises(InputError) as e:
        list(iter_records(p))
    assert e.value.path == str(p)


def test_gz_and_multi_frame_zst(tmp_path):
    import zstandard

    gz = tmp_path / "a.txt.gz"
    with gzip.open(gz, "wb") as f:
        f.write(b"one\ntwo\n")
    zs = tmp_path / "b.jsonl.zst"
    c = zstandard.ZstdCompressor()
    zs.write_bytes(c.compress(b'{"text": "three"}\n') + c.compress(b'{"text": "four"}\n'))  # two frames
    recs = list(iter_records([gz, zs]))
    assert [r.text for r in recs] == ["one", "two", "three", "four"]
    assert [r.line for r in recs] == [1, 2, 1, 2]


def test_corrupt_gz_is_an_input_error(tmp_path):
    p = tmp_path / "a.txt.gz"
    p.write_bytes(gzip.compress(b"x\n" * 1000)[:-20])
    with pytest.raises(InputError):
        list(iter_records(p))


def test_directories_recursive_sorted_known_suffixes(tmp_path):
    d = tmp_path / "corpus"
    (d / "b" / "c").mkdir(parents=True)
    (d / ".hidden").mkdir()
    (d / "b" / "c" / "z.txt").write_text("z\n")
    (d / "b" / "a.jsonl.gz").write_bytes(gzip.compress(b'{"text": "a"}\n'))
    (d / "a.txt").write_text("first\n")
    (d / "notes.md").write_text("not an input\n")
    (d / ".secret.txt").write_text("hidden\n")
    (d / ".hidden" / "x.txt").write_text("hidden\n")
    (d / "out.jsonl.garble-partial").write_text("sidecar\n")
    files = expand_inputs([d])
    assert files == [str(d / "a.txt"), str(d / "b" / "a.jsonl.gz"), str(d / "b" / "c" / "z.txt")]
    assert [r.text for r in iter_records(d)] == ["first", "a", "z"]


def test_globs_and_missing_inputs(tmp_path):
    for name in ("b.txt", "a.txt", "c.jsonl"):
        (tmp_path / name).write_text('{"text": "x"}\n' if name.endswith("jsonl") else "x\n")
    assert expand_inputs([str(tmp_path / "*.txt")]) == [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    assert expand_inputs([str(tmp_path / "**" / "*.jsonl")]) == [str(tmp_path / "c.jsonl")]
    with pytest.raises(InputError, match="no input file matches"):
        expand_inputs([str(tmp_path / "*.parquet")])
    with pytest.raises(InputError, match="no such file"):
        expand_inputs([str(tmp_path / "missing.txt")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no input files"):
        expand_inputs([tmp_path / "empty"])


def test_jsonl_fields_and_error_records(tmp_path):
    p = tmp_path / "a.jsonl"
    write_jsonl(
        p,
        [
            {"id": 7, "doc": "d1", "text": "Good one."},
            {"id": "x", "doc": "d1", "meta": {"en": "Nested."}, "text": "ignored"},
            '{"id": 9, "text": "broken',
            "[1, 2]",
            {"id": 10, "doc": "d2"},
            {"id": 11, "doc": "d2", "text": None},
            {"id": 12, "doc": "d2", "text": 5},
            "",
            {"doc": "d2", "text": "No id."},
            {"id": 14, "text": "No doc."},
            {"id": 15, "doc": "d3", "text": "  "},
        ],
    )
    recs = list(iter_records(p, id_field="id", doc_field="doc"))
    assert [r.line for r in recs] == list(range(1, 12))
    assert recs[0] == Record(str(p), "7", 1, "d1", "Good one.", None)
    assert recs[1].id == "x" and recs[1].text == "ignored"
    assert recs[2].error.startswith("invalid JSON") and recs[2].id == f"{p}:3" and recs[2].text is None
    assert recs[3].error == "not a JSON object but an array"
    assert recs[4].error == "no field 'text'" and recs[4].doc == "d2"
    assert recs[5].error == "field 'text' is null"
    assert recs[6].error == "field 'text' is a number, not a string"
    assert recs[7].error == "empty line"
    assert recs[8].error == "no id field 'id'" and recs[8].text == "No id." and recs[8].id == f"{p}:9"
    assert recs[9].error == "no document field 'doc'"
    assert recs[10].error == "empty text"
    nested = list(iter_records(p, field="meta.en"))
    assert nested[1].text == "Nested." and nested[1].error is None
    assert nested[0].error == "no field 'meta.en'"


def test_parquet_reader(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "a.parquet"
    table = pa.table({"seg": ["One.", None, "", "Four."] * 3, "key": list(range(12)), "doc": ["a", "a", "b", "b"] * 3})
    pq.write_table(table, p, row_group_size=5)
    recs = list(iter_records(p, field="seg", id_field="key", doc_field="doc"))
    assert len(recs) == 12 and [r.line for r in recs] == list(range(1, 13))
    assert recs[0] == Record(str(p), "0", 1, "a", "One.", None)
    assert recs[1].error == "field 'seg' is null" and recs[2].error == "empty text"
    # skipping (resume) across row groups and read batches
    skipped = list(read_parquet(str(p), field="seg", skip=7, batch_rows=3))
    assert [r.line for r in skipped] == [8, 9, 10, 11, 12]
    with pytest.raises(InputError) as e:
        list(iter_records(p, field="text"))
    assert e.value.path == str(p) and "'text'" in str(e.value) and "seg" in str(e.value)
    with pytest.raises(InputError, match="not a string column"):
        list(iter_records(p, field="key"))


# ---------------------------------------------------------------------------
# scoring and output


def test_every_input_record_once_in_order(tmp_path, scorer):
    t = tmp_path / "a.txt"
    t.write_text("It is legal and it is legal.\n\nFine.\n", encoding="utf-8")
    j = tmp_path / "b.jsonl"
    write_jsonl(j, [{"text": "Hello there."}, "{oops", {"other": 1}, {"text": "The the cat."}])
    out = tmp_path / "out.jsonl"
    summary = score_corpus([t, j], out, scorer, batch_size=2, progress=False)
    rows = lines_of(out)
    assert [(r["source"], r["line"]) for r in rows] == [(str(t), 1), (str(t), 2), (str(t), 3)] + [
        (str(j), i) for i in range(1, 5)
    ]
    assert list(rows[0]) == list(OUTPUT_FIELDS)
    assert OUTPUT_FIELDS == (
        "source",
        "id",
        "line",
        "doc",
        "text",
        "source_text",
        "score",
        "rank",
        "findings",
        "lm",
        "qe",
        "error",
    )
    assert summary.records == 7 and summary.errors == 3 and summary.scored == 4
    for r in rows:
        assert r["rank"] is None and r["doc"] is None and r["lm"] is None
        assert (r["score"] is None) == (r["error"] is not None)
    assert rows[1]["error"] == "empty line" and rows[4]["error"].startswith("invalid JSON")
    # findings point into the record's own text
    f = rows[0]["findings"][0]
    assert f["detector"] == "repetition" and rows[0]["text"][f["start"] : f["end"]].startswith("It is legal")
    # a record without a document scores as a one-unit document, whatever its neighbours
    alone = scorer.score_units(["It is legal and it is legal."]).units[0]
    assert rows[0]["score"] == round(alone.score, 6)
    assert not os.path.exists(state_path(out)) and not os.path.exists(partial_path(out))


def test_scores_do_not_depend_on_batch_size(tmp_path, scorer):
    src = corpus_txt(tmp_path / "a.txt", 60)
    outs = []
    for b in (1, 7, 256):
        out = tmp_path / f"out{b}.jsonl"
        score_corpus([src], out, scorer, batch_size=b, progress=False)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]


def test_documents_are_ranked_within_themselves(tmp_path, scorer):
    p = tmp_path / "a.jsonl"
    rows = []
    for d in range(3):
        for i in range(4):
            rows.append({"doc": f"d{d}", "id": f"{d}-{i}", "text": SENTENCES[(d + i) % len(SENTENCES)]})
        rows.append({"doc": f"d{d}", "id": f"{d}-e", "text": ""})
    rows.insert(2, "not json")
    write_jsonl(p, rows)
    out = tmp_path / "out.jsonl"
    score_corpus([p], out, scorer, id_field="id", doc_field="doc", batch_size=3, progress=False)
    got = lines_of(out)
    assert len(got) == len(rows)
    for d in range(3):
        mine = [r for r in got if r["doc"] == f"d{d}" and r["error"] is None]
        assert sorted(r["rank"] for r in mine) == [1, 2, 3, 4]
        direct = scorer.score_units([r["text"] for r in mine], doc_id=f"d{d}")
        assert [r["score"] for r in mine] == [round(u.score, 6) for u in direct.units]
        assert [r["rank"] for r in mine] == [u.rank for u in direct.units]
    for r in got:
        if r["error"]:
            assert r["rank"] is None and r["score"] is None


def test_long_documents_are_split(tmp_path, scorer):
    p = tmp_path / "a.jsonl"
    write_jsonl(p, [{"doc": "big", "text": SENTENCES[i % len(SENTENCES)]} for i in range(10)])
    out = tmp_path / "out.jsonl"
    warnings = []
    score_corpus([p], out, scorer, doc_field="doc", max_doc_units=4, progress=False, warn=warnings.append)
    ranks = [r["rank"] for r in lines_of(out)]
    assert sorted(ranks[:4]) == [1, 2, 3, 4] and sorted(ranks[4:8]) == [1, 2, 3, 4] and sorted(ranks[8:]) == [1, 2]
    assert len(warnings) == 1 and "'big'" in warnings[0]


def test_parquet_in_and_out(tmp_path, scorer):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in.parquet"
    texts = [SENTENCES[i % len(SENTENCES)] if i % 9 else None for i in range(40)]
    pq.write_table(pa.table({"text": texts, "doc": [f"d{i // 10}" for i in range(40)]}), src, row_group_size=16)
    js, pa_out, pa_out2 = tmp_path / "o.jsonl", tmp_path / "o.parquet", tmp_path / "o2.parquet"
    for out in (js, pa_out, pa_out2):
        score_corpus([src], out, scorer, doc_field="doc", batch_size=8, progress=False)
    rows = pq.read_table(pa_out).to_pylist()
    want = lines_of(js)
    assert len(rows) == 40
    for r, w in zip(rows, want):
        if w["lm"] is None:
            assert r["lm"] is None
        assert {k: v for k, v in r.items() if k != "lm"} == {k: v for k, v in w.items() if k != "lm"}
    assert pa_out.read_bytes() == pa_out2.read_bytes()
    assert pq.read_schema(pa_out).names == list(OUTPUT_FIELDS)


def test_compressed_jsonl_output(tmp_path, scorer):
    src = corpus_txt(tmp_path / "a.txt", 30)
    plain, gz, zs = tmp_path / "o.jsonl", tmp_path / "o.jsonl.gz", tmp_path / "o.jsonl.zst"
    for out in (plain, gz, zs):
        score_corpus([src], out, scorer, batch_size=4, progress=False)
    import zstandard

    assert gzip.decompress(gz.read_bytes()) == plain.read_bytes()
    reader = zstandard.ZstdDecompressor().stream_reader(zs.read_bytes(), read_across_frames=True)
    assert reader.read() == plain.read_bytes()


def test_stdout_output(tmp_path, scorer, capfdbinary):
    src = corpus_txt(tmp_path / "a.txt", 5)
    score_corpus([src], "-", scorer, progress=False)
    out = capfdbinary.readouterr().out.decode()
    assert len(out.splitlines()) == 5
    assert not list(tmp_path.glob("*garble*"))


def test_output_errors(tmp_path, scorer):
    src = corpus_txt(tmp_path / "a.txt", 3)
    with pytest.raises(UsageError, match="also an input"):
        score_corpus([src], src, scorer, progress=False)
    with pytest.raises(OutputError, match="folder does not exist"):
        score_corpus([src], tmp_path / "nope" / "o.jsonl", scorer, progress=False)
    with pytest.raises(UsageError):
        score_corpus([src], "-", scorer, fmt="parquet", progress=False)


def test_a_second_run_on_the_same_output_is_refused(tmp_path, scorer):
    src = corpus_txt(tmp_path / "a.txt", 3)
    out = tmp_path / "o.jsonl"
    with open(partial_path(out), "wb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(OutputError, match="another garble run"):
            score_corpus([src], out, scorer, progress=False)


class FakeLM:
    """Deterministic per-word surprisals; counts calls."""

    name = "fake"

    def __init__(self):
        self.calls = 0

    def score(self, texts, contexts=None):
        from garble.lm import TokenScores

        self.calls += 1
        out = []
        for i, t in enumerate(texts):
            c = contexts[i] if contexts is not None else None
            spans = [m.span() for m in re.finditer(r"\S+", t)]
            vals = tuple(float(len(t[a:b]) % 7) + (0.25 if c else 0.0) + 0.01 * len(c or "") for a, b in spans)
            out.append(TokenScores(vals, tuple(spans)))
        return out


@pytest.mark.parametrize("grouped", [False, True])
def test_lm_is_called_once_per_chunk_and_matches_score_units(tmp_path, grouped):
    lm = FakeLM()
    s = garble.Scorer(model=lm, detectors=[])
    p = tmp_path / "a.jsonl"
    write_jsonl(p, [{"doc": f"d{i // 5}", "text": SENTENCES[i % len(SENTENCES)]} for i in range(20)])
    out = tmp_path / "o.jsonl"
    score_corpus([p], out, s, doc_field="doc" if grouped else None, batch_size=10, progress=False)
    assert lm.calls == 2
    rows = lines_of(out)
    direct = garble.Scorer(model=FakeLM(), detectors=[])
    groups = [rows[i : i + 5] for i in range(0, 20, 5)] if grouped else [[r] for r in rows]
    for g in groups:
        res = direct.score_units([r["text"] for r in g])
        for r, u in zip(g, res.units):
            assert r["score"] == round(u.score, 6)
            want = u.lm.to_dict()
            want["max_span"] = [u.lm.max_span[0] - u.start, u.lm.max_span[1] - u.start]
            assert r["lm"] == want


@pytest.mark.lm
def test_real_lm_matches_score_units(tmp_path, lm_scorer):
    p = tmp_path / "a.jsonl"
    write_jsonl(
        p,
        [{"doc": f"d{i // 4}", "text": SENTENCES[i % len(SENTENCES)]} for i in range(8)]
        + [{"doc": "d2", "text": "The the report is is ready."}],
    )
    out = tmp_path / "o.jsonl"
    score_corpus([p], out, lm_scorer, doc_field="doc", batch_size=4, progress=False)
    rows = lines_of(out)
    for g in (rows[0:4], rows[4:8]):
        res = lm_scorer.score_units([r["text"] for r in g])
        for r, u in zip(g, res.units):
            assert r["score"] == pytest.approx(u.score, abs=1e-4)
            assert r["lm"]["n_tokens"] == u.lm.n_tokens and r["rank"] is not None
    assert rows[8]["rank"] == 1 and rows[8]["lm"]["rel_median"] == 0.0  # a one-unit document


def test_workers_give_the_same_output(tmp_path, scorer):
    src = corpus_txt(tmp_path / "a.txt", 80)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    score_corpus([src], one, scorer, batch_size=10, progress=False)
    score_corpus([src], two, scorer, batch_size=10, progress=False, workers=2)
    assert one.read_bytes() == two.read_bytes()


def test_a_detector_crash_becomes_an_error_record(tmp_path):
    class Crashy:  # duck-typed: a Detector subclass would join the global registry
        name = "crashy_test_only"

        def detect(self, doc):
            if "boom" in doc.text:
                raise ValueError("kaboom")
            return iter(())

    s = garble.Scorer(model=False, detectors=[Crashy()])
    p = tmp_path / "a.jsonl"
    write_jsonl(p, [{"doc": "d", "text": "fine"}, {"doc": "d", "text": "boom"}, {"doc": "d", "text": "also fine"}])
    out = tmp_path / "o.jsonl"
    warnings = []
    score_corpus([p], out, s, doc_field="doc", progress=False, warn=warnings.append)
    rows = lines_of(out)
    assert [r["error"] is None for r in rows] == [True, False, True]
    assert "kaboom" in rows[1]["error"] and len(warnings) == 1


# ---------------------------------------------------------------------------
# resume


class Interrupt(BaseException):
    """Stands in for a kill: nothing catches it."""


class InterruptingScorer(garble.Scorer):
    def __init__(self, after: int, **kw):
        super().__init__(**kw)
        self.after = after
        self.n = 0

    def score_units(self, units, doc_id="", **kw):
        self.n += 1
        if self.n > self.after:
            raise Interrupt()
        return super().score_units(units, doc_id, **kw)


@pytest.mark.parametrize(
    "out_name,grouped", [("o.jsonl", False), ("o.jsonl", True), ("o.parquet", True), ("o.jsonl.gz", False)]
)
def test_resume_after_interrupt_is_byte_identical(tmp_path, scorer, out_name, grouped):
    src = tmp_path / "a.jsonl"
    write_jsonl(
        src,
        [{"doc": f"d{i // 6}", "text": SENTENCES[i % len(SENTENCES)] if i % 11 else ""} for i in range(90)] + ["{bad"],
    )
    opts = dict(doc_field="doc" if grouped else None, batch_size=10, progress=False)
    clean = tmp_path / ("clean-" + out_name)
    score_corpus([src], clean, scorer, **opts)

    # scorer calls (documents) before each of two interruptions
    interrupt_and_resume(src, tmp_path / out_name, clean, scorer, (3, 4) if grouped else (25, 22), opts)


def interrupt_and_resume(src, out, clean, scorer, afters, opts, records: int = 91) -> None:
    """Interrupt ``score_corpus`` after each count of scorer calls in ``afters`` (each run getting further, never
    leaving a final output), tear the partial file after its checkpoint, then resume with ``scorer``: the output
    equals ``clean`` byte for byte and no checkpoint files are left."""
    progress = 0
    for after in afters:
        with pytest.raises(Interrupt):
            score_corpus([src], out, InterruptingScorer(after, model=False), checkpoint_seconds=0, **opts)
        assert not out.exists()  # never a half-written final output
        state = json.loads(Path(state_path(out)).read_text())
        assert 0 < state["records"] < records and not state["complete"]
        assert state["records"] > progress
        progress = state["records"]
    with open(partial_path(out), "ab") as f:  # a torn chunk after the checkpoint
        f.write(b'{"source": "torn')
    summary = score_corpus([src], out, scorer, **opts)
    assert summary.resumed > 0 and summary.records == records
    assert out.read_bytes() == clean.read_bytes()
    assert not os.path.exists(state_path(out)) and not os.path.exists(partial_path(out))


@pytest.mark.parametrize("out_name", ["o.jsonl", "o.parquet"])
def test_interrupted_while_publishing(tmp_path, scorer, monkeypatch, out_name):
    from garble.corpus import output
    from garble.corpus.checkpoint import Checkpoint

    src = corpus_txt(tmp_path / "a.txt", 30)
    clean = tmp_path / ("clean-" + out_name)
    score_corpus([src], clean, scorer, batch_size=7, progress=False)
    out = tmp_path / out_name
    # killed after the output was renamed into place, before the checkpoint was removed
    monkeypatch.setattr(Checkpoint, "remove", lambda self: (_ for _ in ()).throw(Interrupt()))
    with pytest.raises(Interrupt):
        score_corpus([src], out, scorer, batch_size=7, progress=False)
    monkeypatch.undo()
    assert out.read_bytes() == clean.read_bytes() and os.path.exists(state_path(out))
    summary = score_corpus([src], out, scorer, batch_size=7, progress=False)
    assert summary.records == 30 and out.read_bytes() == clean.read_bytes() and not os.path.exists(state_path(out))
    out.unlink()
    # killed before the output was published (Parquet: while converting)
    if out_name.endswith(".parquet"):
        monkeypatch.setattr(output, "jsonl_to_parquet", lambda *a: (_ for _ in ()).throw(Interrupt()))
    else:
        monkeypatch.setattr(
            output.os,
            "replace",
            lambda a, b: (_ for _ in ()).throw(Interrupt()) if a.endswith(".garble-partial") else os.rename(a, b),
        )
    with pytest.raises(Interrupt):
        score_corpus([src], out, scorer, batch_size=7, progress=False)
    monkeypatch.undo()
    assert not out.exists() and json.loads(Path(state_path(out)).read_text())["complete"]
    summary = score_corpus([src], out, scorer, batch_size=7, progress=False)
    assert summary.resumed == 30 and out.read_bytes() == clean.read_bytes()
    assert not os.path.exists(state_path(out)) and not os.path.exists(partial_path(out))


def test_a_checkpoint_without_its_partial_output_starts_over(tmp_path, scorer):
    src = corpus_txt(tmp_path / "a.txt", 30)
    out = tmp_path / "o.jsonl"
    with pytest.raises(Interrupt):
        score_corpus(
            [src], out, InterruptingScorer(12, model=False), batch_size=5, progress=False, checkpoint_seconds=0
        )
    os.unlink(partial_path(out))
    warnings = []
    summary = score_corpus([src], out, scorer, batch_size=5, progress=False, warn=warnings.append)
    assert summary.resumed == 0 and summary.records == 30 and "missing" in warnings[0]


def test_changed_inputs_or_options_refuse_to_resume(tmp_path, scorer):
    src = corpus_txt(tmp_path / "a.txt", 50)
    out = tmp_path / "o.jsonl"
    with pytest.raises(Interrupt):
        score_corpus(
            [src], out, InterruptingScorer(20, model=False), batch_size=5, progress=False, checkpoint_seconds=0
        )
    with pytest.raises(UsageError, match="--batch-size") as e:
        score_corpus([src], out, scorer, batch_size=6, progress=False)
    assert "--restart" in str(e.value)
    with open(src, "a") as f:
        f.write("One more line.\n")
    with pytest.raises(UsageError, match="size or modification time"):
        score_corpus([src], out, scorer, batch_size=5, progress=False)
    summary = score_corpus([src], out, scorer, batch_size=5, progress=False, resume=False)
    assert summary.resumed == 0 and summary.records == 51
    clean = tmp_path / "clean.jsonl"
    score_corpus([src], clean, scorer, batch_size=5, progress=False)
    assert out.read_bytes() == clean.read_bytes()


def _garble_score_cmd() -> list[str]:
    return [sys.executable, "-m", "garble", "score"]


def test_cli_killed_and_rerun_is_byte_identical(tmp_path):
    n = 1500
    src = corpus_txt(tmp_path / "in.txt", n)
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    base = _garble_score_cmd() + [
        str(src),
        "--no-lm",
        "--detectors",
        "repetition,punctuation",
        "--batch-size",
        "10",
        "--quiet",
    ]

    clean = tmp_path / "clean.jsonl"  # checkpoints once a second (the default); they do not change the output
    r = subprocess.run(base + ["-o", str(clean)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    base += ["--checkpoint-seconds", "0"]  # a checkpoint after every batch: killed between or inside them

    out = tmp_path / "out.jsonl"
    state = Path(state_path(out))
    done = kill_after(base + ["-o", str(out)], env, state)
    assert 0 < done < n
    assert not out.exists()

    r = subprocess.run(base + ["-o", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == clean.read_bytes()
    assert not state.exists()


def test_cli_errors_are_one_line_with_exit_codes(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = _garble_score_cmd()
    r = subprocess.run(
        cmd + [str(tmp_path / "missing.txt"), "-o", str(tmp_path / "o.jsonl"), "--no-lm"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 3 and r.stderr.strip() == f"garble: error: {tmp_path / 'missing.txt'}: no such file"
    p = tmp_path / "a.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"seg": ["x"]}), p)
    r = subprocess.run(
        cmd + [str(p), "-o", str(tmp_path / "o.jsonl"), "--no-lm"], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 3 and "no text column 'text'" in r.stderr and str(p) in r.stderr


# ---------------------------------------------------------------------------
# feedback: the first chunks ramp up, resuming says so, the bar's total is counted at once


def test_first_chunks_ramp_up_and_a_resumed_run_cuts_the_same_chunks(tmp_path):
    from garble.corpus import FIRST_CHUNK
    from garble.corpus.chunking import chunk_records
    from garble.corpus.readers import positioned

    src = corpus_txt(tmp_path / "a.txt", 600)
    chunks = list(chunk_records(positioned([str(src)], (0, 0)), 256, False, 10000, print))
    sizes = [c.n for c in chunks]
    assert sizes == [FIRST_CHUNK, 16, 32, 64, 128, 256, 600 - 512]
    # resuming after any chunk (as a checkpoint does) gives the rest of the same chunks
    done = 0
    for k, c in enumerate(chunks[:-1]):
        done += c.n
        rest = list(chunk_records(positioned([str(src)], c.end), 256, False, 10000, print, done=done))
        assert [(r.n, r.end) for r in rest] == [(x.n, x.end) for x in chunks[k + 1 :]]
    # a batch size under the first chunk's is used as it is
    assert {c.n for c in chunk_records(positioned([str(src)], (0, 0)), 5, False, 10000, print)} == {5}


def test_a_resumed_run_says_where_it_resumes(tmp_path, scorer, capsys):
    src = corpus_txt(tmp_path / "a.txt", 30)
    out = tmp_path / "o.jsonl"
    with pytest.raises(Interrupt):
        score_corpus(
            [src], out, InterruptingScorer(12, model=False), batch_size=5, progress=False, checkpoint_seconds=0
        )
    capsys.readouterr()
    summary = score_corpus([src], out, scorer, batch_size=5, progress=True)
    err = capsys.readouterr().err
    assert summary.resumed == 10
    assert (
        f"garble: resuming at record 11 (10 done by an earlier run, checkpointed in {state_path(out)})"
        in err.splitlines()
    )
    with pytest.raises(Interrupt):
        score_corpus(
            [src],
            tmp_path / "p.jsonl",
            InterruptingScorer(2, model=False),
            batch_size=5,
            progress=False,
            checkpoint_seconds=0,
        )
    score_corpus([src], tmp_path / "p.jsonl", scorer, batch_size=5, progress=False)  # progress=False (--quiet): no line
    assert "resuming" not in capsys.readouterr().err


def test_the_total_of_small_inputs_is_counted_before_the_bar_starts(tmp_path):
    from garble.corpus.progress import Counter

    src = corpus_txt(tmp_path / "a.txt", 123)
    jl = tmp_path / "b.jsonl"
    write_jsonl(jl, [{"text": "x"}] * 7)
    c = Counter([str(src), str(jl)], "auto")
    assert c.ready and c.total == 130


def test_a_document_whose_records_are_not_consecutive_is_an_error_naming_the_line(tmp_path):
    s = garble.Scorer(model=False)
    p = tmp_path / "a.jsonl"
    write_jsonl(
        p,
        [
            {"doc": "d1", "text": "One."},
            {"doc": "d1", "text": "Two."},
            {"doc": "d2", "text": "Three."},
            {"doc": "d1", "text": "Four."},
        ],
    )
    with pytest.raises(InputError) as e:
        score_corpus([p], tmp_path / "o.jsonl", s, doc_field="doc", progress=False)
    assert e.value.line == 4 and str(p) in str(e.value.path) and "appears again" in str(e.value)
    # consecutive records, and the same doc value in another file, are fine
    q = tmp_path / "b.jsonl"
    write_jsonl(q, [{"doc": "d1", "text": "Five."}])
    write_jsonl(p, [{"doc": "d1", "text": "One."}, {"doc": "d2", "text": "Three."}])
    score_corpus([p, q], tmp_path / "o2.jsonl", s, doc_field="doc", progress=False)
    assert len(lines_of(tmp_path / "o2.jsonl")) == 3


def kill_after(cmd: list, env: dict, state: Path, records: int = 200) -> int:
    """Run ``cmd``, SIGKILL it once its checkpoint ``state`` counts ``records`` records; the count it reached."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            done = json.loads(state.read_text())["records"]
        except (OSError, ValueError, KeyError):
            done = 0
        if done >= records:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return done
