"""Boilerplate detector: made-up examples (positives, negatives, offsets) and the data file."""

from __future__ import annotations

import re

import pytest

from garble.detectors import registry
from garble.detectors.boilerplate import Boilerplate, load_patterns
from garble.document import Document
from garble.resources import load_tsv
from garble.segment import segment


def run(text: str):
    doc = Document(text, segment(text))
    return list(Boilerplate().detect(doc))


def spans(text: str):
    return [(f.kind, text[f.start : f.end]) for f in run(text)]


ARTICLE = "The council approved the new budget on Tuesday after a long debate.\n\n"


def test_registered():
    assert registry()["boilerplate"] is Boilerplate


def test_data_file_is_well_formed():
    rows = load_tsv("boilerplate.tsv")
    assert len(rows) >= 20
    for row in rows:
        assert set(row) == {"pattern", "kind", "weight", "description"}
        re.compile(row["pattern"])
        assert 0 < float(row["weight"]) <= 1
        assert row["kind"] and row["description"]
    assert len(load_patterns()) == len(rows)


@pytest.mark.parametrize(
    "furniture, kind",
    [
        ("Leave a Reply", "comment_form"),
        ("Your email address will not be published.", "comment_form"),
        ("Required fields are marked *", "comment_form"),
        ("Photo: Jane Roe / Example Agency / Other Agency", "photo_credit"),
        ("Photo credit: Jane Roe", "photo_credit"),
        ("Picture: John Doe/Getty Images", "photo_credit"),
        ("See also  Ten things to know about the budget / Who pays more?", "related_links"),
        ("Related: Council raises parking fees", "related_links"),
        ("Read more: Why taxes are going up", "related_links"),
        ("Advertisement", "advertisement"),
        ("Share this article", "share"),
        ("Facebook Twitter WhatsApp Email", "share"),
        ("Click here to read the full report.", "call_to_action"),
        ("Subscribe to our newsletter", "call_to_action"),
        ("We use cookies to improve your experience. By continuing to use this site, you agree.", "cookie_notice"),
        ("Posted by Jane Doe on March 3, 2024", "byline"),
        ("March 3, 2024, 10:15 a.m.", "timestamp"),
        ("5 min read", "reading_time"),
        ("Tags: budget, council, taxes", "tags"),
        ("© 2024 Example Media. All rights reserved.", "copyright"),
        ("Home » News » Politics", "navigation"),
        ("The post Budget approved appeared first on Example News.", "syndication"),
    ],
)
def test_furniture_paragraph(furniture, kind):
    text = ARTICLE + furniture
    found = run(text)
    assert [(f.kind, text[f.start : f.end]) for f in found] == [(kind, furniture)]
    assert found[0].weight >= 0.5


def test_credit_glued_to_a_caption():
    text = "The minister meets his guest in Vienna, May 2, 2024.Photo: Jane Roe / Example Agency / Other"
    assert spans(text) == [("photo_credit", "Photo: Jane Roe / Example Agency / Other")]


def test_bracketed_credit_inside_a_caption():
    text = "The mayor smiled for the cameras (Photo: AFP) on Monday."
    assert spans(text) == [("photo_credit", "(Photo: AFP)")]


def test_see_also_block_spans_its_units():
    block = 'See also  Live blog, day 12. Storm hits the coast / "Record rain" in the north'
    text = ARTICLE + block
    doc = Document(text, segment(text))
    assert len([u for u in doc.units if u.paragraph == 1]) >= 2  # the block is more than one unit
    found = list(Boilerplate().detect(doc))
    assert [(f.kind, text[f.start : f.end]) for f in found] == [("related_links", block)]


def test_comment_form_footer():
    text = ARTICLE + "Leave a Reply\n\nYour email address will not be published. Required fields are marked *"
    assert spans(text) == [
        ("comment_form", "Leave a Reply"),
        ("comment_form", "Your email address will not be published."),
        ("comment_form", "Required fields are marked *"),
    ]


def test_repeated_unit_is_weak():
    line = "Sign in to read the rest of this story today."
    text = ARTICLE + line + "\n\nThe mayor spoke next.\n\n" + line
    found = [f for f in run(text) if f.kind == "repeated_unit"]
    assert [text[f.start : f.end] for f in found] == [line, line]
    assert all(f.weight <= 0.3 for f in found)
    assert found[0].start == text.index(line) and found[1].start == text.rindex(line)


def test_short_repeats_and_stage_directions_are_ignored():
    text = "Thank you all.\n\n(Laughter)\n\nWe went home.\n\n(Laughter)\n\nThank you all."
    assert run(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "He said he would subscribe to the idea. She read more books than anyone.",
        "We shared this meal together. Click the button to start.",
        "By the way, the related issue was the photo: it showed the mayor.",
        "Comments were closed after the vote. The advertisement ran for weeks.",
        "By Tuesday, the vote was over.\n\nUpdated rules apply from May.",
        "The photo agency sold the image / the rights to it for money.",
        "Photos: Following restorations, the museum reopens two tombs",
        "Readers can see also how prices rose in the chart below.",
    ],
)
def test_running_text_has_no_finding(text):
    assert run(text) == []


def test_offsets_are_document_offsets():
    text = ARTICLE + "Some more text here.\n\nAdvertisement\n\nThe end of the story."
    found = run(text)
    assert len(found) == 1
    f = found[0]
    assert text[f.start : f.end] == "Advertisement"
    assert f.detector == "boilerplate" and 0 < f.weight <= 1
