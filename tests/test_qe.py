"""Quality estimation with the source (garble.qe): the reader on a tiny random Gemma 3, the heads, the Scorer."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import garble
from garble.errors import GarbleWarning, InputError, UsageError
from garble.qe.features import AGGREGATES, WORD_SCALARS, aggregates, word_features, word_spans, word_tokens
from garble.qe.head import LinearHead
from garble.types import Finding, QEResult

PAIRS = [
    ("Bună ziua, ce mai faci?", "Good day, how are you?"),
    ("Pisica doarme pe canapea.", "The cat sleeps on the sofa."),
    ("Am cumpărat trei mere și două pere ieri.", "Yesterday I bought three apples and two pears."),
    ("El a plecat.", "He left the house early in the morning without telling anybody where he went."),
]


@pytest.fixture(scope="session")
def reader(tiny_gemma_dir):
    from garble.qe.reader import SourceReader

    return SourceReader(str(tiny_gemma_dir), device="cpu", dtype="float32", layers=(1, 4), token_layers=(2,))


def _full_surprisals(reader, prompt: str, translation: str) -> np.ndarray:
    """The translation's surprisals (and the closing newline's) from the model's own full forward pass."""
    import torch

    tok = reader.tokenizer
    p = tok(prompt, add_special_tokens=False)["input_ids"]
    c = tok(" " + translation, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([[reader.bos, *p, *c, reader.newline[0]]])
    with torch.inference_mode():
        logp = torch.log_softmax(reader.model(ids).logits[0].float(), -1)
    a = 1 + len(p)
    return np.array([-logp[t - 1, ids[0, t]].item() for t in range(a, ids.shape[1])])


def test_surprisals_are_the_models_own_after_the_source_and_alone(reader):
    src, mt = PAIRS[0]
    r = reader.read([src], [mt], ["ro"])[0]
    assert r.has_source and r.source_tokens > 0
    np.testing.assert_allclose(r.surprisal, _full_surprisals(reader, f"Romanian: {src}\nEnglish:", mt), atol=1e-4)
    np.testing.assert_allclose(r.surprisal_alone, _full_surprisals(reader, "English:", mt), atol=1e-4)
    assert r.offsets[-1] == (len(mt), len(mt))  # the closing newline
    assert [mt[a:b].strip() for a, b in r.offsets[:2]] == ["Good", "day"]


def test_results_do_not_depend_on_batching_or_order(reader, tiny_gemma_dir):
    from garble.qe.reader import SourceReader

    src, mt = zip(*PAIRS)
    one = reader.read(src, mt, ["ro"] * len(src), token_hidden=True)
    small = SourceReader(str(tiny_gemma_dir), device="cpu", dtype="float32", layers=(1, 4), token_layers=(2,),
                         batch_tokens=40, max_batch=1)  # fmt: skip
    rev = small.read(src[::-1], mt[::-1], ["ro"] * len(src), token_hidden=True)[::-1]
    for a, b in zip(one, rev):
        np.testing.assert_allclose(a.surprisal, b.surprisal, atol=1e-4)
        np.testing.assert_allclose(a.pooled, b.pooled, atol=1e-4)
        np.testing.assert_allclose(a.token_hidden.astype(float), b.token_hidden.astype(float), atol=1e-2)
    assert one[0].pooled.shape == (2 * 2 * 32,)  # two layers, over the translation then the source
    assert one[0].token_hidden.shape == (one[0].n_tokens, 32)


def test_no_source_or_an_unknown_language_reads_the_translation_alone(reader):
    src, mt = PAIRS[1]
    for s, lang in ((None, "ro"), ("", "ro"), (src, "xx"), (src, None)):
        r = reader.read([s], [mt], [lang])[0]
        assert not r.has_source and r.source_tokens == 0
        np.testing.assert_allclose(r.surprisal, r.surprisal_alone, atol=1e-5)
        assert not r.pooled[-64:].any()  # the source half of the vector is zeros


def test_shortlist_normalises_over_fewer_ids_and_still_scores_every_target(reader):
    src, mt = PAIRS[2]
    full = reader.read([src], [mt], ["ro"])[0]
    try:
        reader.set_shortlist(np.arange(reader.model.config.vocab_size))
        same = reader.read([src], [mt], ["ro"])[0]
        reader.set_shortlist(np.arange(0, 50))  # none of the targets is in it
        short = reader.read([src], [mt], ["ro"])[0]
    finally:
        reader.set_shortlist(None)
    np.testing.assert_allclose(same.surprisal, full.surprisal, atol=1e-4)
    assert np.all(np.isfinite(short.surprisal))
    assert np.all(short.surprisal <= full.surprisal + 1e-4)  # a partial normaliser: never more surprised
    assert np.all(short.surprisal < full.surprisal - 1e-3)


def test_layers_beyond_the_model_are_refused(tiny_gemma_dir):
    from garble.errors import ModelError
    from garble.qe.reader import SourceReader

    with pytest.raises(ModelError, match="has 4 layers"):
        SourceReader(str(tiny_gemma_dir), device="cpu", dtype="float32", layers=(9,))


def test_language_names():
    from garble.qe.reader import language_name

    assert language_name("ro") == language_name("ro-RO") == language_name("Romanian") == "Romanian"
    assert language_name("zh_Hant") == "Chinese"
    assert language_name("xx") is None and language_name("") is None and language_name(None) is None


def test_aggregates_of_a_known_reading():
    s = np.array([1.0, 3.0, 2.0, 0.5])  # three tokens and the closing newline
    h = np.array([1.0, 1.0, 1.0, 1.0])
    r = np.array([0, 20, 1, 0])
    alone = np.array([2.0, 3.0, 1.0, 0.2])
    x = dict(zip(AGGREGATES, aggregates(s, h, r, alone, source_tokens=5)))
    assert x["total"] == pytest.approx(6.0) and x["mean"] == pytest.approx(2.0) and x["max"] == 3.0
    assert x["end"] == 0.5 and x["rank10_frac"] == pytest.approx(1 / 3)
    assert x["pmi_total"] == pytest.approx(0.0) and x["pmi_min"] == pytest.approx(-1.0)
    assert x["log_length_ratio"] == pytest.approx(math.log(4) - math.log(6))
    empty = aggregates(np.array([0.3]), np.array([1.0]), np.array([0]), None, 0)
    assert np.all(np.isfinite(empty))


def test_word_spans_follow_the_tokenised_words_through_the_text():
    text = "On 17 June, Pétain declared “it” 4.5 times."
    words = ["On", "17", "June", ",", "Pétain", "declared", '"', "it", '"', "4.5", "times", "."]
    spans = word_spans(text, words)
    assert [text[a:b] for a, b in spans] == ["On", "17", "June", ",", "Pétain", "declared", "“", "it", "”", "4.5",
                                              "times", "."]  # fmt: skip
    assert word_spans("a b", ["a", "x", "b"]) == [(0, 1), (2, 2), (2, 3)]  # a word the text lacks: empty span
    offsets = [(0, 2), (2, 5), (5, 10), (10, 11), (11, 14), (14, 18), (18, 27)]  # LM tokens, space-led
    groups = word_tokens(offsets, spans[:6])
    assert groups[0] == [0] and groups[2] == [2] and groups[4] == [4, 5]  # "Pétain" spans two tokens


def test_word_features_one_row_per_word():
    s, h, r = np.array([1.0, 5.0, 2.0, 0.1]), np.ones(4), np.array([0, 30, 2, 0])
    alone = np.array([1.5, 4.0, 2.5, 0.1])
    hid = np.arange(12, dtype=np.float16).reshape(4, 3)
    x = word_features([[0], [1, 2]], s, h, r, alone, hid)
    assert x.shape == (2, len(WORD_SCALARS) + 3)
    row = dict(zip(WORD_SCALARS, x[1]))
    assert row["s_max"] == 5.0 and row["s_first"] == 5.0 and row["pmi_min"] == pytest.approx(-1.0)
    np.testing.assert_allclose(x[1, len(WORD_SCALARS) :], [4.5, 5.5, 6.5])


def test_linear_head_matches_sklearn_and_survives_a_round_trip(tmp_path):
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5)) * [1, 10, 0.1, 3, 1]
    y = x @ [1, 0.1, 5, -0.3, 0] + rng.normal(size=200) * 0.1
    sc = StandardScaler().fit(x)
    ridge = Ridge(alpha=1.0).fit(sc.transform(x), y)
    head = LinearHead.from_sklearn(sc, ridge)
    np.testing.assert_allclose(head.predict(x), ridge.predict(sc.transform(x)), atol=1e-9)
    head.card = {"what": "test"}
    head.save(tmp_path / "h.npz")
    back = LinearHead.load(tmp_path / "h.npz")
    np.testing.assert_allclose(back.predict(x), head.predict(x), atol=1e-4)
    assert back.card == {"what": "test"}
    logit = LogisticRegression().fit(sc.transform(x), y > 0)
    lh = LinearHead.from_sklearn(sc, logit, kind="logistic")
    np.testing.assert_allclose(lh.predict(x), logit.predict_proba(sc.transform(x))[:, 1], atol=1e-9)
    with pytest.raises(UsageError, match="expects 5 features"):
        head.predict(x[:, :3])
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(UsageError, match="not a garble QE head"):
        LinearHead.load(tmp_path / "bad.npz")


def test_a_language_the_sentence_head_was_not_fitted_on_is_read_by_the_transfer_head(reader):
    """Romanian (in the sentence head's card) gets the sentence head, its offset and its p_fix calibration;
    Chinese gets the transfer head; without a transfer head the sentence head reads every language."""
    from garble.qe.estimator import QualityEstimator

    width = len(AGGREGATES) + 2 * 2 * reader.hidden_size  # two pooled layers, over the MT and the source
    flat = dict(mean=np.zeros(width), scale=np.ones(width), coef=np.zeros(width))
    sentence = LinearHead(**flat, intercept=1.0, card={"languages": ["Romanian"], "source_offsets": {"Romanian": 0.5},
                                                          "p_fix": {"bias": 0.0, "scale": 1.0}})  # fmt: skip
    transfer = LinearHead(**flat, intercept=-1.0, card={"p_fix": {"bias": 0.0, "scale": 2.0}})
    qe = QualityEstimator(reader, sentence=sentence, words=False, transfer=transfer)
    assert qe.head_for("ro") is sentence and qe.head_for("zh") is transfer and qe.head_for(None) is transfer
    ro, zh = qe.estimate(["Pisica doarme.", "猫在睡觉。"], ["The cat sleeps.", "The cat sleeps."], ["ro", "zh"])
    assert ro.z == pytest.approx(1.5) and zh.z == pytest.approx(-1.0)
    assert ro.p_fix == pytest.approx(1 / (1 + math.exp(1.5))) and zh.p_fix == pytest.approx(1 / (1 + math.exp(-0.5)))
    alone = QualityEstimator(reader, sentence=sentence, words=False)
    assert alone.transfer is None and alone.head_for("zh") is sentence


class FakeQE:
    """A QualityEstimator stand-in: p_fix from a table, an adequacy finding on the word 'sofa'."""

    name = "fake"

    def __init__(self, p_fix: dict):
        self.p_fix, self.calls = p_fix, []

    def knows(self, lang):
        return lang in ("ro", "de")

    def estimate(self, sources, translations, languages):
        self.calls.append(list(translations))
        out = []
        for mt in translations:
            i = mt.find("sofa")
            found = (Finding("adequacy", "unsupported", i, i + 4, 0.9, "not supported"),) if i >= 0 else ()
            out.append(QEResult(0.0, self.p_fix.get(mt, 0.5), 10.0, 2.0, 0.1, "Romanian", "fake", found))
        return out


def test_a_unit_with_a_source_scores_its_qe_and_the_detectors_add():
    src, mt = zip(*PAIRS)
    qe = FakeQE({mt[0]: 0.1, mt[1]: 0.7, mt[2]: 0.3, mt[3]: 0.2})
    scorer = garble.Scorer(model=False, qe=qe)
    res = scorer.score_units(list(mt), sources=list(src), source_lang="ro")
    scores = [u.score for u in res.units]
    assert scores[0] == pytest.approx(0.1) and scores[2] == pytest.approx(0.3)
    assert [u.qe.p_fix for u in res.units] == [0.1, 0.7, 0.3, 0.2]
    sofa = [f for f in res.units[1].findings if f.detector == "adequacy"]
    assert [res.text[f.start : f.end] for f in sofa] == ["sofa"]  # document offsets
    assert scores[1] == pytest.approx(0.7)  # adequacy is the QE's own evidence: it adds nothing
    # a detector finding raises the score above the QE's own estimate
    noisy = scorer.score_units(["The the cat sleeps on the the sofa sofa."], sources=[src[1]], source_lang="ro")
    assert noisy.units[0].findings and noisy.units[0].score > 0.5
    assert res.units[0].to_dict()["qe"]["p_fix"] == 0.1
    qe.detector_scale = 0.1  # the packaged card's share: the detectors add a tenth of their weight
    damped = scorer.score_units(["The the cat sleeps on the the sofa sofa."], sources=[src[1]], source_lang="ro")
    assert 0.5 < damped.units[0].score < noisy.units[0].score


def test_without_a_usable_source_the_score_is_source_free_with_one_warning():
    src, mt = zip(*PAIRS)
    qe = FakeQE({})
    scorer = garble.Scorer(model=False, qe=qe)
    plain = garble.Scorer(model=False, qe=False).score_units(list(mt))
    for lang, sources in (("en", list(src)), ("xx", list(src))):
        with pytest.warns(GarbleWarning, match="quality estimation skipped") as w:
            res = scorer.score_units(list(mt), sources=sources, source_lang=lang)
        assert len(w) == 1
        assert [u.score for u in res.units] == [u.score for u in plain.units]
        assert all(u.qe is None for u in res.units)
    with pytest.warns(GarbleWarning, match="1 unit"):
        res = scorer.score_units(list(mt), sources=[src[0], "  ", src[2], src[3]], source_lang="ro")
    assert [u.qe is None for u in res.units] == [False, True, False, False]
    assert len(res.units) == len(mt)  # nothing dropped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scorer.score_units(list(mt)).units[0].qe is None  # no sources: no QE, no warning


def test_score_segments_estimates_the_batch_in_one_call():
    src, mt = zip(*PAIRS)
    qe = FakeQE({mt[1]: 0.9})
    out = garble.Scorer(model=False, qe=qe).score_segments(list(mt), list(src), source_lang="ro")
    assert len(qe.calls) == 1 and sorted(qe.calls[0]) == sorted(mt)
    assert out[1].rank == 1 and out[1].qe.p_fix == 0.9


class ReadingLM:
    """A fluency LM that records the texts it reads (per-word surprisals as test_corpus.FakeLM)."""

    name = "reading"

    def __init__(self):
        from test_corpus import FakeLM

        self.fake, self.texts = FakeLM(), []

    def score(self, texts, contexts=None):
        self.texts.extend(texts)
        return self.fake.score(texts, contexts)


def test_a_unit_qe_scores_is_not_read_by_the_fluency_lm():
    """QE-scored units' scores do not read the fluency LM, so it is not run on them; a document with one unit QE
    cannot score (empty source) is read whole, as without sources."""
    src, mt = zip(*PAIRS)
    lm = ReadingLM()
    scorer = garble.Scorer(model=lm, detectors=["numbers"], qe=FakeQE({}))
    res = scorer.score_units(list(mt), sources=list(src), source_lang="ro")
    assert lm.texts == [] and all(u.qe is not None and u.lm is None for u in res.units)
    segs = scorer.score_segments(list(mt), list(src), source_lang="ro")
    assert lm.texts == [] and all(u.lm is None for u in segs)
    with pytest.warns(GarbleWarning, match="1 unit"):
        mixed = scorer.score_units(list(mt), sources=[src[0], "  ", src[2], src[3]], source_lang="ro")
    assert set(lm.texts) == set(mt) and all(u.lm is not None for u in mixed.units)
    lm.texts.clear()
    with pytest.warns(GarbleWarning, match="quality estimation skipped"):
        english = scorer.score_segments(list(mt), list(src), source_lang="en")
    assert set(lm.texts) == set(mt) and all(u.qe is None and u.lm is not None for u in english)


def test_the_qe_model_loads_once_per_scorer_and_reads_only_what_qe_does_not_score(tmp_path, monkeypatch):
    """The corpus driver works through copies of the Scorer, a chunk at a time: the QE model still loads once,
    and the fluency LM reads only the record without a source."""
    from test_corpus import lines_of, write_jsonl

    import garble.qe.estimator as est
    from garble.corpus import score_corpus

    made = []
    monkeypatch.setattr(est, "available", lambda: True)
    monkeypatch.setattr(est, "QualityEstimator", lambda spec=None, device="auto": made.append(spec) or FakeQE({}))
    lm = ReadingLM()
    scorer = garble.Scorer(model=lm, detectors=["numbers"])
    rows = [{"text": mt, "src": src, "doc": f"d{i // 4}"} for i, (src, mt) in enumerate(PAIRS * 3)]
    rows.append({"text": "No source came with this one.", "doc": "alone"})
    write_jsonl(tmp_path / "p.jsonl", rows)
    for doc_field in (None, "doc"):
        out = tmp_path / f"o{doc_field}.jsonl"
        score_corpus([tmp_path / "p.jsonl"], out, scorer, source_field="src", source_lang="ro", batch_size=4,
                     doc_field=doc_field, progress=False)  # fmt: skip
        recs = lines_of(out)
        assert all(r["qe"] is not None and r["lm"] is None for r in recs[:-1])
        assert recs[-1]["qe"] is None and recs[-1]["lm"] is not None
        assert lm.texts == ["No source came with this one."]
        lm.texts.clear()
    assert made == [None]


def test_no_lm_means_no_qe():
    scorer = garble.Scorer(model=False)
    assert scorer._estimator() is None


def test_da_files_are_read_and_bad_lines_named(tmp_path):
    from garble.eval.mlqe import read_da

    good = tmp_path / "d.tsv"
    good.write_text("index\toriginal\ttranslation\tz_mean\tmodel_scores\n0\tSursa\tThe source\t0.5\t-0.2\n")
    rows = read_da(good)
    assert rows[0].source == "Sursa" and rows[0].z_mean == 0.5 and rows[0].model_scores == -0.2
    bad = tmp_path / "b.tsv"
    bad.write_text("original\ttranslation\tz_mean\na\tb\t0.1\nc\td\tlots\n")
    with pytest.raises(InputError, match=r"b\.tsv:3: z_mean"):
        read_da(bad)
    (tmp_path / "m.tsv").write_text("original\ttranslation\nx\ty\n")
    with pytest.raises(InputError, match=r"m\.tsv:1: missing column\(s\) z_mean"):
        read_da(tmp_path / "m.tsv")


def test_the_packaged_heads_are_whole_and_say_what_they_are():
    """The shipped heads load, fit the packaged reader's width, and their cards name the LM, the languages, the
    settings and the p_fix calibration; the transfer head does not weigh the source tokens' pooled states."""
    from garble.qe.head import packaged

    sentence, transfer, words = packaged("qe_sentence.npz"), packaged("qe_transfer.npz"), packaged("qe_words.npz")
    width = len(AGGREGATES) + 2 * 3 * 640  # Gemma 3 270M: layers 6, 12, 18 over the MT, then over the source
    assert len(sentence.coef) == len(transfer.coef) == width
    for head in (sentence, transfer):
        assert head.card["lm"] == "gemma-3-270m" and {"bias", "scale"} <= set(head.card["p_fix"])
        assert head.card["settings"]["alpha"] > 0
    assert sentence.card["languages"] == ["Chinese", "Estonian", "Romanian", "Russian"]  # Chinese: TED train talks
    assert sentence.card["fitted_on"]["zh-en"] > 0 and "zh-en" not in transfer.card["fitted_on"]
    assert sentence.card["synthetic"]["delta_sd"] > 0 and "synthetic" not in transfer.card
    assert not np.any(transfer.coef[len(AGGREGATES) + 3 * 640 :]) and np.any(transfer.coef[len(AGGREGATES) :])
    assert transfer.offset("Romanian") == 0.0 and "detector_scale" in sentence.card
    assert words.kind == "logistic"
