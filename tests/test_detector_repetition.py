"""Tests of the repetition detector: phrases said twice, loops, and the English that only looks like it."""

from __future__ import annotations

import pytest

from garble.detectors import registry
from garble.detectors.repetition import Repetition, _comparative
from garble.document import Document
from garble.segment import segment


def found(text: str, **kw) -> list[tuple[str, str, float]]:
    doc = Document(text, segment(text))
    return [(f.kind, text[f.start : f.end], f.weight) for f in Repetition(**kw).detect(doc)]


def test_registered():
    assert registry()["repetition"] is Repetition


@pytest.mark.parametrize(
    "text, kind, span",
    [
        ("It is the the best plan.", "repeated_word", "the the"),
        ("It’s legal and it’s legal, the minister said.", "repeated_phrase", "It’s legal and it’s legal"),
        ("The court called it lawful or lawful in the end.", "repeated_phrase", "lawful or lawful"),
        ("We must we must act now.", "repeated_phrase", "We must we must"),
        ("The talks were very very very long.", "loop", "very very very"),
        ("It was big and big for the town.", "repeated_phrase", "big and big"),
    ],
)
def test_repeats(text, kind, span):
    got = found(text)
    assert [(k, s) for k, s, _ in got] == [(kind, span)]
    assert got[0][2] >= 0.9


@pytest.mark.parametrize(
    "text",
    [
        "The car went faster and faster down the hill.",  # comparative idiom
        "The hole will get faster and faster, and the sound will be louder.",  # also seen as "faster and" twice
        "More and more people came to the square.",
        "He read the letter again and again.",
        "The wheel went round and round.",
        "Things got better and better after the war.",
        "The sky grew darker and darker.",
        "It sounds like, ding, ding, ding.",  # a single word across commas: deliberate
        "No, no, no, that is not what I said.",
        "That that is true nobody doubts.",  # ordinary doublings
        "She had had enough of it.",
        "The score was 10 10 at half time.",
        "Clean water and fresh air matter.",
        "This is the vital matter (matter also means substance) here.",  # across a bracket
    ],
)
def test_ordinary_english_is_quiet(text):
    assert found(text) == []


def test_a_phrase_repeated_across_a_comma_is_weak():
    text = "He said that if the universe were empty, if the universe were empty, it would look flat."
    ((kind, span, weight),) = found(text)
    assert span == "if the universe were empty, if the universe were empty"
    assert weight == pytest.approx(0.3)
    assert found(text, pause_weight=0.5)[0][2] == pytest.approx(0.5)


def test_a_noun_ending_in_er_is_not_a_comparative():
    assert [w for w in ("faster", "bigger", "closer", "easier", "water", "number", "summer") if _comparative(w)] == [
        "faster",
        "bigger",
        "closer",
        "easier",
    ]
    assert found("The number and number of cases rose.")[0][1] == "number and number"


def test_a_repeat_across_a_sentence_end_inside_one_unit_is_weak():
    from garble.types import Unit

    text = "Thank you. Thank you all."
    doc = Document(text, [Unit(index=0, start=0, end=len(text), text=text, paragraph=0)])  # one MT segment
    (f,) = Repetition().detect(doc)
    assert text[f.start : f.end] == "Thank you. Thank you" and f.weight == pytest.approx(0.3)
