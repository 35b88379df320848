"""garble.cli.options: the scorer options declared once, and ScorerOptions (in process, no LM)."""

import inspect

import pytest

from garble.cli import app
from garble.cli.options import ScorerOptions, scorer_options
from garble.errors import UsageError


def test_kwargs_are_the_plain_scorer_arguments():
    kw = ScorerOptions(no_lm=True, model="m", weights="w.json", detectors="repetition, encoding", unit="line").kwargs()
    assert kw == {
        "model": False,
        "device": "auto",
        "detectors": ["repetition", "encoding"],
        "weights": "w.json",
        "unit": "line",
        "context": True,
        "dtype": "auto",
    }
    assert ScorerOptions(model="m").kwargs()["model"] == "m" and ScorerOptions().kwargs()["detectors"] is None
    assert "repetition" not in ScorerOptions(exclude="repetition").kwargs()["detectors"]
    with pytest.raises(UsageError, match="unknown detector 'nope'"):
        ScorerOptions(detectors="nope").kwargs()


def test_build_takes_the_lm_object_after_checking_the_other_options():
    made = []

    class LM:
        name = "stub"

        def score(self, texts, contexts=None):
            return []

    def make():
        made.append(1)
        return LM()

    s = ScorerOptions(detectors="repetition").build(lm=make)
    assert isinstance(s.lm, LM) and [d.name for d in s.detectors] == ["repetition"] and made == [1]
    with pytest.raises(UsageError):
        ScorerOptions(detectors="nope").build(lm=make)
    with pytest.raises(UsageError):
        ScorerOptions(weights="/no/such/weights.json").build(lm=make)
    assert made == [1]  # a bad option fails before the LM is made
    assert ScorerOptions(no_lm=True).build(lm=make).lm is None and made == [1]


def test_the_decorator_puts_the_options_where_opts_stands():
    seen = {}

    @scorer_options(context=False)
    def cmd(a: int = 1, opts: ScorerOptions = ScorerOptions(), b: int = 2) -> None:
        seen.update(a=a, b=b, opts=opts)

    names = list(inspect.signature(cmd).parameters)
    assert names == ["a", "no_lm", "model", "device", "dtype", "weights", "detectors", "exclude", "no_qe", "b"]
    cmd(a=3, b=4, no_lm=True, model=None, device="cpu", dtype="auto", weights=None, detectors="x", exclude=None,
        no_qe=True)  # fmt: skip
    assert seen == {"a": 3, "b": 4, "opts": ScorerOptions(no_lm=True, device="cpu", detectors="x", no_qe=True)}
    assert ScorerOptions(no_qe=True).kwargs()["qe"] is False and "qe" not in ScorerOptions().kwargs()


def test_every_command_that_scores_has_the_scorer_options():
    from typer.main import get_command

    cmd = get_command(app)
    shared = {"--no-lm", "--model", "--device", "--dtype", "--weights", "--detectors", "--exclude", "--no-qe"}
    for name in ("rank", "report", "score", "eval"):
        opts = {o for p in cmd.commands[name].params for o in p.opts}
        assert shared <= opts, name
        assert ("--no-context" in opts) == (name != "eval"), name
