"""Synthetic source-aware corruptions of good (source, translation) pairs.

Each corruption damages the translation the way MT output goes wrong when the
source is needed to see it; :func:`corrupt` returns ``None`` when a pair has
nothing to corrupt that way (no number, no Latin token, too short):

* ``drop_clause``: a clause (comma, dash or semicolon delimited, 25-60% of the
  words) or else a run of 35% of the words, taken out of the middle;
* ``change_number``: a number of the translation (digits or a cardinal word)
  given another value;
* ``drop_name``: a Latin-script token of the source (name, acronym, URL)
  taken out of the translation;
* ``untranslated_phrase``: about 30% of the translation's words replaced by
  a stretch of the source of proportional length;
* ``break_placeholder``: a placeholder (``{0}``, ``%s``, ``%(count)d``,
  ``${user}``, ``<b>…</b>``, ``%1$s``) put into both sides, as in a software
  string, then deleted or mangled in the translation (``clean_*`` then
  holds the pair with the intact placeholder: the false-alarm check).

Deterministic for a given ``seed``. Measured by :mod:`garble.eval.source` (``scripts/eval_source.py``,
``garble eval --with-source``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Iterable, Optional

from .detectors._numbers import cardinal_word, target_numbers
from .detectors.source_tokens import _TOKEN_RE

KINDS = ("drop_clause", "change_number", "drop_name", "untranslated_phrase", "break_placeholder")
#: the detector meant to catch each kind
DETECTOR_OF = {
    "drop_clause": "length_ratio",
    "change_number": "numbers",
    "drop_name": "source_tokens",
    "untranslated_phrase": "untranslated",
    "break_placeholder": "placeholders",
}

_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred thousand "
    "million"
).split()
_CLAUSE_SEP = re.compile(r"(,\s+|\s+--\s+|\s+[-–—]\s+|;\s+)")


@dataclass(frozen=True)
class Corruption:
    kind: str
    source: str
    target: str
    clean_source: str
    clean_target: str
    note: str


def _drop_clause(src: str, tgt: str, rng: random.Random) -> Optional[Corruption]:
    n = len(tgt.split())
    if n < 8:
        return None
    parts = _CLAUSE_SEP.split(tgt)
    clauses = parts[0::2]
    cands = [i for i, c in enumerate(clauses) if 0.25 <= len(c.split()) / n <= 0.6]
    if len(clauses) > 1 and cands:
        i = rng.choice(cands)
        keep = parts[: 2 * i] + parts[2 * i + 2 :] if i < len(clauses) - 1 else parts[: max(0, 2 * i - 1)]
        out = "".join(keep).strip()
        if i == len(clauses) - 1 and tgt.rstrip()[-1:] in ".!?" and out[-1:] not in ".!?":
            out += tgt.rstrip()[-1]
        if i == 0 and out:
            out = out[0].upper() + out[1:]
        return Corruption("drop_clause", src, out, src, tgt, f"dropped clause {clauses[i]!r}")
    words = tgt.split()
    k = max(3, round(0.35 * n))
    a = rng.randint(1, max(1, n - k - 1))
    out = " ".join(words[:a] + words[a + k :])
    return Corruption("drop_clause", src, out, src, tgt, f"dropped words {a}..{a + k}")


def _change_number(src: str, tgt: str, rng: random.Random) -> Optional[Corruption]:
    nums = [x for x in target_numbers(tgt) if x.digits or cardinal_word(x.text)]
    if not nums:
        return None
    x = rng.choice(nums)
    if x.digits:
        digits = re.search(r"\d[\d,]*(?:\.\d+)?", x.text)
        old = digits.group()
        v = float(old.replace(",", ""))
        nv = v * 10 if v < 10 else v + max(1, round(v * rng.choice((0.2, 0.3, 0.5))))
        new = (f"{nv:,.0f}" if "," in old else f"{nv:.0f}") if nv == int(nv) else f"{nv:.1f}"
        repl = x.text[: digits.start()] + new + x.text[digits.end() :]
    else:
        first = x.text.split()[0].split("-")[0]
        choices = [w for w in ("three", "seven", "eleven", "forty", "nine") if w != first.lower()]
        new = rng.choice(choices)
        repl = (new.capitalize() if first[:1].isupper() else new) + x.text[len(first) :]
    out = tgt[: x.start] + repl + tgt[x.end :]
    return Corruption("change_number", src, out, src, tgt, f"{x.text!r} -> {repl!r}")


def _drop_name(src: str, tgt: str, rng: random.Random) -> Optional[Corruption]:
    def where(tok: str) -> list[re.Match]:
        return list(re.finditer(rf"(?<![A-Za-z0-9]){re.escape(tok)}(?![A-Za-z0-9])", tgt, re.I))

    toks = [m.group() for m in _TOKEN_RE.finditer(src) if len(m.group()) >= 2 and where(m.group())]
    if not toks:
        return None
    tok = rng.choice(toks)
    out = tgt
    for m in reversed(where(tok)):  # every occurrence: the name is gone
        out = out[: m.start()] + out[m.end() :]
    out = re.sub(r"\s{2,}", " ", out).strip()
    return Corruption("drop_name", src, out, src, tgt, f"dropped {tok!r}")


def _untranslated(src: str, tgt: str, rng: random.Random) -> Optional[Corruption]:
    words = tgt.split()
    n = len(words)
    if n < 5 or len(src) < 6:
        return None
    k = max(3, round(0.3 * n))
    a = rng.randint(0, n - k)
    share = k / n
    ls = max(2, round(share * len(src)))
    b = round(a / n * len(src))
    b = max(0, min(b, len(src) - ls))
    chunk = src[b : b + ls].strip()
    out = " ".join(words[:a] + [chunk] + words[a + k :])
    return Corruption("untranslated_phrase", src, out, src, tgt, f"words {a}..{a + k} -> {chunk!r}")


_PLACEHOLDERS = ("{0}", "{name}", "%s", "%(count)d", "${user}", "%1$s", "<b>")


def _break_placeholder(src: str, tgt: str, rng: random.Random) -> Optional[Corruption]:
    if not tgt.strip():
        return None
    ph = rng.choice(_PLACEHOLDERS)
    if ph == "<b>":
        words = tgt.split(" ", 1)
        ct = f"<b>{words[0]}</b>" + (" " + words[1] if len(words) > 1 else "")
        cs = f"<b>{src[:2]}</b>{src[2:]}"
        broken = rng.choice(
            (
                f"<b>{words[0]}" + (" " + words[1] if len(words) > 1 else ""),
                f"<b>{words[0]}<b>" + (" " + words[1] if len(words) > 1 else ""),
            )
        )
    else:
        sep_s, sep_t = ("：", ": ")
        cs, ct = f"{ph}{sep_s}{src}", f"{ph}{sep_t}{tgt}"
        mangled = {
            "{0}": ("{0", "{O}", "{1}"),
            "{name}": ("{nom}", "{name", "name}"),
            "%s": ("%", "% s", "%d"),
            "%(count)d": ("%(count)", "%(cuont)d", "(count)d"),
            "${user}": ("$user", "${usr}", "{user}"),
            "%1$s": ("%1s", "%1$", "$1s"),
        }[ph]
        how = rng.choice(("delete", *mangled))
        broken = tgt if how == "delete" else f"{how}{sep_t}{tgt}"
    return Corruption("break_placeholder", cs, broken, cs, ct, f"{ph} broken")


_FUNCS = {
    "drop_clause": _drop_clause,
    "change_number": _change_number,
    "drop_name": _drop_name,
    "untranslated_phrase": _untranslated,
    "break_placeholder": _break_placeholder,
}


def corrupt(source: str, target: str, kind: str, rng: random.Random) -> Optional[Corruption]:
    """One corruption of ``kind`` of the pair, or ``None`` when the pair has nothing to corrupt that way."""
    if kind not in _FUNCS:
        raise ValueError(f"unknown corruption {kind!r}; known: {', '.join(KINDS)}")
    return _FUNCS[kind](source, target, rng)


def corruptions(
    pairs: Iterable[tuple[str, str]], kinds: Iterable[str] = KINDS, seed: int = 0
) -> dict[str, list[Corruption]]:
    """Every applicable corruption of every pair, by kind (one per pair and kind)."""
    pairs = list(pairs)
    out: dict[str, list[Corruption]] = {}
    for kind in kinds:
        rng = random.Random(f"{seed}:{kind}")
        out[kind] = [c for s, t in pairs for c in [corrupt(s, t, kind, rng)] if c is not None]
    return out
