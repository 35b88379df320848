import math

import pytest

from garble.errors import UsageError
from garble.scorer import Weights, detector_strengths, unit_features
from garble.types import Finding, LMFeatures


def _f(det, w, start=0):
    return Finding(det, "k", start, start + 1, w, "m")


def test_noisy_or_per_detector():
    s = detector_strengths([_f("a", 0.5), _f("a", 0.5, 5), _f("b", 0.2, 10)])
    assert s == {"a": pytest.approx(0.75), "b": pytest.approx(0.2)}


def test_default_weights_load_and_rank_findings_above_clean():
    w = Weights.load()
    clean = w.score(unit_features("A clean sentence.", [], None))
    flagged = w.score(unit_features("A clean sentence.", [_f("repetition", 0.9)], None))
    assert 0.0 < clean < flagged < 1.0
    assert flagged > 0.5 > clean


def test_unknown_detector_gets_default_weight():
    w = Weights.from_dict({"bias": -2.0, "default_detector_weight": 3.0, "detectors": {"known": 1.0}})
    assert w.logit({"det:brand_new": 1.0}) == pytest.approx(1.0)
    assert w.logit({"det:known": 1.0}) == pytest.approx(-1.0)


def test_lm_features_are_standardised_and_no_lm_bias_used_without_them():
    w = Weights.from_dict(
        {"bias": -1.0, "no_lm_bias": -5.0, "features": {"lm_rel_median": {"weight": 2.0, "center": 1.0, "scale": 0.5}}}
    )
    lm = LMFeatures(mean_surprisal=4.0, max_surprisal=9.0, max_span=(0, 1), n_tokens=3, rel_median=2.0)
    x = unit_features("abc", [], lm)
    assert w.logit(x) == pytest.approx(-1.0 + 2.0 * (2.0 - 1.0) / 0.5)
    assert w.logit(unit_features("abc", [], None)) == pytest.approx(-5.0)
    assert 0 < w.score({"lm_rel_median": 1e6}) <= 1 and math.isfinite(w.score({"lm_rel_median": -1e6}))


def test_malformed_weights_are_a_usage_error(tmp_path):
    p = tmp_path / "w.json"
    p.write_text("{not json")
    with pytest.raises(UsageError, match="w.json"):
        Weights.load(p)
    with pytest.raises(UsageError):
        Weights.from_dict({"detectors": {}})


def test_same_span_from_two_detectors_counts_once():
    a = Finding("punctuation", "missing_space", 10, 20, 0.7, "m")
    b = Finding("mt_noise", "glued_words", 10, 20, 0.8, "m")
    c = Finding("names", "variant", 30, 35, 0.9, "m")
    assert detector_strengths([a, b, c]) == {"mt_noise": pytest.approx(0.8), "names": pytest.approx(0.9)}
    same_detector = Finding("punctuation", "missing_space", 12, 18, 0.5, "m")
    assert detector_strengths([a, same_detector])["punctuation"] == pytest.approx(1 - 0.3 * 0.5)
