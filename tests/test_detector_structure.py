"""Structure marks present on one side of a translation pair only."""

from __future__ import annotations

import pytest
from source_helpers import CLEAN_PAIRS, found

from garble.detectors import registry
from garble.detectors.structure import Structure
from garble.document import Document
from garble.segment import segment


def test_registered():
    assert registry()["structure"] is Structure


@pytest.mark.parametrize(
    "source, target, kind",
    [
        ("你会来吗？", "You will come.", "question"),
        ("太好了！", "Great.", "exclamation"),
        ("这是新方法（见附录）。", "This is the new method.", "bracket"),
        ("他说：“不。”", "He said no.", "quote"),
        ("第一行\n第二行", "First line second line", "linebreak"),
        ("- 苹果\n- 香蕉", "apples\nbananas", "list"),
    ],
)
def test_structure(source, target, kind):
    assert [k for k, _ in found(Structure(), source, target)] == [kind]


@pytest.mark.parametrize("source, target", CLEAN_PAIRS)
def test_clean_pairs_are_quiet(source, target):
    assert found(Structure(), source, target) == []


def test_structure_weights_are_constructor_args():
    from source_helpers import pair_doc

    (f,) = Structure(question_weight=0.7).detect(pair_doc("你会来吗？", "You will come."))
    assert f.weight == pytest.approx(0.7) and f.source_span == (4, 5)


def test_no_sources_no_findings():
    text = "Deleted %(count) files"
    doc = Document(text, segment(text))
    assert list(Structure().detect(doc)) == []
