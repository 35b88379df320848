"""The combiner's fitting (garble.combiner), its guard rails, and `garble eval pairs`."""

from __future__ import annotations

import gzip
import json
import math
import random
import subprocess
import sys

import numpy as np
import pytest

from garble.combiner import CONT, calibrate, fit_intercept, fit_ranker, guard_rails, synthetic_xs
from garble.eval.synthetic import SynthResult
from garble.scorer import Weights


def _x(mean, chars=60, det=0.0):
    x = {"lm_mean": mean, "lm_log_tokens": math.log1p(chars / 5), "log_chars": math.log1p(chars)}
    if det:
        x["det:repetition"] = det
    return x


def test_a_ranker_learns_the_feature_that_orders_the_pairs_and_respects_the_length_bound():
    rng = random.Random(0)
    xs, pairs = [], []
    for _ in range(300):
        m = rng.uniform(2, 5)
        c = rng.uniform(20, 200)
        xs += [_x(m + 1.0, c * 0.8), _x(m, c)]  # the worse one: more surprising and shorter
        pairs.append((len(xs) - 2, len(xs) - 1))
    fit = fit_ranker(
        xs, {"mt": pairs}, {"mt": 1.0}, [], C=1.0, cont=("lm_mean", "log_chars"), len_bounds=(-math.inf, 0.0)
    )
    w = dict(zip(fit.design.names, fit.coef))
    assert w["lm_mean"] > 1.0
    assert w["log_chars"] <= 0.0  # the bound holds (here the data wants it negative anyway)
    z = fit.logits(xs)
    assert np.mean([z[a] > z[b] for a, b in pairs]) > 0.95
    boxed = fit_ranker(xs, {"mt": pairs}, {"mt": 1.0}, [], C=1.0, cont=("lm_mean", "log_chars"), len_bounds=(0.0, 0.1))
    assert 0.0 <= dict(zip(boxed.design.names, boxed.coef))["log_chars"] <= 0.1 + 1e-9


def test_detector_weights_stay_non_negative():
    xs = [_x(3.0, det=1.0), _x(4.0)] * 50  # the detector fires on the *better* unit: the data pulls it down
    pairs = [(i + 1, i) for i in range(0, 100, 2)]
    fit = fit_ranker(xs, {"synthetic": pairs}, {"synthetic": 1.0}, ["repetition"], cont=("lm_mean",))
    assert fit.coef[0] >= 0.0


def test_calibration_recovers_a_known_logistic_model():
    rng = np.random.default_rng(0)
    z = rng.normal(size=20000)
    y = rng.random(20000) < 1 / (1 + np.exp(-(2.0 * z - 1.0)))
    a, b = calibrate(z, y)
    assert a == pytest.approx(2.0, abs=0.1) and b == pytest.approx(-1.0, abs=0.1)
    assert fit_intercept(2.0 * z, y) == pytest.approx(-1.0, abs=0.1)


def _synth(kind, clean_x, bad_xs, context=True):
    return SynthResult(kind, "d", "", "", [], clean_x, bad_xs, [], context)


def test_synthetic_pairs_skip_clean_units_a_detector_already_flags():
    rs = [
        _synth("a", _x(3.0), [_x(4.0)]),
        _synth("b", _x(3.0, det=0.5), [_x(4.0)]),
        _synth("c", _x(3.0), [_x(4.0), _x(5.0)], context=False),
    ]
    xs, pairs = synthetic_xs(rs)
    assert len(pairs["synthetic"]) == 1 and len(pairs["minimal"]) == 2
    assert all(xs[a]["lm_mean"] > xs[b]["lm_mean"] for a, b in pairs["synthetic"] + pairs["minimal"])


def _records(flip: bool):
    rng = random.Random(1)
    segs, pairs = [], []
    for seg in range(40):
        for system in range(4):
            mqm = rng.choice([0, 0, 1, 5])
            m = 3.0 + 0.3 * mqm + rng.uniform(-0.2, 0.2)
            chars = rng.randint(30, 200)
            segs.append(
                {
                    "x": _x(m, chars),
                    "system": f"s{system}",
                    "doc": "t",
                    "seg": seg,
                    "is_ref": 0,
                    "mqm": mqm,
                    "major": int(mqm >= 5),
                    "flu": int(mqm >= 5),
                    "chars": chars,
                }
            )
    for k in range(60):
        pairs.append({"kind": "k", "context": k % 2 == 0, "clean": _x(3.0), "bad": [_x(3.5)]})
    return {"segments": segs, "pairs": pairs}


def test_guard_rails_pass_a_score_that_follows_the_lm_and_fail_one_that_runs_against_it():
    good = Weights(0.0, {}, {"lm_mean": {"weight": 1.0, "center": 0.0, "scale": 1.0}}, 1.0)
    bad = Weights(0.0, {}, {"lm_mean": {"weight": -1.0, "center": 0.0, "scale": 1.0}}, 1.0)
    recs = _records(False)
    g = guard_rails(good, recs)
    assert g["ok"], g["checks"]
    assert g["table"]["mqm pairwise"]["garble"] == pytest.approx(g["table"]["mqm pairwise"]["LM mean surprisal"])
    b = guard_rails(bad, recs)
    assert not b["ok"]
    assert any("minimal pairs" in n and not ok for n, ok in b["checks"])


def _shipped():
    from importlib import resources

    with resources.files("garble.data").joinpath("scorer_check.json.gz").open("rb") as fh:
        recs = json.loads(gzip.decompress(fh.read()))
    return Weights.load(), recs


#: guard rails the shipped weights do not keep yet on the held-out data (issue 12 is open): measured
#: 2026-12-03, garble / baseline: MQM pairwise 0.507 / LM mean 0.524, synthetic in context 0.920 /
#: LM mean 0.934, minimal pairs 0.895 / LM mean 0.918, MQM length-controlled AUC 0.556 / LM total 0.583.
#: Every rail against length, and against LM total surprisal on the minimal pairs, holds.
KNOWN_GAPS = (
    "mqm pairwise: garble",
    "synthetic (in context): garble",
    "minimal pairs (alone): garble",
    "mqm len-ctrl AUC: garble",
)


def test_the_shipped_weights_beat_their_parts_on_held_out_data():
    """The guard rail of issue 12, on the held-out features stored beside the weights by scripts/fit_scorer.py."""
    w, recs = _shipped()
    assert len(recs["segments"]) > 1000 and len(recs["pairs"]) > 300
    g = guard_rails(w, recs)
    failed = [n for n, ok in g["checks"] if not ok]
    unexpected = [n for n in failed if not (n.startswith(KNOWN_GAPS) and ("LM mean" in n or "len-ctrl" in n))]
    assert not unexpected, unexpected
    # every feature the weights use is one garble computes
    assert set(w.features) <= set(CONT)
    assert w.no_error_model is not None and not any(k.startswith("err_") for k in w.no_error_model.features)


@pytest.mark.xfail(
    strict=True,
    reason="issue 12 open: the shipped combiner is below LM mean/total surprisal on four held-out guard rails",
)
def test_the_shipped_weights_keep_every_guard_rail():
    w, recs = _shipped()
    assert guard_rails(w, recs)["ok"]


def _garble(*args):
    return subprocess.run([sys.executable, "-m", "garble", *args], capture_output=True, text=True)


def test_eval_pairs_reports_rates_per_type(tmp_path):
    p = tmp_path / "pairs.jsonl"
    items = [
        {
            "good": "The report is ready for the meeting.",
            "bad": "The report is is ready for the meeting.",
            "type": "duplicated_word",
        },
        {
            "good": "We met them in Paris last year.",
            "bad": "We met them in Paris last year and last year.",
            "type": "repetition",
        },
    ]
    p.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    r = _garble("eval", "pairs", str(p), "--no-lm", "-f", "json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["rows"]["duplicated_word"]["n"] == 1 and res["rows"]["(all)"]["n"] == 2
    assert res["rows"]["duplicated_word"]["garble"] == 1.0  # the repetition detector fires on "is is"
    t = _garble("eval", "pairs", str(p), "--no-lm")
    assert t.returncode == 0 and "duplicated_word" in t.stdout and "garble" in t.stdout


def test_eval_pairs_bad_line_is_a_one_line_error(tmp_path):
    p = tmp_path / "pairs.jsonl"
    p.write_text('{"good": "a", "bad": "b"}\n{"good": 3}\n', encoding="utf-8")
    r = _garble("eval", "pairs", str(p), "--no-lm")
    assert r.returncode != 0
    assert "line 2" in r.stderr and str(p) in r.stderr and "Traceback" not in r.stderr
    r = _garble("eval", "pairs", "--no-lm")
    assert r.returncode != 0 and "Traceback" not in r.stderr
