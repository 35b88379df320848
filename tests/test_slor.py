"""The SLOR feature: LM surprisal beyond what the words' rarity explains (Lau et al. 2017)."""

import math

import pytest

import garble
from garble.lexicon import UNKNOWN_WORD_FREQ, unigram_surprisal
from garble.lm import TokenScores
from garble.scorer import unit_features
from garble.types import LMFeatures


def test_unigram_surprisal_adds_up_word_rarity():
    common, rare = unigram_surprisal("the"), unigram_surprisal("quokka")
    assert 0 < common < rare
    assert unigram_surprisal("the quokka") == pytest.approx(common + rare)
    assert unigram_surprisal("The, quokka!") == pytest.approx(common + rare)  # case and punctuation do not count
    assert unigram_surprisal("zqxwvbnmkj") == pytest.approx(-math.log(UNKNOWN_WORD_FREQ))
    assert unigram_surprisal("") == 0.0 and unigram_surprisal(" ... ") == 0.0
    assert unigram_surprisal("it’s") == pytest.approx(unigram_surprisal("it's"))  # curly apostrophe


class ConstantLM:
    """Every token (a whitespace-separated word) costs ``cost`` nats: only the unigram term varies."""

    max_tokens = 256

    def __init__(self, cost=5.0):
        self.cost = cost

    def score(self, texts, contexts=None):
        out = []
        for t in texts:
            offs, pos = [], 0
            for w in t.split():
                a = t.index(w, pos)
                offs.append((a, a + len(w)))
                pos = a + len(w)
            out.append(TokenScores(tuple(self.cost for _ in offs), tuple(offs)))
        return out


def test_slor_is_mean_surprisal_minus_unigram_per_token():
    res = garble.Scorer(model=ConstantLM(5.0), detectors=[], context=False).score_units(
        ["the cat sat", "quokkas eat ferns"]
    )
    for u in res.units:
        n = u.lm.n_tokens
        assert u.lm.slor == pytest.approx(5.0 - unigram_surprisal(u.text) / n)
        assert u.lm.to_dict()["slor"] == pytest.approx(u.lm.slor, abs=1e-4)
    common, rare = res.units
    # the same LM surprisal is less surprising for rare words: a lower (better) slor
    assert rare.lm.slor < common.lm.slor


def test_slor_counts_only_the_scored_part_of_a_truncated_unit():
    class Truncating(ConstantLM):
        def score(self, texts, contexts=None):
            return [TokenScores(s.surprisals[:2], s.offsets[:2], True) for s in super().score(texts, contexts)]

    u = garble.Scorer(model=Truncating(5.0), detectors=[], context=False).score_units(["the cat sat on mats"]).units[0]
    assert u.lm.slor == pytest.approx(5.0 - unigram_surprisal("the cat") / 2)


def test_unit_features_carry_slor_only_with_an_lm():
    lm = LMFeatures(mean_surprisal=4.0, max_surprisal=9.0, max_span=(0, 1), n_tokens=3, slor=-2.5)
    assert unit_features("abc", [], lm)["lm_slor"] == -2.5
    assert "lm_slor" not in unit_features("abc", [], None)
    assert "lm_slor" not in unit_features("abc", [], LMFeatures(4.0, 9.0, (0, 1), 3))
