"""The error model's head (garble.tagger) and the LM's one-pass token stream (garble.lm.score_stream)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from garble.errors import UsageError
from garble.readings import token_ranges, unit_readings
from garble.tagger import SCALAR_FEATURES, Tagger, load_tagger, token_matrix


def _tagger(d: int, seed: int = 0, hidden: int = 0) -> Tagger:
    rng = np.random.default_rng(seed)
    n = len(SCALAR_FEATURES) + d
    if hidden:
        layers = [
            (rng.normal(size=(n, hidden)).astype(np.float32), np.zeros(hidden, np.float32)),
            (rng.normal(size=(hidden, 1)).astype(np.float32), np.zeros(1, np.float32)),
        ]
    else:
        layers = [(rng.normal(size=(n, 1)).astype(np.float32), np.zeros(1, np.float32))]
    return Tagger(np.zeros(n, np.float32), np.ones(n, np.float32), layers, {"lm": "test", "finding_threshold": 0.5})


def test_token_matrix_pairs_each_token_with_its_neighbours():
    s = np.array([1.0, 2.0, 3.0, 9.0], np.float32)  # 3 tokens + the newline after them
    e = np.array([0.5, 0.5, 1.0, 2.0], np.float32)
    r = np.array([0, 3, 7, 1])
    h = np.arange(12, dtype=np.float32).reshape(4, 3)
    x = token_matrix(s, e, r, h)
    assert x.shape == (3, len(SCALAR_FEATURES) + 3)
    col = {k: i for i, k in enumerate(SCALAR_FEATURES)}
    assert x[:, col["surprisal"]].tolist() == [1.0, 2.0, 3.0]
    assert x[:, col["next_surprisal"]].tolist() == [2.0, 3.0, 9.0]  # the last token's neighbour is the newline
    assert x[1:, col["prev_surprisal"]].tolist() == [1.0, 2.0]
    assert x[:, col["log_rank"]].tolist() == pytest.approx(np.log1p([0, 3, 7]).tolist())
    assert x[:, len(SCALAR_FEATURES) :].tolist() == h[:3].tolist()
    assert token_matrix(s[:1], e[:1], r[:1], h[:1]).shape == (0, len(SCALAR_FEATURES) + 3)


@pytest.mark.parametrize("hidden", [0, 4])
def test_a_head_saves_and_loads_to_the_same_predictions(tmp_path, hidden):
    t = _tagger(5, hidden=hidden)
    x = np.random.default_rng(1).normal(size=(7, len(SCALAR_FEATURES) + 5)).astype(np.float32)
    p = t.predict(x)
    assert p.shape == (7,) and ((p > 0) & (p < 1)).all()
    t.save(tmp_path / "head.npz")
    assert (tmp_path / "head.json").is_file()
    back = Tagger.load(tmp_path / "head.npz")
    assert np.allclose(back.predict(x), p)
    assert back.card["finding_threshold"] == 0.5 and back.hidden_size == 5


@pytest.mark.parametrize("hidden", [0, 4])
def test_predicting_in_place_gives_the_same_numbers(hidden):
    """predict_tokens standardises its own token matrix in place (a long document's is large): the same
    probabilities, to the bit, as predict on a copy; predict leaves a caller's matrix alone."""
    t = _tagger(6, seed=3, hidden=hidden)
    t.mean = np.linspace(-1, 1, len(t.mean)).astype(np.float32)
    t.std = np.linspace(0.5, 2, len(t.std)).astype(np.float32)
    rng = np.random.default_rng(4)
    s, e = rng.random(301).astype(np.float32) * 9, rng.random(301).astype(np.float32) * 4
    r, h = rng.integers(0, 500, 301), rng.normal(size=(300, 6)).astype(np.float32)
    x = token_matrix(s, e, r, h)
    kept = x.copy()
    p = t.predict(x)
    assert np.array_equal(x, kept)
    assert np.array_equal(t.predict_tokens(s, e, r, h), p)


def test_a_broken_head_file_is_a_usage_error(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(UsageError) as e:
        Tagger.load(tmp_path / "bad.npz")
    assert "bad.npz" in str(e.value.path)


class _FakeLM:
    name = "no-such-model"

    class model:  # noqa: N801 - mimics lm.model.config.hidden_size
        class config:  # noqa: N801
            hidden_size = 5


def test_a_model_without_a_head_warns_once_and_gets_none():
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert load_tagger(None, _FakeLM()) is None
    assert any("no error-model head" in str(m.message) for m in w)
    assert load_tagger(False, _FakeLM()) is None


def test_a_head_for_another_hidden_size_is_refused():
    with pytest.raises(UsageError, match="hidden size"):
        load_tagger(_tagger(7), _FakeLM())
    assert load_tagger(_tagger(5), _FakeLM()).hidden_size == 5


def test_the_packaged_head_belongs_to_the_default_model():
    from garble.lm import DEFAULT_MODEL
    from garble.tagger import packaged_head

    path = packaged_head(DEFAULT_MODEL)
    assert path is not None and path.stat().st_size <= 5 * 1024 * 1024
    t = Tagger.load(path)
    assert t.hidden_size == 576  # SmolLM2-135M
    for key in ("lm", "date", "training_data", "metrics_held_out", "finding_threshold"):
        assert key in t.card
    assert t.card["lm"] == DEFAULT_MODEL


def test_token_ranges_give_each_token_to_the_unit_holding_its_last_character():
    # "ab cd\nef": tokens "ab", " cd", "\n", "ef"
    offsets = [(0, 2), (2, 5), (5, 6), (6, 8)]
    assert token_ranges(offsets, [(0, 5), (6, 8)]) == [(0, 2), (3, 4)]
    assert token_ranges(offsets, [(0, 2), (3, 5), (6, 8)]) == [(0, 1), (1, 2), (3, 4)]
    assert token_ranges(offsets, [(9, 9)]) == [(4, 4)]


def test_unit_readings_average_and_point_at_the_right_tokens():
    from garble.lm import TokenStream

    s = np.array([1.0, 5.0, 2.0, 4.0], np.float32)
    st = TokenStream(
        ((0, 2), (2, 5), (5, 6), (6, 8)),
        s,
        np.ones(4, np.float32),
        np.zeros(4, np.int64),
        7.0,
        np.array([0.1, 0.9, 0.2, 0.3], np.float32),
    )
    a, b = unit_readings(st, [(0, 5), (6, 8)])
    assert a.mean_surprisal == pytest.approx(3.0) and a.max_index == 1 and a.n_tokens == 2
    assert a.end_surprisal == pytest.approx(2.0)  # the newline read after the unit
    assert b.end_surprisal == pytest.approx(7.0)  # after the last unit: the stream's end
    assert a.p_max == pytest.approx(0.9) and a.p_index == 1 and a.p_sum == pytest.approx(1.0)
    assert unit_readings(st, [(8, 8)]) == [None]
