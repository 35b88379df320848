"""The detectors' shortcuts never change what they find.

Detectors skip work with cheap tests: a regex of strings every match of a
pattern contains (``garble.detectors._literals``), "hint" regexes that every
match of a slower regex contains, an ASCII-only word regex. Each test here
checks one such claim against the slow path it replaces. The whole-detector
check (every finding on the eval data, before and after a change) is
``python scripts/bench_detectors.py dump|check``.
"""

from __future__ import annotations

import re

import pytest
from conftest import EVAL, SEED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from garble.detectors import mt_noise, punctuation
from garble.detectors._literals import StringFinder, fold, required_strings
from garble.detectors.boilerplate import Boilerplate, load_patterns
from garble.detectors.places import PlaceContradiction
from garble.document import _ASCII_WORD_RE, Document, word_re
from garble.segment import segment
from garble.types import Finding, Unit

FAST = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


def _eval_texts() -> list[str]:
    out = []
    for name in ("mqm_ted_zhen.tsv", "clean_en.tsv"):
        path = EVAL / name
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()[1:3001]
            out += [ln.rsplit("\t", 1)[-1] for ln in lines]
    if SEED.is_file():
        out += SEED.read_text(encoding="utf-8").split("\n\n")
    return out


EVAL_TEXTS = _eval_texts()

FURNITURE = [
    "Leave a Reply",
    "Your email address will not be published.",
    "Required fields are marked *",
    "Photo: Jane Roe / Example Agency / Other Agency",
    "Photo credit: Jane Roe",
    "Picture: John Doe/Getty Images",
    "See also  Ten things to know about the budget / Who pays more?",
    "Related: Council raises parking fees",
    "Read more: Why taxes are going up",
    "Advertisement",
    "Share this article",
    "Facebook Twitter WhatsApp Email",
    "Click here to read the full report.",
    "Subscribe to our newsletter",
    "5 min read",
    "Updated: 12:15",
    "We use cookies to improve your experience. By continuing to use this site, you agree.",
    "Posted by Jane Roe on May 3, 2021",
    "© 2021 Example Media. All rights reserved.",
    "(Photo: Reuters)",
    "By John Smith, Reuters",
    "Tags: budget, council",
    "Home » News » Budget",
    "12.05.2021",
    "Monday, 3 May 2021, 12:15 pm",
    "The post Budget news appeared first on Example.",
    "Listen to this article",
    "ſee alſo: more",
    "İmage credit: X",
    "\u212aeywords: a, b",
    "Sign up for our daily newsletter today.",
    "Download our free app now!",
]


# -- case folding -----------------------------------------------------------------------------
def test_fold_matches_re_ignorecase_on_ascii_letters():
    """Every character ``re`` matches to an ASCII letter with IGNORECASE folds to that letter."""
    letter = re.compile("(?i)[a-z]")
    for cp in range(0x80, 0x110000):
        ch = chr(cp)
        if letter.fullmatch(ch):
            matches = [c for c in "abcdefghijklmnopqrstuvwxyz" if re.fullmatch("(?i)" + c, ch)]
            assert fold(ch) in matches, (hex(cp), fold(ch), matches)


# -- required strings ------------------------------------------------------------------------
def _check_needs(rx: re.Pattern, needs, text: str) -> None:
    if rx.search(text):
        assert needs is None or any(s in fold(text) for s in needs), (rx.pattern[:80], text, needs)


@pytest.mark.parametrize("i", range(len(load_patterns())))
def test_boilerplate_required_strings_on_examples(i):
    pat = load_patterns()[i]
    assert pat.needs == required_strings(pat.regex.pattern, pat.regex.flags)
    for text in FURNITURE + EVAL_TEXTS:
        _check_needs(pat.regex, pat.needs, text)


@pytest.mark.parametrize("i", [i for i, p in enumerate(load_patterns()) if p.needs is not None])
def test_boilerplate_required_strings_on_generated_matches(i):
    pat = load_patterns()[i]

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(pat.regex))
    def check(text):
        _check_needs(pat.regex, pat.needs, text)

    check()


def test_required_strings_examples():
    assert required_strings(r"(?i)^see also\b.*$") == {"see also"}
    assert required_strings(r"(?:Photo|Picture)s?:") == {"photo:", "photos:", "picture:", "pictures:"}
    assert required_strings(r"(?:Photo|Picture)s?\s*:") == {"photo", "picture"}
    assert required_strings(r"\d{1,2}:\d{2}") == {":"}
    assert required_strings(r"\d+") is None
    assert required_strings(r"(?i)a|\w+") is None  # an alternative without strings
    assert required_strings(r"(?i)stra\u00dfe") == {"stra"}  # "ß" has case: not used


@FAST
@given(st.text(alphabet="abcCoOmMpPsSwW./:@\\ -_k\u212aſ\u0130ı", max_size=30))
def test_urlish_required_strings(text):
    _check_needs(mt_noise._URLISH, mt_noise._URLISH_NEEDS, text)


def test_places_required_strings():
    det = PlaceContradiction(located_in=True)
    texts = EVAL_TEXTS + [
        "allow the army to strike Pakistani targets on Indian soil.",
        "Russian cities on Ukrainian territory",
        "Iranian military targets ON SYRIAN SOIL",
        "Turkish towns in Greece",
        "Russian villages deep inside Ukraine",
        "Pakistani targets on India's territory",
        "Russian cities on the territory of Ukraine",
    ]
    p = det._p  # the patterns of the detector's configuration
    for rx in (p.soil_re, p.territory_of_re, p.in_re):
        needs = p.needs[rx.pattern]
        assert needs
        for text in texts:
            _check_needs(rx, needs, text)


# -- boilerplate: prefiltered == every pattern ------------------------------------------------
def _as_units(texts: list[str]) -> Document:
    """A document of ``texts`` as units, paragraphs of three (as Scorer.score_units lays them out)."""
    units, pos = [], 0
    for i, t in enumerate(texts):
        units.append(Unit(index=i, start=pos, end=pos + len(t), text=t, paragraph=i // 3))
        pos += len(t) + 1
    return Document("\n".join(texts), units)


def test_boilerplate_prefilter_finds_the_same():
    fast, slow = Boilerplate(), Boilerplate()
    slow._candidates = lambda text: list(slow.patterns)  # every pattern on every paragraph
    text = "\n\n".join(FURNITURE)
    docs = [Document(text, segment(text)), _as_units(FURNITURE)]
    docs += [_as_units(EVAL_TEXTS[i : i + 90]) for i in range(0, len(EVAL_TEXTS), 90)]
    for doc in docs:
        assert list(fast.detect(doc)) == list(slow.detect(doc))


# -- StringFinder -----------------------------------------------------------------------------
@FAST
@given(
    st.lists(st.text(alphabet="abc .", min_size=1, max_size=4), min_size=1, max_size=12),
    st.text(alphabet="abc .", max_size=40),
)
def test_string_finder_is_in(strings, text):
    assert StringFinder(strings)(text) == {s for s in strings if s in text}


# -- hint regexes: every match of the slow regex contains a match of the hint ----------------
PUNCT_TEXT = st.text(alphabet="aZb1 .,;!?:”\"')]\t\u00a0’Éé_", max_size=25)


@FAST
@given(PUNCT_TEXT)
def test_punctuation_hints(text):
    if any(
        rx.search(text) for rx in (punctuation._GLUED_STOP, punctuation._GLUED_COMMA, punctuation._GLUED_AFTER_CLOSER)
    ):
        assert punctuation._GLUED_HINT.search(text)
    if punctuation._SPACE_BEFORE.search(text):
        assert punctuation._SPACE_BEFORE_HINT.search(text)


@FAST
@given(st.text(alphabet="abTZ1 .,;!?”’\"')]_é", max_size=25))
def test_mt_noise_hints(text):
    if mt_noise._GLUED_PUNCT.search(text):
        assert mt_noise._GLUED_PUNCT_HINT.search(text)
    if mt_noise._CAMEL.search(text):
        assert mt_noise._CAMEL_HINT.search(text)


@FAST
@given(st.text(alphabet="abcdé0 .:/@wW\\mMoO", max_size=40))
def test_mt_noise_url_chunks(text):
    slow = [m.span() for m in re.finditer(r"\S+", text) if mt_noise._URLISH.search(m.group())]
    assert mt_noise._urlish_chunks(text) == slow


# -- the ASCII word regex ---------------------------------------------------------------------
@FAST
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40))
def test_ascii_word_re_is_word_re_on_ascii(text):
    assert [m.span() for m in _ASCII_WORD_RE.finditer(text)] == [m.span() for m in word_re().finditer(text)]


def test_ascii_word_re_on_eval_text():
    for text in EVAL_TEXTS:
        if text.isascii():
            assert _ASCII_WORD_RE.findall(text) == word_re().findall(text)


# -- linear time on a long paragraph (a document on one line) ---------------------------------
# Each shortcut below replaced a scan whose cost grew with the paragraph (or the document) for
# every match in it; each must give what the scan gave.
_RUN_ALPHABET = "ab1 \n.,;:!?)]”\"'’-_/=é"


@FAST
@given(st.text(alphabet=_RUN_ALPHABET, max_size=40))
def test_punctuation_runs_are_the_scanned_runs(text):
    runs = punctuation._Runs(text)
    for i in range(len(text) + 1):
        a = i
        while a > 0 and not text[a - 1].isspace():
            a -= 1
        b = i
        while b < len(text) and not text[b].isspace():
            b += 1
        assert runs.at(i) == (a, b)
        assert runs.check(punctuation._urlish, a, b) == punctuation._urlish(text[a:b])


@FAST
@given(st.text(alphabet=_RUN_ALPHABET, max_size=40))
def test_punctuation_words_at_an_offset(text):
    anchored = re.compile(r"^[^\W_]+(?:[’'\-][^\W_]+)*")  # what _WORD_AT replaced: a match on a copy of the rest
    left_anywhere = punctuation._WORD_LEFT
    runs = punctuation._Runs(text)
    for i in range(len(text) + 1):
        m, old = punctuation._WORD_AT.match(text, i), anchored.match(text[i:])
        assert (m.span() if m else None) == ((i + old.start(), i + old.end()) if old else None)
        if i > 0 and text[i - 1].isalnum():  # where it is asked: a mark right after a letter or digit
            new, old = punctuation._left_word(text, runs.at(i)[0], i), left_anywhere.search(text, 0, i)
            assert (new.span() if new else None) == (old.span() if old else None)
        for b in range(i, len(text) + 1):
            assert punctuation._dot_inside(text, i, b) == ("." in text[i:b].rstrip(".,;:!?)]”\"'"))


def test_punctuation_on_one_long_line_is_the_same_per_paragraph():
    """The paragraph-wide checks find the same on a paragraph of 2,000 sentences as on each sentence alone."""
    from garble.detectors.punctuation import Punctuation

    sentences = ["He said,and then left.", "It rained (a lot.", "Visit example.com/a,b today.", "The end.”The next."]
    one = [Punctuation().detect(Document(s, segment(s))) for s in sentences]
    one = [[(f.kind, f.end - f.start) for f in fs] for fs in one]
    text = " ".join(sentences * 500)
    found = list(Punctuation().detect(Document(text, segment(text))))
    kinds = [(f.kind, f.end - f.start) for f in found if f.kind != "unmatched_bracket"]
    assert kinds == [k for fs in one for k in fs if k[0] != "unmatched_bracket"] * 500


@FAST
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 10)), max_size=12), st.integers(0, 40), st.integers(0, 12))
def test_boilerplate_cover_is_any(spans, a, width):
    from garble.detectors.boilerplate import _Cover

    found = [Finding("boilerplate", "x", s, s + n, 0.5, "") for s, n in spans]
    b = a + width
    assert _Cover(found)(a, b) == any(f.start <= a and b <= f.end for f in found)


@FAST
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 10), st.sampled_from([0.3, 0.5, 0.9])), max_size=14))
def test_boilerplate_drop_contained_is_the_scan(spans):
    from garble.detectors.boilerplate import _drop_contained

    hits = [Finding("boilerplate", f"k{i}", s, s + n, w, "") for i, (s, n, w) in enumerate(spans)]
    slow_hits = sorted(hits, key=lambda f: (-(f.end - f.start), -f.weight))
    kept: list = []
    for f in slow_hits:
        if not any(k.start <= f.start and f.end <= k.end for k in kept):
            kept.append(f)
    assert _drop_contained(list(hits)) == kept


@FAST
@given(st.text(alphabet="ab .:/@wWmco", max_size=40))
def test_mt_noise_inside_is_any(text):
    spans = mt_noise._urlish_chunks(text)
    for pos in range(len(text) + 1):
        assert mt_noise._inside(pos, spans) == any(a <= pos < b for a, b in spans)


@FAST
@given(st.lists(st.text(alphabet='a “”"', max_size=6), min_size=1, max_size=8))
def test_fragments_quote_marks_before_are_the_counts(texts):
    from garble.detectors.fragments import _QuoteMarks

    units = [Unit(index=i, start=0, end=len(t), text=t, paragraph=0) for i, t in enumerate(texts)]
    marks = _QuoteMarks(units)
    for pos in range(len(units)):
        before = "".join(u.text for u in units[:pos])
        assert marks.before(pos) == (before.count("“"), before.count("”"), before.count('"'))
