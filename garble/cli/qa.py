"""The CLI's source-aware paths beside the corpus driver: ``rank --source``/``--format-in tsv``, and ``score``'s
reviewed XLIFF/TMX file (``-o FILE.xlf``).

Called from :mod:`garble.cli.rank` and :mod:`garble.cli.score`; the pairs are
read and written by :mod:`garble.bitext`. ``garble score`` records, with
sources or without, come from :mod:`garble.corpus`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

from ..errors import UsageError


def rank_documents(
    inputs: Sequence, scorer, *, source: Optional[Path], fmt_in: str, unit: str, source_lang: Optional[str]
):
    """``garble rank`` with sources: each TARGET (with ``--source``) or TSV file is one document of line units."""
    from ..bitext import read_aligned, read_tsv

    if source is not None:
        if fmt_in == "tsv":
            raise UsageError(
                "--source and --format-in tsv: a TSV file holds its sources already; give one or the other"
            )
        if len(inputs) != 1:
            raise UsageError(f"--source goes with one TARGET file, not {len(inputs)}")
        if unit != "line":
            raise UsageError("--source needs --unit line: line i of SOURCE is the source of line i of TARGET")
        bts = [read_aligned(str(inputs[0]), str(source))]
    else:
        bts = [read_tsv(str(p)) for p in inputs]
    out = []
    for bt in bts:
        if not bt.segments:
            sys.stderr.write(f"garble: warning: {bt.path}: empty document (no units)\n")
        targets, sources = [s.target for s in bt.segments], [s.source for s in bt.segments]
        out.append(scorer.score_units(targets, doc_id=bt.path, sources=sources, source_lang=source_lang))
    return out


def review_file(
    inputs: Sequence[str],
    output: str,
    scorer,
    *,
    input_format: str,
    flag_score: float,
    source_lang: Optional[str],
    quiet: bool,
) -> None:
    """``garble score IN.xlf -o OUT.xlf`` (or TMX): the same file back, the units scoring at least ``flag_score``
    marked for review.

    Each pair is scored on its own with its source
    (:func:`garble.bitext.score_bitext`: :meth:`garble.Scorer.score_segments`).
    Records (``-o FILE.jsonl``/``.parquet``/``-``) come from the corpus driver
    instead, as for every other input (:mod:`garble.corpus`).
    """
    import time

    from ..bitext import SUFFIXES, bilingual_format, mark_reviewed, read_xml, score_bitext, serialize
    from ..io import atomic_output

    t0 = time.time()
    out_kind = SUFFIXES[Path(output).suffix.lower()]
    kind = out_kind.upper()
    if len(inputs) != 1 or str(inputs[0]) == "-":
        raise UsageError(
            f"-o {output}: a reviewed {kind} file is written from one {kind} input file; give -o FILE.jsonl for records"
        )
    path = str(inputs[0])
    in_kind = input_format if input_format in ("xliff", "tmx") else bilingual_format(path)
    if in_kind != out_kind:
        raise UsageError(
            f"-o {output}: a reviewed {kind} file is written from one {kind} input; give -o FILE.jsonl for records"
        )
    bt = read_xml(path, in_kind)
    results = score_bitext(bt, scorer, source_lang)
    flagged = mark_reviewed(bt, results, flag_score)
    data = serialize(bt)
    with atomic_output(output, "wb") as fh:
        fh.write(data)
    if not quiet:
        n = len(results)
        units = f"{n:,} unit{'' if n == 1 else 's'}"
        marked = f"{flagged:,} marked for review (score >= {flag_score:g})"
        sys.stderr.write(f"garble: {units} scored, {marked}, in {time.time() - t0:.1f} s -> {output}\n")
