"""Numbers: a source number missing from, changed in or added to the translation (CJK numerals normalised)."""

from __future__ import annotations

import pytest
from source_helpers import found

from garble.detectors import registry
from garble.detectors._numbers import parse_cjk, source_numbers, target_numbers
from garble.detectors.numbers import Numbers
from garble.document import Document
from garble.segment import segment


def test_registered():
    assert registry()["numbers"] is Numbers


@pytest.mark.parametrize(
    "s, v",
    [
        ("二十", 20),
        ("三百五十", 350),
        ("一千二百", 1200),
        ("两万", 20000),
        ("一九九零", 1990),
        ("十", 10),
        ("十五", 15),
        ("一亿", 1e8),
    ],
)
def test_cjk_numerals(s, v):
    assert parse_cjk(s) == v


def test_source_numbers_normalise_digits_with_multipliers_and_full_width():
    got = {
        n.text: (n.value, n.firm) for n in source_numbers("有3万人，预算1.2亿，２０１５年，百分之五十，一个人，几十个")
    }
    assert got["3万"] == (30000, True)
    assert got["1.2亿"] == (120_000_000, True)
    assert got["２０１５"] == (2015, True)
    assert got["五十"] == (50, True)
    assert got["一"] == (1, False)  # "a": soft
    assert got["十"] == (10, False)  # 几十: approximate


def test_target_numbers_read_words_and_digits():
    got = {
        n.text: n.value
        for n in target_numbers(
            "twenty-five people, 1.2 billion dollars, the 1990s, 50%, three and a half times, 1,200 km"
        )
    }
    assert got == {
        "twenty-five": 25,
        "1.2 billion": 1.2e9,
        "1990": 1990,
        "50": 50,
        "three and a half": 3.5,
        "1,200": 1200,
    }


@pytest.mark.parametrize(
    "source, target, expected",
    [
        ("会议有35个国家参加。", "Delegates from 53 countries attended.", [("changed", "53")]),
        ("他在2019年去了3个城市。", "He visited three cities.", [("missing", "src:2019")]),
        ("这里住着3万人。", "About 3,000 people live here.", [("changed", "3,000")]),
        ("预算是1.2亿元。", "The budget is 12 million yuan.", [("changed", "12 million")]),
        ("我们有二十个学生。", "We have 12 students.", [("changed", "12")]),
        ("我们有很多学生。", "We have 40 students.", [("extra", "40")]),
        ("增长了百分之五十。", "It grew by 15%.", [("changed", "15")]),
        ("三个人来了。", "Seven people came.", [("changed", "Seven")]),
    ],
)
def test_number_errors(source, target, expected):
    assert found(Numbers(), source, target) == expected


@pytest.mark.parametrize(
    "source, target",
    [
        ("这里住着3万人。", "About 30,000 people live here."),
        ("这里住着3万人。", "About thirty thousand people live here."),
        ("预算是1.2亿元。", "The budget is 120 million yuan."),
        ("我们有二十个学生。", "We have twenty students."),
        ("在90年代，一切都变了。", "In the 1990s, everything changed."),
        ("它的速度是3.5倍。", "It is three and a half times as fast."),
        ("一个人来了。", "A man came."),  # 一: "a", soft
        ("不仅仅是一两件事出了问题。", "It's not just one or two things that went wrong."),
        ("他十分高兴。", "He was very happy."),  # 十分: "very", an idiom
        ("有几十个人。", "There were dozens of people."),  # approximate
        ("第三个问题。", "The third question."),
        ("增长了百分之五十。", "It grew by 50 percent."),
        ("２０１５年", "In 2015"),
    ],
)
def test_clean_pairs_are_quiet(source, target):
    assert found(Numbers(), source, target) == []


def test_source_span_and_weights():
    (f,) = Numbers(changed_weight=0.8).detect(__import__("source_helpers").pair_doc("有35个国家。", "53 countries."))
    assert f.source_span == (1, 3) and f.weight == pytest.approx(0.8)
    assert f.to_dict()["source_span"] == [1, 3]


def test_no_sources_no_findings():
    text = "Delegates from 53 countries attended."
    assert list(Numbers().detect(Document(text, segment(text)))) == []
