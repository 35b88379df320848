"""Fragments: units left over from broken sentence segmentation or a broken translation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence

from ..document import Document, Token
from ..types import Finding, Unit
from . import Detector, register
from ._text import norm_word, paragraphs

# --- a small project-written English lexicon (no tagger) --------------------------------------

# finite auxiliaries, copulas and modals: any of these makes a unit a clause
_AUX = frozenset(
    """am is are was were be been being has have had having do does did done will would shall
    should can could may might must ought cannot isn't aren't wasn't weren't hasn't haven't
    hadn't doesn't don't didn't won't wouldn't can't couldn't shouldn't mustn't let's""".split()
)

# irregular finite and participle forms of common verbs
_IRREGULAR = frozenset(
    """said says told tells went goes gone came comes made makes took takes taken gave gives
    given got gets gotten knew knows known thought thinks saw sees seen found finds felt feels
    left leaves kept keeps began begins begun brought brings bought buys built builds sent sends
    spent spends stood stands understood understands wrote writes written spoke speaks spoken
    broke breaks broken chose chooses chosen drove drives driven ate eats eaten fell falls fallen
    flew flies flown forgot forgets forgotten grew grows grown hid hides hidden held holds hung
    led leads lost loses meant means met meets paid pays ran runs rose rises risen sold sells
    sat sits slept sleeps stole steals stolen struck strikes swam swims taught teaches tore
    threw throws thrown wore wears worn won wins withdrew withdrawn woke shook shaken sang sung
    drew drawn drank drunk fought fights caught catches sought seeks heard hears lay lies laid
    became becomes arose arisen forbade forbidden forgave forgiven froze frozen overcame
    undertook undertaken shot shoots fed feeds fled flees bled dealt deals dug lent lends lit
    slid spun spat sprang stuck stung swore swept swung wept wound""".split()
)

# base forms of common verbs (regular inflections are derived: -s, -ed, -ing)
_VERBS = frozenset(
    """accept accuse achieve act add admit advise affect agree aim allow announce answer appear
    apply approve argue arrange arrest arrive ask assume attack attempt attend avoid back ban
    be bear beat become begin believe belong bring build burn buy call cancel care carry catch
    cause change charge check choose claim clean close come comment compare complain complete
    concern confirm consider contain continue control cook cost count cover create cross cry cut
    damage dance deal decide declare decline defend deliver demand deny depend describe design
    destroy develop die disappear discover discuss do drink drive drop eat educate encourage end
    enjoy enter escape establish estimate exist expect experience explain express face fail fall
    fear feel fight fill find finish fit fix fly focus follow forget forgive form get give go
    grow guess happen hate have head hear help hide hit hold hope hurt identify ignore imagine
    improve include increase indicate inform insist intend introduce invest invite involve join
    jump keep kill know last laugh launch lead learn leave let lie lift like limit listen live
    look lose love maintain make manage mark marry matter mean measure meet mention mind miss move
    need note notice obtain occur offer open order own pass pay perform pick place plan play point
    prefer prepare present prevent produce promise propose protect prove provide publish pull push
    put raise reach read realize receive recognize recommend reduce reflect refuse reject release
    remain remember remove repeat replace reply report represent request require respond rest
    return reveal rise run save say see seek seem sell send serve set share shoot show sign sing
    sit sleep smile solve sound speak spend stand start stay steal stop strike study succeed
    suffer suggest support suppose survive take talk teach tell tend test thank think threaten
    throw touch train travel treat try turn understand urge use visit wait walk want warn wash
    watch wear win wish wonder work worry write
    absorb adapt address adjust admire adopt afford analyse analyze appreciate approach argue
    assess assist attract award base bend bet bind bite blame blow boil borrow bother bounce
    breathe brush bury calculate capture celebrate chase cheat chew clap climb collapse collect
    combine commit communicate compete compose conclude conduct connect consist construct consume
    contribute convert convince copy correct crash crawl cure dare deliver depend deserve desire
    detect determine differ dig vary disagree dislike distribute divide double doubt drag dream dress
    drift earn edit elect eliminate embrace emerge employ enable engage ensure evaluate examine
    exceed exchange excuse expand explore export extend fade feed fetch float flow fold forbid
    freeze gain gather generate glance glow grab grant greet grind hang harm hunt hurry imply
    import impress inspire install interrupt invent judge kick kiss knock lack land lend lie lock
    manufacture match melt mimic mix motivate multiply negotiate nod obey object observe occupy
    operate organize organise owe pack participate pause perceive permit persuade pour practise
    practice pray predict pretend print proceed promote pronounce protest punish pursue qualify
    quit rain rank react realise recall recover refer regard regret relate relax rely remind rent
    repair rescue resign resist resolve respect restore retire rid ride ring risk rob roll rub rule
    rush satisfy scare score scream search secure select settle shake shape shine shout shrink
    shut sink ski slip smell snow sort spell spill split spoil spread squeeze stare stick sting
    stir stretch submit suit supply surprise surround suspect swallow swear sweep swim switch
    taste tear tie tolerate transfer translate trust undergo unite vote wake wander warm weigh
    whisper wipe yell""".split()
)

# lowercase words in -ed / -ing that are not verb forms
_ED_NOT_VERB = frozenset(
    "need bed red hundred indeed seed feed breed greed creed weed shed sled deed reed steed tweed "
    "speed shred unwed infrared sacred naked wicked rugged ragged wretched beloved kindred hatred "
    "embed med sped".split()
)
_ING_NOT_VERB = frozenset(
    "thing something nothing anything everything king ring spring string wing sting during "
    "morning evening ceiling building meeting wedding beginning ending setting funding housing "
    "clothing warning offering painting hearing bombing shooting uprising pudding earring herring "
    "sibling darling ping timing lightning inning sterling shilling awning icing stuffing wording "
    "ongoing upcoming following including according regarding concerning pending notwithstanding "
    "spelling ceiling outing siding railing".split()
)

_DET = frozenset(
    "the a an this that these those his her their our its my your whose some any no every each "
    "either neither another such what which both all half several many few".split()
)
_PREPS = frozenset(
    """in on at for with from by of to about after before during under over through without
    within between among amongst against since into onto upon per via according towards toward
    across behind beyond near amid amidst despite following including unlike throughout
    regarding concerning besides beside alongside outside inside""".split()
)
_SUBJECTS = frozenset("i you we they he she it who there which that this these those".split())
# contraction endings that carry a verb ("it’s" is; "Kiev’s" is a possessive and not counted)
_VERB_CLITICS = frozenset({"re", "ll", "ve", "m", "d", "t"})
_S_CLITIC_HOSTS = frozenset(
    "it he she that there here what who where how when let one everyone someone nobody everybody "
    "somebody everything something nothing this".split()
)
_PRONOUN_SUBJECTS = frozenset("i you we they he she".split())
# words after which a base form is a verb ("to go", "and look")
_BEFORE_BASE = frozenset("to not also never just and but so then now please always often".split())
# -s words that are not third-person verbs
_NOT_3SG_ENDINGS = ("ss", "us", "is", "ous", "ics", "ways", "'s")
_NOT_3SG = frozenset(
    "news series species perhaps sometimes besides towards afterwards whereas thus less unless yes "
    "plus minus bonus status census campus virus focus its his hers ours yours theirs was has does "
    "lens means whereabouts headquarters thanks odds savings arms goods clothes jeans pants "
    "scissors outskirts".split()
)

# stand-alone units that are ordinary English (answers, thanks, discourse markers)
_STOCK = frozenset(
    """yes|no|yeah|yep|nope|ok|okay|right|sure|thanks|thank you|thank you very much|thanks a lot|
    thank you all|please|sorry|hello|hi|goodbye|bye|wow|oh|ah|well|exactly|absolutely|indeed|
    of course|not at all|not really|not yet|not quite|no way|all right|alright|for example|
    for instance|in fact|in other words|by the way|at least|at all|on the contrary|in general|
    for now|at first|in short|for sure|after all|without a doubt|in a way|in the end|above all|
    more or less|so far|and so on|and so forth|of course not|for real|the end|me too|me neither|
    good|great|fine|perfect|amen|cheers|congratulations|welcome|nothing|everything|never|always|
    true|false|why|why not|what|how|where|when|who|anyway|again|together|exactly right""".split("|")
)
_STOCK = frozenset(s.strip() for s in _STOCK)
_NAME_GLUE = frozenset("of the and for de da del di du van von der la le al el bin y".split())

# list items: "- item", "• item", "1. item", "a) item"
_LIST_ITEM = re.compile(r"^(?:[-–—*•·▪►✓]|\d{1,3}[.)]|[a-zA-Z][.)]\s)")
_TERMINAL = re.compile(r"[.!?…][”’\"')\]]*$")
_STOP_END = re.compile(r"(?<!\.)\.[”’\"')\]]*$")  # ends with a single full stop, not "..."
_ABBREV_END = re.compile(
    r"(?i)(?:^|[\s(])(?:etc|e\.g|i\.e|vs|approx|cf|al|esp|incl|no|nos|fig|figs|vol|pp?|ca|viz|resp|"
    r"mr|mrs|ms|dr|prof|st|jr|sr|gen|col|sgt|capt|lt|rep|sen|gov|jan|feb|mar|apr|jun|jul|aug|sep|"
    r"sept|oct|nov|dec|a\.m|p\.m|u\.s|u\.k|inc|ltd|co|corp|dept|est|min|max|hr|hrs|ft|lb|lbs|oz)\.$"
)
_LEADING_OPENERS = re.compile(r"[\s“\"'‘(\[—–-]*")  # space, quotes, brackets, dashes
# a short bracketed aside opening the unit, then nothing or a capitalised word: "(laughs) It's ..."
_STAGE_DIRECTION = re.compile(r"\s*[(\[][^()\[\]]{1,40}[)\]]\s*(?:$|[^a-z\s])")
_CLOSING_QUOTE = re.compile(r"[”\"]")
_LOWER_OK_FIRST = frozenset(
    "de da del della di du van von der den la le al el bin ibn dos das ten ter e.g i.e vs etc www http https".split()
)


def _is_verb_form(words: Sequence[str], i: int, first_is_lower_slot: bool = True) -> bool:
    """Does ``words[i]`` (lowercased) look like a verb in this position?"""
    w = words[i]
    prev = words[i - 1] if i > 0 else ""
    if "'" in w:
        host, _, clitic = w.rpartition("'")
        if clitic in _VERB_CLITICS:
            return True
        return clitic == "s" and host in _S_CLITIC_HOSTS
    if w in _AUX or w in _IRREGULAR:
        return True
    if len(w) >= 4 and w.endswith("ed") and w not in _ED_NOT_VERB:
        return True
    if len(w) >= 5 and w.endswith("ing") and w not in _ING_NOT_VERB:
        return True
    noun_slot = prev in _DET or prev in _PREPS or prev.isdigit() or prev in _NAME_GLUE
    if w in _VERBS:  # base form: imperative, after a subject, after "to"
        if i == 0 or prev in _SUBJECTS or prev in _BEFORE_BASE:
            return True
        return not noun_slot
    stem = None
    if w.endswith("ies"):
        stem = w[:-3] + "y"
    elif w.endswith("es") and w[:-2] in _VERBS:
        stem = w[:-2]
    elif w.endswith("s"):
        stem = w[:-1]
    if stem is not None and stem in _VERBS:
        return not noun_slot
    # an unknown lowercase -s word after a lowercase word or the first word: "the plant mimics"
    if stem is not None and len(w) >= 4 and not w.endswith(_NOT_3SG_ENDINGS) and w not in _NOT_3SG:
        return not noun_slot and first_is_lower_slot
    return False


def has_verb(tokens: Sequence[Token], strict: bool = False) -> bool:
    """True when the tokens look like they contain a finite verb or a verbal form.

    Errs towards True: a unit we cannot read as verbless is not reported.
    Capitalised words other than the first are treated as names, never verbs.
    ``strict``: only unambiguous evidence counts (auxiliaries, irregular forms,
    -ed/-ing, clitics, pronoun subjects), not words like "reports" or "state"
    that are nouns as often as verbs; used for a short unit that opens with a
    preposition, where the words after it form a noun phrase.
    """
    words = [norm_word(t.text) for t in tokens]
    for i, tok in enumerate(tokens):
        if i > 0 and tok.is_capitalized and words[i] not in _AUX and words[i] != "i" and "'" not in words[i]:
            continue
        # an unknown -s word counts after the first word or a lowercase word, not after a name
        lower_slot = i <= 1 or not tokens[i - 1].is_capitalized
        if _is_verb_form(words, i, lower_slot):
            w = words[i]
            if not strict or "'" in w or w in _AUX or w in _IRREGULAR or w.endswith(("ed", "ing")):
                return True
            if i > 0 and words[i - 1] in _PRONOUN_SUBJECTS | {"it", "there"}:
                return True  # "At home it sounds ..."
        if words[i] in _PRONOUN_SUBJECTS and i + 1 < len(words) and not tokens[i + 1].is_capitalized:
            return True  # "they too", "I also": a pronoun subject with a following word
    return False


def _strip_stock(text: str) -> str:
    return re.sub(r"[^\w\s']", "", text.lower().replace("’", "'")).strip()


class _QuoteMarks:
    """How many “, ” and " the units of one paragraph have before each of them (counted once, when first asked:
    counting them again for every unit is quadratic in a long paragraph's units)."""

    def __init__(self, units: Sequence[Unit]):
        self.units = units
        self._before: Optional[list[tuple[int, int, int]]] = None

    def before(self, pos: int) -> tuple[int, int, int]:
        if self._before is None:
            self._before = [(0, 0, 0)]
            for u in self.units:
                o, c, s = self._before[-1]
                self._before.append((o + u.text.count("“"), c + u.text.count("”"), s + u.text.count('"')))
        return self._before[pos]


@register("fragments", colour=("#eadfff", "#7d4fd1"), prior=3.0)
@dataclass(eq=False)
class Fragment(Detector):
    """A sentence fragment: a unit that is not a sentence where a sentence belongs.

    MT and scraping leave pieces of a sentence as units of their own:

    >>> from garble.detectors import flagged
    >>> flagged(Fragment(), "He spoke on Monday. In an interview with a local newspaper.")
    [('pp_fragment', 'In an interview with a local newspaper.')]
    >>> flagged(Fragment(), "The plan was approved. Regional Council.")
    [('verbless', 'Regional Council.')]
    >>> flagged(Fragment(), "The vote passed. article The Daily Post reported the news.")
    [('lowercase_start', 'article')]
    >>> flagged(Fragment(), "“We will win,” he said. Putin” from the Rossiya-1 TV station.")
    [('quote_fragment', 'Putin” from the Rossiya-1 TV station.')]

    Kinds: ``pp_fragment`` (starts with a preposition, no verb), ``verbless``
    (no verb, ends with a full stop), ``lowercase_start`` (starts lowercase
    although the previous unit ended a sentence), ``quote_fragment`` (1-4 words
    then a closing quote nobody opened, nothing verbal around it).

    Verbs are recognised with a small built-in lexicon (auxiliaries, irregular
    forms, ~570 common verbs with regular inflections, any lowercase -ed/-ing
    word), erring towards "has a verb". Left alone: headings (a unit alone in
    its paragraph with no final full stop), list items, questions and
    exclamations, bracketed stage directions ("(Laughter)"), stock answers
    ("Yes.", "Thank you.", "Of course.").

    Weights reflect context. A unit in a paragraph after another sentence is
    most likely a segmentation leftover; a verbless unit alone in its paragraph
    is often a genuine utterance (TED transcripts: "In China.") or a caption,
    so it gets a low weight. A unit after an unfinished one (no final
    punctuation: a hard-wrapped line) is a continuation, not a fragment.

    Measured with ``garble eval false-alarms clean_en.tsv mqm_ted_zhen.tsv
    --detector fragments`` (clean = clean_en.tsv, 867 units, plus the TED
    reference translations, 1,128 units):

    * clean text: 3.5 findings per 1000 units, none with weight >= 0.5 (they
      are real spoken fragments: "Highly significant relationship."); 2.7 per
      1000 when the TED references are joined five segments to a paragraph
      (``--paragraph-size 5``), which exercises the mid-paragraph rules;
    * TED zh-en MT rows: fires on 0.45% of segments with a major fluency error
      vs 0.08% of error-free ones (5.6x). TED has one sentence per segment, so
      the segmentation leftovers this detector is for are rare there.

    Defaults: ``pp_weight=0.85``, ``stray_weight=0.7``, ``lowercase_weight=0.75``,
    ``quote_weight=0.8`` for the mid-paragraph cases, which had no hit on clean
    text; ``verbless_weight=0.45`` for other mid-paragraph verbless units
    (spoken English has real ones: "Two things."); ``alone_weight=0.2`` for a
    prepositional or verbless unit that is a paragraph of its own (a TED
    segment, a caption); ``max_words=12``: longer verbless units are mostly
    titles, captions or lists.
    """

    pp_weight: float = 0.85
    stray_weight: float = 0.7
    verbless_weight: float = 0.45
    alone_weight: float = 0.2
    lowercase_weight: float = 0.75
    quote_weight: float = 0.8
    max_words: int = 12

    def detect(self, doc: Document) -> Iterator[Finding]:
        by_para = paragraphs(doc)
        pos_in_para = {u.index: i for units in by_para.values() for i, u in enumerate(units)}
        marks = {p: _QuoteMarks(units) for p, units in by_para.items()}
        prev: Optional[Unit] = None
        for unit in doc.units:
            f = self._check(doc, unit, prev, by_para[unit.paragraph], pos_in_para[unit.index], marks[unit.paragraph])
            if f is not None:
                yield f
            prev = unit

    # ------------------------------------------------------------------ per unit
    def _check(
        self, doc: Document, unit: Unit, prev: Optional[Unit], siblings: list[Unit], pos: int, marks: "_QuoteMarks"
    ) -> Optional[Finding]:
        text = unit.text
        toks = doc.unit_tokens(unit)
        words = [t for t in toks if t.text[0].isalpha() or any(c.isalpha() for c in t.text)]
        if not words or _LIST_ITEM.match(text):
            return None
        if text[0] in "([" and text.rstrip(".")[-1:] in ")]":
            return None  # "(Laughter)", "[Applause]"
        alone = len(siblings) == 1
        mid = pos > 0  # another unit of the same paragraph comes before it
        if mid and not _TERMINAL.search(siblings[pos - 1].text.rstrip()):
            return None  # the sentence before is unfinished (a hard-wrapped line, "...:"): a continuation
        candidates: list[Finding] = []

        q = self._quote_fragment(unit, toks, pos, marks)
        if q is not None:
            candidates.append(q)

        low = self._lowercase_start(doc, unit, toks, prev)
        if low is not None:
            candidates.append(low)

        v = self._verbless(unit, words, toks, alone, mid)
        if v is not None:
            candidates.append(v)
        if not candidates:
            return None
        return max(candidates, key=lambda f: f.weight)

    def _verbless(self, unit: Unit, words: list[Token], toks: list[Token], alone: bool, mid: bool) -> Optional[Finding]:
        text = unit.text
        if not _STOP_END.search(text):
            return None  # headings (no full stop), questions, exclamations, "..."
        if len(words) > self.max_words or _strip_stock(text) in _STOCK:
            return None
        first = norm_word(words[0].text)
        pp = first in _PREPS
        strict = pp and len(words) <= 8 and "," not in text
        if has_verb(toks, strict=strict):
            return None
        if text[0] in '“"' and text.rstrip(".")[-1:] in '”"':
            alone = True  # a whole quoted utterance ("“Any time. Anywhere.”"): speech, not a leftover
        name_like = (
            len(words) <= 6
            and all(t.is_capitalized or norm_word(t.text) in _NAME_GLUE for t in words)
            and any(t.is_capitalized for t in words)
        )
        if alone:
            if pp or len(words) >= 2:
                return self.finding(
                    "pp_fragment" if pp else "verbless",
                    unit.start,
                    unit.end,
                    self.alone_weight,
                    "prepositional phrase standing as a sentence" if pp else "sentence without a verb",
                )
            return None
        if pp:
            w = self.pp_weight if mid else self.pp_weight * 0.6
            return self.finding(
                "pp_fragment",
                unit.start,
                unit.end,
                w,
                "prepositional phrase standing as a sentence: a piece cut off from the sentence before it",
            )
        if mid and name_like:
            return self.finding(
                "verbless", unit.start, unit.end, self.stray_weight, "stray name or noun phrase after a sentence"
            )
        if len(words) == 1:
            return None  # "Nothing." "Twice." — common in speech
        w = self.verbless_weight if mid else self.verbless_weight * 0.6
        return self.finding("verbless", unit.start, unit.end, w, "sentence without a verb")

    def _lowercase_start(self, doc: Document, unit: Unit, toks: list[Token], prev: Optional[Unit]) -> Optional[Finding]:
        text = unit.text
        if _STAGE_DIRECTION.match(text):
            return None  # "(laughs) It's best ...", "[Applause]": a transcript's aside, not a cut sentence
        m = _LEADING_OPENERS.match(text)
        rest = text[m.end() :]
        if not rest or not rest[0].isalpha() or not rest[0].islower():
            return None
        first = toks[0] if toks else None
        if first is None or first.start != unit.start + m.end():
            return None
        ftext = first.text
        if any(c.isupper() for c in ftext[1:]) or norm_word(ftext) in _LOWER_OK_FIRST or "." in ftext:
            return None  # "iPhone", "eBay", "de Gaulle", "e.g"
        if re.match(r"[^\s]*[/=_@\\]|www\.|https?:|[\w-]+\.[\w]", rest):
            return None  # a path, identifier, e-mail or URL ("config/file.cfg", "root=x", "os.path")
        if prev is None:
            weight = self.lowercase_weight * 0.6
            why = " at the start of the text: its beginning may be missing"
        else:
            ptext = prev.text
            if not _TERMINAL.search(ptext) or ptext.rstrip("”’\"')]").endswith(("...", "…")):
                return None  # continuation of an unfinished line ("..., and")
            if _ABBREV_END.search(ptext.rstrip("”’\"')]")):
                return None  # split after an abbreviation ("etc. and")
            weight = self.lowercase_weight
            why = " after a finished sentence: a piece of another sentence"
        if len(toks) > 1 and toks[1].is_capitalized and toks[1].unit == unit.index:
            weight = min(1.0, weight + 0.1)  # "publication The Times said": a cut-off sentence
        return self.finding(
            "lowercase_start", first.start, first.end, weight, f"sentence starts lowercase (“{ftext}”){why}"
        )

    def _quote_fragment(self, unit: Unit, toks: list[Token], pos: int, marks: "_QuoteMarks") -> Optional[Finding]:
        text = unit.text
        m = _CLOSING_QUOTE.search(text)
        if m is None or m.start() == 0:
            return None
        before = text[: m.start()]
        if "“" in before or '"' in before or not before[-1:].strip():
            return None  # opened in this unit, or a quote mark after a space (an opener)
        before_toks = [t for t in toks if t.end <= unit.start + m.start()]
        after_toks = [t for t in toks if t.start >= unit.start + m.end()]
        if not before_toks or len(before_toks) > 4:
            return None
        if has_verb(before_toks) or (after_toks and has_verb(after_toks)):
            return None
        # is a quote open at this point of the paragraph? (the quote marks of the units before it)
        opening, closing, straight = marks.before(pos)
        if m.group() == "”":
            is_open = opening > closing
        else:
            is_open = straight % 2 == 1
        weight = self.quote_weight if not is_open else self.quote_weight * 0.4
        return self.finding(
            "quote_fragment",
            unit.start,
            unit.end,
            weight,
            "closing piece of a quotation standing as a sentence" + ("" if is_open else " (no quote was open)"),
        )
