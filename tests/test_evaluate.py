"""garble.eval, garble.synth and garble eval: fast tests, no language model."""

from __future__ import annotations

import json
import math
import re

import pytest

from garble.errors import InputError
from garble.eval.cache import CachedLM
from garble.eval.data import build_documents, load_segments, read_annotated, read_clean, split_of
from garble.eval.metrics import (
    Labels,
    binned_auc,
    pairwise_accuracy,
    precision_at_k,
    quantile_bins,
    roc_auc,
    top_fraction,
)
from garble.eval.synthetic import synthetic_sources
from garble.eval.tables import evaluation_table
from garble.synth import ERROR_TYPES, corrupt, demonyms, make_pairs

HEADER = "system\tdoc\tseg\tis_ref\traters\tmqm\tmajor\tfluency_major\tcategories\ttext"

# two talks, two MT systems and a reference; seg order in the file is scrambled on purpose
ROWS = [
    ("A", "talk.1", 2, 0, 1, 5.0, 1.0, 1.0, "Fluency/Grammar", "It was fine and it was fine, said the pilot."),
    ("A", "talk.1", 1, 0, 1, 0.0, 0.0, 0.0, "", "The weather was calm all day over the hills."),
    ("A", "talk.1", 3, 0, 1, 0.0, 0.0, 0.0, "", "We landed at noon."),
    ("B", "talk.1", 1, 0, 1, 1.0, 0.0, 0.0, "Fluency/Punctuation", "The weather was calm all day , over the hills."),
    ("B", "talk.1", 2, 0, 1, 0.0, 0.0, 0.0, "", "It was fine, said the pilot."),
    ("B", "talk.1", 3, 0, 1, 10.0, 2.0, 1.0, "Accuracy/Mistranslation|Style/Awkward", "We landed at the the noon."),
    ("ref", "talk.1", 1, 1, 1, 0.0, 0.0, 0.0, "", "The weather was calm all day above the hills."),
    ("ref", "talk.1", 2, 1, 1, 0.0, 0.0, 0.0, "", "All was well, the pilot said."),
    ("ref", "talk.1", 3, 1, 1, 0.0, 0.0, 0.0, "", "We landed at noon in Berlin, the German capital."),
    ("A", "talk.2", 1, 0, 1, 0.0, 0.0, 0.0, "", "Hello there, friends."),
    ("A", "talk.2", 2, 0, 1, 25.0, 5.0, 0.0, "Accuracy/Omission", "Today."),
]


def write_tsv(path, rows=ROWS, header=HEADER):
    lines = [header] + ["\t".join(str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- reading -----------------------------------------------------------------


def test_read_and_rebuild_documents(tmp_path):
    rows = read_annotated(write_tsv(tmp_path / "a.tsv"))
    assert len(rows) == len(ROWS)
    assert rows[0].categories == ("Fluency/Grammar",) and rows[1].categories == ()
    assert rows[0].line == 2 and rows[-1].line == len(ROWS) + 1
    docs = build_documents(rows)
    assert [(d.system, d.doc) for d in docs] == [("A", "talk.1"), ("B", "talk.1"), ("ref", "talk.1"), ("A", "talk.2")]
    assert [r.seg for r in docs[0].rows] == [1, 2, 3]  # seg order, not file order
    assert docs[0].texts[0].startswith("The weather")


@pytest.mark.parametrize(
    "bad, line, words",
    [
        (("A", "talk.1", 1, 0, 1, "x", 0, 0, "", "text"), 3, "mqm"),
        (("A", "talk.1", "one", 0, 1, 0, 0, 0, "", "text"), 3, "seg"),
        (("A", "talk.1", 1, 2, 1, 0, 0, 0, "", "text"), 3, "is_ref"),
        (("A", "talk.1", 1, 0, 1, 0, 0, 0, "text"), 3, "fields"),  # a field missing
        (("A", "talk.1", 1, 0, 1, 0, 0, 0, "", "a\tb"), 3, "fields"),  # a tab inside the text
        (("A", "talk.1", 1, 0, 1, 0, 0, 0, "", "again"), 3, "duplicate"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, bad, line, words):
    good = ("A", "talk.1", 1, 0, 1, 0.0, 0.0, 0.0, "", "A clean line.")
    p = tmp_path / "bad.tsv"
    lines = [HEADER, "\t".join(map(str, good)), "\t".join(map(str, bad))]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_annotated(p)
    assert e.value.line == line
    assert str(e.value).startswith(f"{p}:{line}: ")
    assert words in str(e.value)


def test_quotes_are_not_special(tmp_path):
    p = write_tsv(tmp_path / "q.tsv", [("A", "t", 1, 0, 1, 0, 0, 0, "", '"Quoted, with a tab-free comma" he said "')])
    assert read_annotated(p)[0].text == '"Quoted, with a tab-free comma" he said "'


def test_missing_column_and_missing_file(tmp_path):
    p = tmp_path / "h.tsv"
    p.write_text("system\tdoc\tseg\ttext\nA\tt\t1\thi\n", encoding="utf-8")
    with pytest.raises(InputError, match="mqm"):
        read_annotated(p)
    with pytest.raises(InputError, match="no such file"):
        read_annotated(tmp_path / "nope.tsv")


def test_read_clean(tmp_path):
    p = tmp_path / "c.tsv"
    p.write_text("corpus\tdoc\tseg\ttext\nnews\td1\t2\tSecond.\nnews\td1\t1\tFirst.\n", encoding="utf-8")
    rows = read_clean(p)
    assert [r.seg for r in rows] == [2, 1]
    assert build_documents(rows, key=lambda r: (r.corpus, r.doc))[0].texts == ["First.", "Second."]


def test_split_is_by_talk_and_fixed():
    assert split_of("talk.2") == "test" and split_of("talk.5") == "test"
    assert {split_of(d) for d in ("talk.6", "talk.7", "talk.9")} == {"train"}


# -- metrics on hand-computed examples ------------------------------------------


def test_roc_auc_hand_computed():
    assert roc_auc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert roc_auc([4, 3, 2, 1], [0, 0, 1, 1]) == 0.0
    # positives {2, 4} vs negatives {1, 3}: 2>1, 2<3, 4>1, 4>3 -> 3/4
    assert roc_auc([1, 3, 2, 4], [0, 0, 1, 1]) == 0.75
    # a tie counts one half: pos {2} vs neg {2, 1} -> (0.5 + 1) / 2
    assert roc_auc([2, 2, 1], [1, 0, 0]) == 0.75
    assert math.isnan(roc_auc([1, 2], [1, 1]))


def test_binned_auc_hand_computed():
    # bin 0: pos 1 vs neg 2 -> 0; bin 1: pos {5, 7} vs neg {6} -> 1/2
    scores = [1, 2, 5, 6, 7]
    labels = [1, 0, 1, 0, 1]
    bins = [0, 0, 1, 1, 1]
    assert binned_auc(scores, labels, bins) == pytest.approx(0.25)
    # weighted by pairs: (0 * 1 + 0.5 * 2) / 3
    assert binned_auc(scores, labels, bins, weighted=True) == pytest.approx(1 / 3)
    # a bin with one class is skipped
    assert binned_auc([1, 2, 3], [1, 0, 1], [0, 0, 1]) == 0.0
    # the plain AUC mixes in the between-bin pairs: pos {1, 5, 7} vs neg {2, 6} -> 3/6
    assert roc_auc(scores, labels) == pytest.approx(0.5)


def test_quantile_bins_equal_counts():
    b = quantile_bins(list(range(10)), 5)
    assert list(b) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_pairwise_accuracy_with_ties():
    # group g1: mqm 0, 5, 10 with scores 0.1, 0.3, 0.2 -> pairs (5>0 ok), (10>0 ok), (10>5 wrong) = 2/3
    # group g2: mqm 0, 1 with tied scores -> 0.5; group g3: equal mqm -> no pair
    acc, n = pairwise_accuracy(
        [0.1, 0.3, 0.2, 0.5, 0.5, 0.9, 0.1],
        [0, 5, 10, 0, 1, 3, 3],
        ["g1", "g1", "g1", "g2", "g2", "g3", "g3"],
    )
    assert n == 4
    assert acc == pytest.approx((2 + 0.5) / 4)


def test_precision_at_k_and_top_fraction():
    # doc a: top-2 by score are items 0 (pos) and 2 (neg) -> 0.5; doc b: item 3 (pos), 4 (pos) -> 1
    p = precision_at_k([0.9, 0.1, 0.5, 0.7, 0.6], [1, 1, 0, 1, 1], ["a", "a", "a", "b", "b"], k=2)
    assert p == pytest.approx(0.75)
    assert list(top_fraction([0.1, 0.9, 0.5, 0.9, 0.2], 0.4)) == [False, True, False, True, False]


# -- end to end without an LM --------------------------------------------------


def test_table_without_lm(tmp_path):
    from garble.detectors.repetition import Repetition
    from garble.scorer import Weights

    path = write_tsv(tmp_path / "a.tsv")
    rows = read_annotated(path)
    segs = load_segments(path, rows, lm=None, detectors=[Repetition()], cache=tmp_path / "cache")
    assert [s.row.key for s in segs] == [r.key for r in rows]
    assert segs[0].x.get("det:repetition", 0) > 0  # "it was fine and it was fine"
    cached = list((tmp_path / "cache" / "features").glob("*.jsonl"))
    assert len(cached) == 1
    again = load_segments(path, rows, lm=None, detectors=[Repetition()], cache=tmp_path / "cache")
    assert [s.x for s in again] == [s.x for s in segs]
    t = evaluation_table(segs, Weights.load())
    assert set(t["rows"]) == {"garble", "detectors alone", "length (chars)", "random"}
    assert t["n_flu"] == 2 and t["n_clean"] == 7
    lab = Labels.of(segs)
    assert lab.is_ref.sum() == 3


def test_eval_command_no_lm(tmp_path):
    import typer
    from typer.testing import CliRunner

    from garble.cli.eval import eval_cmd

    app = typer.Typer()
    app.command("eval")(eval_cmd)

    @app.command("noop")
    def _noop() -> None:  # a second command so "eval" is a subcommand
        pass

    path = write_tsv(tmp_path / "a.tsv")
    r = CliRunner().invoke(
        app,
        [
            "eval",
            str(path),
            "--no-lm",
            "--split",
            "all",
            "--format",
            "json",
            "--cache",
            str(tmp_path / "c"),
            "-q",
            "--detectors",
            "repetition",
        ],
    )
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["split"] == "all" and res["model"] is None
    assert 0 <= res["table"]["rows"]["garble"]["auc_flu"] <= 1
    r = CliRunner().invoke(
        app,
        [
            "eval",
            str(path),
            "--no-lm",
            "--split",
            "all",
            "--cache",
            str(tmp_path / "c"),
            "-q",
            "--detectors",
            "repetition",
            "--show",
            "2",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "len-ctrl AUC" in r.stdout and "largest misses" in r.stdout


# -- garble eval false-alarms ---------------------------------------------------

CLEAN_TSV = (
    "corpus\tdoc\tseg\ttext\n"
    "news\td1\t2\tThe party said it would appeal the decision.\n"
    'news\td1\t1\tHe was selected to fight Sheffield Hallam in 2017"s snap general election.\n'
    "news\td2\t1\tThe weather was calm all day over the hills.\n"
)


def test_false_alarms_counts_findings_per_detector(tmp_path, capsys):
    from garble.cli import main

    clean = tmp_path / "clean.tsv"
    clean.write_text(CLEAN_TSV, encoding="utf-8")
    args = ["eval", "false-alarms", str(clean), "--detector", "punctuation", "--detector", "encoding", "-q"]
    assert main([*args, "-f", "json"]) == 0
    res = json.loads(capsys.readouterr().out)
    everything = res["clean"]["sources"]["all"]
    assert (everything["documents"], everything["units"]) == (2, 3)
    punct, enc = everything["detectors"]["punctuation"], everything["detectors"]["encoding"]
    assert (punct["findings"], punct["per_1000_units"], punct["kinds"]) == (1, 333.33, {"unmatched_quote": 1})  # 2017"s
    assert (enc["findings"], enc["per_1000_units"], enc["kinds"]) == (0, 0.0, {})
    assert "mt" not in res  # a clean-English file has no MT rows
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[:7] for ln in lines if ln.startswith("all ")] == [
        ["all", "2", "3", "punctuation", "1", "333.33", "333.33"],
        ["all", "2", "3", "encoding", "0", "0.00", "0.00"],
    ]


def test_false_alarms_on_mt_rows(tmp_path):
    from garble.eval import false_alarms, format_false_alarms

    res = false_alarms([write_tsv(tmp_path / "a.tsv")], ["repetition", "encoding"], show=5)
    assert res["clean"]["sources"]["a.tsv references"]["units"] == 3
    mt = res["mt"]
    assert mt["rows"]["all"] == 8 and mt["rows"]["fluency_major"] == 2 and mt["rows"]["clean"] == 4
    # "it was fine and it was fine" and "the the": both fluency-major rows, no error-free one
    assert mt["detectors"]["repetition"]["rows"] == {
        "all": 2,
        "fluency_major": 2,
        "clean": 0,
        "error": 2,
        "punctuation": 0,
        "non_translation": 0,
    }
    assert mt["detectors"]["encoding"]["rows"]["all"] == 0
    text = format_false_alarms(res)
    assert "BAD A/talk.1:2 mqm=5: 'It was fine and it was fine'" in text


def test_false_alarms_unknown_detector_is_one_error_line(tmp_path, capsys):
    from garble.cli import main

    clean = tmp_path / "clean.tsv"
    clean.write_text(CLEAN_TSV, encoding="utf-8")
    assert main(["eval", "false-alarms", str(clean), "--detector", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()] and err.startswith("garble: error: unknown detector 'nope'; known: ")
    assert main(["eval", "false-alarms", str(clean)]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "garble: error: garble eval false-alarms needs a detector: --detector NAME (repeat it for more)"
    )


# -- CachedLM --------------------------------------------------------------------


class FakeLM:
    name = "fake"
    max_tokens = 256

    def __init__(self):
        self.calls = []

    def score(self, texts, contexts=None):
        from garble.lm import TokenScores

        self.calls.append((list(texts), None if contexts is None else list(contexts)))
        return [TokenScores((float(len(t)), 1.0), ((0, 1), (1, 2))) for t in texts]


def test_cached_lm_memoises_and_persists(tmp_path):
    fake = FakeLM()
    lm = CachedLM(fake, tmp_path / "lm.jsonl")
    a = lm.score(["ab", "abc", "ab"])
    assert [s.surprisals[0] for s in a] == [2.0, 3.0, 2.0]
    assert fake.calls == [(["ab", "abc"], None)]
    lm.score(["ab"], ["ctx"])  # with a context: another key
    assert len(fake.calls) == 2
    lm2 = CachedLM(FakeLM(), tmp_path / "lm.jsonl")
    b = lm2.score(["abc", "ab"], [None, "ctx"])
    assert lm2._lm.calls == [] and b[0] == a[1]


def test_cached_lm_keeps_float32_and_bfloat16_apart(tmp_path):
    pytest.importorskip("torch")
    from garble.eval.cache import make_cached_lm

    fp32 = make_cached_lm(device="cpu", dtype="float32", cache=tmp_path)
    bf16 = make_cached_lm(device="cpu", dtype="bfloat16", cache=tmp_path)
    assert fp32.path != bf16.path and fp32.cache_id != bf16.cache_id
    assert fp32.cache_id.endswith("float32") and bf16.cache_id.endswith("bfloat16")
    assert fp32.name == bf16.name  # the model's name is unchanged; nothing was loaded
    assert callable(fp32._lm) and not hasattr(fp32._lm, "score")


# -- synthetic errors ------------------------------------------------------------

DOC = [
    "Russian Foreign Minister Sergei Lavrov spoke in Moscow on Sunday about the talks.",
    "Lavrov said that the West is not ready to discuss the plan with Russian officials in Geneva.",
    "The Chinese delegation did not attend the meeting in the old palace.",
]


@pytest.mark.parametrize("kind", ERROR_TYPES)
def test_each_corruption_changes_text_and_is_deterministic(kind):
    got = [corrupt(t, kind, seed=1, doc=DOC) for t in DOC]
    assert any(c is not None for c in got), kind
    for t, c in zip(DOC, got):
        if c is None:
            continue
        assert c.kind == kind and c.original == t
        assert c.text != t and c.detail
        assert corrupt(t, kind, seed=1, doc=DOC) == c  # same inputs, same corruption
    # another seed may pick another corruption, but is deterministic too
    assert [corrupt(t, kind, seed=2, doc=DOC) for t in DOC] == [corrupt(t, kind, seed=2, doc=DOC) for t in DOC]


def test_corruption_specifics():
    c = corrupt(DOC[0], "name_variant", seed=0, doc=DOC)
    assert c is not None and "Lavrov" not in c.text  # the name occurs in unit 1 too
    assert corrupt(DOC[1], "name_variant", seed=0, doc=DOC) is None  # sentence-initial "Lavrov" is not taken as a name
    assert corrupt("Nobody here has a name.", "name_variant", doc=["Nobody here has a name."]) is None
    n = corrupt(DOC[0], "nationality_swap", seed=0, doc=DOC)
    assert n is not None and "Russian Foreign" not in n.text
    assert any(d in n.text for d in demonyms())
    f = corrupt(DOC[1], "fragment", seed=0, doc=DOC)
    assert f is not None and len(f.units) >= 2 and f.n_marked == 2
    assert f.units[1][0].isupper() and f.units[1].endswith(".")
    d = corrupt(DOC[0], "duplicated_word", seed=0)
    words = d.text.split()
    assert any(a == b for a, b in zip(words, words[1:]))
    assert len(corrupt(DOC[0], "dropped_word", seed=0).text.split()) == len(DOC[0].split()) - 1
    with pytest.raises(ValueError):
        corrupt("x", "no_such_type")


def test_make_pairs_is_deterministic_and_balanced():
    docs = [("d1", DOC), ("d2", DOC[::-1])]
    a = make_pairs(docs, per_kind=2, seed=3)
    assert a == make_pairs(docs, per_kind=2, seed=3)
    for p in a:
        ct = p.corrupted_texts()
        assert ct[p.index] == p.corruption.units[0]
        assert len(ct) == len(p.texts) + len(p.corruption.units) - 1
    from collections import Counter

    assert max(Counter(p.corruption.kind for p in a).values()) <= 2


def test_synthetic_sources_follow_the_talk_split(tmp_path):
    rows = read_annotated(write_tsv(tmp_path / "a.tsv"))
    c = tmp_path / "c.tsv"
    # a clean document that shares a segment with talk.1's reference takes talk.1's split
    c.write_text(
        "corpus\tdoc\tseg\ttext\nted\tx\t1\tAll was well, the pilot said.\nnews\ttalk.2\t1\tOther text.\n",
        encoding="utf-8",
    )
    src = synthetic_sources(rows, read_clean(c))
    by = {d: s for d, _, s in src}
    assert by["ref/talk.1"] == split_of("talk.1") == by["ted/x"]
    assert by["news/talk.2"] == split_of("talk.2")


def test_synthetic_rates_with_the_length_feature_held():
    """A corruption that only makes the unit longer is 'detected' by the length term, and not once length is held."""
    from garble.eval.synthetic import SynthResult, synthetic_rates
    from garble.scorer import Weights

    w = Weights.from_dict(
        {
            "bias": 0.0,
            "features": {
                "log_chars": {"weight": 1.0, "center": 0.0, "scale": 1.0},
                "lm_max": {"weight": 1.0, "center": 0.0, "scale": 1.0},
            },
        }
    )

    def pair(kind, clean, corrupt):
        return SynthResult(kind, "d", "", "a", ["b"], clean, [corrupt], [])

    res = [
        pair("longer", {"log_chars": 3.0, "lm_max": 5.0}, {"log_chars": 3.5, "lm_max": 5.0}),  # length only
        pair(
            "lm", {"log_chars": 3.0, "lm_max": 5.0}, {"log_chars": 2.9, "lm_max": 6.0}
        ),  # the LM sees it, though shorter
    ]
    r = synthetic_rates(res, w)
    assert (r["longer"]["rate"], r["longer"]["rate_len_held"]) == (1.0, 0.0)
    assert (r["lm"]["rate"], r["lm"]["rate_len_held"]) == (1.0, 1.0)
    no_lm = synthetic_rates(res, w, lm=False)
    assert (no_lm["lm"]["rate"], no_lm["lm"]["rate_len_held"]) == (0.0, 0.0)


def write_spans(path, rows, source_of):
    """A spans JSONL for ``rows`` (as in ROWS): ``source_of(row)`` gives each row's source."""
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            system, doc, seg, is_ref, _, mqm, major, _, cats, text = r
            errors = [{"category": "Accuracy/Omission", "severity": "Major"}] if cats == "Accuracy/Omission" else []
            rec = {"system": system, "doc": doc, "seg": seg, "is_ref": is_ref, "source": source_of(r), "text": text}
            rec["ratings"] = [{"rater": "r1", "errors": errors}]
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def test_evaluation_with_the_source_runs_the_source_aware_detectors(tmp_path):
    from garble import Scorer
    from garble.eval import format_report, run_evaluation

    path = write_tsv(tmp_path / "mqm.tsv")
    # every source names a year the targets never mention: the numbers detector must see it
    spans = write_spans(
        tmp_path / "mqm_ted_zhen_spans.jsonl",
        ROWS,
        lambda r: "<v>我们</v>在2019年中午降落。" if r[2] == 3 else "天气很好。",
    )
    res = run_evaluation(path, Scorer(model=False), split="all", show=0, cache=tmp_path / "cache", with_source=True)
    ws = res["with_source"]
    assert ws["fires"].get("numbers", 0) >= 3  # the three seg-3 targets lack "2019"
    assert "garble" in ws["table"] and ws["auc_major_omission"]["n_omission"] == 1
    assert "with the source" in format_report(res)
    # without the spans file: a one-line input error, not a traceback
    spans.unlink()
    with pytest.raises(InputError, match="with-source"):
        run_evaluation(path, Scorer(model=False), split="all", show=0, cache=tmp_path / "cache", with_source=True)


# references with their sources, for the synthetic source-aware corruptions
SOURCED_REFS = {
    1: (
        "我们在2019年访问了35个国家，参观了很多博物馆，然后回家了。",
        "In 2019 we visited 35 countries, saw a great many museums, and then went back home.",
    ),
    2: (
        "这个项目叫LISA，它将在未来十年内启动。",
        "This project is called LISA, and it will start within the next ten years.",
    ),
    # a source too short for the length check (length_ratio.min_source_chars): a dropped clause it cannot see
    3: ("好。", "Well, that is all that I wanted to say to you today, my friends."),
}


def test_evaluation_with_the_source_reports_synthetic_source_aware_corruptions(tmp_path):
    from garble import Scorer
    from garble.eval import format_report, run_evaluation
    from garble.synth_source import DETECTOR_OF, KINDS

    rows = [r if r[0] != "ref" else r[:9] + (SOURCED_REFS[r[2]][1],) for r in ROWS]
    path = write_tsv(tmp_path / "mqm.tsv", rows)
    source_of = lambda r: SOURCED_REFS[r[2]][0] if r[0] == "ref" else "天气很好。"  # noqa: E731
    write_spans(tmp_path / "mqm_ted_zhen_spans.jsonl", rows, source_of)
    res = run_evaluation(path, Scorer(model=False), split="all", show=0, cache=tmp_path / "cache", with_source=True)
    c = res["with_source"]["corruptions"]
    assert c["n_refs"] == 3 and list(c["rows"]) == list(KINDS)
    got = {k: (r["n"], r["detector"], r["caught"], r["caught_any"], r["clean"]) for k, r in c["rows"].items()}
    assert got == {
        # the LISA clause dropped: too little for length_ratio, but a clause and a name are missing
        # (clauses, source_tokens)
        "drop_clause": (3, "length_ratio", 0.333, 0.667, 0.0),
        "change_number": (2, "numbers", 1.0, 1.0, 0.0),  # "好。" has no number
        "drop_name": (1, "source_tokens", 1.0, 1.0, 0.0),  # only LISA
        "untranslated_phrase": (2, "untranslated", 1.0, 1.0, 0.0),  # "好。" is too short to copy from
        "break_placeholder": (3, "placeholders", 1.0, 1.0, 0.0),
    }
    assert all(r["detector"] == DETECTOR_OF[k] and "ranked" not in r for k, r in c["rows"].items())  # no LM, no ranking
    missed = c["rows"]["drop_clause"]["missed"]
    assert [m["target"] for m in missed] == [
        "And it will start within the next ten years.",  # caught by clauses and source_tokens, not length_ratio
        "Well, that is all that I wanted to friends.",
    ]
    text = format_report(res)
    assert "synthetic source-aware corruptions of the split's 3 references (seed 0" in text
    missed_line = (
        "drop_clause missed by length_ratio: dropped words 8..13 -> 'Well, that is all that I wanted to friends.'"
    )
    assert missed_line in text
    # deterministic: the same seed gives the same table
    again = run_evaluation(path, Scorer(model=False), split="all", show=0, cache=tmp_path / "cache", with_source=True)
    assert again["with_source"]["corruptions"] == c


def test_corruption_rates_without_the_own_detector_and_with_a_scorer():
    from garble import Scorer
    from garble.detectors import registry
    from garble.eval.data import SpanSegment
    from garble.eval.source import corruption_rates

    refs = [SpanSegment("ref", "talk.1", i, True, t, s, [], i) for i, (s, t) in SOURCED_REFS.items()]
    rates = corruption_rates(refs, {"numbers": registry()["numbers"]()})
    assert rates["drop_clause"]["caught"] is None and rates["drop_clause"]["clean"] is None  # length_ratio not run
    assert rates["drop_clause"]["caught_any"] == 0.0 and len(rates["drop_clause"]["missed"]) == 3
    assert rates["change_number"]["caught"] == 1.0

    class FlatLM:  # every word read with the same surprisal: the detectors order the pairs
        name = "flat"

        def score(self, texts, contexts=None):
            from garble.lm import TokenScores

            spans = [[m.span() for m in re.finditer(r"\S+", t)] for t in texts]
            return [TokenScores(tuple(1.0 for _ in s), tuple(s)) for s in spans]

    scorer = Scorer(model=FlatLM(), detectors=["numbers"])
    ranked = corruption_rates(refs, {"numbers": scorer.detectors[0]}, scorer=scorer)
    assert ranked["change_number"]["ranked"] == 1.0  # the numbers detector fires on the changed number only
    assert all(0.0 <= r["ranked"] <= 1.0 for r in ranked.values())
