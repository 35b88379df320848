"""Property-based tests (hypothesis): segmentation covers any text, scoring any text gives
sane results, and the readers never crash on any bytes (only GarbleError).

Each property runs twice: 50 examples in the fast suite, 500 in the slow one (-m slow).
"""

from __future__ import annotations

import gzip
import math
import sys
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import garble
from garble.errors import GarbleError, InputError
from garble.io import decode, read_document
from garble.segment import segment

segment_module = sys.modules["garble.segment"]  # (garble.segment is also the function)

FAST = 50
SLOW = 500

# pieces of text that exercise the segmenter and the detectors
SPECIAL = [
    *"\n\n\n\r\t    ..!?;:,“”‘’\"'()[]«»-—…",
    "\u0301",
    "\u0308",
    "\u0316",
    "\u0327",
    "\u093e",
    "\u064b",  # combining marks
    "\u200b",
    "\u200c",
    "\u200d",
    "\u00ad",
    "\ufeff",
    "\u202e",
    "\u2066",  # invisible, bidi
    "\x00",
    "\x07",
    "\x1b",
    "\x1c",
    "\x85",
    "\u2028",
    "\u2029",
    "\x0b",
    "\x0c",  # control, odd line breaks
    "\u00a0",
    "\u3000",
    "\u2009",  # odd spaces
    "中",
    "文",
    "。",
    "！",
    "한",
    "\u1100\u1161\u11a8",
    "ا",
    "ש",  # CJK, Hangul jamo, RTL
    "🎉",
    "\U0001f468\u200d\U0001f469",
    "\ufe0f",  # emoji
    "é",
    "e\u0301",
    "ß",
    "İ",
    "ﬁ",
    "\u212b",
    "Å",
    "\ufffd",
    "Ã©",
    "A",
    "Z",
    "a",
    "z",
    "0",
    "9",
    "The ",
    "the ",
    "U.S. ",
    "Dr. ",
    "Mr. Smith",
    "e.g. ",
    "2024.Photo: ",
    "It is legal and it is legal. ",
    "Lavrov ",
    "Lavorov ",
    "Leave a Reply\n",
    "(Laughter) ",
    "%s ",
    "&amp; ",
]
ATOM = st.one_of(st.sampled_from(SPECIAL), st.characters(), st.text(max_size=4))
TEXT = st.lists(ATOM, max_size=80).map("".join)
MODES = st.sampled_from(["sentence", "line", "paragraph"])
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
TEXT_WITH_SURROGATES = st.lists(st.one_of(ATOM, SURROGATE), max_size=60).map("".join)


def _both(fn, *strategies, **kw):
    """A fast test (FAST examples) and a slow one (SLOW examples, marked slow) of one property."""
    common = dict(
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        **kw,
    )
    fast = settings(max_examples=FAST, **common)(given(*strategies)(fn))
    slow = pytest.mark.slow(settings(max_examples=SLOW, **common)(given(*strategies)(fn)))
    return fast, slow


# ---------------------------------------------------------------------------
# segmentation


def check_units(text, units):
    """Units cover ``text`` in order: exact slices, stripped, non-overlapping, and
    every non-whitespace character belongs to one."""
    prev = 0
    covered = bytearray(len(text))
    for i, u in enumerate(units):
        assert u.index == i
        assert 0 <= prev <= u.start < u.end <= len(text), (prev, u)
        assert text[u.start : u.end] == u.text
        assert u.text == u.text.strip()
        covered[u.start : u.end] = b"\x01" * (u.end - u.start)
        prev = u.end
    missing = [(i, c) for i, c in enumerate(text) if not covered[i] and not c.isspace()]
    assert not missing, missing[:5]


def _segment_covers(text, mode):
    check_units(text, segment(text, mode))


test_segment_covers_text, test_segment_covers_text_slow = _both(_segment_covers, TEXT, MODES)


def _segment_with_small_limits(text, mode, max_chars, para_limit):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(segment_module, "MAX_PARAGRAPH_CHARS", para_limit)  # the pre-split before pysbd, on short texts
        units = segment(text, mode, max_chars=max_chars)
    check_units(text, units)
    assert all(len(u.text) <= max_chars for u in units)


test_segment_with_small_limits, test_segment_with_small_limits_slow = _both(
    _segment_with_small_limits, TEXT, MODES, st.integers(1, 40), st.integers(5, 60)
)


# ---------------------------------------------------------------------------
# scoring (detectors only)

_SCORER = None


def scorer():
    global _SCORER
    if _SCORER is None:
        _SCORER = garble.Scorer(model=False)
    return _SCORER


def check_result(text, r, n_units=None):
    assert r.text == text
    n = len(r.units)
    if n_units is not None:
        assert n == n_units
    assert sorted(u.rank for u in r.units) == list(range(1, n + 1))
    prev = 0
    for u in r.units:
        assert math.isfinite(u.score) and 0.0 <= u.score <= 1.0
        assert prev <= u.start <= u.end <= len(text) and text[u.start : u.end] == u.text
        prev = u.end
        for f in u.findings:
            assert 0 <= f.start <= f.end <= len(text), f
            assert 0.0 <= f.weight <= 1.0 and f.message and f.detector and f.kind
        assert u.reasons() == list(dict.fromkeys(u.reasons()))


def _score_document(text):
    r = scorer().score_document(text)
    check_result(text, r)
    check_units(text, [u.unit for u in r.units])


test_score_document, test_score_document_slow = _both(_score_document, TEXT_WITH_SURROGATES)


def _score_nfd_like_nfc(text):
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)
    a, b = scorer().score_document(nfc), scorer().score_document(nfd)
    check_result(nfd, b)
    assert [(f.detector, f.kind, f.message) for f in a.findings] == [
        (f.detector, f.kind, f.message) for f in b.findings
    ]
    assert [unicodedata.normalize("NFC", u.text) for u in b] == [u.text for u in a]


test_nfd_scores_like_nfc, test_nfd_scores_like_nfc_slow = _both(_score_nfd_like_nfc, TEXT)


def _score_units(units):
    r = scorer().score_units(units)
    check_result("\n".join(units), r, n_units=len(units))
    assert [u.text for u in r.units] == units


test_score_units, test_score_units_slow = _both(_score_units, st.lists(TEXT_WITH_SURROGATES, max_size=6))


# ---------------------------------------------------------------------------
# readers: any bytes give text or a GarbleError, never anything else

JSONISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                b'{"text": ',
                b'"',
                b"}",
                b"{",
                b"[",
                b"]",
                b",",
                b":",
                b"null",
                b"5",
                b'"text"',
                b'"id"',
                b"\\u",
                b"d800",
                b"\\",
                b"\n",
                b"\r\n",
                b"\xff",
                b"\xef\xbb\xbf",
                b"\x00",
                b" ",
                b"Hello there.",
            ]
        ),
        st.binary(max_size=4),
    ),
    max_size=40,
).map(b"".join)
BYTES = st.one_of(st.binary(max_size=300), JSONISH, TEXT.map(lambda s: s.encode("utf-8", "surrogatepass")))


def _lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _decode_any(data):
    try:
        text, warnings = decode(data, "x.txt")
    except InputError as e:
        assert b"\x00" in data[:8192] and str(e).startswith("x.txt: ")
        return
    assert isinstance(text, str) and all(w.startswith("x.txt") for w in warnings)
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    assert text == body.decode("utf-8", "replace")
    assert bool(warnings) == (text != body.decode("utf-8", "ignore"))


test_decode_any_bytes, test_decode_any_bytes_slow = _both(_decode_any, BYTES)


def _read_any_file(data, suffix):
    import garble.corpus as corpus

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"in{suffix}"
        if suffix.endswith(".gz") and data[:1] == b"g":  # half the time a real gzip stream
            data = gzip.compress(data[1:])
        p.write_bytes(data)
        try:
            text, _ = read_document(p)
            assert isinstance(text, str)
        except GarbleError:
            pass
        warnings = []
        for reader in (corpus.read_txt, corpus.read_jsonl):
            try:
                recs = list(reader(str(p), warn=warnings.append))
            except GarbleError:
                continue
            if not suffix.endswith((".gz", ".zst")):
                assert len(recs) == _lines(data)  # one record per line, never more, never fewer
            for r in recs:
                if r.error is None:
                    assert isinstance(r.text, str) and r.text.strip()
                if r.text is not None:
                    r.text.encode("utf-8")  # never a lone surrogate in a record
        try:
            list(corpus.read_parquet(str(p)))
        except GarbleError:
            pass


test_readers_never_crash, test_readers_never_crash_slow = _both(
    _read_any_file, BYTES, st.sampled_from([".txt", ".jsonl", ".txt.gz", ".jsonl.zst"])
)
