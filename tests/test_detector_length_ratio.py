"""Length ratio: translations much shorter (omission) or longer (addition) than their sources."""

from __future__ import annotations

import math

import pytest
from source_helpers import found

from garble.detectors import registry
from garble.detectors.length_ratio import LengthRatio, log_ratio, log_word_ratio, measure_prior, priors, words, z_of
from garble.document import Document
from garble.segment import segment
from garble.types import Unit

SRC = "我们去了巴黎，参观了卢浮宫，然后坐火车回家了。"


def test_registered():
    assert registry()["length_ratio"] is LengthRatio


def test_packaged_prior_is_zh_en():
    p = priors()["zh-en"]
    assert 0.8 < p["all"]["median"] < 1.1 and p["all"]["n"] > 500  # English ~2.6x the characters of Chinese
    assert -0.6 < p["words"]["all"]["median"] < -0.3  # and ~0.65 words per Chinese character


def test_words():
    # don't, stop, it's, 3, 5, km, away: the placeholder is not a word
    assert words("Don't stop: it's 3.5 km, {0} away.") == 7
    assert words("") == 0 and words("—") == 0
    assert log_word_ratio("We went home.", "我们回家了") == pytest.approx(math.log(4 / 6))


def test_the_z_is_the_mean_over_both_measures():
    p = priors()["zh-en"]
    target = "We went to Paris and to the Louvre."
    zs = []
    for part, ratio in ((p, log_ratio), (p["words"], log_word_ratio)):
        b = part["bins"]["20"]  # the source has 20+ letters
        zs.append((ratio(target, SRC) - b["median"]) / ((b["q3"] - b["q1"]) / 1.349))
    assert z_of(SRC, target) == pytest.approx(sum(zs) / 2)
    # letters alone (the detector before it had words): a different z, the same verdict here
    assert found(LengthRatio(measures=("chars",)), SRC, "We went to Paris.") == [("omission", "src:" + SRC)]


def test_omission_and_addition():
    assert found(LengthRatio(), SRC, "We went to Paris.") == [("omission", "src:" + SRC)]
    long = (
        "We went to Paris, visited the Louvre, then took the train home, and afterwards we wrote a very long letter "
        "to all of our friends and family about the whole trip."
    )
    assert found(LengthRatio(), SRC, long) == [("addition", "src:" + SRC)]


def test_a_good_translation_is_quiet():
    assert found(LengthRatio(), SRC, "We went to Paris, visited the Louvre and took the train home.") == []


def test_short_sources_and_unknown_pairs_are_skipped():
    assert found(LengthRatio(), "谢谢", "Thank you very much indeed, everyone.") == []
    assert found(LengthRatio(), "Merci beaucoup pour tout.", "Thanks.", lang="fr") == []  # no fr-en prior, one unit


def test_document_distribution_without_a_prior():
    # 40 French-English pairs of ratio ~1 and one far shorter: measured on the document itself
    srcs = [f"Nous avons visité la ville numéro {i} avec nos amis." for i in range(40)]
    tgts = [f"We visited town number {i} with our friends." for i in range(40)]
    srcs.append("Nous avons visité la ville et le musée avec tous nos amis d'enfance.")
    tgts.append("We went.")
    units, pos = [], 0
    for i, t in enumerate(tgts):
        units.append(Unit(i, pos, pos + len(t), t, i))
        pos += len(t) + 1
    doc = Document("\n".join(tgts), units, sources=srcs, source_lang="fr")
    got = [(f.kind, doc.unit_at(f.start).index) for f in LengthRatio().detect(doc)]
    assert got == [("omission", 40)]


def test_weight_grows_with_the_distance():
    from source_helpers import pair_doc

    (a,) = LengthRatio().detect(pair_doc(SRC, "We went to Paris and the Louvre."))
    (b,) = LengthRatio().detect(pair_doc(SRC, "Paris."))
    assert 0.2 <= a.weight < b.weight <= 0.9


def test_measure_prior():
    p = measure_prior([("一二三四五", "abcdefghijklm")] * 12)
    assert p["all"]["median"] == pytest.approx(log_ratio("abcdefghijklm", "一二三四五"), abs=1e-4)
    assert p["bins"]["0"]["n"] == 12
    assert p["words"]["all"]["median"] == pytest.approx(log_word_ratio("abcdefghijklm", "一二三四五"), abs=1e-4)


def test_no_sources_no_findings():
    text = "We went to Paris."
    assert list(LengthRatio().detect(Document(text, segment(text)))) == []
