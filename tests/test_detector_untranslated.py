"""Untranslated: the translation repeats its source, or keeps runs of the source's script."""

from __future__ import annotations

import pytest
from source_helpers import found, pair_doc

from garble.detectors import registry
from garble.detectors.untranslated import Untranslated
from garble.document import Document
from garble.segment import segment


def test_registered():
    assert registry()["untranslated"] is Untranslated


@pytest.mark.parametrize(
    "source, target, lang, expected",
    [
        ("我们需要更多的数据", "We need 更多的数据 now.", "zh", [("script", "更多的数据")]),
        ("我们需要更多的数据", "我们需要更多的数据", "zh", [("copy", "我们需要更多的数据")]),
        (
            "Wir brauchen mehr Daten für die Forschung.",
            "Wir brauchen mehr Daten für die Forschung.",
            "de",
            [("copy", "Wir brauchen mehr Daten für die Forschung.")],
        ),
        (
            "Wir brauchen mehr Daten für die Forschung.",
            "We need mehr Daten für die research.",
            "de",
            [("phrase", "mehr Daten für die")],
        ),
        ("Мы пошли домой вечером.", "We went домой вечером.", "ru", [("script", "домой вечером")]),
        ("これは日本語の文です", "This is 日本語の文 here.", "ja", [("script", "日本語の文")]),
    ],
)
def test_untranslated(source, target, lang, expected):
    assert found(Untranslated(), source, target, lang) == expected


@pytest.mark.parametrize(
    "source, target, lang",
    [
        ("我们需要更多的数据", "We need more data.", "zh"),
        ("这个字是人", "The character 人 means person.", "zh"),  # one character being explained
        ("Angela Merkel sprach in Berlin.", "Angela Merkel spoke in Berlin.", "de"),  # shared names
        ("OK", "OK", "en"),  # English to English: not a copy error
        ("The meeting is at noon.", "The meeting is at noon.", "en"),
    ],
)
def test_clean_pairs_are_quiet(source, target, lang):
    assert found(Untranslated(), source, target, lang) == []


def test_source_span_points_into_the_source():
    (f,) = Untranslated().detect(pair_doc("我们需要更多的数据", "We need 更多的数据 now."))
    assert f.source_span == (4, 9) and f.weight == pytest.approx(0.9)


def test_min_script_chars():
    assert found(Untranslated(min_script_chars=1), "这个字是人", "The character 人 means person.") == [("script", "人")]


def test_no_sources_no_findings():
    text = "We need 更多的数据 now."
    assert list(Untranslated().detect(Document(text, segment(text)))) == []
