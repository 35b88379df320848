"""The real example: ../shared/seed/article.txt, a machine-translated news article.

No detector names a word of it; these tests check that what the detectors learned
from their own examples carries over to text they were not written for.
"""

import pytest

NAMED = ("Lavorov said", "it’s legal and it’s legal", "Ukrainian targets on Russian soil")

ARTIFACTS = {
    "garbled quote": ["Putin” from the Rossiya-1", "“seriously talking about the “decolonization”"],
    "fragment": [
        "For state media.",
        "In an interview with a British newspaper.",
        "Russian Federation.",
        "The Kremlin.",
        "publication The New York Times",
    ],
    "misspelled name": ["Lavorov said", "on Azovstel Steelworks"],
    "page furniture": [
        '"Invasion of Ukraine is an outrage',
        "Live text Ukraine War",
        "Leave a Reply",
        "Your email address will not be published",
        "Required fields are marked",
        "Photo: Kommersant",
    ],
}

CLEAN = [
    "“Discussions by US officials",
    "Earlier, Lavrov said that the use",
    "According to the Russian foreign minister, Moscow claims",
    "US Assistant Secretary for European",
    "In an interview published by the British magazine",
    "Stoltenberg shared the same sentiment",
    "“Depriving Ukraine of the possibility",
    "“Some allies have already lifted",
    "But many of Kiev’s allies",
    "“If you deny Ukraine the right",
    "“This includes the possibility",
    "The West has banned Ukraine",
    "But in early May, Britain",
]


def _unit(result, needle):
    hits = [u for u in result if needle in u.text]
    assert len(hits) == 1, f"{needle!r} is in {len(hits)} units"
    return hits[0]


def _check_named_top5(result):
    ranks = {n: _unit(result, n).rank for n in NAMED}
    assert all(r <= 5 for r in ranks.values()), ranks


def _check_artifacts_above_clean(result, kinds):
    best_clean = max(_unit(result, c).score for c in CLEAN)
    for kind in kinds:
        for needle in ARTIFACTS[kind]:
            u = _unit(result, needle)
            assert u.score > best_clean, f"{kind} {needle!r} scores {u.score:.3f} <= best clean {best_clean:.3f}"


def test_named_artifacts_top5_with_detectors_alone(seed_text):
    import garble

    r = garble.Scorer(model=False).score_document(seed_text)
    _check_named_top5(r)
    # without the LM nothing points at the unknown name "Azovstel" (no correct form in the text)
    kinds = ["garbled quote", "fragment", "page furniture"]
    _check_artifacts_above_clean(r, kinds)


@pytest.mark.lm
def test_seed_ranking_with_the_lm(seed_text, lm_scorer):
    r = lm_scorer.score_document(seed_text)
    _check_named_top5(r)
    _check_artifacts_above_clean(r, list(ARTIFACTS))


@pytest.mark.lm
def test_cli_top10_shows_the_named_artifacts(seed_text):
    import subprocess
    import sys

    from conftest import SEED

    out = subprocess.run(
        [sys.executable, "-m", "garble", "rank", str(SEED), "--top", "10"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    for needle in ("legal and it", "Lavorov", "Ukrainian targets"):
        assert needle in out.stdout
