"""Punctuation detector: made-up examples (positives, negatives, offsets)."""

from __future__ import annotations

import pytest

from garble.detectors import registry
from garble.detectors.punctuation import Punctuation
from garble.document import Document
from garble.segment import segment


def run(text: str):
    doc = Document(text, segment(text))
    return list(Punctuation().detect(doc))


def spans(text: str):
    return [(f.kind, text[f.start : f.end]) for f in run(text)]


def test_registered():
    assert registry()["punctuation"] is Punctuation


@pytest.mark.parametrize(
    "text, span",
    [
        ("The vote was held in May 2023.Results follow later.", "2023.Results"),
        ("He finished the speech.Then he left the room.", "speech.Then"),
        ("He said,and then he left.", "said,and"),
        ("She looked tired.and nobody noticed.", "tired.and"),
        ("Was it true?Nobody knew.", "true?Nobody"),
    ],
)
def test_missing_space(text, span):
    assert spans(text) == [("missing_space", span)]


def test_missing_space_across_a_segmentation_split():
    # the segmenter splits "2024.Photo" into two units; the glue is still reported
    text = "The minister met his guest in Vienna, May 2, 2024.Photo: Jane Roe / Example Agency"
    found = run(text)
    assert [(f.kind, text[f.start : f.end]) for f in found] == [("missing_space", "2024.Photo")]
    assert found[0].weight >= 0.7


@pytest.mark.parametrize(
    "text",
    [
        "The U.S. and the U.K. signed it, e.g. in 2019, at 9 a.m. with a 3.5% rate.",
        "Dr. Smith has a Ph.D. from a university in the U.S.A. and works at 10:30 a.m. daily.",
        "Visit www.example.com or https://example.org/page.html?a=1,b=2 for details.",
        "Write to info@example.com or see example.co.uk and the file report.pdf today.",
        "J.K. Rowling wrote it; Node.js and ASP.NET run it.",
        "ASTANA.KAZINFORM - The opening ceremony took place on Friday.",
        "It cost $3,000 in 1990–2000, a ratio of 1:2 and 12.5 percent.",
        "1.First point\n2.Second point",
        "He said “yes” and then “no” and left.",
        'He said "yes" and "no" and left.',
        'He was 6\'2" tall and bought a 55" TV.',
        "Items: 1) apples, 2) pears. See (item 8) for details :) and more.",
        "The film (2019) was long ... and so on ... right?",
    ],
)
def test_clean_text_has_no_finding(text):
    assert run(text) == []


def test_quote_spanning_sentences_in_a_paragraph_is_fine():
    text = "“As I understand it, this is a mistake. It hurts everyone,” the minister said. He left."
    assert run(text) == []


def test_quote_spanning_paragraphs_is_fine():
    reopened = "“This is the first paragraph of a long quote.\n\n“And this is the second,” she said."
    closed_later = '"This is the first part of a quote.\n\nAnd this closes it," she said.'
    assert run(reopened) == []
    assert run(closed_later) == []


def test_closing_quote_never_opened():
    text = "The interview ran late. It was over” from the radio show."
    assert spans(text) == [("unmatched_quote", "over”")]


def test_nested_quote_opened_twice():
    text = "Critics say the officials are “openly discussing the “reform” or “merger” of the agency.”"
    found = run(text)
    assert [(f.kind, text[f.start : f.end]) for f in found] == [("nested_quote", "“reform” or “merger”")]
    assert found[0].weight >= 0.5


def test_opening_quote_never_closed():
    text = "She said “we will rebuild the bridge and the road.\n\nThe work starts in May."
    assert spans(text) == [("unmatched_quote", "“we")]


def test_odd_straight_quotes():
    text = 'The court cleared her in a workers" compensation case on Friday.'
    assert spans(text) == [("unmatched_quote", 'workers"')]


def test_unbalanced_brackets():
    assert spans("He (the mayor said nothing.") == [("unmatched_bracket", "(the")]
    assert spans("The mayor said nothing) at all.") == [("unmatched_bracket", "nothing)")]
    # a bracket closed in the next sentence of the same paragraph is fine
    assert run("He left (for good. Nobody asked why) and never came back.") == []


def test_space_before_punctuation():
    text = "She agreed , but only later . Then ; nothing ,but silence."
    assert spans(text) == [
        ("space_before", " ,"),
        ("space_before", " ."),
        ("space_before", " ;"),
        ("space_before", " ,"),
    ]


def test_doubled_punctuation():
    text = "He came,, saw and left,. Nobody cared."
    assert spans(text) == [("doubled", ",,"), ("doubled", ",.")]


def test_offsets_are_document_offsets():
    text = "A fine first paragraph.\n\nSecond paragraph here.The rest follows."
    found = run(text)
    assert len(found) == 1
    f = found[0]
    assert text[f.start : f.end] == "here.The"
    assert f.detector == "punctuation" and 0 < f.weight <= 1


def test_clean_paragraphs_have_no_finding():
    text = (
        "The city council approved the budget on Tuesday after a long debate.\n\n"
        "“We have listened to residents,” the mayor said. “Now we must deliver.”\n\n"
        "Critics (mostly from the opposition) said the figures, e.g. the tax forecast, were optimistic."
    )
    assert run(text) == []
