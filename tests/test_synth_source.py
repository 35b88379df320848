"""Synthetic source-aware corruptions: each damages the translation, deterministically, and its detector sees it."""

from __future__ import annotations

import random

import pytest
from source_helpers import found

from garble.detectors import registry
from garble.synth_source import DETECTOR_OF, KINDS, corrupt, corruptions

PAIRS = [
    (
        "我们在2019年访问了35个国家，参观了很多博物馆，然后回家了。",
        "In 2019 we visited 35 countries, saw a great many museums, and then went back home.",
    ),
    (
        "这个项目叫LISA，它将在未来十年内启动。",
        "This project is called LISA, and it will start within the next ten years.",
    ),
]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_damages_the_target_and_its_detector_fires(kind):
    c = corrupt(*PAIRS[1 if kind == "drop_name" else 0], kind, random.Random(1))
    assert c is not None and c.kind == kind and c.target != c.clean_target
    det = registry()[DETECTOR_OF[kind]]()
    assert found(det, c.source, c.target) != []
    assert found(det, c.clean_source, c.clean_target) == []


def test_deterministic_and_none_when_nothing_to_corrupt():
    a = corruptions(PAIRS, seed=3)
    assert a == corruptions(PAIRS, seed=3)
    assert corrupt("天气很好。", "Fine.", "change_number", random.Random(0)) is None  # no number
    assert corrupt("天气很好。", "Fine.", "drop_name", random.Random(0)) is None  # no Latin token
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt("a", "b", "nope", random.Random(0))
