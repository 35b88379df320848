"""Repetition: a word or phrase said twice in a row, and repetition loops."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..document import Document
from ..types import Finding
from . import Detector, register

# function words whose doubling is ordinary English ("that that", "had had")
_OK_DOUBLES = frozenset(
    {
        "that",
        "had",
        "is",
        "do",
        "very",
        "so",
        "bye",
        "no",
        "yes",
        "ha",
        "knock",
        "well",
        "really",
        "many",
        "far",
        "more",
        "again",
        "over",
        "round",
        "on",
        "by",
        "out",
        "little",
        "step",
        "side",
        "one",
        "two",
        "day",
        "year",
        "time",
        "bit",
        "now",
    }
)


# characters between two copies that make a repeat deliberate rather than a decoder slip:
# "ding, ding, ding", "if it were empty, if it were empty" (epizeuxis, anaphora), "Thank you.
# Thank you all.", "the matter (matter also means ...)"
_PAUSES = frozenset(',;:—–-.!?()[]"“”')


def _idiomatic_pair(word: str, connective: str) -> bool:
    """``word and word`` as ordinary English: "faster and faster", "more and more", "again and again"."""
    if connective != "and":
        return False
    return word in _OK_DOUBLES or word in ("less", "better", "worse") or _comparative(word)


def _comparative(word: str) -> bool:
    """An adjective's comparative: "faster" (fast), "bigger" (big), "closer" (close), "easier" (easy).

    A word ending in "-er" whose stem is a common word more frequent than it
    (so "water", "number", "summer", whose stems are rarer, are not).
    """
    if len(word) < 5 or not word.endswith("er"):
        return False
    from ..lexicon import zipf

    stem = word[:-2]
    stems = [stem, word[:-1]]  # fast-er, close-r
    if len(stem) > 2 and stem[-1] == stem[-2]:
        stems.append(stem[:-1])  # big-g-er
    if stem.endswith("i"):
        stems.append(stem[:-1] + "y")  # eas-i-er
    z = zipf(word)
    return any(zipf(s) >= 3.5 and zipf(s) > z for s in stems if len(s) > 1)


@register("repetition", colour=("#ffe2bd", "#d9822b"), prior=5.5)
@dataclass(eq=False)
class Repetition(Detector):
    """A phrase repeated back to back, the MT artifact of a decoder that lost its place.

    Catches an n-gram (1 to ``max_n`` words) followed at once by the same
    n-gram, possibly with one connective between ("legal and legal"):

    >>> from garble.detectors import flagged
    >>> flagged(Repetition(), "He said the the plan was fine.")
    [('repeated_word', 'the the')]
    >>> flagged(Repetition(), "It's legal and it's legal.")
    [('repeated_phrase', "It's legal and it's legal")]
    >>> flagged(Repetition(), "We must we must act now.")
    [('repeated_phrase', 'We must we must')]

    and loops of the same word three or more times ("very very very").
    Doubled single words from a short list of ordinary English doublings
    ("that that", "had had") are left alone, and so are the English
    "W and W" idioms of one word ("faster and faster", "more and more",
    "again and again"). A repeat whose copies a comma, colon, semicolon or
    dash separates is usually deliberate: a single word ("ding, ding, ding",
    "no, no") is left alone, a phrase ("if it were empty, if it were empty")
    gets ``pause_weight``.

    ``max_n=6``: MT phrase loops seen in the WMT MQM data are at most a few
    words; longer exact repeats are usually deliberate (refrains, quotes).
    ``connectives``: the words allowed between the two copies; "and"/"or"
    cover the coordination MT produces when it translates two near-synonyms
    with one English word.
    ``pause_weight=0.3``: on the TED train talks of mqm_ted_zhen (5,370
    segments), phrase repeats across a pause hit 14 error-free segments and
    3 with a Major fluency error (the talks' own rhetoric, faithfully
    translated): a third of a slip's weight keeps them visible without
    ranking them first. The exceptions above took the detector's full-weight
    hits there from 32 error-free and 11 fluency-major segments to 1 and 2.
    """

    max_n: int = 6
    connectives: tuple[str, ...] = ("and", "or")
    weight: float = 0.9
    pause_weight: float = 0.3

    def detect(self, doc: Document) -> Iterator[Finding]:
        for unit in doc.units:
            toks = doc.unit_tokens(unit)
            words = [t.text.lower().replace("’", "'") for t in toks]  # norm_word, inlined (every token)
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
                        hit = (n, 1)
                        break
                if hit is None:
                    continue
                n, gap = hit
                if n == 1 and gap == 1 and (len(words[i]) < 3 or _idiomatic_pair(words[i], words[i + 1])):
                    continue  # "faster and faster", also when found as "faster and" twice
                if n == 1 and gap == 0 and words[i] in _OK_DOUBLES:
                    # ordinary doubling, unless it loops three times or more
                    if words[i + 2 : i + 3] != words[i : i + 1]:
                        continue
                if all(w.isdigit() for w in words[i : i + n]):
                    continue  # "10 10" in tables, scores
                # what stands between the first copy and the second (or its connective)
                pause = any(c in _PAUSES for c in doc.text[toks[i + n - 1].end : toks[i + n].start])
                if pause and n == 1:
                    continue  # "ding, ding, ding", "no, no": deliberate
                # extend over a loop: the same n-gram again and again
                end_idx = i + 2 * n + gap
                reps = 2
                while words[end_idx : end_idx + n] == words[i : i + n]:
                    end_idx += n
                    reps += 1
                start, end = toks[i].start, toks[end_idx - 1].end
                phrase = doc.text[toks[i].start : toks[i + n - 1].end]
                if pause:
                    kind, msg, w = (
                        "repeated_phrase",
                        f"“{phrase}” said twice, across a pause (often deliberate)",
                        self.pause_weight,
                    )
                elif reps >= 3:
                    kind, msg, w = "loop", f"repetition loop: “{phrase}” {reps} times", 1.0
                elif gap:
                    kind, msg, w = "repeated_phrase", f"“{phrase}” repeated around “{words[i + n]}”", self.weight
                else:
                    kind, msg, w = (
                        "repeated_phrase" if n > 1 else "repeated_word",
                        f"“{phrase}” said twice in a row",
                        self.weight,
                    )
                yield self.finding(kind, start, end, w, msg)
                covered_until = end
