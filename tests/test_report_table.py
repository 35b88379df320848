"""The ranked table's reason lines: what a unit without findings says, with the LM and without it."""

from __future__ import annotations

import io

import garble
from garble.report import write_table
from garble.types import DocumentResult, LMFeatures, Unit, UnitResult, assign_ranks

TEXT = "The boats stayed in. The the harbour was quiet."


def table(results) -> str:
    out = io.StringIO()
    write_table(results, out)
    return out.getvalue()


def test_no_lm_table_does_not_credit_the_lm():
    shown = table([garble.Scorer(model=False).score_document(TEXT)])
    assert "repetition:" in shown
    assert "- (no finding)\n" in shown and "LM" not in shown


def test_lm_table_says_the_score_is_the_lm_s_alone():
    u = Unit(0, 0, 20, TEXT[:20], 0)
    lm = LMFeatures(mean_surprisal=3.0, max_surprisal=6.0, max_span=(4, 9), n_tokens=5, rel_median=0.2)
    units = [UnitResult(unit=u, score=0.3, findings=[], lm=lm)]
    assign_ranks(units)
    shown = table([DocumentResult(text=TEXT[:20], units=units, doc_id="doc")])
    assert "- (no finding; LM surprisal only)\n" in shown
