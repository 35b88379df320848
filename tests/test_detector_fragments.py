"""Fragment detector: made-up examples (positives, negatives, offsets)."""

from __future__ import annotations

import pytest

from garble.detectors import registry
from garble.detectors.fragments import Fragment
from garble.document import Document
from garble.segment import segment


def run(text: str):
    doc = Document(text, segment(text))
    return list(Fragment().detect(doc))


def spans(text: str):
    return [(f.kind, text[f.start : f.end]) for f in run(text)]


def test_registered():
    assert registry()["fragments"] is Fragment


@pytest.mark.parametrize(
    "text, kind, span",
    [
        ("The minister resigned on Monday. According to local reports.", "pp_fragment", "According to local reports."),
        (
            "Prices rose sharply last year. Despite the government's efforts.",
            "pp_fragment",
            "Despite the government's efforts.",
        ),
        ("He walked out of the hearing. With his lawyer.", "pp_fragment", "With his lawyer."),
        ("Officials confirmed the new figures on Friday. Ministry of Defence.", "verbless", "Ministry of Defence."),
        (
            "The company said it would appeal the ruling. A spokesman for the firm.",
            "verbless",
            "A spokesman for the firm.",
        ),
    ],
)
def test_mid_paragraph_fragments(text, kind, span):
    found = run(text)
    assert [(f.kind, text[f.start : f.end]) for f in found] == [(kind, span)]
    assert found[0].weight >= 0.45


def test_pp_fragment_outweighs_standalone_one():
    mid = run("The talks ended late. For the regional broadcaster.")
    alone = run("The talks ended late.\n\nFor the regional broadcaster.")
    assert mid and alone
    assert mid[0].weight > alone[0].weight


def test_lowercase_start_after_sentence():
    text = "The talks ended early. outlet The Daily Post reported on Tuesday that the deal was off."
    found = run(text)
    assert [(f.kind, text[f.start : f.end]) for f in found] == [("lowercase_start", "outlet")]
    assert found[0].weight >= 0.75
    assert "after a finished sentence" in found[0].message


def test_lowercase_start_of_a_lone_segment_says_so():
    # one segment per line (MT corpora): no sentence before it, and the message must not claim one
    found = run("the deal was off, the paper said.")
    assert [f.kind for f in found] == ["lowercase_start"]
    assert "at the start of the text" in found[0].message and "after a finished sentence" not in found[0].message
    assert found[0].weight < Fragment().lowercase_weight


def test_lowercase_after_an_aside_that_is_part_of_the_sentence():
    assert spans("It rained. (and this matters) the rest went on.") == [("lowercase_start", "and")]


def test_lowercase_start_in_its_own_paragraph():
    text = "Nobody expected the result.\n\nnewspaper The Evening Star said the count was wrong."
    assert spans(text) == [("lowercase_start", "newspaper")]


def test_closing_quote_fragment():
    text = "“We will rebuild the bridge,” the mayor told the council. The Council. Mayor” from the local radio station."
    found = spans(text)
    assert ("quote_fragment", "Mayor” from the local radio station.") in found


@pytest.mark.parametrize(
    "text",
    [
        # headings alone in their paragraph, no full stop
        "Budget talks resume\n\nThe council met on Friday and agreed on a new budget.",
        "Ten Things To Know\n\nThe report lists ten findings.",
        # answers and stock phrases
        "Did you go? Yes. Thank you. Of course.",
        "Thank you very much.",
        # list items
        "- first item\n- second item.",
        "1. Preheat the oven.\n2. Mix the flour.",
        # stage directions
        "(Laughter)\n\n(Applause) We can see it now.",
        "It started to ring. (laughs) It's best to stay away from that sound.",
        "It started to ring. [applause] Thank you.",
        # ordinary sentences, present tense, pronoun subjects
        "In Kyiv, officials say the attacks continue. At home it sounds quieter.",
        "Each iceberg possesses its own shape. Space squeezes and stretches.",
        "The plan was approved. They will publish it soon.",
        # a quote that runs over two sentences and closes in the second
        "“As I see it, this is a mistake. It looks painful,” the minister said.",
        # lowercase after an abbreviation or an unfinished line
        "They brought apples, pears, etc. and many other fruits.",
        "The result was clear:\n\nand nobody argued.",
        "iPhone sales rose. eBay said so too.",
        # questions and exclamations
        "He asked for help. For what? For whom!",
    ],
)
def test_clean_text_has_no_strong_finding(text):
    assert [f for f in run(text) if f.weight >= 0.5] == []


def test_clean_paragraphs_have_no_finding():
    text = (
        "The city council approved the budget on Tuesday after a long debate.\n\n"
        "According to the mayor, the new plan will cut waiting times at clinics. "
        "Critics said the figures were optimistic, but the vote passed with a clear majority.\n\n"
        "“We have listened to residents,” she said. “Now we must deliver.”"
    )
    assert run(text) == []


def test_offsets_are_document_offsets():
    prefix = "A first paragraph that is fine.\n\n"
    text = prefix + "The committee met in the morning. Under the new chair."
    found = run(text)
    assert len(found) == 1
    f = found[0]
    assert text[f.start : f.end] == "Under the new chair."
    assert f.detector == "fragments"
    assert 0 < f.weight <= 1


def test_empty_and_symbol_only_documents():
    assert run("") == []
    assert run("* * *") == []
