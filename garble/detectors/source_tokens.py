"""Names, acronyms, URLs, emails, code and hashtags of the source that the translation lost."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from ..document import Document
from ..langid import main_script
from ..types import Finding
from . import Detector, register

_URL = r"(?:https?://|www\.)[^\s<>\"'“”「」（）()，。、]+"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_TAG = r"[#@][A-Za-z_][\w]*"
# a Latin-script token: letters and digits with inner . _ - + & ' ("iPhone", "COVID-19", "C++", "AT&T", "node.js")
_WORD = r"[A-Za-z][A-Za-z0-9]*(?:[-_.&'+][A-Za-z0-9]+)*\+*"
_TOKEN_RE = re.compile(f"(?P<url>{_URL})|(?P<email>{_EMAIL})|(?P<tag>{_TAG})|(?P<word>{_WORD})")
_TRAIL = ".,;:!?)]}'\"”’"
# sentence starts and common words of Latin-script sources that are capitalised but no name
_GERMANIC = {"de", "lb"}


def _kind(m: re.Match) -> str:
    return m.lastgroup or "word"


def _present(token: str, target_fold: str) -> bool:
    tok = token.casefold()
    # as a whole token ("TED" is not in "elevated"), maybe with a plural or possessive ending
    if re.search(rf"(?<![a-z0-9]){re.escape(tok)}(?:s|'s|’s)?(?![a-z0-9])", target_fold):
        return True
    # a name written with spaces or hyphens the other way ("YouTube" / "You Tube", "e-mail" / "email")
    squeeze = re.sub(r"[\s\-_.]", "", tok)
    return len(squeeze) >= 4 and squeeze in re.sub(r"[\s\-_.]", "", target_fold)


@register("source_tokens", colour=("#fde4cf", "#b8560f"), prior=4.0)
@dataclass(eq=False)
class SourceTokens(Detector):
    """A token that should pass through translation unchanged but is missing from it (needs the source).

    For a source in a non-Latin script (Chinese, Japanese, Russian, ...),
    every Latin-script token of it: names and product names ("iPhone"),
    acronyms ("NASA"), URLs, emails, code, hashtags and handles:

    >>> from garble.detectors import flagged
    >>> flagged(SourceTokens(), "I posted on it with the hashtag.", source="我用 GitHub 和 #MeToo 发帖")
    [('missing', 'src:GitHub'), ('missing', 'src:#MeToo')]

    flags ``GitHub`` and ``#MeToo`` (``missing``; zero-width at the unit
    start, the source offsets in ``source_span``). For a Latin-script source
    the same for URLs, emails, hashtags, handles, acronyms and mixed-case or
    digit-bearing tokens ("iPhone", "H1N1"), and for capitalised words not at
    a sentence start (names), except in German, which capitalises nouns.
    Numbers are the ``numbers`` detector's. A token counts as present when its
    casefolded form, with spaces, hyphens and dots removed, occurs in the target.

    ``min_chars=2``: a single Latin letter in a Chinese source is usually a
    shape or grade ("A 型", "X 光"), rendered in words as often as not.
    ``name_weight=0.5`` for capitalised words of a Latin source (translated
    names, "Londres" -> "London", are ordinary) and ``weight=0.8`` for the rest.
    """

    min_chars: int = 2
    weight: float = 0.8
    name_weight: float = 0.5

    def detect(self, doc: Document) -> Iterator[Finding]:
        for unit, src in doc.source_pairs():
            latin = main_script(src) == "Latin"
            if latin and doc.source_language == "en":
                continue  # English to English: nothing passes through translation
            tgt = unit.text.casefold()
            seen: set[str] = set()
            for m in _TOKEN_RE.finditer(src):
                kind = _kind(m)
                tok = m.group().rstrip(_TRAIL) if kind == "url" else m.group()
                a = m.start()
                if len(tok) < self.min_chars or tok in seen:
                    continue
                if kind == "word" and tok.isdigit():
                    continue
                w = self.weight
                if latin and kind == "word":
                    if not _code_like(tok):
                        at_start = not src[:a].strip() or src[:a].rstrip()[-1:] in '.!?:;"“«„¿¡'
                        if not tok[:1].isupper() or at_start or doc.source_language in _GERMANIC:
                            continue
                        w = self.name_weight
                seen.add(tok)
                if not _present(tok, tgt):
                    what = {"url": "URL", "email": "email address", "tag": "hashtag/handle"}.get(kind, "name or term")
                    yield self.finding(
                        "missing",
                        unit.start,
                        unit.start,
                        w,
                        f"source {what} “{tok}” is not in the translation",
                        (a, a + len(tok)),
                    )


def _code_like(tok: str) -> bool:
    """An acronym, mixed-case or digit-bearing token, or one with code punctuation: "NASA", "iPhone", "H1N1",
    "node.js"."""
    letters = [c for c in tok if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True
    if any(c.isdigit() for c in tok) or any(c in "_.+&" for c in tok):
        return True
    return any(c.isupper() for c in tok[1:])
