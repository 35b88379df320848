"""Robustness: bad input gets a clear one-line error (or a per-record error entry),
nothing is lost, the length limits hold, odd text is handled, the library is
thread-safe and raises typed errors. docs/FAILURE_MODES.md documents all of it."""

from __future__ import annotations

import errno
import gzip
import json
import os
import random
import stat
import subprocess
import sys
import threading
import time
import unicodedata

import pytest
from conftest import _have_lm

import garble
import garble.cli
import garble.io
from garble.errors import GarbleError, OutputError, UsageError
from garble.segment import MAX_PARAGRAPH_CHARS, MAX_SENTENCE_CHARS, segment

WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they "
    "you were their one all we can her has there been if more when will would who so no"
).split()


def words_text(n_chars: int, seed: int = 0) -> str:
    """``n_chars`` of lowercase words, no punctuation, no line break."""
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(n_chars // 3 + 1))[:n_chars].strip()


def run_cli(*args, input=None):
    """The command as a user runs it (a subprocess)."""
    return subprocess.run([sys.executable, "-m", "garble", *args], capture_output=True, text=True, input=input)


def main(argv, capsys):
    """The command in-process: (exit code, stdout, stderr)."""
    code = garble.cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, code: int, expected_code: int, msg: str) -> None:
    assert code == expected_code, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("garble: error: ")]
    assert len(errors) == 1, err
    assert msg in errors[0], err


# ---------------------------------------------------------------------------
# 1. bad input: one line naming the file, the documented exit code


def _setup(tmp):
    (tmp / "doc.txt").write_text("The harbour was quiet that morning. The the boats stayed in.\n", encoding="utf-8")
    (tmp / "folder").mkdir()
    (tmp / "b.bin").write_bytes(b"\x00\x01\x02binary\x00")
    (tmp / "u16.txt").write_bytes("Hello there.".encode("utf-16"))
    (tmp / "bad.txt.gz").write_bytes(b"not gzip at all")
    good = gzip.compress(b"hello world " * 1000)
    (tmp / "corrupt.txt.gz").write_bytes(good[:20] + bytes(30) + good[50:])
    (tmp / "bad.txt.zst").write_bytes(b"not zstd")
    (tmp / "w.json").write_text('{"bias": 1, "detectors": [1, 2]}', encoding="utf-8")
    (tmp / "notjson.json").write_text("{bias", encoding="utf-8")
    (tmp / "nan.json").write_text('{"bias": NaN}', encoding="utf-8")


BAD_INPUT = [
    # id, args ({t} = the test folder), exit code, message
    ("missing file", ["rank", "{t}/missing.txt", "--no-lm"], 3, "{t}/missing.txt: no such file"),
    ("directory", ["rank", "{t}/folder", "--no-lm"], 3, "{t}/folder: is a directory, not a file"),
    ("binary", ["rank", "{t}/b.bin", "--no-lm"], 3, "{t}/b.bin: binary file (NUL bytes), not text"),
    ("utf-16", ["rank", "{t}/u16.txt", "--no-lm"], 3, "{t}/u16.txt: UTF-16 text, not UTF-8"),
    ("not gzip", ["rank", "{t}/bad.txt.gz", "--no-lm"], 3, "{t}/bad.txt.gz: cannot read: Not a gzipped file"),
    ("corrupt gzip", ["rank", "{t}/corrupt.txt.gz", "--no-lm"], 3, "{t}/corrupt.txt.gz: cannot read:"),
    ("corrupt zstd", ["rank", "{t}/bad.txt.zst", "--no-lm"], 3, "{t}/bad.txt.zst: cannot read:"),
    ("unknown detector", ["rank", "{t}/doc.txt", "--no-lm", "--detectors", "nope"], 2, "unknown detector 'nope'"),
    (
        "missing weights",
        ["rank", "{t}/doc.txt", "--no-lm", "--weights", "{t}/none.json"],
        2,
        "cannot read scorer weights",
    ),
    (
        "weights not JSON",
        ["rank", "{t}/doc.txt", "--no-lm", "--weights", "{t}/notjson.json"],
        2,
        "{t}/notjson.json: cannot read scorer weights",
    ),
    (
        "weights of the wrong shape",
        ["rank", "{t}/doc.txt", "--no-lm", "--weights", "{t}/w.json"],
        2,
        "{t}/w.json: malformed scorer weights",
    ),
    (
        "weights not finite",
        ["rank", "{t}/doc.txt", "--no-lm", "--weights", "{t}/nan.json"],
        2,
        "{t}/nan.json: malformed scorer weights: every weight must be a finite number",
    ),
    (
        "output folder missing",
        ["rank", "{t}/doc.txt", "--no-lm", "-o", "{t}/no/such/out.txt"],
        5,
        "{t}/no/such/out.txt: output folder does not exist",
    ),
    ("output is a folder", ["rank", "{t}/doc.txt", "--no-lm", "-o", "{t}/folder"], 5, "{t}/folder: is a directory"),
    (
        "report output is a folder",
        ["report", "{t}/doc.txt", "--no-lm", "-o", "{t}/folder"],
        5,
        "{t}/folder: is a directory",
    ),
    ("score: missing file", ["score", "{t}/missing.txt", "--no-lm", "-o", "-"], 3, "{t}/missing.txt: no such file"),
    (
        "score: folder without inputs",
        ["score", "{t}/folder", "--no-lm", "-o", "-"],
        3,
        "{t}/folder: no input files in this folder",
    ),
    (
        "score: binary",
        ["score", "{t}/b.bin", "--no-lm", "-o", "-", "--input-format", "txt"],
        3,
        "{t}/b.bin:1: binary file (NUL bytes), not text",
    ),
    (
        "score: output folder missing",
        ["score", "{t}/doc.txt", "--no-lm", "-o", "{t}/no/such/out.jsonl"],
        5,
        "{t}/no/such/out.jsonl: output folder does not exist",
    ),
]


@pytest.mark.parametrize("args,code,msg", [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_one_line_with_its_exit_code(tmp_path, capsys, args, code, msg):
    _setup(tmp_path)
    got, _, err = main([a.replace("{t}", str(tmp_path)) for a in args], capsys)
    assert_one_line_error(err, got, code, msg.replace("{t}", str(tmp_path)))
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []  # no half-written output


@pytest.mark.skipif(not _have_lm(), reason="needs torch/transformers")
@pytest.mark.parametrize(
    "args,code,msg",
    [
        (["--model", "{t}/no-such-model"], 4, "cannot load model"),
        (["--model", "{t}/m.gguf"], 4, "no such GGUF file"),
        (["--model", "{t}/folder"], 4, "cannot load model"),
        (["--device", "nonsense"], 2, "unknown device 'nonsense'"),
        (["--dtype", "int3"], 4, "unknown dtype 'int3'"),
    ],
    ids=["model path missing", "gguf missing", "model folder empty", "bad device", "bad dtype"],
)
def test_model_errors(tmp_path, capsys, args, code, msg):
    _setup(tmp_path)
    got, _, err = main(["rank", tmp_path / "doc.txt", *[a.replace("{t}", str(tmp_path)) for a in args]], capsys)
    assert_one_line_error(err, got, code, msg)


@pytest.mark.parametrize(
    "content,warning",
    [
        (b"Fine line.\nBad \xff byte here.\n", "{p}:2: invalid UTF-8 at byte 4 of the line, replaced with U+FFFD"),
        (b"", "{p}: empty document (no units)"),
        (b"\n\n   \n\t\n", "{p}: empty document (no units)"),
        (b"\xef\xbb\xbf", "{p}: empty document (no units)"),
    ],
    ids=["invalid utf-8", "empty file", "only blank lines", "only a BOM"],
)
def test_warnings_do_not_stop_the_run(tmp_path, capsys, content, warning):
    p = tmp_path / "in.txt"
    p.write_bytes(content)
    code, out, err = main(["rank", p, "--no-lm", "-f", "jsonl"], capsys)
    assert code == 0, err
    assert f"garble: warning: {warning.format(p=p)}" in err.splitlines()
    recs = [json.loads(line) for line in out.splitlines()]
    assert all(r["text"] == content.decode("utf-8", "replace")[r["start"] : r["end"]] for r in recs)
    if content.startswith(b"Fine"):
        assert [r["text"] for r in sorted(recs, key=lambda r: r["unit"])] == ["Fine line.", "Bad \ufffd byte here."]
        assert any(f["kind"] == "replacement_char" for r in recs for f in r["findings"])  # the damage is flagged too


def test_many_bad_lines_give_a_bounded_number_of_warnings(tmp_path, capsys):
    p = tmp_path / "in.txt"
    p.write_bytes(b"bad \xff line.\n" * 1000)
    code, _, err = main(["rank", p, "--no-lm", "-f", "tsv", "-o", tmp_path / "o.tsv"], capsys)
    assert code == 0
    warnings = [line for line in err.splitlines() if "invalid UTF-8" in line or "not listed" in line]
    assert len(warnings) == 21 and warnings[-1].endswith("more invalid UTF-8 lines not listed")


def test_jsonl_batch_errors_are_records_not_failures(tmp_path, capsys):
    """garble score: a bad record is an output record with the reason in "error"; nothing is lost."""
    p = tmp_path / "c.jsonl"
    p.write_text(
        '{"text": "Fine line here."}\n{"text": broken\n{"body": "no text field"}\n\n[1,2]\n'
        '{"text": null}\n{"text": 5}\n{"text": "   "}\n{"text": "Bad \\udc80 surrogate."}\n',
        encoding="utf-8",
    )
    out = tmp_path / "o.jsonl"
    code, _, err = main(["score", p, "--no-lm", "-q", "-o", out], capsys)
    assert code == 0, err
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in recs] == list(range(1, 10))  # one output record per input line, in order
    assert [r["error"] for r in recs] == [
        None,
        "invalid JSON: Expecting value (column 10)",
        "no field 'text'",
        "empty line",
        "not a JSON object but an array",
        "field 'text' is null",
        "field 'text' is a number, not a string",
        "empty text",
        None,
    ]
    for r in recs:
        if r["error"]:
            assert r["score"] is None and r["rank"] is None and r["findings"] == [] and r["lm"] is None
        else:
            assert 0.0 <= r["score"] <= 1.0
    assert recs[-1]["text"] == "Bad \ufffd surrogate."  # a lone surrogate escape cannot break the output


def test_text_corpus_bad_bytes_and_empty_lines(tmp_path, capsys):
    p = tmp_path / "c.txt"
    p.write_bytes(b"First line.\n\nBad \xfe byte.\n")
    code, out, err = main(["score", p, "--no-lm", "-q", "-o", "-"], capsys)
    assert code == 0, err
    assert f"garble: warning: {p}:3: invalid UTF-8 at byte 4 of the line, replaced with U+FFFD" in err
    recs = [json.loads(line) for line in out.splitlines()]
    assert [(r["line"], r["error"]) for r in recs] == [(1, None), (2, "empty line"), (3, None)]
    assert recs[2]["text"] == "Bad \ufffd byte."


def test_parquet_without_the_column(tmp_path, capsys):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    p = tmp_path / "c.parquet"
    pq.write_table(pa.table({"body": ["a", "b"]}), p)
    code, _, err = main(["score", p, "--no-lm", "-q", "-o", "-"], capsys)
    assert_one_line_error(err, code, 3, f"{p}: no text column 'text' (columns: body)")
    bad = tmp_path / "junk.parquet"
    bad.write_bytes(b"PAR1 not really")
    code, _, err = main(["score", bad, "--no-lm", "-q", "-o", "-"], capsys)
    assert_one_line_error(err, code, 3, f"{bad}: not a readable Parquet file")


# full disk, closed or full standard output


class _FullDisk:
    """A file object whose writes fail as on a full disk."""

    def __init__(self, fh):
        self.fh = fh

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


@pytest.mark.parametrize("command", ["rank", "report"])
def test_full_disk_is_an_output_error_and_leaves_nothing(tmp_path, capsys, monkeypatch, command):
    (tmp_path / "doc.txt").write_text("One sentence here. The the second one.\n", encoding="utf-8")
    real = garble.io._fdopen
    monkeypatch.setattr(garble.io, "_fdopen", lambda fd, mode: _FullDisk(real(fd, mode)))
    out = tmp_path / "out.html"
    code, _, err = main([command, tmp_path / "doc.txt", "--no-lm", "-o", out], capsys)
    assert_one_line_error(err, code, 5, f"{out}: cannot write: No space left on device")
    assert sorted(os.listdir(tmp_path)) == ["doc.txt"]  # no output, no temporary file


def test_full_disk_in_garble_score_write(tmp_path, monkeypatch):
    import builtins

    import garble.corpus as corpus
    from garble.corpus import output

    (tmp_path / "in.txt").write_text("One line here.\nAnother line.\n", encoding="utf-8")
    real_open = builtins.open

    def fake_open(path, mode="r", *a, **k):
        fh = real_open(path, mode, *a, **k)
        return _FullDisk(fh) if str(path).endswith(corpus.PARTIAL_SUFFIX) else fh

    monkeypatch.setattr(output, "open", fake_open, raising=False)
    with pytest.raises(OutputError, match="No space left on device"):
        corpus.score_corpus(
            [str(tmp_path / "in.txt")], str(tmp_path / "out.jsonl"), garble.Scorer(model=False), progress=False
        )
    assert not (tmp_path / "out.jsonl").exists()


def test_full_disk_in_garble_score_checkpoint(tmp_path, monkeypatch):
    import tempfile

    import garble.corpus as corpus

    (tmp_path / "in.txt").write_text("One line here.\nAnother line.\n", encoding="utf-8")

    def no_space(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", no_space)
    with pytest.raises(OutputError, match="No space left on device") as e:
        corpus.score_corpus(
            [str(tmp_path / "in.txt")], str(tmp_path / "out.jsonl"), garble.Scorer(model=False), progress=False
        )
    assert e.value.path.endswith("out.jsonl.garble-state.json")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ["rank", "{doc}", "--no-lm", "-f", "jsonl"],
        ["rank", "{doc}", "--no-lm", "-o", "/dev/full"],
        ["score", "{doc}", "--no-lm", "-q", "-o", "-"],
    ],
    ids=["rank to stdout", "rank -o /dev/full", "score to stdout"],
)
def test_dev_full(tmp_path, args):
    doc = tmp_path / "doc.txt"
    doc.write_text("One sentence here. The the second one.\n" * 2000, encoding="utf-8")
    argv = [a.replace("{doc}", str(doc)) for a in args]
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "garble", *argv], stdout=full, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 5, r.stderr
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr
    assert "No space left on device" in r.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_output_to_a_device_is_written_in_place(tmp_path, capsys):
    """-o /dev/null must not rename a temporary file over the device (as root it could)."""
    (tmp_path / "doc.txt").write_text("One sentence here.\n", encoding="utf-8")
    code, _, err = main(["rank", tmp_path / "doc.txt", "--no-lm", "-o", os.devnull], capsys)
    assert code == 0, err
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_interrupt_is_130(tmp_path, capsys, monkeypatch):
    (tmp_path / "doc.txt").write_text("One sentence here.\n", encoding="utf-8")

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(garble.api.Scorer, "score_document", interrupted)
    code, _, err = main(["rank", tmp_path / "doc.txt", "--no-lm"], capsys)
    assert code == 130 and "Traceback" not in err  # typer turns Ctrl-C inside a command into a quiet exit 130


# ---------------------------------------------------------------------------
# 2. limits


def _check_units(text, units):
    prev = 0
    for i, u in enumerate(units):
        assert u.index == i and text[u.start : u.end] == u.text and u.text == u.text.strip() and u.text
        assert u.start >= prev
        prev = u.end
    covered = bytearray(len(text))
    for u in units:
        covered[u.start : u.end] = b"\x01" * (u.end - u.start)
    assert all(covered[i] or c.isspace() for i, c in enumerate(text))


def test_long_paragraph_without_punctuation_is_split_and_reported():
    text = "Before it. " + words_text(50_000) + ". After it."
    t0 = time.monotonic()
    units = segment(text)
    assert time.monotonic() - t0 < 10
    _check_units(text, units)
    assert max(len(u.text) for u in units) <= MAX_SENTENCE_CHARS
    assert units[0].text == "Before it." and not units[0].split
    assert units[-1].text == "After it." and not units[-1].split
    middle = units[1:-1]
    assert len(middle) >= 25 and all(u.split for u in middle)
    assert not middle[0].cut_start and middle[0].cut_end and middle[-1].cut_start
    r = garble.Scorer(model=False).score_document(text)
    for u in r.units[1:-1]:
        lim = [f for f in u.findings if f.detector == "limits"]
        assert lim and all(f.kind == "split" and f.weight == pytest.approx(0.1) for f in lim)
        assert any("2,000-character limit" in m for m in u.reasons())
        for f in lim:
            assert u.start <= f.start < f.end <= u.end
    assert not [f for f in r.units[0].findings if f.detector == "limits"]


def test_pysbd_never_sees_a_long_paragraph(monkeypatch):
    seg = sys.modules["garble.segment"]  # (garble.segment is also the function)

    seen = []
    real = seg._segmenter()

    class Spy:
        def segment(self, para):
            seen.append(len(para))
            return real.segment(para)

    monkeypatch.setattr(seg, "_segmenter", lambda: Spy())
    text = " ".join(
        f"Sentence number {i} is about the harbour." for i in range(2000)
    )  # ~80,000 characters, one paragraph
    units = segment(text)
    assert max(seen) <= MAX_PARAGRAPH_CHARS
    _check_units(text, units)
    # the pieces are cut at sentence ends: every unit is still one whole sentence
    assert len(units) == 2000 and all(u.text.endswith("harbour.") and not u.split for u in units)


@pytest.mark.parametrize("unit,limit", [("line", 10_000), ("paragraph", 10_000), ("sentence", 2_000)])
def test_every_unit_mode_has_a_limit(unit, limit):
    text = "short line\n" + words_text(35_000) + "\nlast line"
    units = segment(text, unit=unit)
    _check_units(text, units)
    assert max(len(u.text) for u in units) <= limit
    assert units[0].text == "short line" and units[-1].text == "last line"


def test_a_long_run_without_spaces_is_cut_anyway():
    text = "x" * 25_000 + "e\u0301" * 10 + "y" * 3000
    units = segment(text)
    _check_units(text, units)
    assert max(len(u.text) for u in units) <= MAX_SENTENCE_CHARS
    for u in units[1:]:
        assert unicodedata.combining(u.text[0]) == 0  # never a piece starting with a combining mark


def test_one_megabyte_line_in_reasonable_time():
    text = words_text(1_000_000)
    t0 = time.monotonic()
    r = garble.Scorer(model=False).score_document(text)
    assert time.monotonic() - t0 < 60
    assert len(r) >= 500 and all(len(u.text) <= MAX_SENTENCE_CHARS for u in r)


@pytest.mark.slow
def test_ten_megabyte_line_through_the_cli(tmp_path):
    p = tmp_path / "big.txt"
    p.write_text(words_text(10_000_000) + "\n", encoding="utf-8")
    t0 = time.monotonic()
    r = run_cli("rank", str(p), "--no-lm", "-f", "tsv", "-o", str(tmp_path / "o.tsv"))
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 300
    rows = (tmp_path / "o.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) > 5000 and any("limits" in row for row in rows[1:])


@pytest.mark.slow
def test_five_megabyte_document_without_lm():
    rng = random.Random(5)
    paras = []
    size = 0
    while size < 5_000_000:
        sents = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 25))).capitalize() + rng.choice(".!?")
            for _ in range(rng.randint(1, 8))
        ]
        paras.append(" ".join(sents))
        size += len(paras[-1]) + 2
    text = "\n\n".join(paras)
    t0 = time.monotonic()
    r = garble.Scorer(model=False).score_document(text)
    elapsed = time.monotonic() - t0
    assert elapsed < 600, elapsed
    assert sorted(u.rank for u in r) == list(range(1, len(r) + 1))


def test_score_units_checks_a_huge_unit_only_in_part():
    huge = words_text(50_000)
    s = garble.Scorer(model=False)
    t0 = time.monotonic()
    r = s.score_units(["A normal first unit.", huge])
    assert time.monotonic() - t0 < 20
    assert r.units[1].text == huge  # the unit is kept whole
    lim = [f for f in r.units[1].findings if f.detector == "limits"]
    assert [f.kind for f in lim] == ["truncated"]
    assert lim[0].end == r.units[1].end and r.units[1].start + 9_000 <= lim[0].start <= r.units[1].start + 10_000
    assert "were checked (unit length limit)" in lim[0].message
    assert not [f for f in r.units[0].findings if f.detector == "limits"]


def test_garble_score_ten_megabyte_record(tmp_path, capsys):
    p = tmp_path / "c.txt"
    p.write_text("Short line.\n" + "y" * 10_000_000 + "\nLast line.\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    t0 = time.monotonic()
    code, _, err = main(["score", p, "--no-lm", "-q", "-o", out], capsys)
    assert code == 0, err
    assert time.monotonic() - t0 < 60
    with open(out, encoding="utf-8") as fh:
        recs = [json.loads(line) for line in fh]
    assert [r["line"] for r in recs] == [1, 2, 3]
    assert len(recs[1]["text"]) == 10_000_000
    kinds = [(f["detector"], f["kind"]) for f in recs[1]["findings"]]
    assert ("limits", "truncated") in kinds
    for f in recs[1]["findings"]:
        assert 0 <= f["start"] <= f["end"] <= len(recs[1]["text"])


class _ScoreOnly:
    """An LM object with only ``score(texts, contexts)`` (like the llama.cpp backend): the two-pass path."""

    def __init__(self, lm):
        self.lm, self.name, self.max_tokens = lm, lm.name, lm.max_tokens

    def score(self, texts, contexts=None):
        return self.lm.score(texts, contexts)


@pytest.mark.lm
def test_a_one_pass_lm_reads_a_long_unit_whole(tiny_model_dir):
    from garble.lm import LanguageModel

    lm = LanguageModel(
        str(tiny_model_dir), device="cpu", dtype="float32", max_tokens=16, window=32, overlap=8, tagger=False
    )
    r = garble.Scorer(model=lm).score_document("A short one. " + "This sentence goes on and on " * 6 + "until the end.")
    long_unit = max(r.units, key=lambda u: len(u.text))
    assert not long_unit.lm.truncated and long_unit.lm.n_tokens > 32
    assert not [f for f in long_unit.findings if f.detector == "limits"]


@pytest.mark.lm
def test_lm_truncation_is_a_finding(tiny_model_dir):
    from garble.lm import LanguageModel

    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", max_tokens=16, tagger=False)
    s = garble.Scorer(model=_ScoreOnly(lm))
    r = s.score_document("A short one. " + "This sentence goes on and on " * 6 + "until the end.")
    long_unit = max(r.units, key=lambda u: len(u.text))
    assert long_unit.lm.truncated
    lim = [f for f in long_unit.findings if f.detector == "limits"]
    assert [f.kind for f in lim] == ["truncated"] and "scored only the first 16 tokens" in lim[0].message
    assert long_unit.start < lim[0].start < lim[0].end == long_unit.end
    assert lim[0].message in long_unit.reasons()
    short = min(r.units, key=lambda u: len(u.text))
    assert not short.lm.truncated and not [f for f in short.findings if f.detector == "limits"]


@pytest.mark.lm
def test_lm_cuts_a_huge_text_before_tokenizing(tiny_model_dir):
    from garble.lm import LanguageModel

    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", max_tokens=32, tagger=False)
    t0 = time.monotonic()
    out = lm.score(["word " * 2_000_000], [("context " * 1_000_000)])
    assert time.monotonic() - t0 < 20
    assert out[0].truncated and out[0].n_tokens == 32


@pytest.mark.lm
def test_batches_stay_within_batch_tokens(tiny_model_dir, monkeypatch):
    from garble.lm import LanguageModel

    lm = LanguageModel(
        str(tiny_model_dir), device="cpu", dtype="float32", batch_tokens=200, max_tokens=64, tagger=False
    )
    shapes = []
    real = lm._run

    def spy(batch, seqs, *out):
        shapes.append((len(batch), max(len(seqs[i][0]) for i in batch)))
        return real(batch, seqs, *out)

    monkeypatch.setattr(lm, "_run", spy)
    texts = [f"Sentence {i} " + "word " * (i % 40) for i in range(100)]
    out = lm.score(texts)
    assert all(o.n_tokens > 0 for o in out)
    after, _ = lm.score_pairs(texts[1:], texts[:-1])  # context + text sequences: the same bound
    assert all(o.n_tokens > 0 for o in after)
    assert all(rows * width <= 200 or rows == 1 for rows, width in shapes), shapes


# ---------------------------------------------------------------------------
# 3. text edge cases

EDGE_CASES = [
    # id, text, (detector, kind) expected in some unit or None for "no finding at all", message part
    (
        "curly quote unbalanced",
        "He said “we will not go. The talks ended.",
        ("punctuation", "unmatched_quote"),
        "opening quote “ never closed",
    ),
    (
        "straight quote unbalanced",
        'He said "we will not go. The talks ended.',
        ("punctuation", "unmatched_quote"),
        'straight quote " opened and never closed',
    ),
    ("curly quotes balanced", "He said “we will not go.” The talks ended.", None, ""),
    ("straight quotes balanced", 'He said "we will not go." The talks ended.', None, ""),
    (
        "zero-width space in a word",
        "The mini\u200bster said that the talks ended.",
        ("encoding", "invisible_char"),
        "zero-width space",
    ),
    (
        "soft hyphen in a word",
        "The mini\u00adster said that the talks ended.",
        ("encoding", "invisible_char"),
        "soft hyphen",
    ),
    ("control character", "The minister said\x07 that the talks ended.", ("encoding", "control_char"), "U+0007"),
    ("mojibake", "The cafÃ© was closed on Monday.", ("encoding", "mojibake"), "should probably read “café”"),
    (
        "replacement character",
        "The caf\ufffd was closed on Monday.",
        ("encoding", "replacement_char"),
        "a character was lost in decoding",
    ),
    (
        "arabic unit",
        "وقال الوزير إن المحادثات انتهت اليوم في العاصمة.",
        ("language", "untranslated_unit"),
        "Arabic script",
    ),
    ("hebrew unit", "השר אמר כי השיחות הסתיימו היום בבירה.", ("language", "untranslated_unit"), "Hebrew script"),
    ("cjk unit", "部长说会谈今天在首都结束了。", ("language", "untranslated_unit"), "CJK script"),
    (
        "cjk inside english",
        "The minister said 会谈今天在首都结束了 in the capital.",
        ("language", "foreign_script"),
        "untranslated CJK text",
    ),
    ("emoji", "We won the match 🎉🎉 and everyone cheered.", None, ""),
    ("emoji zwj sequence", "The family \U0001f468\u200d\U0001f469\u200d\U0001f467 arrived home.", None, ""),
    ("very short unit", "Yes.", None, ""),
    ("all-caps headline", "BREAKING NEWS: PRESIDENT VISITS PARIS FOR TALKS", None, ""),
    ("no-break space and tab", "The\u00a0minister\tsaid that.", None, ""),
    ("decomposed accents", unicodedata.normalize("NFD", "José Martínez visited São Paulo."), None, ""),
]


@pytest.mark.parametrize("text,expected,message", [c[1:] for c in EDGE_CASES], ids=[c[0] for c in EDGE_CASES])
def test_text_edge_cases(text, expected, message):
    r = garble.Scorer(model=False).score_document(text)
    assert len(r) >= 1
    for u in r:
        assert text[u.start : u.end] == u.text and 0.0 <= u.score <= 1.0
        for f in u.findings:
            assert 0 <= f.start <= f.end <= len(text)
    got = [(f.detector, f.kind, f.message) for f in r.findings]
    if expected is None:
        assert got == []
    else:
        assert any((d, k) == expected and message in m for d, k, m in got), got


def test_decomposed_text_gets_the_findings_of_composed_text():
    composed = "José Lavrov met Lavrov in São Paulo. Lavorov said it is legal and it is legal. Ángel Müller left."
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    s = garble.Scorer(model=False)
    a, b = s.score_document(composed), s.score_document(decomposed)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert unicodedata.normalize("NFC", y.text) == x.text
        assert decomposed[y.start : y.end] == y.text  # offsets into the text as given
        assert y.score == pytest.approx(x.score)
        assert [(f.detector, f.kind, f.message) for f in y.findings] == [
            (f.detector, f.kind, f.message) for f in x.findings
        ]
        for f, g in zip(x.findings, y.findings):
            assert unicodedata.normalize("NFC", decomposed[g.start : g.end]) == composed[f.start : f.end]
    assert any(f.kind == "variant" for f in b.findings)
    # score_units too
    ua = s.score_units(composed.split(". "))
    ub = s.score_units(decomposed.split(". "))
    assert [u.text for u in ub] == decomposed.split(". ")
    assert [(f.detector, f.kind) for f in ua.findings] == [(f.detector, f.kind) for f in ub.findings]
    for f in ub.findings:
        assert ub.text[f.start : f.end]


def test_combining_marks_stay_inside_words():
    from garble.document import WORD_RE

    assert [m.group() for m in WORD_RE.finditer("Jose\u0301 na\u0308ive काम O’Brien U.S. re-enter")] == [
        "Jose\u0301",
        "na\u0308ive",
        "काम",
        "O’Brien",
        "U.S",
        "re-enter",
    ]


# ---------------------------------------------------------------------------
# 5. the library contract: typed errors, threads


@pytest.mark.parametrize(
    "make,error,message",
    [
        (lambda: garble.Scorer(model="/no/such/model", unit="bad"), UsageError, "unknown unit 'bad'"),
        (lambda: garble.Scorer(model=False, unit="bad"), UsageError, "unknown unit 'bad'"),
        (lambda: garble.Scorer(model=False).score_document(123), UsageError, "text is int, not str"),
        (lambda: garble.Scorer(model=False).score_document(None), UsageError, "text is NoneType, not str"),
        (lambda: garble.Scorer(model=False).score_document(b"bytes"), UsageError, "decode it first"),
        (lambda: garble.Scorer(model=False).score_units("one string"), UsageError, "pass a list of strings"),
        (lambda: garble.Scorer(model=False).score_units(5), UsageError, "not a sequence of strings"),
        (lambda: garble.Scorer(model=False).score_units(["ok", 3]), UsageError, "unit 1 is int, not str"),
        (lambda: garble.Scorer(model=False, detectors=["nope"]), UsageError, "unknown detector 'nope'"),
        (lambda: garble.Scorer(model=False, detectors=[object()]), UsageError, "is not a Detector"),
        (lambda: garble.Scorer(model=False, weights="/no/such/weights.json"), UsageError, "cannot read scorer weights"),
        (lambda: garble.Scorer(model=False, weights=3.5), UsageError, "weights is float"),
        (lambda: garble.Scorer(model=12), UsageError, "model is int"),
        (lambda: garble.Scorer(model=False, max_unit_chars=0), UsageError, "max_unit_chars must be a positive integer"),
    ],
    ids=[
        "unit before model",
        "unit",
        "int text",
        "None text",
        "bytes text",
        "str units",
        "int units",
        "int unit",
        "unknown detector",
        "not a detector",
        "missing weights",
        "weights type",
        "model type",
        "max_unit_chars",
    ],
)
def test_library_errors_are_typed(make, error, message):
    with pytest.raises(error, match=message) as info:
        make()
    assert isinstance(info.value, GarbleError)


def test_malformed_weights_files(tmp_path):
    for content in ['{"bias": 1, "detectors": [1, 2]}', "[1, 2]", '{"nobias": 1}', '{"bias": "x"}', '{"bias": 1e999}']:
        p = tmp_path / "w.json"
        p.write_text(content, encoding="utf-8")
        with pytest.raises(UsageError, match="malformed scorer weights") as info:
            garble.Scorer(model=False, weights=p)
        assert info.value.path == str(p), content


def test_detectors_by_name():
    s = garble.Scorer(model=False, detectors=["repetition"])
    assert [d.name for d in s.detectors] == ["repetition"]
    assert s.score_document("It was fine and it was fine.").findings


def _docs():
    rng = random.Random(3)
    out = []
    for i in range(16):
        sents = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14))).capitalize() + "."
            for _ in range(rng.randint(3, 9))
        ]
        if i % 3 == 0:
            sents.append("It is legal and it is legal.")
        if i % 4 == 1:
            sents.append("The cafÃ© opened “again.")
        out.append(" ".join(sents))
    return out


def _summary(r):
    return [
        (
            u.start,
            u.end,
            round(u.score, 9),
            u.rank,
            [(f.detector, f.kind, f.start, f.end) for f in u.findings],
            None if u.lm is None else round(u.lm.mean_surprisal, 4),
        )
        for u in r
    ]


def _threaded(scorer, docs, n_threads=4):
    results = [None] * len(docs)
    errors = []
    barrier = threading.Barrier(n_threads)

    def work(k):
        barrier.wait()
        try:
            for i in range(k, len(docs), n_threads):
                results[i] = _summary(scorer.score_document(docs[i]))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_scorer_is_thread_safe_without_lm():
    docs = _docs()
    s = garble.Scorer(model=False)
    sequential = [_summary(s.score_document(d)) for d in docs]
    assert _threaded(s, docs) == sequential


@pytest.mark.lm
def test_scorer_is_thread_safe_with_a_tiny_lm(tiny_model_dir):
    from garble.lm import LanguageModel

    docs = _docs()
    s = garble.Scorer(model=LanguageModel(str(tiny_model_dir), device="cpu", tagger=False))  # a random model: no head
    sequential = [_summary(s.score_document(d)) for d in docs]
    assert _threaded(s, docs) == sequential


def test_language_model_pickles_without_its_lock():
    from garble.lm import LanguageModel

    lm = LanguageModel.__new__(LanguageModel)
    lm.__setstate__({"max_tokens": 8})
    import pickle

    again = pickle.loads(pickle.dumps(lm))
    assert again.max_tokens == 8 and hasattr(again, "_lock")
