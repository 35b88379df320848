"""The LM scorer: standard HF loading, batching invariance, truncation, and the signal itself."""

import csv
import random

import pytest

from garble.errors import ModelError
from garble.lm import LanguageModel, resolve_model

pytestmark = pytest.mark.lm


def test_any_hf_model_by_path_with_standard_loading(tiny_model_dir):
    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", native=False, tagger=False)
    assert not lm.native
    texts = ["A short one.", "A somewhat longer sentence with several more words in it.", "Mid length text here."]
    out = lm.score(texts)
    for t, s in zip(texts, out):
        assert s.n_tokens > 0 and len(s.offsets) == s.n_tokens
        assert all(x >= 0 for x in s.surprisals)
        assert "".join(t[a:b] for a, b in s.offsets) == t  # offsets tile the text
    # result of one text does not depend on its batch companions or order
    alone = lm.score([texts[1]])[0]
    assert alone.surprisals == pytest.approx(out[1].surprisals, abs=1e-4)
    again = lm.score(texts[::-1])[::-1]
    for a, b in zip(out, again):
        assert a.surprisals == pytest.approx(b.surprisals, abs=1e-4)


def _same_streams(a, b, tol):
    import numpy as np

    texts = [
        "A short one.",
        "Ein Satz, with some English after it, and numbers: 3.5 %.",
        "word " * 300,
    ]  # the last: windows
    for x, y in zip(a.score_stream(texts, keep_hidden=True), b.score_stream(texts, keep_hidden=True)):
        assert x.offsets == y.offsets
        assert np.abs(np.asarray(x.surprisal) - np.asarray(y.surprisal)).max() <= tol
        assert np.abs(np.asarray(x.entropy) - np.asarray(y.entropy)).max() <= tol
        assert np.abs(x.hidden - y.hidden).max() <= tol
        assert abs(x.end_surprisal - y.end_surprisal) <= tol


def test_native_llama_equals_transformers(tiny_model_dir):
    native = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", window=64, overlap=16, tagger=False)
    hf = LanguageModel(
        str(tiny_model_dir), device="cpu", dtype="float32", window=64, overlap=16, native=False, tagger=False
    )
    assert native.native and not hf.native
    assert type(native.model).__module__ == "garble.lm.llama"
    _same_streams(native, hf, 1e-5)
    texts = ["A short one.", "Mid length text here, with a comma."]
    for x, y in zip(native.score(texts, ["Context first.", None]), hf.score(texts, ["Context first.", None])):
        assert x.offsets == y.offsets and x.surprisals == pytest.approx(y.surprisals, abs=1e-5)


@pytest.mark.parametrize("native", [True, False])
def test_score_stream_tells_its_progress_and_reads_the_same(tiny_model_dir, native):
    """``progress(done, total)``: (0, total) first, then ever more tokens, within batches too, and (total, total)
    last, where total is the tokens of the windows; the readings do not change, and the layer hooks go."""
    import numpy as np

    lm = LanguageModel(
        str(tiny_model_dir),
        device="cpu",
        dtype="float32",
        window=64,
        overlap=16,
        batch_tokens=256,
        head_rows=32,
        tagger=False,
        native=native,
    )
    text = " ".join(["The committee met on Monday and agreed on the budget for the coming year."] * 30)
    quiet = lm.score_stream([text], keep_hidden=True)[0]
    calls: list[tuple[int, int]] = []
    lm.progress = lambda done, total: calls.append((done, total))
    try:
        told = lm.score_stream([text], keep_hidden=True)[0]
    finally:
        lm.progress = None
    total = sum(len(w[1]) for w in lm._windows(lm._encode([text])))
    batches = -(-len(lm._windows(lm._encode([text]))) // 4)  # 4 windows of 64 tokens a batch
    assert batches > 2
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert {t for _, t in calls} == {total}
    done = [d for d, _ in calls]
    assert done == sorted(set(done))  # never back, never the same twice
    assert len(calls) > 2 * batches  # ticks inside each batch (layers, output-layer blocks)
    for a, b in ((quiet.surprisal, told.surprisal), (quiet.entropy, told.entropy), (quiet.hidden, told.hidden)):
        assert np.array_equal(a, b)
    assert not any(layer._forward_hooks for layer in lm.model.get_decoder().layers)


def test_the_default_model_loads_natively_and_reads_as_transformers_does(smollm):
    assert smollm.native
    native = LanguageModel(dtype="float32")
    hf = LanguageModel(dtype="float32", native=False)
    _same_streams(native, hf, 1e-4)


def test_a_llama_the_native_path_does_not_cover_loads_with_transformers(tiny_model_dir, tmp_path):
    import json
    import shutil

    d = tmp_path / "scaled-rope"
    shutil.copytree(tiny_model_dir, d)
    cfg = json.loads((d / "config.json").read_text())
    cfg.pop("rope_parameters", None)
    cfg["rope_scaling"] = {"rope_type": "linear", "factor": 2.0}
    cfg["rope_theta"] = 10000.0
    (d / "config.json").write_text(json.dumps(cfg))
    lm = LanguageModel(str(d), device="cpu", dtype="float32", tagger=False)
    assert not lm.native
    assert lm.score(["A short one."])[0].n_tokens > 0


def test_small_batches_give_the_same_scores(tiny_model_dir):
    texts = [f"Sentence number {i} has {'many ' * i}words." for i in range(12)]
    big = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=False).score(texts)
    small = LanguageModel(
        str(tiny_model_dir), device="cpu", dtype="float32", batch_tokens=64, max_batch=2, tagger=False
    ).score(texts)
    for a, b in zip(big, small):
        assert a.surprisals == pytest.approx(b.surprisals, abs=1e-4)


def test_long_text_is_truncated_and_marked(tiny_model_dir):
    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", max_tokens=16, tagger=False)
    s = lm.score(["word " * 100])[0]
    assert s.truncated and s.n_tokens == 16
    assert not lm.score(["short"])[0].truncated


def test_context_scores_only_the_text_tokens(tiny_model_dir):
    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=False)
    text = "The second sentence."
    with_ctx = lm.score([text], ["The first sentence came before it."])[0]
    assert "".join(text[a:b] for a, b in with_ctx.offsets).strip() == text


def _close(a, b):
    assert a.offsets == b.offsets and a.truncated == b.truncated
    assert a.surprisals == pytest.approx(b.surprisals, abs=1e-4)


def test_score_pairs_reads_the_context_alone_off_the_same_pass(tiny_model_dir):
    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", max_tokens=16, tagger=False)
    texts = ["The second sentence.", "Then a third one.", "And the last."]
    contexts = ["The first sentence came before it.", None, "word " * 40]  # the last context is cut (> 8 tokens)
    after, ctx_alone = lm.score_pairs(texts, contexts)
    for a, b in zip(after, lm.score(texts, contexts)):
        _close(a, b)
    _close(ctx_alone[0], lm.score([contexts[0]])[0])
    assert ctx_alone[1] is None and ctx_alone[2] is None


class _TwoCalls:
    """The same model without score_pairs: score_in_context falls back to two score() calls."""

    def __init__(self, lm):
        self.lm = lm
        self.max_tokens = lm.max_tokens

    def score(self, texts, contexts=None):
        return self.lm.score(texts, contexts)


class _PairsOnly(_TwoCalls):
    """The same model as a two-pass LM with score_pairs (no score_stream): the legacy path of LMs like llama.cpp."""

    def score_pairs(self, texts, contexts):
        return self.lm.score_pairs(texts, contexts)


def _count_positions(lm):
    """Real (unpadded) token positions the LM runs over, batch by batch."""
    seen = []
    surprisals = lm._surprisals

    def counting(ids, mask):
        seen.append(int(mask.sum()))
        return surprisals(ids, mask)

    lm._surprisals = counting
    return seen


def test_score_in_context_equals_two_passes_with_a_third_fewer_tokens(tiny_model_dir):
    from garble.lm import score_in_context

    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=False)
    texts = [f"Unit {i} of the document says {'something ' * (i % 4)}here." for i in range(9)] + [
        "A long last one " * 12
    ]
    seen = _count_positions(lm)
    alone, ctx = score_in_context(lm, texts)
    one_pass = sum(seen)
    seen.clear()
    alone2, ctx2 = score_in_context(_TwoCalls(lm), texts)
    two_passes = sum(seen)
    for a, b in zip(alone + ctx, alone2 + ctx2):
        _close(a, b)
    assert ctx[0] is alone[0]
    assert one_pass < 0.75 * two_passes, (one_pass, two_passes)
    assert score_in_context(lm, []) == ([], [])
    (a,), (c,) = score_in_context(lm, ["Only one."])
    _close(a, c)


def test_a_scorer_gives_the_same_features_either_way(tiny_model_dir):
    """Two-pass LMs: score_pairs (one pass for alone and after-context) gives what two score() calls give."""
    import garble

    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=False)
    text = "First sentence here. The second one follows. A third, longer sentence ends the paragraph."
    one = garble.Scorer(model=_PairsOnly(lm), detectors=[]).score_document(text)
    two = garble.Scorer(model=_TwoCalls(lm), detectors=[]).score_document(text)
    for u, v in zip(one.units, two.units):
        assert u.lm.context_mean_surprisal == pytest.approx(v.lm.context_mean_surprisal, abs=1e-4)
        assert u.lm.mean_surprisal == pytest.approx(v.lm.mean_surprisal, abs=1e-4)
        assert u.score == pytest.approx(v.score, abs=1e-4)


def test_blockwise_head_equals_the_full_logits(tiny_model_dir):
    texts = [f"Sentence number {i} has {'many ' * i}words." for i in range(12)]
    rows = LanguageModel(
        str(tiny_model_dir), device="cpu", dtype="float32", head_rows=7, tagger=False
    )  # blocks that cut through rows
    full = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=False)
    full._use_rows = False
    for a, b in zip(rows.score(texts), full.score(texts)):
        _close(a, b)
    assert rows._use_rows is True


def test_a_model_that_reshapes_its_logits_keeps_the_full_path(tiny_model_dir):
    """A model whose logits are not decoder x head (Cohere's logit_scale, Gemma-2's soft-capping)."""
    text = ["A sentence to score, with a few more words."]
    plain = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", native=False, tagger=False).score(text)[0]
    # a model transformers loads
    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", native=False, tagger=False)
    forward = lm.model.forward

    def scaled(*a, **k):
        out = forward(*a, **k)
        out.logits = 30.0 * out.logits
        return out

    lm.model.forward = scaled
    got = lm.score(text)[0]
    assert lm._use_rows is False  # the probe saw the head alone disagree with the logits
    assert got.offsets == plain.offsets
    assert max(abs(a - b) for a, b in zip(got.surprisals, plain.surprisals)) > 0.01  # the model's own logits were used


def test_unknown_model_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="cannot load model"):
        LanguageModel(str(tmp_path / "no-such-model"), device="cpu")
    with pytest.raises(ModelError, match="no such GGUF"):
        resolve_model(str(tmp_path / "x.gguf"))


def _clean_sentences(n):
    from conftest import EVAL

    path = EVAL / "mqm_ted_zhen.tsv"
    if not path.is_file():
        pytest.skip("../shared/eval not found")
    with open(path, encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if r["is_ref"] == "1"]
    texts = sorted({r["text"] for r in rows if 8 <= len(r["text"].split()) <= 30})
    random.Random(7).shuffle(texts)
    return texts[:n]


def test_shuffled_words_outscore_originals(smollm):
    """The LM signal: word-shuffled sentences are more surprising for >= 95% of 100 sentences."""
    originals = _clean_sentences(100)
    assert len(originals) == 100
    rng = random.Random(11)
    shuffled = []
    for t in originals:
        words = t.split()
        for _ in range(10):
            rng.shuffle(words)
            if " ".join(words) != t:
                break
        shuffled.append(" ".join(words))
    scores = smollm.score(originals + shuffled)
    mean = [sum(s.surprisals) / s.n_tokens for s in scores]
    wins = sum(mean[100 + i] > mean[i] for i in range(100))
    assert wins >= 95, f"shuffled outscored the original for only {wins}/100"


def test_auto_dtype_follows_the_cpu_and_bf16_stays_close_to_fp32(tiny_model_dir, monkeypatch):
    import torch

    from garble import lm as lm_mod
    from garble.lm import loading  # where _pick_dtype looks _cpu_has_fast_bf16 up

    monkeypatch.setattr(loading, "_cpu_has_fast_bf16", lambda: True)
    assert lm_mod._pick_dtype("auto", "cpu") == torch.bfloat16
    monkeypatch.setattr(loading, "_cpu_has_fast_bf16", lambda: False)
    assert lm_mod._pick_dtype("auto", "cpu") == torch.float32
    assert lm_mod._pick_dtype("float32", "cpu") == torch.float32
    texts = [f"Sentence number {i} has {'many ' * i}words." for i in range(6)]
    fp32 = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=False).score(texts)
    bf16 = LanguageModel(str(tiny_model_dir), device="cpu", dtype="bfloat16", tagger=False).score(texts)
    for a, b in zip(fp32, bf16):
        assert a.offsets == b.offsets
        # bf16 keeps 8 mantissa bits: surprisals of ~10 nats agree to a few hundredths
        assert b.surprisals == pytest.approx(a.surprisals, abs=0.1)


# -- the one-pass token stream (LanguageModel.score_stream) ------------------------------


def _full_reading(lm, text):
    """Surprisal, entropy and rank of every token of ``text`` after BOS, from the model's own full logits."""
    import torch

    ids = lm.tokenizer(text, add_special_tokens=False)["input_ids"] + [lm.end_id]
    x = torch.tensor([[lm.prefix_id] + ids])
    with torch.inference_mode():
        logp = torch.log_softmax(lm.model(input_ids=x).logits[0, :-1].float(), -1)
    tgt = x[0, 1:]
    s = -logp.gather(-1, tgt[:, None])[:, 0]
    e = -(logp.exp() * logp).sum(-1)
    r = (logp > logp.gather(-1, tgt[:, None])).sum(-1)
    return s.numpy(), e.numpy(), r.numpy()


def test_stream_readings_equal_the_models_own_logits(tiny_model_dir):
    import numpy as np

    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=False)
    text = "The first sentence.\nThe second one follows it."
    st = lm.score_stream([text], keep_hidden=True)[0]
    s, e, r = _full_reading(lm, text)
    assert np.allclose(st.surprisal, s[:-1], atol=1e-4) and st.end_surprisal == pytest.approx(float(s[-1]), abs=1e-4)
    assert np.allclose(st.entropy, e[:-1], atol=1e-4) and st.rank.tolist() == r[:-1].tolist()
    assert "".join(text[a:b] for a, b in st.offsets) == text
    assert st.hidden.shape == (st.n_tokens, lm.model.config.hidden_size)
    assert st.p_error is None  # no head for this model


def test_stream_windows_keep_every_token_and_match_one_window_where_context_fits(tiny_model_dir):
    import numpy as np

    text = " ".join(f"word{i}" for i in range(150))
    one = LanguageModel(
        str(tiny_model_dir), device="cpu", dtype="float32", tagger=False, window=2048, overlap=64
    ).score_stream([text])[0]
    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=False, window=64, overlap=16)
    win = lm.score_stream([text])[0]
    assert win.offsets == one.offsets and len(win.surprisal) == len(one.surprisal) > 64
    # the first window sees the same context as the whole text
    assert np.allclose(win.surprisal[:63], one.surprisal[:63], atol=1e-4)
    assert np.isfinite(win.surprisal).all() and (win.surprisal > 0).all()
    with pytest.raises(Exception, match="overlap"):
        LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=False, window=64, overlap=40)


def test_stream_results_do_not_depend_on_batch_companions(tiny_model_dir):
    import numpy as np

    texts = [f"Sentence {i} has {'many ' * i}words." for i in range(10)]
    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=False, batch_tokens=64, max_batch=2)
    a = lm.score_stream(texts)
    b = lm.score_stream(texts[::-1])[::-1]
    c = [lm.score_stream([t])[0] for t in texts]
    for x, y, z in zip(a, b, c):
        assert np.allclose(x.surprisal, y.surprisal, atol=1e-4) and np.allclose(x.surprisal, z.surprisal, atol=1e-4)
        assert x.end_surprisal == pytest.approx(z.end_surprisal, abs=1e-4)


def test_a_head_for_the_model_gives_token_error_probabilities_and_findings(tiny_model_dir):
    import numpy as np

    from garble import Scorer
    from garble.tagger import SCALAR_FEATURES, Tagger

    d = 32  # the tiny model's hidden size
    n = len(SCALAR_FEATURES) + d
    w = np.zeros((n, 1), np.float32)
    w[0, 0] = 1.0  # p rises with surprisal
    head = Tagger(
        np.zeros(n, np.float32), np.ones(n, np.float32), [(w, np.array([-8.0], np.float32))], {"finding_threshold": 0.5}
    )
    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=head)
    st = lm.score_stream(["A plain sentence here."])[0]
    assert st.p_error is not None and len(st.p_error) == st.n_tokens
    assert np.allclose(st.p_error, 1 / (1 + np.exp(-(st.surprisal - 8.0))), atol=1e-4)
    res = Scorer(model=lm).score_units(["A plain sentence here.", "Another one follows."])
    u = res.units[0]
    assert u.lm.error_p_max == pytest.approx(float(st.p_error.max()), abs=1e-4)
    tagged = [f for r in res.units for f in r.findings if f.detector == "tagger"]
    assert tagged, "a random tiny model is surprised everywhere: the head must flag spans"
    for f in tagged:
        assert f.weight >= 0.5 and res.text[f.start : f.end].strip() == res.text[f.start : f.end]
        assert not res.text[f.start - 1 : f.start].isalnum() if f.start else True  # whole words


def test_score_segments_batches_the_lm_and_equals_one_document_per_segment(tiny_model_dir):
    from garble import Scorer

    lm = LanguageModel(str(tiny_model_dir), device="cpu", dtype="float32", tagger=False)
    calls = []
    real = lm.score_stream

    def spy(texts, keep_hidden=False):
        calls.append(len(texts))
        return real(texts, keep_hidden=keep_hidden)

    lm.score_stream = spy
    s = Scorer(model=lm)
    texts = ["One segment here.", "Another, longer segment with more words.", "One segment here.", "Short."]
    got = s.score_segments(texts)
    assert calls == [3]  # one call, each distinct segment once
    for t, g in zip(texts, got):
        want = s.score_units([t]).units[0]
        assert g.score == pytest.approx(want.score, abs=1e-6) and g.lm.mean_surprisal == pytest.approx(
            want.lm.mean_surprisal, abs=1e-5
        )


def test_converted_weights_are_kept_in_garbles_own_cache_only(tiny_model_dir, tmp_path):
    import shutil

    import torch

    from garble.lm import llama

    d = tmp_path / "model"
    shutil.copytree(tiny_model_dir, d)
    first, _ = llama.load(str(d), torch.bfloat16, cache=True)
    assert (d / "model.bfloat16.safetensors").is_file()
    again, _ = llama.load(str(d), torch.bfloat16, cache=True)  # from the copy
    for (n, a), (_, b) in zip(first.state_dict().items(), again.state_dict().items()):
        assert a.dtype == torch.bfloat16 and torch.equal(a, b), n
    assert again.lm_head.weight is again.model.embed_tokens.weight or not again.config.tie_word_embeddings
    llama.load(str(d), torch.float32, cache=True)  # the checkpoint's own dtype: nothing to keep
    assert not (d / "model.float32.safetensors").exists()
    other = tmp_path / "users-model"
    shutil.copytree(tiny_model_dir, other)
    llama.load(str(other), torch.bfloat16)  # a user's directory is never written to
    assert sorted(p.name for p in other.iterdir()) == sorted(p.name for p in tiny_model_dir.iterdir())
