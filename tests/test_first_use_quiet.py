"""The first use's model conversion draws no progress bar of transformers' on a standard error that is not a
terminal (a pipe, a log file): garble's own status lines say what happens."""

from __future__ import annotations

import io
import sys

import pytest

from garble.lm import _gguf_bar_on_terminals_only


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def test_transformers_bars_are_silent_in_a_pipe_and_come_back_after(monkeypatch):
    hf_logging = pytest.importorskip("transformers.utils.logging")
    gguf_utils = pytest.importorskip("transformers.modeling_gguf_pytorch_utils")
    hf_logging.enable_progress_bar()
    err = _Pipe()
    monkeypatch.setattr(sys, "stderr", err)
    with _gguf_bar_on_terminals_only():
        for _ in hf_logging.tqdm(range(3), desc="Writing model shards", file=err):  # save_pretrained's bar
            pass
        for _ in gguf_utils.tqdm(range(3), desc="Converting and de-quantizing GGUF tensors", file=err):
            pass
        assert not hf_logging.is_progress_bar_enabled()
    assert err.getvalue() == ""
    assert hf_logging.is_progress_bar_enabled()  # as it was
