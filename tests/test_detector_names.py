"""NameConsistency: a capitalised name spelled two ways, or one edit from a known name."""

from __future__ import annotations

import pytest

from garble.detectors import registry
from garble.detectors.names import NameConsistency, _is_inflection
from garble.document import Document
from garble.segment import segment


def _doc(text: str) -> Document:
    return Document(text, segment(text))


def _findings(text: str, **kw):
    return list(NameConsistency(**kw).detect(_doc(text)))


def _spans(text: str, **kw) -> list[str]:
    return [text[f.start : f.end] for f in _findings(text, **kw)]


def test_registered():
    assert registry()["names"] is NameConsistency


def test_variant_of_frequent_name():
    text = (
        "Minister Grigoriy Tsvetkov opened the talks in the morning.\n\n"
        "Tsvetkov said the deal was close. Reporters asked Tsvetkov about the deadline.\n\n"
        "“We are not in a hurry”, Tsvetkof said after lunch."
    )
    fs = _findings(text)
    assert [text[f.start : f.end] for f in fs] == ["Tsvetkof"]
    f = fs[0]
    assert f.detector == "names" and f.kind == "variant"
    assert "Tsvetkov" in f.message and "3 mentions" in f.message
    assert f.weight >= 0.8  # frequent form mentioned 3 times, variant unknown to wordfreq


def test_possessive_and_curly_apostrophe_are_stripped():
    text = (
        "Chinua Okonkwo won the vote. Okonkwo's allies cheered, and Okonkwo’s rivals conceded.\n\n"
        "Later, Okonkow’s office issued a statement."
    )
    fs = _findings(text)
    assert [text[f.start : f.end] for f in fs] == ["Okonkow"]  # span stops before ’s
    assert "Okonkwo" in fs[0].message


def test_hyphenated_word_is_split():
    text = (
        "Prime Minister Baranyi spoke first. The coalition of Baranyi held.\n\n"
        "Critics of the Barnayi-led government left the hall."
    )
    fs = _findings(text)
    assert [text[f.start : f.end] for f in fs] == ["Barnayi"]


def test_every_occurrence_of_a_variant_is_flagged():
    text = (
        "Kuznetsov arrived. Kuznetsov spoke. Kuznetsov left. Kuznetsov returned. Kuznetsov won.\n\n"
        "Then Kuznetsof lost, and Kuznetsof resigned."
    )
    assert _spans(text) == ["Kuznetsof", "Kuznetsof"]


def test_lexicon_neighbour_of_unknown_word():
    text = "Critics compared the new cabinet to the one led by Netanyahou a decade ago."
    fs = _findings(text)
    assert [text[f.start : f.end] for f in fs] == ["Netanyahou"]
    assert fs[0].kind == "unknown_name" and "Netanyahu" in fs[0].message
    assert fs[0].weight < 0.8  # weaker than an in-document variant


def test_lexicon_can_be_switched_off():
    text = "Critics compared the new cabinet to the one led by Netanyahou a decade ago."
    assert _spans(text, use_lexicon=False) == []


def test_unknown_name_repeated_consistently_is_a_name():
    # a rare name spelled the same way again and again is not a misspelling of a known word
    text = "Spokesman Schwarzeneger spoke. Schwarzeneger agreed. Schwarzeneger left. Nobody asked Schwarzeneger."
    assert _spans(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # inflections and demonyms are forms, not spellings
        "Russia said Russian troops left. Russians protested. Russia denied it. Russia again denied it.",
        "Ukraine asked for help. Ukrainian officials and Ukrainians agreed. Ukraine thanked them.",
        "American voters and Americans abroad agree. American polls say so. American turnout rose.",
        "Officials in Serbia met Serbian envoys. Serbia and Serbs agreed. Serbia signed.",
        "Germany and German firms, Germans and Germany again. Germany signed.",
        # Slavic feminine surnames
        "Ivanov and his wife Ivanova arrived. Ivanov spoke. Ivanov left.",
        # both spellings are common words or names in their own right
        "Austria beat Austria's rivals; Austria won. Then Australia lost.",
        "John met John and John again, then Joan arrived.",
        "Johnson spoke. Johnson left. Johnson returned. Johnston stayed.",
        "Paris is lovely. Paris is old. Paris is big. Parts of it are new.",
        # acronyms and short words
        "NATO met NASA. NATO met NASA again. NATO and NAFTA.",
        "Kyiv and Kiev are spelled both ways, Kiev and Kiev.",
        # common words at sentence starts
        "There was rain. There was wind. There was snow. These were hard days.",
        "Where is it? Where was it? Where will it be? Whereas nobody knows.",
    ],
)
def test_no_false_alarm(text):
    assert _spans(text) == []


def test_clean_news_paragraph():
    text = (
        "President Emmanuel Macron met Chancellor Olaf Scholz in Berlin on Tuesday. "
        "Macron told reporters that France and Germany would present a joint plan. "
        "Scholz’s spokesman said the German government welcomed the French proposal.\n\n"
        "Later, Macron flew to Warsaw, where Polish officials and Polish farmers protested. "
        "The European Commission in Brussels said the Commission would respond on Friday."
    )
    assert _spans(text) == []


def test_offsets_are_document_offsets():
    text = (
        "Intro paragraph without names.\n\n"
        "Mitsotakis spoke. Mitsotakis left. Mitsotakis came back.\n\n"
        "Then Mitsotakes said no."
    )
    fs = _findings(text)
    assert len(fs) == 1
    f = fs[0]
    assert text[f.start : f.end] == "Mitsotakes"
    assert f.start == text.index("Mitsotakes")


def test_inflection_helper():
    assert _is_inflection("russia", "russian")
    assert _is_inflection("germans", "germany")
    assert _is_inflection("ivanov", "ivanova")
    assert not _is_inflection("tsvetkov", "tsvetkof")
