"""Clauses: a translation with fewer clauses than its source and short for it."""

from __future__ import annotations

from source_helpers import found, pair_doc

from garble.detectors import registry
from garble.detectors.clauses import Clauses, source_clauses, target_clauses
from garble.detectors.length_ratio import z_of
from garble.document import Document
from garble.segment import segment

SRC = "而在北欧，爸爸的收入就不那么重要。"
FULL = "And in Scandinavian countries, fathers' income is much less important."
DROPPED = "Fathers' income is much less important."


def test_registered():
    assert registry()["clauses"] is Clauses


def test_a_dropped_clause_is_an_omission_of_the_whole_source():
    assert -2.0 < z_of(SRC, DROPPED) <= -1.0  # too little for length_ratio alone
    assert found(Clauses(), SRC, DROPPED) == [("omission", "src:" + SRC)]
    (f,) = Clauses().detect(pair_doc(SRC, DROPPED))
    assert (f.start, f.end, f.weight) == (0, 0, 0.3) and "2 clauses, the translation 1" in f.message


def test_the_whole_translation_is_quiet():
    assert found(Clauses(), SRC, FULL) == []


def test_clauses_run_together_at_a_normal_length_are_quiet():
    # one English clause for two Chinese ones, but as long as a translation of both: nothing left out
    assert found(Clauses(), SRC, "In Scandinavia the income of fathers is much less important.") == []


def test_short_but_with_every_clause_is_quiet():
    # as short as DROPPED, but two clauses for two: no clause missing (length is length_ratio's business)
    assert found(Clauses(), SRC, "In Scandinavia, dads' pay matters less.") == []


def test_a_lone_connective_is_not_a_clause():
    src = "但是，爸爸的收入就不那么重要。"  # 但是 has 2 characters, under min_clause_chars=3
    assert source_clauses(src, 3) == 1 and source_clauses(src) == 2
    assert found(Clauses(), src, "Fathers' income matters less.") == []


def test_clause_counts():
    assert source_clauses("我们去了巴黎，参观了卢浮宫；然后回家了。") == 3
    assert source_clauses("苹果、香蕉和梨。") == 1  # the enumeration comma is not a clause end
    assert target_clauses("We paid 1,000 dollars for 3.5 kilos.") == 1  # no clause end inside numbers
    assert target_clauses('He said "yes," and left -- then came back; fine.') == 4
    assert target_clauses("") == 0


def test_thresholds():
    assert found(Clauses(z=2.0), SRC, DROPPED) == []  # not short enough for z = 2
    assert found(Clauses(deficit=2), SRC, DROPPED) == []  # one clause missing, two asked


def test_no_sources_no_findings():
    text = "Fathers' income is much less important."
    assert list(Clauses().detect(Document(text, segment(text)))) == []
    assert found(Clauses(), "谢谢", "Thanks.") == []  # source too short
