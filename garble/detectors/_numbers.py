"""Numbers in a source or target text, with their values: shared by the source-aware detectors.

:func:`target_numbers` reads English: digits ("1,200", "3.5", "50%", "21st",
"1990s") and number words ("twenty-five", "three million", "1.2 billion",
"tenth", "a dozen"). :func:`source_numbers` reads any source: digits (full
width ones too, NFKC), digits with a CJK multiplier ("3万" = 30,000, "1.2亿" =
120,000,000) and CJK numerals ("二十" = 20, "三百五十" = 350, "两万" = 20,000,
"一九九零" = 1990, "百分之五十" = 50, "第三" = 3).

Each number is a :class:`Num` with its offsets in the text and whether it is
*firm*: written in digits, or a CJK numeral of value 10 or more that is not
approximate ("几十", "数百", "上千") or part of an idiom ("十分" = very,
"万一" = in case, "千万" = by all means). Firm source numbers must reach the
translation; soft ones ("一个" = a) need not, but a digit number in the
target must come from a number in the source, firm or soft.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Num:
    start: int
    end: int
    value: float
    firm: bool
    text: str
    digits: bool  # written with digits (not words or CJK numerals)
    approx: bool = False  # an approximate amount ("几十", "两三"): matches nothing in particular


_CJK_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CJK_SMALL = {"十": 10, "百": 100, "千": 1000}
_CJK_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
_CJK_CHARS = "".join([*_CJK_DIGIT, *_CJK_SMALL, *_CJK_BIG])
# CJK numerals as words of idioms, not counts ("十分" very, "万一" in case, "千万" by all means, "一一" one by one)
_CJK_IDIOMS = (
    "十分",
    "万一",
    "千万",
    "万万",
    "一一",
    "百姓",
    "万物",
    "千方百计",
    "一百八十度",
    "百分百",
    "十足",
    "万分",
    "百般",
    "千百",
    "成千上万",
    "百万富翁",
    "九十九",
    "三三两两",
    "一五一十",
    "七八",
    "万岁",
    "万能",
    "万里",
    "千里",
    "十全十美",
    "四面八方",
    "七上八下",
    "乱七八糟",
    "五花八门",
    "一千零一",
    "一百万个",
    "十字",
)
_APPROX_BEFORE = ("几", "数", "上", "好几", "成")

_DIGIT_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d])")
_SRC_DIGIT_RE = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*([万萬亿億千百])?")
_CJK_RE = re.compile(f"[{_CJK_CHARS}]+")

_EN_UNITS = {
    w: i
    for i, w in enumerate(
        (
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
            "seventeen eighteen nineteen"
        ).split()
    )
}
_EN_TENS = {
    w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"
}
_EN_SCALES = {
    "hundred": 100,
    "thousand": 1000,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
    "lakh": 1e5,
    "crore": 1e7,
}
_EN_ORD = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fifteenth": 15,
    "twentieth": 20,
    "thirtieth": 30,
    "hundredth": 100,
    "thousandth": 1000,
    "millionth": 1e6,
}
_EN_MISC = {
    "dozen": 12,
    "dozens": 12,
    "half": 0.5,
    "hundreds": 100,
    "thousands": 1000,
    "millions": 1e6,
    "billions": 1e9,
    "tens": 10,
    "twice": 2,
    "thrice": 3,
    "double": 2,
    "twofold": 2,
    "threefold": 3,
    "fourfold": 4,
    "fivefold": 5,
    "tenfold": 10,
    "hundredfold": 100,
    "once": 1,
    "single": 1,
    "pair": 2,
    "couple": 2,
    "both": 2,
    "triple": 3,
    "decade": 10,
    "decades": 10,
    "century": 100,
    "centuries": 100,
    "quarter": 0.25,
}
_EN_WORD_RE = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_EN_NUMWORDS = set(_EN_UNITS) | set(_EN_TENS) | set(_EN_SCALES) | set(_EN_ORD) | set(_EN_MISC) | {"a", "and"}


def _fold(text: str) -> str:
    """Full-width digits, percent and comma to ASCII, one character for one (offsets kept)."""
    if text.isascii():
        return text
    return "".join(unicodedata.normalize("NFKC", c) if c in "０１２３４５６７８９％，．" else c for c in text)


def parse_cjk(s: str) -> float | None:
    """The value of a run of CJK numerals ("二十" 20, "三百五十" 350, "一九九零" 1990, "两万" 20000)."""
    if not s:
        return None
    if all(c in _CJK_DIGIT for c in s):
        if len(s) == 1:
            return float(_CJK_DIGIT[s])
        return float("".join(str(_CJK_DIGIT[c]) for c in s))  # read digit by digit: a year, a code
    total = section = digit = 0.0
    seen = False
    for c in s:
        if c in _CJK_DIGIT:
            digit = _CJK_DIGIT[c]
            seen = True
        elif c in _CJK_SMALL:
            section += (digit or 1) * _CJK_SMALL[c]
            digit = 0
            seen = True
        elif c in _CJK_BIG:
            section += digit
            total += (section or 1) * _CJK_BIG[c]
            section = digit = 0
    return total + section + digit if seen or total else None


def source_numbers(text: str) -> list[Num]:
    """Numbers of a source text of any language (see module docstring)."""
    t = _fold(text)
    out: list[Num] = []
    taken = [False] * len(t)
    for m in _SRC_DIGIT_RE.finditer(t):
        a = m.start()
        if a > 0 and (t[a - 1].isascii() and (t[a - 1].isalnum() or t[a - 1] in "._")):
            continue  # part of a Latin token ("MP3", "H1N1", "v2.0"): the tokens detector checks those
        if len(m.group(1)) > 18:
            continue  # a digit string, not a number (an id, a hash)
        v = float(m.group(1).replace(",", "") + (m.group(2) or ""))
        end = m.end(1) + len(m.group(2) or "")
        mult = m.group(3)
        if mult:
            v *= {**_CJK_SMALL, **_CJK_BIG}[mult]
            end = m.end()
        out.append(Num(a, end, v, True, text[a:end], True))
        for k in range(a, end):
            taken[k] = True
    for m in _CJK_RE.finditer(t):
        a, b = m.span()
        if any(taken[a:b]):
            continue
        run = m.group()
        pct = t[max(0, a - 3) : a] == "百分之"
        if run == "百" and t[b : b + 2] == "分之":
            continue  # 百分之N: N per cent, the number is N
        v = parse_cjk(run)
        if v is None:
            continue
        idiom = _in_idiom(t, a, b)
        if len(run) == 2 and all(c in _CJK_DIGIT for c in run) and abs(_CJK_DIGIT[run[0]] - _CJK_DIGIT[run[1]]) == 1:
            # "一两" one or two, "三四" three or four: two soft numbers
            out.extend(Num(a + k, a + k + 1, float(_CJK_DIGIT[run[k]]), False, text[a + k], False) for k in (0, 1))
            continue
        approx = (
            any(t[max(0, a - len(p)) : a] == p for p in _APPROX_BEFORE)
            or t[b : b + 1] in ("几", "来")
            or (
                len(run) >= 2
                and run[0] in _CJK_DIGIT
                and run[1] in _CJK_DIGIT
                and run[0] != run[1]
                and abs(_CJK_DIGIT[run[0]] - _CJK_DIGIT[run[1]]) == 1
            )
        )
        firm = (v >= 10 or pct) and not idiom and not approx and run not in ("十", "百", "千", "万", "亿")
        out.append(Num(a, b, v, firm, text[a:b], False, approx or idiom))
    # 百分之 + CJK numeral handled above (pct flag); 百分之 + digits is the digit match
    out.sort(key=lambda n: n.start)
    return out


def _in_idiom(t: str, a: int, b: int) -> bool:
    """Whether ``t[a:b]`` overlaps an occurrence of one of :data:`_CJK_IDIOMS`."""
    lo = max(0, a - 6)
    window = t[lo : b + 6]
    for idiom in _CJK_IDIOMS:
        k = window.find(idiom)
        while k >= 0:
            if lo + k < b and a < lo + k + len(idiom):
                return True
            k = window.find(idiom, k + 1)
    return False


def target_numbers(text: str) -> list[Num]:
    """Numbers of an English text (see module docstring); number words are never firm."""
    t = _fold(text)
    out: list[Num] = []
    digit_spans = []
    for m in _DIGIT_RE.finditer(t):
        a, b = m.span()
        if len(m.group(1)) > 18:
            continue  # a digit string, not a number (an id, a hash)
        v = float(m.group(1).replace(",", "") + (m.group(2) or ""))
        # "1.2 billion", "30 thousand"
        rest = t[b:]
        sm = re.match(r"[ -]?(hundred|thousand|million|billion|trillion)\b", rest, re.I)
        if sm:
            v *= _EN_SCALES[sm.group(1).lower()]
            b += sm.end()
        out.append(Num(a, b, v, True, text[a:b], True))
        digit_spans.append((a, b))
    # runs of number words
    words = [(m.start(), m.end(), m.group().lower()) for m in _EN_WORD_RE.finditer(t)]
    i = 0
    while i < len(words):
        a, b, w = words[i]
        parts = w.split("-")
        if (
            not all(p in _EN_NUMWORDS for p in parts)
            or w in ("a", "and")
            or any((a < y and x < b) for x, y in digit_spans)
        ):
            i += 1
            continue
        j = i
        toks: list[str] = []
        while (
            j < len(words)
            and all(p in _EN_NUMWORDS for p in words[j][2].split("-"))
            and (j == i or t[words[j - 1][1] : words[j][0]].strip(" ") == "")
        ):
            toks.extend(words[j][2].split("-"))
            j += 1
        while toks and toks[-1] in ("a", "and"):
            toks.pop()
            j -= 1
        v = _en_value(toks)
        if v is not None:
            out.append(Num(a, words[j - 1][1], v, False, text[a : words[j - 1][1]], False))
        i = max(j, i + 1)
    out.sort(key=lambda n: n.start)
    return out


def _en_value(toks: list[str]) -> float | None:
    total = cur = 0.0
    seen = False
    for k, w in enumerate(toks):
        if w in ("a", "and"):
            if w == "a" and not seen:
                cur = 1.0
            continue
        if w in _EN_UNITS:
            cur += _EN_UNITS[w]
        elif w in _EN_TENS:
            cur += _EN_TENS[w]
        elif w in _EN_ORD:
            cur += _EN_ORD[w]
        elif w in ("half", "quarter") and cur and toks[k - 2 : k] == ["and", "a"]:
            cur += _EN_MISC[w]  # "three and a half"
        elif w in _EN_MISC:
            cur = (cur or 1) * _EN_MISC[w]
        elif w in _EN_SCALES:
            cur = (cur or 1) * _EN_SCALES[w]
            if _EN_SCALES[w] >= 1000:
                total += cur
                cur = 0.0
        seen = True
    return total + cur if seen else None


def same_number(s: float, t: float) -> bool:
    """Whether target value ``t`` renders source value ``s``: equal, or the
    decade of a century ("90年代" -> "1990s"), or the same amount in round
    units ("3万" -> "30 thousand" is equal; "0.5" -> "half" is equal)."""
    if math.isclose(s, t, rel_tol=1e-6, abs_tol=1e-9):
        return True
    if s < 100 and 1000 <= t < 2100 and t % 100 == s:
        return True  # 90年代 -> the 1990s
    if 1000 <= s < 2100 and t < 100 and s % 100 == t:
        return True  # 1990年代 -> the '90s
    # rounded renderings of big numbers (1.23亿 -> "123 million" is equal; "about 120 million")
    if s >= 10_000 and t >= 10_000 and abs(s - t) / max(s, t) < 0.02:
        return True
    return False


def cardinal_word(text: str) -> bool:
    """Whether ``text`` is made only of cardinal number words ("five", "twenty-one", "three hundred"), not "twice",
    "both", "first"."""
    parts = [p for p in re.split(r"[\s-]+", text.lower()) if p and p not in ("a", "and")]
    return bool(parts) and all(p in _EN_UNITS or p in _EN_TENS or p in _EN_SCALES for p in parts)
