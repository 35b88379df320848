"""garble.lm.gemma: the plain-torch Gemma 3 decoder computes what transformers' Gemma3ForCausalLM computes."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def pair(tiny_gemma_dir):
    """The tiny random Gemma 3 (sliding window 8, so batches wider than it use the band mask), both ways."""
    from transformers import AutoModelForCausalLM

    from garble.lm import gemma

    native, tok = gemma.load(str(tiny_gemma_dir), torch.float32)
    hf = AutoModelForCausalLM.from_pretrained(tiny_gemma_dir, dtype=torch.float32).eval()
    return native, hf, tok


def _batch(tok, texts):
    """Right-padded ids and mask, as garble's readers build them."""
    seqs = [[tok.bos_token_id, *tok(t, add_special_tokens=False)["input_ids"]] for t in texts]
    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), tok.pad_token_id)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids, mask, [len(s) for s in seqs]


TEXTS = [
    "Romanian: Pisica doarme pe canapea.\nEnglish: The cat sleeps on the sofa.",
    "Hi.",
    "Estonian: Ta läks koju ja jäi seal kogu päevaks, sest vihma sadas.\nEnglish: He went home and stayed all day.",
]


def test_the_config_is_covered_and_the_tokenizer_agrees(pair, tiny_gemma_dir):
    native, _hf, tok = pair
    from transformers import AutoTokenizer

    from garble.lm import gemma

    assert gemma.supported(json.loads((tiny_gemma_dir / "config.json").read_text()))
    assert type(native.model).__module__ == "garble.lm.gemma"
    ref = AutoTokenizer.from_pretrained(tiny_gemma_dir)
    for t in TEXTS + [" ünïcödé — 中文 “quotes” \t tabs  "]:
        a = tok(t, add_special_tokens=False, return_offsets_mapping=True)
        b = ref(t, add_special_tokens=False, return_offsets_mapping=True)
        assert a["input_ids"] == b["input_ids"]
        assert [tuple(x) for x in a["offset_mapping"]] == [tuple(x) for x in b["offset_mapping"]]
    assert (tok.bos_token_id, tok.pad_token_id) == (ref.bos_token_id, ref.pad_token_id)


def test_hidden_states_and_logits_equal_transformers_in_float32(pair):
    native, hf, tok = pair
    ids, mask, lengths = _batch(tok, TEXTS)
    assert ids.shape[1] > native.config.sliding_window  # the band mask is exercised
    with torch.inference_mode():
        a = native(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        b = hf(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    assert len(a.hidden_states) == len(b.hidden_states) == native.config.num_hidden_layers + 1
    for row, n in enumerate(lengths):  # real positions only: padding is never read
        for x, y in zip(a.hidden_states, b.hidden_states):
            torch.testing.assert_close(x[row, :n], y[row, :n], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(a.logits[row, :n], b.logits[row, :n], rtol=1e-5, atol=1e-5)


def test_a_sliding_layer_does_not_see_past_its_window(pair):
    """Changing a token further back than the window changes the full layers' output, not the first (sliding)
    layer's: the band mask is applied."""
    native, _hf, tok = pair
    w = native.config.sliding_window
    assert native.model.layers[0].sliding
    ids = torch.tensor([[tok.bos_token_id] + list(range(300, 300 + 3 * w))])
    other = ids.clone()
    other[0, 1] = 999
    with torch.inference_mode():
        a = native.model(input_ids=ids, output_hidden_states=True).hidden_states[1]
        b = native.model(input_ids=other, output_hidden_states=True).hidden_states[1]
    far = 1 + w  # position 1 is out of this position's window
    torch.testing.assert_close(a[0, far:], b[0, far:])
    assert not torch.allclose(a[0, 1:far], b[0, 1:far])


def test_read_rows_reads_the_file_as_indexing_would(pair, tiny_gemma_dir):
    from garble.lm.gemma import read_rows

    native, _hf, _tok = pair
    weight = native.get_output_embeddings().weight
    ids = np.array([5, 0, weight.shape[0] - 1, 77, 5, 1234])
    rows = read_rows(tiny_gemma_dir / "model.safetensors", "model.embed_tokens.weight", ids, chunk_rows=100)
    torch.testing.assert_close(rows.to(weight.dtype), weight[torch.as_tensor(ids)], rtol=0, atol=0)
    assert read_rows(tiny_gemma_dir / "model.safetensors", "no.such.weight", ids) is None


def test_the_reader_reads_the_same_natively_and_with_transformers(tiny_gemma_dir):
    from garble.qe.reader import SourceReader

    kw = dict(device="cpu", dtype="float32", layers=(1, 4), token_layers=(2,), shortlist=np.arange(0, 4000, 3))
    native = SourceReader(str(tiny_gemma_dir), **kw)
    hf = SourceReader(str(tiny_gemma_dir), native=False, **kw)
    assert native.native and not hf.native
    src = ["Pisica doarme pe canapea.", "", "Am cumpărat trei mere și două pere ieri, dar nu am mâncat niciunul."]
    mt = ["The cat sleeps on the sofa.", "Hello there.", "Yesterday I bought three apples and two pears."]
    for x, y in zip(
        native.read(src, mt, ["ro"] * 3, token_hidden=True), hf.read(src, mt, ["ro"] * 3, token_hidden=True)
    ):
        assert x.offsets == y.offsets
        np.testing.assert_allclose(x.surprisal, y.surprisal, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(x.surprisal_alone, y.surprisal_alone, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(x.pooled, y.pooled, rtol=1e-4, atol=1e-4)
        np.testing.assert_array_equal(x.rank, y.rank)


def test_an_uncovered_config_is_left_to_transformers(tiny_gemma_dir, tmp_path):
    import shutil

    from garble.lm import gemma

    for f in tiny_gemma_dir.iterdir():
        shutil.copy(f, tmp_path / f.name)
    cfg = json.loads((tmp_path / "config.json").read_text())
    cfg["attn_logit_softcapping"] = 50.0
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    assert gemma.load(str(tmp_path), torch.float32) is None
