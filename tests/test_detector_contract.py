"""The contract every registered detector keeps (garble/detectors/__init__.py), checked for each one.

Declarations (name, colour, prior), a docstring with an example, default construction, and on
sample documents with and without sources: offsets inside the document and on a unit, weights in
[0, 1], the same findings every time, and no state carried from one document to the next.
"""

from __future__ import annotations

import math
import re
import sys

import pytest

from garble.detectors import Detector, registry
from garble.document import Document
from garble.segment import segment
from garble.types import Finding, Unit

PLAIN = "\n\n".join(
    [
        "The cafÃ© on the corner closed early. The spokesman said 我们不会接受 on Monday. "
        "He replied que no es posible hacerlo today.",
        "Tsvetkov said the plan was ready. Tsvetkov added that it would work. Later Tsvetkof said it had failed.",
        "The law would allow the army to strike Pakistani targets on Indian soil.",
        "The mayor said “we will “rebuild” the bridge. The vote was held in May 2023.Results follow.",
        "Leave a Reply",
        "He spoke on Monday. In an interview with a local newspaper.",
        "It was fine and it was fine, said the pilot. The the cat sat down.",
        "The mayor spoke in the cityThe council agreed. Click %s to continue.",
    ]
)
PAIRS = [  # (source, target): each source-aware detector fires on one of them
    ("会议有 35 个国家参加", "Delegates from 53 countries attended"),
    ("已删除 %(count)s 个文件", "Deleted %(count) files"),
    ("我用 GitHub 和 #MeToo 发帖", "I posted on it with the hashtag."),
    ("你会来吗？", "You will come."),
    ("我们需要更多的数据", "We need 更多的数据 now."),
    ("我们去了巴黎，参观了卢浮宫，然后回家了。", "We went to Paris."),
    ("今天天气很好。", "The weather is fine today."),
]


def plain_doc() -> Document:
    return Document(PLAIN, segment(PLAIN))


def pairs_doc(pairs=PAIRS) -> Document:
    """The targets one a line, each line a unit of its own paragraph, with its source."""
    units, pos = [], 0
    for i, (_, target) in enumerate(pairs):
        units.append(Unit(i, pos, pos + len(target), target, i))
        pos += len(target) + 1
    return Document("\n".join(t for _, t in pairs), units, sources=[s for s, _ in pairs], source_lang="zh")


DOCS = {"plain": plain_doc, "pairs": pairs_doc}
REGISTRY = registry()


def check_declarations(cls: type) -> None:
    """What the registry reads of a detector class, and its docstring."""
    assert issubclass(cls, Detector)
    assert isinstance(cls.name, str) and re.fullmatch(r"[a-z][a-z0-9_]*", cls.name)
    assert isinstance(cls.colour, tuple) and len(cls.colour) == 2
    assert all(re.fullmatch(r"#[0-9a-fA-F]{6}", c) for c in cls.colour), cls.colour
    assert isinstance(cls.prior, (int, float)) and not isinstance(cls.prior, bool)
    assert math.isfinite(cls.prior) and cls.prior >= 0
    doc = cls.__doc__ or ""
    assert len(doc.strip()) > 40, "the docstring says what the detector catches"
    assert re.search(r"^\s*>>> \S", doc, re.M), "the docstring has an example (a >>> line)"


@pytest.mark.parametrize("name", sorted(registry()))
def test_the_docstring_examples_run(name):
    """Each built-in's example is a doctest of ``flagged(...)`` whose printed findings are what it finds today."""
    import doctest

    cls = registry()[name]
    module = sys.modules[cls.__module__]
    tests = [t for t in doctest.DocTestFinder().find(cls, globs=vars(module).copy()) if t.examples]
    assert any("flagged(" in e.source for t in tests for e in t.examples), "an example calls garble.detectors.flagged"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for t in tests:
        runner.run(t)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) of {name} print other findings"


def check_findings(det: Detector, doc: Document, findings: list[Finding]) -> None:
    """Each finding names ``det``, lies inside ``doc`` on a unit, weighs in [0, 1]."""
    n = len(doc.text)
    for f in findings:
        assert isinstance(f, Finding) and f.detector == det.name
        assert isinstance(f.kind, str) and f.kind and isinstance(f.message, str) and f.message.strip()
        assert 0 <= f.start <= f.end <= n, f
        assert isinstance(f.weight, float) and 0.0 <= f.weight <= 1.0, f
        # the start and the end each lie on a unit (a glued "2024.Photo" may span two)
        home = [u for u in doc.units if u.start <= f.start <= u.end]
        assert home and any(u.start <= f.end <= u.end for u in doc.units), f
        if f.source_span is not None:
            a, b = f.source_span
            src = doc.source(home[0]) or ""
            assert 0 <= a <= b <= len(src), f


def findings(det: Detector, doc: Document) -> list[Finding]:
    return list(det.detect(doc))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_declarations(name):
    cls = REGISTRY[name]
    check_declarations(cls)
    assert cls.name == name
    assert isinstance(cls(), Detector)  # every threshold has a default


@pytest.mark.parametrize("doc_kind", sorted(DOCS))
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_findings_offsets_weights_and_determinism(name, doc_kind):
    det = REGISTRY[name]()
    doc = DOCS[doc_kind]()
    first = findings(det, doc)
    check_findings(det, doc, first)
    assert findings(det, doc) == first, "the same findings again"
    assert findings(REGISTRY[name](), DOCS[doc_kind]()) == first, "the same findings from a new instance and document"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_stateless(name):
    """Running on one document, then another, finds in the second what running on it alone does."""
    alone = {k: findings(REGISTRY[name](), make()) for k, make in DOCS.items()}
    det = REGISTRY[name]()
    for k in ["plain", "pairs", "plain"]:
        assert findings(det, DOCS[k]()) == alone[k], k


def test_every_builtin_fires_on_the_samples():
    """So that the checks above look at real findings for each built-in detector."""
    silent = [
        name
        for name, cls in REGISTRY.items()
        if cls.__module__.startswith("garble.detectors.") and not any(findings(cls(), make()) for make in DOCS.values())
    ]
    assert silent == []


def test_builtin_colours_differ():
    builtin = [cls.colour for cls in REGISTRY.values() if cls.__module__.startswith("garble.detectors.")]
    assert len(set(builtin)) == len(builtin)
