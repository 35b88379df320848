"""Source tokens: names, acronyms, URLs, emails, code and hashtags of the source missing from the translation."""

from __future__ import annotations

import pytest
from source_helpers import found

from garble.detectors import registry
from garble.detectors.source_tokens import SourceTokens
from garble.document import Document
from garble.segment import segment


def test_registered():
    assert registry()["source_tokens"] is SourceTokens


@pytest.mark.parametrize(
    "source, target, lang, expected",
    [
        (
            "我用 GitHub 和 #MeToo 发帖",
            "I posted on it with the hashtag.",
            "zh",
            [("missing", "src:GitHub"), ("missing", "src:#MeToo")],
        ),
        (
            "请访问 https://example.org/docs 了解详情。",
            "See the website for details.",
            "zh",
            [("missing", "src:https://example.org/docs")],
        ),
        ("联系 help@example.com", "Contact us.", "zh", [("missing", "src:help@example.com")]),
        ("这个项目叫LISA。", "This project is called the space antenna.", "zh", [("missing", "src:LISA")]),
        ("我在TED演讲。", "I spoke at an elevated event.", "zh", [("missing", "src:TED")]),  # not inside "elevated"
        (
            "Il a acheté un iPhone à Paris.",
            "He bought a phone in the city.",
            "fr",
            [("missing", "src:iPhone"), ("missing", "src:Paris")],
        ),
    ],
)
def test_missing_tokens(source, target, lang, expected):
    assert found(SourceTokens(), source, target, lang) == expected


@pytest.mark.parametrize(
    "source, target, lang",
    [
        ("我用 GitHub 发帖", "I posted on Github.", "zh"),  # case
        ("我买了两部iPhone", "I bought two iPhones.", "zh"),  # plural
        ("我们用 YouTube", "We use You Tube.", "zh"),  # spacing
        ("A型血", "Blood type A", "zh"),  # one letter: not checked
        (
            "Wir fahren nach Berlin mit dem Auto.",
            "We drive to Berlin by car.",
            "de",
        ),  # German nouns are capitalised: not names
        ("Der Hund schläft.", "The dog sleeps.", "de"),
        ("The cat sleeps in London.", "The cat sleeps in London.", "en"),
        ("Il vit à Paris.", "He lives in Paris.", "fr"),
    ],
)
def test_clean_pairs_are_quiet(source, target, lang):
    assert found(SourceTokens(), source, target, lang) == []


def test_names_of_latin_sources_weigh_less():
    from source_helpers import pair_doc

    src = "Il a acheté un iPhone à Paris."
    fs = {
        src[slice(*f.source_span)]: f.weight
        for f in SourceTokens().detect(pair_doc(src, "He bought a phone there.", "fr"))
    }
    assert fs == {"iPhone": pytest.approx(0.8), "Paris": pytest.approx(0.5)}


def test_no_sources_no_findings():
    text = "I posted on it."
    assert list(SourceTokens().detect(Document(text, segment(text)))) == []
