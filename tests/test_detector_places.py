"""PlaceContradiction: a demonym on a thing the same phrase places in another country."""

from __future__ import annotations

import pytest

from garble.detectors import registry
from garble.detectors.places import PlaceContradiction, _tables
from garble.document import Document
from garble.resources import load_tsv
from garble.segment import segment


def _doc(text: str) -> Document:
    return Document(text, segment(text))


def _findings(text: str, **kw):
    return list(PlaceContradiction(**kw).detect(_doc(text)))


def _spans(text: str, **kw) -> list[str]:
    return [text[f.start : f.end] for f in _findings(text, **kw)]


def test_registered():
    assert registry()["places"] is PlaceContradiction


def test_table_covers_the_world():
    rows = load_tsv("places.tsv")
    assert len(rows) >= 150
    assert {"country", "demonyms", "capital", "names", "places"} <= set(rows[0])
    dem, countries, places = _tables("places.tsv")
    assert dem["American"] == {"United States"} and dem["U.S."] == {"United States"}
    assert countries["Britain"] == {"United Kingdom"} and dem["British"] == {"United Kingdom"}
    assert places["Georgia"] == {"Georgia", "United States"}  # the country and the US state
    assert dem["Korean"] == {"North Korea", "South Korea"}


@pytest.mark.parametrize(
    "text, span",
    [
        (
            "The army shelled Polish border villages on Belarusian territory overnight.",
            "Polish border villages on Belarusian territory",
        ),
        ("Officials said Chinese cities on Vietnamese soil were never mentioned.", "Chinese cities on Vietnamese soil"),
        (
            "Jets bombed Iranian military targets on the territory of Iraq, the ministry said.",
            "Iranian military targets on the territory of Iraq",
        ),
        (
            "Maps showed several Finnish towns deep inside Swedish territory.",
            "Finnish towns deep inside Swedish territory",
        ),
        ("The senator wants to hit US cities on Mexico’s territory.", "US cities on Mexico’s territory"),
        (
            "Rebels seized Malian villages located in Nigerien territory.",
            "Malian villages located in Nigerien territory",
        ),
        ("They could strike Turkish targets on Syrian soil.", "Turkish targets on Syrian soil"),
    ],
)
def test_contradiction_found_with_exact_span(text, span):
    fs = _findings(text)
    assert [text[f.start : f.end] for f in fs] == [span]
    assert fs[0].detector == "places" and fs[0].kind == "foreign_soil"
    assert 0 < fs[0].weight <= 1


def test_targets_weigh_less_than_cities():
    (t,) = _findings("They could strike Turkish targets on Syrian soil.")
    (c,) = _findings("They could strike Turkish cities on Syrian soil.")
    assert t.weight < c.weight


def test_offsets_in_a_longer_document():
    text = (
        "Headline without any place.\n\n"
        "The letter urged the ministry to let allies use the missiles. "
        "It said the rules should allow strikes on Argentine targets on Chilean soil, if needed."
    )
    fs = _findings(text)
    assert len(fs) == 1
    assert text[fs[0].start : fs[0].end] == "Argentine targets on Chilean soil"
    assert fs[0].start == text.index("Argentine targets")
    assert "Argentine" in fs[0].message and "Chilean soil" in fs[0].message


@pytest.mark.parametrize(
    "text",
    [
        # an attack by X on Y: the noun is an action or an agent
        "Russian strikes on Ukrainian territory continued through the night.",
        "Ukrainian attacks on Russian territory are now allowed.",
        "Ukrainian drones hit targets on Russian soil.",
        "Indian troops on Chinese territory were seen on satellite images.",
        "American troops on Japanese soil have been there since 1945.",
        "French forces in Mali left in 2022.",
        # things one country keeps inside another
        "Israeli settlements on Palestinian land are disputed.",
        "American bases on Japanese soil host thousands of sailors.",
        # same country, or a demonym shared by both countries
        "Polish cities on Polish soil were rebuilt after the war.",
        "Korean villages on North Korean soil are closed to visitors.",
        "Serbian villages on Kosovar territory hold local elections.",
        # compounds and qualifiers that change the demonym's sense
        "Ukrainian towns on Russian-occupied territory are cut off.",
        "The pro-Russian towns on Ukrainian land voted.",
        "Russian-held villages on Ukrainian soil were retaken.",
        "Ethnic Hungarian villages on Romanian territory keep their schools.",
        "Latin American cities on Spanish soil? There are none.",
        # not a place word after the second demonym
        "Ukrainian cities on the Russian border are shelled daily.",
        "Ukrainian towns in Russian hands suffer.",
    ],
)
def test_no_false_alarm(text):
    assert _spans(text) == []


def test_located_in_is_off_by_default_and_opt_in():
    text = "The army struck Turkish targets in Greece on Monday."
    assert _spans(text) == []
    fs = _findings(text, located_in=True)
    assert [text[f.start : f.end] for f in fs] == ["Turkish targets in Greece"]
    assert fs[0].kind == "located_in" and fs[0].weight == pytest.approx(0.3)


@pytest.mark.parametrize(
    "text",
    [
        "American cities in Georgia saw storms.",  # the US state
        "Ukrainian cities in Russia's sights brace for winter.",  # possessive: not a location
        "They hit Ukrainian targets in Russian-occupied Crimea.",
        "Greek cities in Greece are old.",
        "Nigerian infrastructure in Lagos needs repair.",
    ],
)
def test_located_in_negatives(text):
    assert _spans(text, located_in=True) == []


def test_clean_paragraph():
    text = (
        "Germany and France agreed to send more air defence systems to Ukraine. "
        "Russian missile strikes on Ukrainian cities have intensified, while Ukrainian drone attacks "
        "on Russian territory have hit oil refineries.\n\n"
        "The British prime minister visited Kyiv on Tuesday. American officials in Washington said "
        "US weapons may be used against military targets on Russian territory near the border."
    )
    assert _spans(text) == []
