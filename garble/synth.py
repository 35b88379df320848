"""Synthetic MT errors: corrupt clean English the way machine translation does.

Every corruption has a type label (:data:`ERROR_TYPES`):

``repetition``
    a 2-4 word phrase said twice, sometimes joined by "and" ("it's legal and it's legal");
``name_variant``
    a proper name misspelled in one place while the document spells it right
    elsewhere ("Lavrov" ... "Lavorov");
``nationality_swap``
    one nationality adjective replaced by another ("Ukrainian targets on
    Russian soil" where the source said Russian targets); demonyms come from
    ``data/places.tsv`` (a small built-in list when it is absent);
``dropped_word``
    one word left out ("we have to [the] problem");
``duplicated_word``
    one word doubled ("the the");
``fragment``
    a sentence broken by a bad segmentation so that a prepositional phrase
    stands alone ("... strike targets. On Russian territory."); the
    corrupted text is two units;
``untranslated``
    a short German/French/Spanish/Chinese phrase left in the English;
``word_swap``
    two neighbouring words swapped;
``negation``
    "not" dropped or inserted, or a word swapped for its antonym
    ("increase" -> "decrease").

Corruptions are deterministic: the same text, document, type and seed give
the same result (the random generator is seeded from a string of them).
:func:`corrupt` returns ``None`` when a type does not apply to a text (no
name repeated in the document, no demonym, sentence too short...).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

from .document import WORD_RE

ERROR_TYPES = (
    "repetition",
    "name_variant",
    "nationality_swap",
    "dropped_word",
    "duplicated_word",
    "fragment",
    "untranslated",
    "word_swap",
    "negation",
)

# short phrases MT leaves untranslated, written for garble
FOREIGN_PHRASES = (
    # German
    "und dann",
    "auf jeden Fall",
    "zum Beispiel",
    "nicht wahr",
    "in der Tat",
    "ich glaube",
    "vor allem",
    "es ist wichtig",
    "die Regierung",
    # French
    "c'est la vie",
    "en fait",
    "par exemple",
    "tout le monde",
    "il faut dire",
    "bien sûr",
    "à mon avis",
    "le gouvernement",
    # Spanish
    "por ejemplo",
    "sin embargo",
    "de hecho",
    "todo el mundo",
    "es decir",
    "el gobierno",
    "a lo mejor",
    # Chinese (the zh-en source language)
    "我们",
    "但是",
    "这个问题",
    "所以说",
    "其实",
    "非常重要",
)

# antonym pairs (both directions are used), written for garble
ANTONYMS = (
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("rise", "fall"),
    ("more", "less"),
    ("always", "never"),
    ("before", "after"),
    ("large", "small"),
    ("big", "small"),
    ("high", "low"),
    ("higher", "lower"),
    ("first", "last"),
    ("good", "bad"),
    ("better", "worse"),
    ("best", "worst"),
    ("easy", "hard"),
    ("possible", "impossible"),
    ("true", "false"),
    ("win", "lose"),
    ("won", "lost"),
    ("accept", "reject"),
    ("accepted", "rejected"),
    ("allow", "forbid"),
    ("open", "closed"),
    ("old", "young"),
    ("new", "old"),
    ("long", "short"),
    ("early", "late"),
    ("rich", "poor"),
    ("strong", "weak"),
    ("same", "different"),
    ("everyone", "no one"),
    ("everything", "nothing"),
    ("success", "failure"),
    ("agree", "disagree"),
    ("like", "dislike"),
    ("include", "exclude"),
    ("cheap", "expensive"),
    ("inside", "outside"),
    ("above", "below"),
    ("most", "least"),
    ("many", "few"),
    ("love", "hate"),
)
_ANTONYM = {}
for _a, _b in ANTONYMS:
    _ANTONYM.setdefault(_a, _b)
    _ANTONYM.setdefault(_b, _a)

_AUX = (
    "is",
    "are",
    "was",
    "were",
    "can",
    "could",
    "will",
    "would",
    "should",
    "must",
    "do",
    "does",
    "did",
    "have",
    "has",
    "had",
    "may",
    "might",
)
_PREPOSITIONS = (
    "in",
    "on",
    "at",
    "for",
    "with",
    "from",
    "during",
    "after",
    "before",
    "across",
    "through",
    "under",
    "over",
    "into",
    "about",
    "without",
    "between",
    "against",
    "among",
    "around",
)
_CONNECTIVES = ("and", "or")

_FALLBACK_DEMONYMS = (
    "American",
    "British",
    "Chinese",
    "Russian",
    "Ukrainian",
    "German",
    "French",
    "Spanish",
    "Italian",
    "Japanese",
    "Korean",
    "Indian",
    "Canadian",
    "Mexican",
    "Brazilian",
    "Australian",
    "Polish",
    "Turkish",
    "Iranian",
    "Israeli",
    "Egyptian",
    "Nigerian",
    "Swedish",
    "Dutch",
    "Greek",
    "Irish",
    "Scottish",
    "Norwegian",
    "Finnish",
    "Austrian",
)


@lru_cache(maxsize=1)
def _demonym_table() -> dict[str, frozenset[str]]:
    """Nationality adjective -> the countries it names, from ``data/places.tsv`` (built-in list when absent)."""
    try:
        from .resources import load_tsv

        rows = load_tsv("places.tsv")
    except (FileNotFoundError, OSError, ValueError, ModuleNotFoundError):
        rows = ()
    table: dict[str, set[str]] = {}
    for r in rows:
        for d in (r.get("demonyms") or "").replace("|", ",").split(","):
            d = d.strip()
            # adjectives only: "US"/"UK"-style attributive abbreviations read oddly when swapped in
            if len(d) > 3 and d[:1].isupper() and d.isalpha():
                table.setdefault(d, set()).add(r.get("country") or d)
    if not table:
        table = {d: {d} for d in _FALLBACK_DEMONYMS}
    return {d: frozenset(c) for d, c in table.items()}


def demonyms() -> tuple[str, ...]:
    """Nationality adjectives: ``data/places.tsv`` (column ``demonyms``, comma-separated) or a built-in list."""
    return tuple(_demonym_table())


@dataclass(frozen=True)
class Corruption:
    """A corrupted unit: ``units`` replaces the original unit (``fragment``: the head, the fragment, and the rest of the
    unit if any)."""

    kind: str
    original: str
    units: tuple[str, ...]
    detail: str
    n_marked: int = 1  # the first n_marked units carry the error (the rest of a split unit follows unchanged)

    @property
    def text(self) -> str:
        return " ".join(self.units)


def _rng(seed: int, kind: str, text: str, salt: str = "") -> random.Random:
    return random.Random(f"{seed}\x00{kind}\x00{salt}\x00{text}")


def _words(text: str) -> list[re.Match]:
    return list(WORD_RE.finditer(text))


def _plain_word(m: re.Match) -> bool:
    w = m.group()
    return w.isalpha() and len(w) >= 2


def _replace(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def _drop(text: str, m: re.Match) -> tuple[str, str]:
    """``text`` without the word ``m`` and one space beside it, and the detail."""
    a, b = m.start(), m.end()
    if b < len(text) and text[b] == " ":
        b += 1
    elif a > 0 and text[a - 1] == " ":
        a -= 1
    return _replace(text, a, b, ""), f"dropped {m.group()!r}"


def _lower_first(s: str) -> str:
    return s[:1].lower() + s[1:] if s[:2] != s[:2].upper() else s


# -- one corruption per type ---------------------------------------------------


def _repetition(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    ws = _words(text)
    if len(ws) < 4:
        return None
    n = rng.choice((2, 2, 3, 3, 4))
    n = min(n, len(ws) - 1)
    i = rng.randrange(0, len(ws) - n + 1)
    a, b = ws[i].start(), ws[i + n - 1].end()
    phrase = text[a:b]
    joiner = rng.choice((" ", " ", " and "))
    return _replace(text, b, b, joiner + phrase), f"repeated {phrase!r}"


_VOWELS = "aeiou"


def _misspell(name: str, rng: random.Random) -> str:
    """A plausible variant spelling of a name (inner letters only, first letter kept)."""
    inner = range(1, len(name) - 1) if len(name) > 3 else range(1, len(name))
    ops = ["insert_vowel", "drop", "swap", "vowel", "double"]
    for _ in range(10):
        op = rng.choice(ops)
        i = rng.choice(list(inner))
        if op == "insert_vowel":
            v = rng.choice(_VOWELS)
            out = name[:i] + v + name[i:]
        elif op == "drop" and len(name) > 4:
            out = name[:i] + name[i + 1 :]
        elif op == "swap" and i + 1 < len(name) and name[i] != name[i + 1]:
            out = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        elif op == "vowel" and name[i].lower() in _VOWELS:
            out = name[:i] + rng.choice([v for v in _VOWELS if v != name[i].lower()]) + name[i + 1 :]
        elif op == "double" and name[i].lower() not in _VOWELS and name[i].isalpha():
            out = name[:i] + name[i] + name[i:]
        else:
            continue
        if out != name:
            return out
    return name[:1] + name[1:].replace(name[-1], name[-1] + "e", 1) if len(name) > 1 else name + "e"


def _names_in(text: str) -> list[re.Match]:
    """Capitalised words not at the start of a sentence: likely proper names."""
    out = []
    for m in _words(text):
        w = m.group()
        if not (w[:1].isupper() and w[1:].islower() and w.isalpha() and len(w) >= 4):
            continue
        before = text[: m.start()].rstrip()
        if not before or before[-1] in ".!?:\"“‘'(":
            continue  # sentence-initial: not evidence of a name
        out.append(m)
    return out


@lru_cache(maxsize=65536)
def _common_word(w: str) -> bool:
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # pragma: no cover - wordfreq is a dependency
        return False
    return zipf_frequency(w.lower(), "en") >= 4.5


def _name_variant(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    others = " ".join(t for t in doc if t is not text)
    cands = [
        m
        for m in _names_in(text)
        if re.search(r"\b" + re.escape(m.group()) + r"\b", others)
        and not _common_word(m.group())
        and m.group() not in demonyms()
    ]
    if not cands:
        return None
    m = rng.choice(cands)
    new = _misspell(m.group(), rng)
    return _replace(text, m.start(), m.end(), new), f"{m.group()} -> {new}"


def _nationality_swap(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    dem = demonyms()
    dset = set(dem)
    cands = [m for m in _words(text) if m.group() in dset]
    if not cands:
        return None
    m = rng.choice(cands)
    table = _demonym_table()
    other = lambda d: not (table[d] & table[m.group()])  # noqa: E731 - a demonym of another country
    in_doc = {w.group() for t in doc for w in _words(t) if w.group() in dset}
    # prefer a demonym the document uses elsewhere (MT swaps the two countries of a story), else any
    pool = sorted(d for d in in_doc if other(d)) or [d for d in dem if other(d)]
    new = rng.choice(pool)
    return _replace(text, m.start(), m.end(), new), f"{m.group()} -> {new}"


def _dropped_word(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    ws = [m for m in _words(text)[1:] if _plain_word(m)]
    if len(ws) < 4:
        return None
    return _drop(text, rng.choice(ws))


def _duplicated_word(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    ws = [m for m in _words(text) if _plain_word(m)]
    if len(ws) < 3:
        return None
    m = rng.choice(ws)
    return _replace(text, m.end(), m.end(), " " + m.group()), f"doubled {m.group()!r}"


def _fragment(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[tuple[str, ...], str]]:
    ws = _words(text)
    cands = []
    for i, m in enumerate(ws):
        if m.group().lower() not in _PREPOSITIONS or i < 3:
            continue
        # the prepositional phrase: up to the end of its sentence, 2 to 8 words
        stop = re.compile(r"[.!?](?=[\s\"”’')]|$)").search(text, m.start())
        end = stop.end() if stop else len(text)
        n = sum(1 for w in ws[i:] if w.end() <= end)
        head = text[: m.start()].rstrip().rstrip(",;:—–-").rstrip()
        if 2 <= n <= 8 and len(_words(head)) >= 3 and "." not in text[m.start() : end - 1]:
            cands.append((i, end))
    if not cands:
        return None
    i, end = rng.choice(cands)
    m = ws[i]
    head = text[: m.start()].rstrip().rstrip(",;:—–-").rstrip()
    if head[-1] not in ".!?":
        head += "."
    frag = text[m.start() : end].strip()
    if frag[-1] not in ".!?":
        frag += "."
    frag = frag[:1].upper() + frag[1:]
    rest = text[end:].strip()
    units = (head, frag, rest) if rest else (head, frag)
    return units, f"split before {m.group()!r}: {frag!r} stands alone"


def _untranslated(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    ws = _words(text)
    if len(ws) < 4:
        return None
    phrase = rng.choice(FOREIGN_PHRASES)
    if rng.random() < 0.5:
        # replace a 1-3 word span with the phrase (a span the MT system did not translate)
        n = rng.choice((1, 2, 3))
        i = rng.randrange(1, len(ws) - n + 1) if len(ws) - n >= 1 else 0
        a, b = ws[i].start(), ws[i + n - 1].end()
        return _replace(text, a, b, phrase), f"{text[a:b]!r} -> {phrase!r}"
    i = rng.randrange(1, len(ws))
    a = ws[i].start()
    return _replace(text, a, a, phrase + " "), f"inserted {phrase!r}"


def _word_swap(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    ws = [m for m in _words(text)]
    pairs = [
        i
        for i in range(len(ws) - 1)
        if text[ws[i].end() : ws[i + 1].start()] == " "
        and ws[i].group().lower() != ws[i + 1].group().lower()
        and _plain_word(ws[i])
        and _plain_word(ws[i + 1])
    ]
    if not pairs:
        return None
    i = rng.choice(pairs)
    a, b = ws[i], ws[i + 1]
    first, second = a.group(), b.group()
    if a.start() == 0 or not text[: a.start()].strip():
        # keep sentence-initial capitalisation in place
        second, first = second[:1].upper() + second[1:], _lower_first(first)
    return text[: a.start()] + second + " " + first + text[b.end() :], f"swapped {a.group()!r} and {b.group()!r}"


def _negation(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    ws = _words(text)
    options = []
    for m in ws:
        w = m.group()
        lw = w.lower()
        if lw == "not":
            options.append(("drop_not", m))
        elif lw.endswith("n't") or lw.endswith("n’t"):
            options.append(("drop_nt", m))
        elif lw in _AUX:
            options.append(("insert_not", m))
        if lw in _ANTONYM:
            options.append(("antonym", m))
    if not options:
        return None
    op, m = rng.choice(options)
    w = m.group()
    if op == "drop_not":
        a, b = m.start(), m.end()
        if b < len(text) and text[b] == " ":
            b += 1
        return _replace(text, a, b, ""), "dropped 'not'"
    if op == "drop_nt":
        base = {"can't": "can", "won't": "will", "can’t": "can", "won’t": "will"}.get(w.lower()) or w[:-3]
        if w.lower() in ("can't", "won't", "can’t", "won’t") and w[:1].isupper():
            base = base.capitalize()
        return _replace(text, m.start(), m.end(), base), f"{w!r} -> {base!r}"
    if op == "insert_not":
        return _replace(text, m.end(), m.end(), " not"), f"inserted 'not' after {w!r}"
    new = _ANTONYM[w.lower()]
    if w[:1].isupper():
        new = new[:1].upper() + new[1:]
    return _replace(text, m.start(), m.end(), new), f"{w!r} -> {new!r}"


# -- grammar and surface errors (the minimal-pair kinds) ----------------------

_AGREEMENT = {
    "is": "are",
    "are": "is",
    "was": "were",
    "were": "was",
    "has": "have",
    "have": "has",
    "does": "do",
    "do": "does",
    "doesn't": "don't",
    "don't": "doesn't",
    "isn't": "aren't",
    "aren't": "isn't",
    "wasn't": "weren't",
    "weren't": "wasn't",
    "this": "these",
    "these": "this",
    "that": "those",
    "those": "that",
}
# present <-> past of frequent verbs, written for garble
_TENSES = (
    ("go", "went"),
    ("goes", "went"),
    ("is", "was"),
    ("are", "were"),
    ("has", "had"),
    ("have", "had"),
    ("make", "made"),
    ("makes", "made"),
    ("take", "took"),
    ("takes", "took"),
    ("say", "said"),
    ("says", "said"),
    ("know", "knew"),
    ("knows", "knew"),
    ("think", "thought"),
    ("thinks", "thought"),
    ("see", "saw"),
    ("sees", "saw"),
    ("come", "came"),
    ("comes", "came"),
    ("get", "got"),
    ("gets", "got"),
    ("give", "gave"),
    ("gives", "gave"),
    ("find", "found"),
    ("finds", "found"),
    ("tell", "told"),
    ("tells", "told"),
    ("become", "became"),
    ("leave", "left"),
    ("feel", "felt"),
    ("feels", "felt"),
    ("bring", "brought"),
    ("begin", "began"),
    ("keep", "kept"),
    ("write", "wrote"),
    ("stand", "stood"),
    ("hear", "heard"),
    ("run", "ran"),
    ("eat", "ate"),
    ("buy", "bought"),
    ("teach", "taught"),
    ("build", "built"),
    ("want", "wanted"),
    ("wants", "wanted"),
    ("need", "needed"),
    ("needs", "needed"),
    ("use", "used"),
    ("uses", "used"),
    ("work", "worked"),
    ("works", "worked"),
    ("start", "started"),
    ("starts", "started"),
    ("try", "tried"),
    ("tries", "tried"),
    ("live", "lived"),
    ("lives", "lived"),
    ("can", "could"),
    ("will", "would"),
)
_TENSE = {}
for _a, _b in _TENSES:
    _TENSE.setdefault(_a, _b)
    _TENSE.setdefault(_b, _a)
_ARTICLES = {"a": ("the", "an"), "an": ("the", "a"), "the": ("a", "an")}
_FUNCTION_WORDS = (
    "the",
    "a",
    "an",
    "to",
    "of",
    "is",
    "are",
    "was",
    "that",
    "it",
    "be",
    "in",
    "for",
    "and",
    "with",
    "on",
    "by",
    "as",
    "have",
    "has",
)
_PREP_SWAP = ("in", "on", "at", "to", "for", "of", "with", "by", "from", "about", "into")
_PRONOUNS = {
    "he": "she",
    "she": "he",
    "his": "her",
    "her": "his",
    "him": "her",
    "they": "it",
    "it": "they",
    "their": "its",
    "its": "their",
    "we": "they",
    "us": "them",
    "our": "their",
}
_INSERTABLE = ("the", "of", "to", "a", "is", "that", "and", "in")


def _case_like(new: str, old: str) -> str:
    return new[:1].upper() + new[1:] if old[:1].isupper() else new


def _swap_word(text: str, rng: random.Random, table: dict, what: str) -> Optional[tuple[str, str]]:
    cands = [m for m in _words(text) if m.group().lower().replace("’", "'") in table]
    if not cands:
        return None
    m = rng.choice(cands)
    w = m.group()
    new = table[w.lower().replace("’", "'")]
    if isinstance(new, tuple):
        new = rng.choice(new)
    new = _case_like(new, w)
    return _replace(text, m.start(), m.end(), new), f"{what}: {w!r} -> {new!r}"


def _agreement(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    return _swap_word(text, rng, _AGREEMENT, "agreement")


def _tense(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    return _swap_word(text, rng, _TENSE, "tense")


def _article(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    return _swap_word(text, rng, _ARTICLES, "article")


def _preposition(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    table = {p: tuple(q for q in _PREP_SWAP if q != p) for p in _PREP_SWAP}
    return _swap_word(text, rng, table, "preposition")


def _pronoun(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    return _swap_word(text, rng, _PRONOUNS, "pronoun")


def _dropped_function_word(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    ws = [m for m in _words(text)[1:] if m.group().lower() in _FUNCTION_WORDS]
    if not ws or len(_words(text)) < 4:
        return None
    return _drop(text, rng.choice(ws))


def _inserted_word(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    ws = _words(text)
    if len(ws) < 4:
        return None
    i = rng.randrange(1, len(ws))
    w = rng.choice(_INSERTABLE)
    a = ws[i].start()
    return _replace(text, a, a, w + " "), f"inserted {w!r}"


def _misspelling(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    ws = [m for m in _words(text) if m.group().isalpha() and len(m.group()) >= 5 and m.group().islower()]
    if not ws:
        return None
    m = rng.choice(ws)
    w = m.group()
    for _ in range(10):
        i = rng.randrange(1, len(w) - 1)
        op = rng.choice(("swap", "drop", "double", "replace"))
        if op == "swap" and w[i] != w[i + 1]:
            new = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        elif op == "drop":
            new = w[:i] + w[i + 1 :]
        elif op == "double":
            new = w[:i] + w[i] + w[i:]
        else:
            new = w[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + w[i + 1 :]
        if new != w and not _common_word(new):
            return _replace(text, m.start(), m.end(), new), f"{w!r} -> {new!r}"
    return None


def _no_final_punct(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    t = text.rstrip()
    if len(_words(t)) < 4 or not t or t[-1] not in ".!?":
        return None
    return t[:-1] + text[len(t) :], f"dropped the final {t[-1]!r}"


def _lowercase_start(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    ws = _words(text)
    if len(ws) < 4 or not ws[0].group()[:1].isupper() or ws[0].group().isupper() or ws[0].start() > 2:
        return None
    m = ws[0]
    return _replace(text, m.start(), m.start() + 1, m.group()[0].lower()), "lowercase sentence start"


def _number_change(text: str, rng: random.Random, doc: Sequence[str]) -> Optional[tuple[str, str]]:
    nums = list(re.finditer(r"\d+(?:[.,]\d+)?", text))
    if not nums:
        return None
    m = rng.choice(nums)
    digits = [i for i, c in enumerate(m.group()) if c.isdigit()]
    i = rng.choice(digits)
    d = rng.choice([c for c in "0123456789" if c != m.group()[i] and not (i == 0 and c == "0")])
    new = m.group()[:i] + d + m.group()[i + 1 :]
    return _replace(text, m.start(), m.end(), new), f"{m.group()!r} -> {new!r}"


_FUNCS = {
    "repetition": _repetition,
    "name_variant": _name_variant,
    "nationality_swap": _nationality_swap,
    "dropped_word": _dropped_word,
    "duplicated_word": _duplicated_word,
    "fragment": _fragment,
    "untranslated": _untranslated,
    "word_swap": _word_swap,
    "negation": _negation,
    "agreement": _agreement,
    "tense": _tense,
    "article": _article,
    "preposition": _preposition,
    "pronoun": _pronoun,
    "dropped_function_word": _dropped_function_word,
    "inserted_word": _inserted_word,
    "misspelling": _misspelling,
    "no_final_punct": _no_final_punct,
    "lowercase_start": _lowercase_start,
    "number_change": _number_change,
}

#: the grammar and surface kinds (minimal pairs: one sentence, one small change)
GRAMMAR_TYPES = (
    "agreement",
    "tense",
    "article",
    "preposition",
    "pronoun",
    "dropped_function_word",
    "inserted_word",
    "misspelling",
    "no_final_punct",
    "lowercase_start",
    "number_change",
)
ALL_TYPES = ERROR_TYPES + GRAMMAR_TYPES


def pair_in_context(pair: "SynthPair") -> bool:
    """Whether a pair is read after the unit before it (else alone, as a single line): half of them, by a hash of the
    pair."""
    import hashlib

    pid = f"{pair.doc_id}:{pair.index}:{pair.corruption.kind}"
    return hashlib.sha256(pid.encode()).digest()[0] % 2 == 1


def error_spans(original: str, corrupted: str) -> list[tuple[int, int]]:
    """Character spans of ``corrupted`` that differ from ``original`` (whole words).

    A deletion marks the word after the gap (or before it at the end): that is
    where a reader notices it. Used to label tokens for the error model.
    """
    import difflib

    wo = [m for m in re.finditer(r"\S+", original)]
    wc = [m for m in re.finditer(r"\S+", corrupted)]
    sm = difflib.SequenceMatcher(a=[m.group() for m in wo], b=[m.group() for m in wc], autojunk=False)
    spans = []
    for op, _a0, _a1, b0, b1 in sm.get_opcodes():
        if op == "equal":
            continue
        if b1 > b0:
            spans.append((wc[b0].start(), wc[b1 - 1].end()))
        elif wc:
            k = min(b0, len(wc) - 1)
            spans.append((wc[k].start(), wc[k].end()))
    return spans


def corrupt(text: str, kind: str, seed: int = 0, doc: Sequence[str] = (), salt: str = "") -> Optional[Corruption]:
    """Corrupt ``text`` with an error of type ``kind``; ``None`` when the type does not apply.

    ``doc``: the texts of the whole document (``name_variant`` needs a name
    that occurs elsewhere in it; ``nationality_swap`` prefers a demonym it
    uses). Deterministic in (text, kind, seed, salt).
    """
    if kind not in _FUNCS:
        raise ValueError(f"unknown error type {kind!r}; known: {', '.join(ERROR_TYPES)}")
    out = _FUNCS[kind](text, _rng(seed, kind, text, salt), doc)
    if out is None:
        return None
    new, detail = out
    units = new if isinstance(new, tuple) else (new,)
    if " ".join(units) == text:
        return None
    return Corruption(kind, text, tuple(units), detail, n_marked=2 if kind == "fragment" else 1)


@dataclass(frozen=True)
class SynthPair:
    """A clean document and one of its units corrupted."""

    doc_id: str
    texts: tuple[str, ...]  # the clean document's units
    index: int  # the unit that is corrupted
    corruption: Corruption

    def corrupted_texts(self) -> list[str]:
        """The document with unit ``index`` replaced by the corruption's unit(s)."""
        return [*self.texts[: self.index], *self.corruption.units, *self.texts[self.index + 1 :]]

    @property
    def corrupted_indices(self) -> list[int]:
        """Indices, in :meth:`corrupted_texts`, of the corrupted unit(s)."""
        return list(range(self.index, self.index + self.corruption.n_marked))


def make_pairs(
    docs: Sequence[tuple[str, Sequence[str]]],
    kinds: Sequence[str] = ERROR_TYPES,
    per_kind: int = 100,
    seed: int = 0,
    min_words: int = 4,
) -> list[SynthPair]:
    """Up to ``per_kind`` corrupted units per type, spread round-robin over ``docs`` (``(doc_id, texts)``).

    Units with fewer than ``min_words`` words are not corrupted. Each unit is
    corrupted at most once per type. Deterministic in the inputs and ``seed``.
    """
    out: list[SynthPair] = []
    for kind in kinds:
        rng = random.Random(f"{seed}\x00pairs\x00{kind}")
        # candidates per document, in a seeded random order
        queues = []
        for doc_id, texts in docs:
            idx = [i for i, t in enumerate(texts) if len(_words(t)) >= min_words]
            rng.shuffle(idx)
            queues.append((doc_id, list(texts), idx))
        order = list(range(len(queues)))
        rng.shuffle(order)
        got = 0
        while got < per_kind and any(q[2] for q in queues):
            for qi in order:
                doc_id, texts, idx = queues[qi]
                while idx:
                    i = idx.pop()
                    c = corrupt(texts[i], kind, seed=seed, doc=texts, salt=f"{doc_id}:{i}")
                    if c is not None:
                        out.append(SynthPair(doc_id, tuple(texts), i, c))
                        got += 1
                        break
                if got >= per_kind:
                    break
    return out


def minimal_pairs(
    docs: Sequence[tuple[str, Sequence[str]]], kinds: Sequence[str] = ALL_TYPES, per_kind: int = 40, seed: int = 0
) -> list[dict]:
    """``{"good", "bad", "type"}`` records: one clean sentence and its corruption, for ``garble eval pairs``.

    Kinds that need more than one sentence (``fragment`` splits a unit in
    two) or a document (``name_variant``) are skipped.
    """
    out = []
    for p in make_pairs(
        docs, kinds=[k for k in kinds if k not in ("fragment", "name_variant")], per_kind=per_kind, seed=seed
    ):
        out.append({"good": p.corruption.original, "bad": p.corruption.text, "type": p.corruption.kind})
    return out
