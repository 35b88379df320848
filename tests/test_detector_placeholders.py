"""Placeholders and inline tags of the source missing, changed or added in the translation."""

from __future__ import annotations

import pytest
from source_helpers import CLEAN_PAIRS, found

from garble.detectors import registry
from garble.detectors.placeholders import Placeholders, placeholders
from garble.document import Document
from garble.segment import segment


def test_registered():
    assert registry()["placeholders"] is Placeholders


def test_placeholder_syntax():
    got = [
        m.group()
        for m in placeholders('{0} {name} {{user}} %s %1$s %.2f %(count)d ${x} <b> </b> <x id="1"/> &amp; 50% off')
    ]
    assert got == [
        "{0}",
        "{name}",
        "{{user}}",
        "%s",
        "%1$s",
        "%.2f",
        "%(count)d",
        "${x}",
        "<b>",
        "</b>",
        '<x id="1"/>',
        "&amp;",
    ]


@pytest.mark.parametrize(
    "source, target, expected",
    [
        ("已删除 %(count)s 个文件", "Deleted %(count) files", [("missing", "src:%(count)s")]),
        ("你好，{name}", "Hello, {nom}", [("changed", "{nom}")]),
        ("<b>警告</b>：磁盘已满", "<b>Warning: the disk is full", [("missing", "src:</b>")]),
        ("{0}：已完成", "Done", [("missing", "src:{0}")]),
        ("已完成", "Done %s", [("extra", "%s")]),
        ("%1$s 和 %2$s", "%2$s and %1$s", []),  # reordered: fine
        ("共 ${total} 项", "${total} items in all", []),
    ],
)
def test_placeholders(source, target, expected):
    assert found(Placeholders(), source, target) == expected


@pytest.mark.parametrize("source, target", CLEAN_PAIRS)
def test_clean_pairs_are_quiet(source, target):
    assert found(Placeholders(), source, target) == []


def test_no_sources_no_findings():
    text = "Deleted %(count) files"
    doc = Document(text, segment(text))
    assert list(Placeholders().detect(doc)) == []
