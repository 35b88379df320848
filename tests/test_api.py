import json
import subprocess
import sys

import pytest

import garble
from garble.detectors import Detector, all_detectors, registry


def test_detectors_alone_rank_a_repetition_first():
    s = garble.Scorer(model=False)
    r = s.score_document(
        "The weather was calm all day. It was fine and it was fine, said the pilot.\n\nWe landed at noon."
    )
    top = r.ranked()[0]
    assert "It was fine and it was fine" in top.text
    assert top.rank == 1 and top.findings
    assert all(0.0 <= u.score <= 1.0 for u in r)
    assert sorted(u.rank for u in r) == list(range(1, len(r) + 1))
    for f in r.findings:  # finding offsets are document offsets inside their unit
        u = next(u for u in r if u.start <= f.start < u.end)
        assert r.text[f.start : f.end] in u.text


def test_score_units_keeps_units_and_offsets():
    s = garble.Scorer(model=False)
    units = ["First line is clean.", "Second line has the the odd word.", "  Padded line.  "]
    r = s.score_units(units)
    assert [u.text for u in r] == units
    for u in r:
        assert r.text[u.start : u.end] == u.text
    assert r.ranked()[0].text == "Second line has the the odd word."


def test_bad_unit_type_is_a_usage_error():
    with pytest.raises(garble.UsageError):
        garble.Scorer(model=False).score_units(["ok", 3])


def test_no_lm_scorer_never_imports_torch():
    code = (
        "import sys, garble; garble.Scorer(model=False).score_document('A b c. The the end.'); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert out.stderr == ""  # no prints, no warnings


def test_a_detector_passed_explicitly_runs_without_registering():
    class Shouting(Detector):
        """All-caps words (test only): "WHY".

        >>> "A LOUD line."
        """

        name = "test_shouting"

        def detect(self, doc):
            for t in doc.tokens:
                if len(t.text) > 3 and t.text.isupper():
                    yield self.finding("caps", t.start, t.end, 1.0, "shouting")

    assert "test_shouting" not in registry()  # only @register adds a detector to the default set
    s = garble.Scorer(model=False, detectors=[Shouting()])
    r = s.score_document("A quiet line. A LOUD line.")
    assert r.ranked()[0].text == "A LOUD line." and r.ranked()[0].score > r.ranked()[1].score


def test_all_detectors_filters_and_rejects_unknown():
    assert [d.name for d in all_detectors(only=["repetition"])] == ["repetition"]
    assert "repetition" not in [d.name for d in all_detectors(exclude=["repetition"])]
    with pytest.raises(ValueError, match="unknown detector"):
        all_detectors(only=["nope"])


def test_jsonl_record_schema():
    r = garble.Scorer(model=False).score_document("Fine. The the cat.", doc_id="d1")
    rec = r.ranked()[0].to_dict("d1")
    assert set(rec) == {"doc", "unit", "start", "end", "text", "score", "rank", "lm", "qe", "findings"}
    assert rec["qe"] is None  # no source: no quality estimate
    assert rec["findings"][0].keys() >= {"detector", "start", "end", "weight", "message"}
    json.dumps(rec)


def test_unit_result_index_is_the_jsonl_unit_field():
    r = garble.Scorer(model=False).score_document("Fine. The the cat. Another one here.", doc_id="d1")
    for u in r.ranked():
        rec = u.to_dict("d1")
        assert isinstance(rec["unit"], int) and rec["unit"] == u.index == u.unit.index
        assert r.units[u.index] is u  # units are in document order: index is the position


# -- the LM protocol (garble.lm.LM, PairLM, StreamLM) ----------------------------------------


def test_every_lm_class_has_the_methods_of_its_protocol():
    from garble.corpus.scoring import _PrefetchedLM
    from garble.eval.cache import CachedLM
    from garble.lm import LanguageModel, is_lm, reads_streams, scores_pairs
    from garble.lm.backends import LlamaCppModel
    from garble.readings import PrefetchedStreams

    assert all(is_lm(c) for c in (LanguageModel, LlamaCppModel, CachedLM, PrefetchedStreams, _PrefetchedLM))
    assert reads_streams(LanguageModel) and reads_streams(CachedLM) and reads_streams(PrefetchedStreams)
    assert scores_pairs(LanguageModel) and not scores_pairs(LlamaCppModel) and not reads_streams(LlamaCppModel)
    assert not scores_pairs(_PrefetchedLM)  # score_pairs = None: answers everything through score()
    assert not is_lm(None) and not reads_streams(None) and not is_lm("a model name")


class _StreamStub:
    """A one-pass LM that is no garble class: the Scorer takes it as it is and reads streams from it."""

    name = "stub"

    def __init__(self):
        self.calls = []

    def score(self, texts, contexts=None):
        raise AssertionError("a StreamLM is read in one pass, not through score()")

    def score_stream(self, texts, keep_hidden=False):
        self.calls.append(list(texts))
        return [_stream(t) for t in texts]


def _stream(text):
    import numpy as np

    from garble.lm import TokenStream

    offs = tuple((i, i + 1) for i in range(len(text)))
    n = len(offs)
    return TokenStream(offs, np.full(n, 2.0, np.float32), np.ones(n, np.float32), np.zeros(n, np.int64), 1.0)


def test_scorer_takes_an_lm_object_and_reads_a_stream_lm_in_one_pass():
    lm = _StreamStub()
    s = garble.Scorer(model=lm)
    assert s.lm is lm
    r = s.score_document("One short line. Another one here.")
    assert lm.calls == [["One short line. Another one here."]]  # the document, once
    assert all(u.lm is not None and u.lm.mean_surprisal == pytest.approx(2.0) for u in r.units)
    with pytest.raises(garble.UsageError):
        garble.Scorer(model=object())  # no score(): not an LM
