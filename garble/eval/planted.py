"""Artifacts planted in clean paragraphs, for the recall part of ``garble eval false-alarms``.

A corpus without encoding damage or untranslated words cannot measure how
often the ``encoding``, ``language`` and ``mt_noise`` detectors find them, so
one artifact is planted in each of up to 300 clean paragraphs (longer than 60
characters) per kind, from one seeded random sequence: the same paragraphs
and plants whichever detectors are measured. A plant is found when a finding
of its detector covers its position.
"""

from __future__ import annotations

import random
import re
from typing import Callable, Optional, Sequence

FUNCTION_WORDS = ("the", "a", "and", "of", "to", "with", "their")
PER_KIND = 300
PLAN_DETECTORS = ("encoding", "mt_noise", "language")  # the detectors of :func:`plans`

Plant = Optional[tuple[str, int]]  # (text with the artifact, its position), or None where it cannot be planted


def mojibake(t: str, rng: random.Random) -> Plant:
    """UTF-8 read as cp1252 (a typographic apostrophe first, if the paragraph is all ASCII)."""
    t = t.replace("'", "’", 1) if "’" not in t and "'" in t else t
    if t.isascii():
        return None
    try:
        bad = t.encode("utf-8").decode("cp1252")
    except UnicodeDecodeError:
        return None
    i = next(k for k, (a, b) in enumerate(zip(t, bad)) if a != b)
    return bad, i


def glued(t: str, rng: random.Random) -> Plant:
    """The space after a full stop removed ("said.The")."""
    hits = [m.start() + 2 for m in re.finditer(r"[a-z0-9][.!?] [A-Z][a-z]", t)]
    if not hits:
        return None
    i = rng.choice(hits)  # the space after the full stop
    return t[:i] + t[i + 1 :], i - 1


def _middle_space(t: str) -> int:
    spaces = [m.start() for m in re.finditer(" ", t)]
    return spaces[len(spaces) // 2]


def foreign(vocab: dict[str, list[str]]) -> Callable[[str, random.Random], Plant]:
    """Five random common words of one of ``vocab``'s languages, inserted mid-paragraph."""

    def plant(t: str, rng: random.Random) -> Plant:
        lg = rng.choice(sorted(vocab))
        phrase = " ".join(rng.choice(vocab[lg]) for _ in range(5))
        i = _middle_space(t)
        return t[:i] + " " + phrase + t[i:], i + 1

    return plant


def cjk(t: str, rng: random.Random) -> Plant:
    """A Chinese phrase inserted mid-paragraph."""
    i = _middle_space(t)
    return t[:i] + " 我们不会接受这个" + t[i:], i + 1


def truncated(t: str, rng: random.Random) -> Plant:
    """The paragraph cut after its last function word in the second half."""
    hits = [m.end() for m in re.finditer(r"\b(?:%s)\b" % "|".join(FUNCTION_WORDS), t) if m.end() > len(t) // 2]
    if not hits:
        return None
    i = hits[-1]
    return t[:i], i - 1


def plans() -> list[tuple[str, str, Callable[[str, random.Random], Plant]]]:
    """``(detector, artifact, plant)`` in the order they draw from the random sequence."""
    from wordfreq import top_n_list

    vocab = {
        lg: [w for w in top_n_list(lg, 300) if len(w) > 2 and w.isalpha()]
        for lg in ("de", "fr", "es", "it", "pt", "nl")
    }
    return [
        ("encoding", "mojibake", mojibake),
        ("mt_noise", "glued_words", glued),
        ("language", "foreign_words", foreign(vocab)),
        ("language", "foreign_script", cjk),
        ("mt_noise", "truncated", truncated),
    ]


def planted_recall(paragraphs: Sequence[str], detectors: Sequence, seed: int = 0) -> list[dict]:
    """Per artifact whose detector is among ``detectors``: plants tried and found (``[]`` when none is)."""
    from ..document import Document
    from ..segment import segment

    by_name = {d.name: d for d in detectors}
    if not any(name in by_name for name in PLAN_DETECTORS):
        return []
    rng = random.Random(seed)
    paras = [p for p in paragraphs if len(p) > 60]
    out = []
    for name, label, plant in plans():
        tried = found = 0
        for p in rng.sample(paras, min(PER_KIND, len(paras))):
            got = plant(p, rng)
            if got is None:
                continue
            t, pos = got
            tried += 1
            if name in by_name:
                findings = by_name[name].detect(Document(t, segment(t)))
                found += any(f.start <= pos < max(f.end, f.start + 1) for f in findings)
        if name in by_name:
            out.append({"detector": name, "artifact": label, "tried": tried, "found": found})
    return out
