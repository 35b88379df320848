"""Repetition: a word or phrase said twice in a row, and repetition loops."""

from __future__ import annotations

from typing import Iterator

from ..document import Document
from ..types import Finding
from . import Detector

# function words whose doubling is ordinary English ("that that", "had had")
_OK_DOUBLES = frozenset({"that", "had", "is", "do", "very", "so", "bye", "no", "yes", "ha", "knock", "well", "really", "many", "far", "more", "again", "over", "round", "on", "by", "out", "little", "step", "side", "one", "two", "day", "year", "time", "bit", "now"})


def _norm(word: str) -> str:
    return word.lower().replace("’", "'")


class Repetition(Detector):
    """A phrase repeated back to back, the MT artifact of a decoder that lost its place.

    Catches an n-gram (1 to ``max_n`` words) followed at once by the same
    n-gram, possibly with one connective between ("legal and legal"):

    >>> "the the", "it's legal and it's legal", "we must we must act"

    and loops of the same word three or more times ("very very very").
    Doubled single words from a short list of ordinary English doublings
    ("that that", "had had") are left alone.

    ``max_n=6``: MT phrase loops seen in the WMT MQM data are at most a few
    words; longer exact repeats are usually deliberate (refrains, quotes).
    ``connectives``: the words allowed between the two copies; "and"/"or"
    cover the coordination MT produces when it translates two near-synonyms
    with one English word.
    """

    name = "repetition"

    def __init__(self, max_n: int = 6, connectives: tuple[str, ...] = ("and", "or"), weight: float = 0.9):
        self.max_n = max_n
        self.connectives = frozenset(connectives)
        self.weight = weight

    def detect(self, doc: Document) -> Iterator[Finding]:
        for unit in doc.units:
            toks = doc.unit_tokens(unit)
            words = [t.text.lower().replace("’", "'") for t in toks]  # _norm, inlined (every token)
            n_words = len(words)
            if len(set(words)) == n_words:
                continue  # no word occurs twice: nothing repeats
            covered_until = -1
            for i in range(n_words):
                if toks[i].start < covered_until:
                    continue
                if words[i] not in words[i + 1 : i + self.max_n + 2]:
                    continue  # a copy would start within max_n words (max_n + 1 after a connective)
                hit = None
                for n in range(min(self.max_n, (n_words - i) // 2), 0, -1):
                    a = words[i : i + n]
                    # directly repeated
                    if words[i + n : i + 2 * n] == a:
                        # "legal and legal and": report the pair around the connective
                        hit = (n - 1, 1) if n > 1 and a[-1] in self.connectives else (n, 0)
                        break
                    # repeated after one connective word ("legal and legal")
                    j = i + n
                    if j < n_words and words[j] in self.connectives and words[j + 1 : j + 1 + n] == a:
                        if n == 1 and len(a[0]) < 3:
                            continue
                        hit = (n, 1)
                        break
                if hit is None:
                    continue
                n, gap = hit
                if n == 1 and gap == 0 and words[i] in _OK_DOUBLES:
                    # ordinary doubling, unless it loops three times or more
                    if words[i + 2 : i + 3] != words[i : i + 1]:
                        continue
                if all(w.isdigit() for w in words[i : i + n]):
                    continue  # "10 10" in tables, scores
                # extend over a loop: the same n-gram again and again
                end_idx = i + 2 * n + gap
                reps = 2
                while words[end_idx : end_idx + n] == words[i : i + n]:
                    end_idx += n
                    reps += 1
                start, end = toks[i].start, toks[end_idx - 1].end
                phrase = doc.text[toks[i].start : toks[i + n - 1].end]
                if reps >= 3:
                    kind, msg, w = "loop", f"repetition loop: “{phrase}” {reps} times", 1.0
                elif gap:
                    kind, msg, w = "repeated_phrase", f"“{phrase}” repeated around “{words[i + n]}”", self.weight
                else:
                    kind, msg, w = "repeated_phrase" if n > 1 else "repeated_word", f"“{phrase}” said twice in a row", self.weight
                yield self.finding(kind, start, end, w, msg)
                covered_until = end
