"""Cheap, exact prefilters for regular expressions: strings a match must contain.

A detector with many regular expressions pays for each one at every position
of every unit, although almost every unit matches none (and ``re`` is slow
with ``IGNORECASE``). :func:`required_strings` reads a pattern once and
returns a few strings of which at least one occurs in any text the pattern
matches, in :func:`fold`-ed form; a unit whose folded text contains none of
them cannot match, so the pattern need not run. "See also" in ``(?i)^see
also\\b.*$``, ``{"photo", "picture"}`` in ``(?:Photo|Picture)s?\\s*:``.

The test is exact: it never rejects a text the pattern matches. Literal
characters are only used when :func:`fold` maps every character that
``re`` may match them to (case-insensitively too) to the same character:
ASCII characters and characters without case ("»", "©", "–"). Where a
pattern has no such strings (``\\d+``) the answer is ``None`` and the pattern
always runs.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Optional

try:  # Python 3.11+
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

# non-ASCII characters that ``re`` matches to an ASCII letter with IGNORECASE
# (checked against ``re`` in tests/test_detector_equivalence.py); str.lower()
# leaves the last three alone and turns "İ" into two characters
_FOLD_TABLE = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})

# at most this many alternative strings are tracked per stretch of literals
_MAX_STRINGS = 64
# strings this long are rare enough in running text
_GOOD_LEN = 8

Strings = Optional[frozenset]


def fold(text: str) -> str:
    """``text`` lower-cased so that case-insensitive ASCII literals can be found with ``in``."""
    return text.translate(_FOLD_TABLE).lower() if not text.isascii() else text.lower()


def _usable(ch: str) -> bool:
    """Whether every character ``re`` may match to ``ch`` folds to ``fold(ch)``."""
    return ch.isascii() or ch == ch.lower() == ch.upper() == ch.casefold()


@lru_cache(maxsize=256)
def required_strings(pattern: str, flags: int = 0, min_len: int = 1) -> Strings:
    """Folded strings, one of which occurs in ``fold(text)`` whenever ``pattern`` matches in ``text``.

    ``None`` when no such set has strings of at least ``min_len`` characters
    (or the pattern uses syntax this reader does not know).
    """
    try:
        parsed = _sre_parse.parse(pattern, flags)
    except Exception:  # pragma: no cover - re.compile would have failed too
        return None
    exact, need = _sequence(list(parsed))
    best = _best([need, _as_need(exact)])
    if best is None or min(map(len, best)) < min_len:
        return None
    # a string that contains another of the set adds nothing
    return frozenset(s for s in best if not any(t != s and t in s for t in best))


def _as_need(exact: Strings) -> Strings:
    return exact if exact and "" not in exact else None


def _best(cands: Iterable[Strings]) -> Strings:
    """The most selective requirement.

    Strings of ``_GOOD_LEN`` characters are selective enough; among those,
    fewer strings are cheaper to look for, then longer ones are rarer.
    """

    def key(c: frozenset) -> tuple[int, int, int]:
        shortest = min(map(len, c))
        return min(_GOOD_LEN, shortest), -len(c), shortest

    return max((c for c in cands if c), key=key, default=None)


def _windows(stretch: list[frozenset]) -> list[Strings]:
    """Requirements from a stretch of adjacent literal items: the strings of each window of it."""
    out: list[Strings] = []
    for i in range(len(stretch)):
        strings = {""}
        for exact in stretch[i:]:
            strings = {a + b for a in strings for b in exact}
            if len(strings) > _MAX_STRINGS:
                break
            out.append(_as_need(frozenset(strings)))
    return out


def _sequence(items: list) -> tuple[Strings, Strings]:
    """(the exact set of strings the sequence matches or None, a requirement or None)."""
    stretch: list[frozenset] = []  # exact sets of the current run of adjacent literal items
    complete = True  # every item so far was literal: ``stretch`` is the whole sequence
    cands: list[Strings] = []
    for op, av in items:
        exact, need = _item(op, av)
        cands.append(need)  # e.g. " this " inside an alternative
        if exact is not None:
            if len(exact) == 1 and stretch and len(stretch[-1]) == 1:
                # one literal string after another: join them (its windows are never better)
                stretch[-1] = frozenset({next(iter(stretch[-1])) + next(iter(exact))})
            else:
                stretch.append(exact)
            continue
        complete = False
        cands.extend(_windows(stretch))
        stretch = []
    cands.extend(_windows(stretch))
    whole: Strings = None
    if complete:
        whole = frozenset({""})
        for exact in stretch:
            whole = frozenset(a + b for a in whole for b in exact)
            if len(whole) > _MAX_STRINGS:
                whole = None
                break
    return whole, _best(cands)


def _item(op, av) -> tuple[Strings, Strings]:
    if op is _sre.LITERAL:
        ch = chr(av)
        return (frozenset({fold(ch)}) if _usable(ch) else None), None
    if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
        return frozenset({""}), None  # zero width: the literals around it are adjacent
    if op is _sre.SUBPATTERN:
        return _sequence(list(av[-1]))
    if op is _sre.BRANCH:
        results = [_sequence(list(alt)) for alt in av[1]]
        exacts = [e for e, _ in results]
        exact = frozenset().union(*exacts) if all(e is not None for e in exacts) else None
        if exact is not None and len(exact) > _MAX_STRINGS:
            exact = None
        needs = [_best([n, _as_need(e)]) for e, n in results]
        need = frozenset().union(*needs) if all(n is not None for n in needs) else None
        return exact, need
    if op is _sre.IN:
        if all(o is _sre.LITERAL and _usable(chr(v)) for o, v in av):
            return frozenset(fold(chr(v)) for _, v in av), None
        return None, None
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) or op is getattr(_sre, "POSSESSIVE_REPEAT", None):
        lo, hi, sub = av
        exact, need = _sequence(list(sub))
        if lo == 0 and hi == 1 and exact is not None:
            return exact | {""}, None
        if lo >= 1:
            return None, _best([need, _as_need(exact)])
        return None, None
    return None, None


class StringFinder:
    """Which of many strings occur in a text, found in one regular-expression pass.

    The strings are compiled into one regular expression shaped like a trie
    (``see also|seen`` becomes ``see(?:\\ also|n)``), wrapped in a lookahead so
    that it reports, at every position, the longest string that starts there.
    A shorter string that starts at the same position is a prefix of that one,
    so each found string also reports the strings that are its prefixes. Much
    faster than testing ``s in text`` for each of a hundred strings.
    """

    def __init__(self, strings: Iterable[str]):
        self.strings = frozenset(s for s in strings if s)
        self._prefixes = {s: frozenset(t for t in self.strings if s.startswith(t)) for s in self.strings}
        self._rx = re.compile(f"(?=({_trie_pattern(self.strings)}))") if self.strings else None

    def __call__(self, text: str) -> set[str]:
        """The strings that occur in ``text``."""
        found: set[str] = set()
        if self._rx is not None:
            for m in self._rx.finditer(text):
                found.update(self._prefixes[m.group(1)])
        return found


def _trie_pattern(strings: Iterable[str]) -> str:
    trie: dict = {}
    for s in strings:
        node = trie
        for ch in s:
            node = node.setdefault(ch, {})
        node[""] = {}  # a string ends here

    def pattern(node: dict) -> str:
        alts = [re.escape(ch) + pattern(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body  # greedy: the longest string wins

    return pattern(trie)
