"""Tests of the language detector (untranslated foreign-language spans)."""

from __future__ import annotations

import pytest

from garble.detectors import registry
from garble.detectors.language import ForeignLanguage
from garble.document import Document
from garble.segment import segment


def run(det, text: str):
    doc = Document(text, segment(text))
    return list(det.detect(doc))


def spans(det, text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in run(det, text)]


def test_registered():
    assert registry()["language"] is ForeignLanguage


def test_cjk_run_inside_english():
    text = "The spokesman said 我们不会接受 on Monday."
    fs = run(ForeignLanguage(), text)
    assert [(f.kind, text[f.start : f.end]) for f in fs] == [("foreign_script", "我们不会接受")]
    assert fs[0].detector == "language"
    assert fs[0].weight >= 0.8


def test_unit_wholly_in_another_script():
    text = "Everything went well. 这是一个没有翻译的句子。"
    fs = run(ForeignLanguage(), text)
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
    assert spans(ForeignLanguage(), text) == [("foreign_script", span)]


def test_bracketed_gloss_gets_low_weight():
    text = "Moscow (Москва) is the largest city in Russia."
    fs = run(ForeignLanguage(), text)
    assert [text[f.start : f.end] for f in fs] == ["Москва"]
    assert fs[0].weight < 0.5


@pytest.mark.parametrize(
    "text, span",
    [
        ("The report says wir haben keine Zeit mehr for this.", "wir haben keine Zeit mehr"),
        ("Then she whispered que je ne sais pas quoi faire and left.", "que je ne sais pas quoi faire"),
        (
            "The label on the box said questo prodotto non deve essere usato by children.",
            "questo prodotto non deve essere usato",
        ),
    ],
)
def test_latin_script_foreign_words(text, span):
    fs = run(ForeignLanguage(), text)
    assert [(f.kind, text[f.start : f.end]) for f in fs] == [("foreign_words", span)]
    assert fs[0].weight >= 0.8


def test_quoted_foreign_words_get_lower_weight():
    text = "He sang “je ne regrette rien” all night."
    fs = run(ForeignLanguage(), text)
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
    assert run(ForeignLanguage(), text) == []


def test_thresholds_are_constructor_arguments():
    text = "They answered el gato negro and laughed."
    assert spans(ForeignLanguage(min_words=3), text) == []
    assert spans(ForeignLanguage(min_words=2), text) == [("foreign_words", "el gato")]
