"""Tests of the mt_noise detector: glued words, leftover placeholders/markup, cut-off units."""

from __future__ import annotations

import pytest

from garble.detectors import registry
from garble.detectors.mt_noise import MTNoise
from garble.document import Document
from garble.segment import segment


def run(text: str, **kw):
    doc = Document(text, segment(text))
    return doc, list(MTNoise(**kw).detect(doc))


def spans(text: str, **kw) -> list[tuple[str, str]]:
    _, fs = run(text, **kw)
    return [(f.kind, text[f.start : f.end]) for f in fs]


def test_registered():
    assert registry()["mt_noise"] is MTNoise


# --------------------------------------------------------------------------- glued words


def test_glued_full_stop_across_unit_boundary():
    text = "The mayor opened the bridge on May 3, 2023.Picture: City Press Office"
    doc, fs = run(text)
    assert [(f.kind, text[f.start : f.end]) for f in fs] == [("glued_words", "2023.Picture")]
    # the segmenter split the junction: the finding overlaps both units
    f = fs[0]
    hit = [u.index for u in doc.units if f.overlaps(u.start, u.end)]
    assert len(hit) == 2
    assert f.detector == "mt_noise" and f.weight > 0.5


@pytest.mark.parametrize(
    "text, span",
    [
        ("The team landed in Lisbon.Their coach was tired.", "Lisbon.Their"),
        ("Nobody expected the result.Everyone was surprised.", "result.Everyone"),
        ("Farmers sold the harvest at the marketThe prices were low.", "marketThe"),
        ("They grew carrots,potatoes and beans.", "carrots,potatoes"),
        ('She said it was finished."The rest can wait.', 'finished."The'),
        ("The vote was close.Is that fair?", "close.Is"),
    ],
)
def test_glued_words(text, span):
    assert spans(text) == [("glued_words", span)]


@pytest.mark.parametrize(
    "text",
    [
        "I bought an iPhone and an iPad on eBay, then watched YouTube.",
        "We ate at McDonald's, flew easyJet and edited the PowerPoint on a MacBook.",
        "The U.S. Army and the U.S.Army band, e.g. at 9 a.m., played.",
        "Pi is about 3.14, the crowd was 1,000 strong and the rate 2.5%.",
        "Visit www.example.com, example.org/News or mail info@example.org today.",
        "She moved to St.Petersburg with Mr.Smith and Dr.Jones.",
        "1.Build a strong community around you.",
        "It runs on node.js and ASP.NET with jQuery and macOS.",
        "Q&A with AT&T and R&D staff.",
    ],
)
def test_glued_words_clean(text):
    assert [k for k, _ in spans(text) if k == "glued_words"] == []


# --------------------------------------------------------------------------- placeholders


@pytest.mark.parametrize(
    "text, kind, span",
    [
        ("Click %s to open the file.", "printf", "%s"),
        ("You have %d new messages.", "printf", "%d"),
        ("The folder {0} was deleted.", "brace", "{0}"),
        ("Hello {{user_name}}, welcome back.", "brace", "{{user_name}}"),
        ("The value ${count} is too high.", "brace", "${count}"),
        ("This is <b>very</b> important.", "html_tag", "<b>"),
        ("The word was in italics</i> already.", "html_tag", "</i>"),
        ("Salt &amp; pepper were on the table.", "entity", "&amp;"),
        ("He called it &quot;fine&quot; again.", "entity", "&quot;"),
        ("It&#39;s a long road.", "entity", "&#39;"),
        ("The [TAG] marker stayed in the text.", "bracket_tag", "[TAG]"),
        ("Dear [USER_NAME], thank you.", "bracket_tag", "[USER_NAME]"),
        ("The transl@@ ation was left split.", "bpe", "@@"),
        ("The \u2581word kept its mark.", "sentencepiece", "\u2581"),
        ("The model wrote <unk> here.", "special_token", "<unk>"),
        ("The text ended <|endoftext|> there.", "special_token", "<|endoftext|>"),
        ("Open the file$1 now.", "dollar", "$1"),
    ],
)
def test_placeholders(text, kind, span):
    found = spans(text)
    assert (kind, span) in found
    assert all(k == kind for k, _ in found if k != "truncated")


def test_every_tag_of_a_pair_is_found():
    text = "This is <b>very</b> important."
    assert spans(text) == [("html_tag", "<b>"), ("html_tag", "</b>")]


@pytest.mark.parametrize(
    "text",
    [
        "Tickets cost $5, or US$7 and HK$40, rising 50% to $1.2 billion.",
        "As shown in [1] and [23], a < b > c holds; I <3 this.",
        "The (Laughter) and [sic] remain, as does the 100% rate.",
        "See https://example.com/search?q=%20s&x=1 for details.",
        "The Q&A session with AT&T was fun 😀.",
    ],
)
def test_placeholders_clean(text):
    assert spans(text) == []


# --------------------------------------------------------------------------- cut-off units


def test_truncated_unit_at_paragraph_end():
    text = "The minister spoke for an hour. He said that the\n\nA new paragraph starts here."
    doc, fs = run(text)
    assert [(f.kind, text[f.start : f.end]) for f in fs] == [("truncated", "the")]
    assert fs[0].start == text.index("the\n")


def test_stranded_preposition_is_weaker():
    strong = run("The price rose because of the")[1]
    weak = run("Nobody knows what the walls are made of")[1]
    assert [f.kind for f in strong] == [f.kind for f in weak] == ["truncated"]
    assert weak[0].weight < strong[0].weight


@pytest.mark.parametrize(
    "text",
    [
        "Things to Look Out For\n\nThe season starts in May.",
        "Gone with the\n\nA title-case heading above.",
        "Stoltenberg’s call\n\nA heading with no function word.",
        "He said that the.",
        "Leave a Reply",
        "The results are in",
    ],
)
def test_truncated_clean(text):
    assert [k for k, _ in spans(text) if k == "truncated"] == []


def test_thresholds_are_constructor_arguments():
    text = "Farmers sold the harvest at the marketThe prices were low."
    assert spans(text, min_left_zipf=7.5) == []
