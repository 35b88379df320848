"""Tests of the encoding detector (mojibake, U+FFFD, control/invisible characters)
and the language detector (untranslated foreign-language spans)."""

from __future__ import annotations

import pytest

from garble.detectors import registry
from garble.detectors.encoding import Encoding, Untranslated
from garble.document import Document
from garble.segment import segment


def run(det, text: str):
    doc = Document(text, segment(text))
    return list(det.detect(doc))


def spans(det, text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in run(det, text)]


def test_registered():
    reg = registry()
    assert reg["encoding"] is Encoding
    assert reg["language"] is Untranslated


# --------------------------------------------------------------------------- encoding


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


# --------------------------------------------------------------------------- language


def test_cjk_run_inside_english():
    text = "The spokesman said 我们不会接受 on Monday."
    fs = run(Untranslated(), text)
    assert [(f.kind, text[f.start : f.end]) for f in fs] == [("foreign_script", "我们不会接受")]
    assert fs[0].detector == "language"
    assert fs[0].weight >= 0.8


def test_unit_wholly_in_another_script():
    text = "Everything went well. 这是一个没有翻译的句子。"
    fs = run(Untranslated(), text)
    assert [(f.kind, text[f.start : f.end]) for f in fs] == [("untranslated_unit", "这是一个没有翻译的句子。")]
    assert fs[0].weight == 1.0


@pytest.mark.parametrize(
    "text, span",
    [
        ("The agency called it Специальная военная операция in its report.", "Специальная военная операция"),
        ("He ended the letter with السلام عليكم as usual.", "السلام عليكم"),
        ("The sign read 안녕하세요 in big letters.", "안녕하세요"),
        ("The philosopher used the word λόγος twice.", "λόγος"),
    ],
)
def test_other_scripts(text, span):
    assert spans(Untranslated(), text) == [("foreign_script", span)]


def test_bracketed_gloss_gets_low_weight():
    text = "Moscow (Москва) is the largest city in Russia."
    fs = run(Untranslated(), text)
    assert [text[f.start : f.end] for f in fs] == ["Москва"]
    assert fs[0].weight < 0.5


@pytest.mark.parametrize(
    "text, span",
    [
        ("The report says wir haben keine Zeit mehr for this.", "wir haben keine Zeit mehr"),
        ("Then she whispered que je ne sais pas quoi faire and left.", "que je ne sais pas quoi faire"),
        ("The label on the box said questo prodotto non deve essere usato by children.", "questo prodotto non deve essere usato"),
    ],
)
def test_latin_script_foreign_words(text, span):
    fs = run(Untranslated(), text)
    assert [(f.kind, text[f.start : f.end]) for f in fs] == [("foreign_words", span)]
    assert fs[0].weight >= 0.8


def test_quoted_foreign_words_get_lower_weight():
    text = "He sang “je ne regrette rien” all night."
    fs = run(Untranslated(), text)
    assert [text[f.start : f.end] for f in fs] == ["je ne regrette rien"]
    assert fs[0].weight <= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "She ordered a café au lait and felt a strong sense of déjà vu.",
        "José Martí and Gabriel García Márquez are read in Havana.",
        "He met officials of the Ministerio de Asuntos Exteriores y de Cooperación in Madrid.",
        "She studied at the Universidad de Buenos Aires and the Università di Bologna.",
        "The argument is circular per se, and vice versa, a priori; the status quo holds.",
        "We ordered à la carte at the Café de Flore.",
        "The α-helix, α + β = γ, a 5 μm bead and ΔG are standard notation.",
        "I love this 😀😀 so much ❤️ ✨ → ★.",
        "The U.S. and the U.K. signed at 10 a.m., see https://www.example.com/a?b=1.",
        "Angela Merkel met Emmanuel Macron at the Élysée Palace and then the Bundestag.",
        "The term Weltanschauung is often left untranslated.",
    ],
)
def test_language_clean_text(text):
    assert run(Untranslated(), text) == []


def test_thresholds_are_constructor_arguments():
    text = "They answered el gato negro and laughed."
    assert spans(Untranslated(min_words=3), text) == []
    assert spans(Untranslated(min_words=2), text) == [("foreign_words", "el gato")]
