"""Place contradiction: a nationality adjective on something the phrase locates in another country."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Iterator, Optional

from ..document import Document
from ..resources import load_tsv
from ..types import Finding
from . import Detector, register
from ._literals import fold, required_strings

# Nouns for things that belong to the country they stand in: a city on Russian
# soil is a Russian city. People and agents (troops, citizens, forces) and
# actions (strikes, attacks, incursions) are left out on purpose: "Ukrainian
# attacks on Russian territory" and "American troops on Japanese soil" are
# ordinary English. So are bases, embassies, facilities and settlements, which
# one country keeps inside another.
_PLACED_NOUNS = {
    "target": 0.5,
    "targets": 0.5,  # "Iranian targets on Syrian soil" can be meant: lower weight
    "city": 0.75,
    "cities": 0.75,
    "town": 0.75,
    "towns": 0.75,
    "village": 0.75,
    "villages": 0.75,
    "region": 0.75,
    "regions": 0.75,
    "province": 0.75,
    "provinces": 0.75,
    "district": 0.75,
    "districts": 0.75,
    "oblast": 0.75,
    "oblasts": 0.75,
    "municipality": 0.75,
    "municipalities": 0.75,
    "infrastructure": 0.75,
}
# the nouns the optional "in <country>" pattern accepts (see ``located_in``)
_IN_COUNTRY_NOUNS = ("targets", "target", "infrastructure", "cities", "city", "towns", "town", "villages", "village")
# words allowed between the demonym and its noun ("Ukrainian military targets")
_MODIFIERS = (
    "military civilian civil strategic key major important legitimate critical energy industrial economic "
    "residential border frontier frontline front-line small smaller large larger big main oil gas power "
    "transport transportation railway rail logistics logistical government governmental administrative "
    "several many other numerous various eastern western northern southern central coastal remote rural "
    "urban populated densely peaceful high-value valuable sensitive defense defence security nuclear naval "
    "air nearby neighboring neighbouring fuel electricity water communications telecommunications "
    "production manufacturing port airport"
).split()
_PLACE_WORDS = ("soil", "territory", "territories", "land", "lands", "ground")
# a word before the demonym that turns it into an ethnic, historic or compound sense
_SENSE_SHIFTERS = frozenset(
    "ethnic ethnically historic historical historically former formerly once traditionally predominantly "
    "mostly mainly majority pro anti".split()
)
# capitalised words that may stand before the demonym (sentence starts, headlines)
_CAPITAL_OK = frozenset(
    "the a an many some several two three four five six seven eight nine ten all these those other both "
    "its their our his her most no few in on of at and but for with from by against including dozens "
    "hundreds thousands when after while as if".split()
)


def _alt(words, flexible_apostrophe: bool = True) -> str:
    parts = []
    for w in sorted(set(words), key=len, reverse=True):
        p = re.escape(w)
        if flexible_apostrophe:
            p = p.replace("'", "['’]").replace("’", "['’]")
        p = p.replace(r"\ ", r"\s+")
        parts.append(p)
    return "(?:" + "|".join(parts) + ")"


def _split(cell: Optional[str]) -> list[str]:
    return [x.strip() for x in (cell or "").split(",") if x.strip()]


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("’", "'"))


@lru_cache(maxsize=4)
def _tables(table: str):
    """(demonym -> countries, country name -> countries, any place name -> countries)."""
    dem: dict[str, set[str]] = defaultdict(set)
    country_names: dict[str, set[str]] = defaultdict(set)
    places: dict[str, set[str]] = defaultdict(set)
    for row in load_tsv(table):
        c = row["country"].strip()
        for d in _split(row.get("demonyms")):
            dem[_norm(d)].add(c)
        for n in [c, *_split(row.get("names"))]:
            country_names[_norm(n)].add(c)
            places[_norm(n)].add(c)
        for p in [*_split(row.get("capital")), *_split(row.get("places"))]:
            places[_norm(p)].add(c)
    freeze = lambda d: {k: frozenset(v) for k, v in d.items()}  # noqa: E731
    return freeze(dem), freeze(country_names), freeze(places)


@lru_cache(maxsize=4)
def _patterns(table: str, max_modifiers: int) -> SimpleNamespace:
    """The tables and compiled patterns of one configuration, built on first use (about 0.15 s) and shared."""
    dem_of, countries_of, places_of = _tables(table)
    dem = _alt(dem_of)
    country = _alt(countries_of)
    mods = rf"(?P<mods>(?:(?i:{_alt(_MODIFIERS)})\s+){{0,{max_modifiers}}})"
    head = rf"(?<![\w'’.-])(?P<x>{dem})\s+{mods}"
    prep = r"(?i:on|in|inside|within|across|deep\s+(?:in|inside|into|within))"
    located = r"(?:(?i:located|situated|lying)\s+)?"
    nouns = _alt(_PLACED_NOUNS)
    place_word = _alt(_PLACE_WORDS)
    soil_re = re.compile(
        rf"{head}(?P<noun>(?i:{nouns}))\s+{located}(?P<prep>{prep})\s+(?:(?i:the)\s+)?"
        rf"(?:(?P<y>{dem})|(?P<yc>{country})['’]s)\s+(?P<pw>(?i:{place_word}))(?![\w-])"
    )
    territory_of_re = re.compile(
        rf"{head}(?P<noun>(?i:{nouns}))\s+{located}(?P<prep>{prep})\s+(?i:the)\s+"
        rf"(?P<pw>(?i:territory|soil|land|lands|territories))\s+(?i:of)\s+(?:(?i:the)\s+)?"
        rf"(?P<yc>{country})(?![\w'’-])"
    )
    in_re = re.compile(
        rf"{head}(?P<noun>(?i:{_alt(_IN_COUNTRY_NOUNS)}))\s+{located}(?P<prep>(?i:in|inside|within|deep\s+inside))\s+"
        rf"(?:(?i:the)\s+)?(?P<yp>{_alt(places_of)})(?![\w'’-])"
    )
    # strings one of which a unit must contain for each pattern to match ("soil", "city", ...)
    needs = {rx.pattern: required_strings(rx.pattern, rx.flags) for rx in (soil_re, territory_of_re, in_re)}
    return SimpleNamespace(
        dem=dem_of,
        countries=countries_of,
        places=places_of,
        soil_re=soil_re,
        territory_of_re=territory_of_re,
        in_re=in_re,
        needs=needs,
    )


@register("places", colour=("#ffd9ee", "#c2407f"), prior=7.0)
@dataclass(eq=False)
class PlaceContradiction(Detector):
    """A nationality adjective on something the same phrase puts in another country.

    MT systems render "targets on Y's territory (struck by X)" as "X targets
    on Y soil": the demonym of the agent lands on the object, and the phrase
    now says that X's targets lie in Y.

    >>> from garble.detectors import flagged
    >>> flagged(PlaceContradiction(), "The bill would allow the army to strike Pakistani targets on Indian soil.")
    [('foreign_soil', 'Pakistani targets on Indian soil')]
    >>> flagged(PlaceContradiction(), "Indian strikes on Pakistani territory were reported.")
    []

    ``foreign_soil`` (on by default): ``<X demonym> [up to two modifiers]
    <placed noun> (on|in|inside|within|across|deep in…) [the] <Y demonym>
    (soil|territory|land|ground)``, also ``… on <Y>'s territory`` and ``… on
    the territory of <Y>``, where X and Y name no common country. Placed
    nouns are things that belong where they stand: cities, towns, villages,
    regions, provinces, districts, infrastructure, and targets (weight 0.5
    rather than 0.75: "Iranian targets on Syrian soil", assets of one country
    inside another, is occasionally meant). Agents and actions (strikes,
    attacks, troops, forces, missiles), people (citizens, tourists) and what
    countries keep abroad (bases, embassies, facilities, settlements) never
    fire: "Pakistani attacks on Indian territory" says who attacks where.

    ``located_in`` (off by default): ``<X demonym> <noun> (in|inside|within)
    [the] <Y country, capital or major city>`` for targets, infrastructure,
    cities, towns and villages ("Turkish targets in Greece"), weight ``located_in_weight``.
    Off because it is ordinary English far more often than an error:
    "Iranian targets in Syria", "American targets in Iraq" (assets abroad),
    "German villages in Romania" (ethnic sense).

    Demonyms, country names, capitals and cities come from the hand-written
    table ``data/places.tsv`` (197 countries). A demonym shared by several
    countries (contested or ethnic senses: "Korean", "Congolese", "Serbian"
    in Kosovo, "Palestinian"/"Israeli", "Chinese"/"Taiwanese") never
    contradicts any of them. The demonym is skipped after an ethnic or
    historic qualifier ("ethnic Russian villages in ..."), inside compounds
    ("pro-Russian", "Russian-held", "Latin American") and when the place
    word carries a hyphen ("Russian-occupied territory").

    Defaults measured with ``garble eval false-alarms clean_en.tsv
    mqm_ted_zhen.tsv --detector places`` on clean human English (1,995 units:
    ``clean_en.tsv`` plus the human references of ``mqm_ted_zhen.tsv``): 0
    findings with ``located_in`` off or on (budget: fewer than 1 per 1,000
    units), and 0 on the 7,412 MT units of ``mqm_ted_zhen.tsv``. That sample
    holds only 71 demonyms and 3 demonyms before a placed noun, so it says
    little: the noun lists, the qualifiers and ``located_in`` off come from
    the precision argument above, and the negative cases in
    ``tests/test_detector_places.py`` pin them down. ``max_modifiers=2``
    covers "Polish border villages", "Iranian military targets"; modifiers
    come from a closed list so that a verb never slips in ("Pakistani drones
    hit targets on Indian soil" is not flagged).
    """

    table: str = "places.tsv"
    located_in: bool = False
    located_in_weight: float = 0.3
    max_modifiers: int = 2

    @property
    def _p(self) -> SimpleNamespace:
        return _patterns(self.table, self.max_modifiers)

    def _countries_of(self, m: re.Match) -> tuple[frozenset, frozenset, str]:
        p = self._p
        x = p.dem[_norm(m.group("x"))]
        gd = m.groupdict()
        if gd.get("y"):
            return x, p.dem[_norm(gd["y"])], gd["y"]
        if gd.get("yc"):
            return x, p.countries[_norm(gd["yc"])], gd["yc"]
        return x, p.places[_norm(gd["yp"])], gd["yp"]

    @staticmethod
    def _shifted(text: str, start: int) -> bool:
        """True when the word before the demonym changes its sense ("ethnic", "Latin", "pro-")."""
        before = text[:start].rstrip()
        m = re.search(r"([^\W\d_]+)[\s-]*$", before)
        if not m:
            return False
        word = m.group(1)
        if word.lower() in _SENSE_SHIFTERS:
            return True
        return word[:1].isupper() and word.lower() not in _CAPITAL_OK and before.endswith(word)

    def detect(self, doc: Document) -> Iterator[Finding]:
        p = self._p
        patterns = [("foreign_soil", p.soil_re), ("foreign_soil", p.territory_of_re)]
        if self.located_in:
            patterns.append(("located_in", p.in_re))
        for unit in doc.units:
            text = unit.text
            folded = fold(text)
            taken: list[tuple[int, int]] = []
            for kind, rx in patterns:
                needs = p.needs[rx.pattern]
                if needs is not None and not any(s in folded for s in needs):
                    continue
                for m in rx.finditer(text):
                    s, e = m.start("x"), m.end()
                    if any(s < b and a < e for a, b in taken):
                        continue
                    if self._shifted(text, s):
                        continue
                    xs, ys, y = self._countries_of(m)
                    if not xs or not ys or xs & ys:
                        continue
                    noun = m.group("noun").lower()
                    if kind == "located_in":
                        weight = self.located_in_weight
                        where = f"in {y}"
                    else:
                        weight = _PLACED_NOUNS[noun]
                        where = " ".join(text[m.start("prep") : m.end()].split())
                    x = m.group("x")
                    msg = f"“{x} {noun}” placed {where}: {noun} there are not {x} (nationality of the wrong side?)"
                    taken.append((s, e))
                    yield self.finding(kind, unit.start + s, unit.start + e, weight, msg)
