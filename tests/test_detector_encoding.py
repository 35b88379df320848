"""Tests of the encoding detector (mojibake, U+FFFD, control/invisible characters)."""

from __future__ import annotations

import pytest

from garble.detectors import registry
from garble.detectors.encoding import Encoding
from garble.document import Document
from garble.segment import segment


def run(det, text: str):
    doc = Document(text, segment(text))
    return list(det.detect(doc))


def spans(det, text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in run(det, text)]


def test_registered():
    assert registry()["encoding"] is Encoding


@pytest.mark.parametrize(
    "text, broken, repaired",
    [
        ("The cafÃ© on the corner closed early.", "cafÃ©", "café"),
        ("She didnâ€™t answer the letter.", "didnâ€™t", "didn’t"),
        ("It was late â€” very late.", "â€”", "—"),
        ("The river flows through MÃ¼nchen in winter.", "MÃ¼nchen", "München"),
    ],
)
def test_mojibake_span_and_repair(text, broken, repaired):
    fs = run(Encoding(), text)
    assert [(f.kind, text[f.start : f.end]) for f in fs] == [("mojibake", broken)]
    assert repaired in fs[0].message
    assert fs[0].detector == "encoding"


def test_mojibake_offsets_are_document_offsets():
    text = "A clean first paragraph.\n\nThen the rÃ©sumÃ© arrived. Nothing else."
    fs = run(Encoding(), text)
    assert [text[f.start : f.end] for f in fs] == ["rÃ©sumÃ©"]
    assert "résumé" in fs[0].message


def test_replacement_character():
    text = "The caf\ufffd was closed on Sunday."
    assert spans(Encoding(), text) == [("replacement_char", "caf\ufffd")]


def test_control_character():
    text = "The total\x07 was wrong."
    assert spans(Encoding(), text) == [("control_char", "\x07")]


@pytest.mark.parametrize("ch", ["\u200b", "\u00ad", "\ufeff", "\u2060"])
def test_invisible_character_inside_word(ch):
    text = f"The trans{ch}lation was done by hand."
    assert spans(Encoding(), text) == [("invisible_char", ch)]


@pytest.mark.parametrize(
    "text",
    [
        "José Martí and Gabriel García Márquez met in São Paulo.",
        "Lech Wałęsa led Solidarność in Gdańsk; Dvořák wrote in Praha.",
        "The naïve façade of the Ångström lab cost £5, €10 or ¥300.",
        "“Quoted” text – with dashes — and ‘single’ quotes…",
        "A family photo 👨\u200d👩\u200d👧 and a thumbs-up 👍🏽 ❤️.",
        "\ufeffA byte-order mark at the start is harmless.",
        "Page one ends here.\x0cPage two starts here.",
        "Temperatures of 20 °C, ±5%, ½ cup and x² are fine.",
        "می\u200cخواهم is a Persian word with a non-joiner.",
    ],
)
def test_encoding_clean_text(text):
    assert run(Encoding(), text) == []
