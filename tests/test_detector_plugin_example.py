"""Adding a detector is one module: an example detector, registered, runs in a default Scorer.

The example is defined here; a built-in one would be the same class in a module of
garble/detectors/, another package's one the same class named by an entry point of the group
``garble.detectors``. Each test restores the registry, so the example never leaks into others.
"""

from __future__ import annotations

import math
import sys
import textwrap
from dataclasses import dataclass
from importlib import metadata

import pytest
from test_detector_contract import check_declarations, check_findings

import garble
from garble import detectors
from garble.detectors import Detector, register, registry
from garble.document import Document
from garble.segment import segment

TEXT = "The crew waited at the gate. The pilot was VERY angry about it. The plane left at noon."

PLUGIN = '''
"""A detector plugin: what another package ships to add a detector to garble."""

from dataclasses import dataclass

from garble.detectors import Detector, register


@register("whispering", colour=("#e4e7ec", "#475467"), prior=1.0)
@dataclass(eq=False)
class Whispering(Detector):
    """A sentence in lower case only.

    >>> "a line whispered."   # flagged
    """

    weight: float = 0.6

    def detect(self, doc):
        for u in doc.units:
            if u.text.islower():
                yield self.finding("lowercase", u.start, u.end, self.weight, "a sentence in lower case")
'''


@pytest.fixture
def clean_registry(monkeypatch):
    """A copy of the registry (built-ins loaded) that the test may change; plugins looked up again."""
    registry()
    monkeypatch.setattr(detectors, "_REGISTRY", dict(detectors._REGISTRY))
    monkeypatch.setattr(detectors, "_plugins_loaded", False)


def shouting_detector():
    """The example: the whole of what adding a detector takes."""

    @register("shouting", colour=("#fde2e1", "#a12622"), prior=3.0)
    @dataclass(eq=False)
    class Shouting(Detector):
        """A word in capitals (test only).

        >>> "A quiet line. A LOUD line."   # "LOUD" flagged
        """

        min_len: int = 4
        weight: float = 0.8

        def detect(self, doc):
            for t in doc.tokens:
                if len(t.text) >= self.min_len and t.text.isupper():
                    yield self.finding("caps", t.start, t.end, self.weight, f"“{t.text}” in capitals")

    return Shouting


def fake_entry_points(monkeypatch, *values: tuple[str, str]) -> None:
    eps = [metadata.EntryPoint(name=n, value=v, group=detectors.ENTRY_POINT_GROUP) for n, v in values]

    def entry_points(**kw):
        assert kw == {"group": detectors.ENTRY_POINT_GROUP}
        return eps

    monkeypatch.setattr(metadata, "entry_points", entry_points)


def test_a_registered_detector_runs_in_the_default_scorer(clean_registry):
    from garble.combiner import det_prior
    from garble.html import build_data

    shouting = shouting_detector()
    assert registry()["shouting"] is shouting
    check_declarations(shouting)
    before = garble.Scorer(model=False, detectors=[n for n in registry() if n != "shouting"]).score_document(TEXT)
    assert before.findings == []
    r = garble.Scorer(model=False).score_document(TEXT)
    top = r.ranked()[0]
    assert top.text == "The pilot was VERY angry about it." and top.score > r.ranked()[1].score
    assert [(f.detector, f.kind, TEXT[f.start : f.end]) for f in r.findings] == [("shouting", "caps", "VERY")]
    # the report takes its colour, a refit its prior
    (row,) = [d for d in build_data([r])["detectors"] if d["name"] == "shouting"]
    assert (row["bg"], row["fg"]) == shouting.colour
    assert det_prior("shouting") == 3.0
    # and it keeps the contract every detector keeps
    doc = Document(TEXT, segment(TEXT))
    check_findings(shouting(), doc, list(shouting().detect(doc)))


def test_an_unregistered_subclass_runs_only_where_it_is_passed(clean_registry):
    class Quiet(Detector):
        """Every unit (test only).

        >>> "Anything."   # flagged
        """

        name = "quiet_test_only"
        colour = ("#ffffff", "#000000")
        prior = 1.0

        def detect(self, doc):
            for u in doc.units:
                yield self.finding("any", u.start, u.end, 0.5, "a unit")

    assert "quiet_test_only" not in registry()
    assert not any(f.detector == "quiet_test_only" for f in garble.Scorer(model=False).score_document(TEXT).findings)
    passed = garble.Scorer(model=False, detectors=[Quiet()]).score_document(TEXT)
    assert {f.detector for f in passed.findings} == {"quiet_test_only"}


def test_register_checks_the_declarations(clean_registry):
    def nothing(name="nothing", colour=("#ff0000", "#000000"), prior=1.0):
        @dataclass(eq=False)
        class Nothing(Detector):
            """Nothing (test only)."""

            def detect(self, doc):
                return iter(())

        return register(name, colour=colour, prior=prior)(Nothing)

    for bad, what in [
        ({"colour": ("red", "#000000")}, "colour"),
        ({"colour": ("#ff0000",)}, "colour"),
        ({"prior": -1.0}, "prior"),
        ({"prior": math.nan}, "prior"),
        ({"name": "No Thing"}, "name"),
    ]:
        with pytest.raises(TypeError, match=what):
            nothing(**bad)
    with pytest.raises(ValueError, match="two detectors named 'repetition'"):
        nothing(name="repetition")
    with pytest.raises(TypeError, match="detect"):
        register("no_detect", colour=("#ff0000", "#000000"), prior=1.0)(type("NoDetect", (Detector,), {}))
    assert "nothing" not in registry() and "no_detect" not in registry()
    nothing()
    assert "nothing" in registry()


def test_a_plugin_joins_through_its_entry_point(clean_registry, monkeypatch, tmp_path, capsys):
    (tmp_path / "garble_whisper.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "garble_whisper", raising=False)
    fake_entry_points(monkeypatch, ("whispering", "garble_whisper:Whispering"))
    assert "whispering" in registry()
    r = garble.Scorer(model=False).score_units(["The crew waited at the gate.", "the pilot was angry about it."])
    assert [(f.detector, f.kind) for f in r.findings if f.detector == "whispering"] == [("whispering", "lowercase")]
    assert capsys.readouterr().err == ""


def test_a_plugin_module_registers_its_classes(clean_registry, monkeypatch, tmp_path):
    (tmp_path / "garble_whisper_mod.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "garble_whisper_mod", raising=False)
    fake_entry_points(monkeypatch, ("whisper_module", "garble_whisper_mod"))
    assert registry()["whispering"].__module__ == "garble_whisper_mod"


def test_a_broken_plugin_is_a_one_line_warning(clean_registry, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "garble_fake_plugin", type(sys)("garble_fake_plugin"))
    sys.modules["garble_fake_plugin"].not_a_detector = 42
    # a class that declares its name, colour and prior itself (not registered): a name garble has
    sys.modules["garble_fake_plugin"].Clash = type(
        "Clash",
        (Detector,),
        {
            "__doc__": "x",
            "name": "repetition",
            "colour": ("#000000", "#ffffff"),
            "prior": 1.0,
            "detect": lambda self, doc: iter(()),
        },
    )
    fake_entry_points(
        monkeypatch,
        ("missing", "garble_no_such_module:Detector"),
        ("number", "garble_fake_plugin:not_a_detector"),
        ("clash", "garble_fake_plugin:Clash"),
    )
    reg = registry()
    assert reg["repetition"].__module__ == "garble.detectors.repetition"
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("garble: warning: detector plugin ") for line in err)
    assert "'missing'" in err[0] and "ModuleNotFoundError" in err[0]
    assert "'number'" in err[1] and "TypeError" in err[1]
    assert "'clash'" in err[2] and "two detectors named 'repetition'" in err[2]
    registry()  # looked up once per process: no second warning
    assert capsys.readouterr().err == ""
    assert garble.Scorer(model=False).score_document(TEXT).findings == []
